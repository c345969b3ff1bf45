"""Kafka from the harness's side: start a group at the end of the topic, read a
range of a topic back (events, dead letters), produce poison messages."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]


def _consumer(brokers: str, group: str) -> Consumer:
    return Consumer({"bootstrap.servers": brokers, "group.id": group,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "log_level": 3})


def topic_exists(brokers: str, topic: str) -> bool:
    admin = AdminClient({"bootstrap.servers": brokers, "log_level": 3})
    return topic in admin.list_topics(timeout=10).topics


def _retrying(call, timeout_s: float = 60):
    """Retries `call` on Kafka errors (a just-created topic has no leader yet, a restarted
    broker is loading) until `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def end_offsets(brokers: str, topic: str) -> dict[int, int]:
    """Partition -> high watermark; {} when the topic does not exist."""
    consumer = _consumer(brokers, f"faults-probe-{uuid.uuid4().hex[:8]}")
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return {}
        return {p: _retrying(lambda p=p: consumer.get_watermark_offsets(
                    TopicPartition(topic, p), timeout=10)[1])
                for p in metadata.partitions}
    finally:
        consumer.close()


def start_group_at_end(brokers: str, group: str, topic: str) -> dict[int, int]:
    """Commits the topic's end offsets for `group`, so its workers see only what comes next."""
    offsets = end_offsets(brokers, topic)
    consumer = _consumer(brokers, group)
    try:
        _retrying(lambda: consumer.commit(
            offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False))
        return offsets
    finally:
        consumer.close()


def _decode_headers(headers) -> dict[str, str]:
    return {name: (value or b"").decode(errors="replace") for name, value in (headers or [])}


def read_from(brokers: str, topic: str, start: dict[int, int], timeout_s: float = 60) -> list[Record]:
    """Every record from `start` (missing partitions: from 0) to the current end."""
    end = end_offsets(brokers, topic)
    todo = {p: (start.get(p, 0), high) for p, high in end.items() if high > start.get(p, 0)}
    if not todo:
        return []
    consumer = _consumer(brokers, f"faults-reader-{uuid.uuid4().hex[:8]}")
    records: list[Record] = []
    try:
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in todo.items()])
        remaining = {p for p in todo}
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error() is not None:
                continue
            partition, offset = message.partition(), message.offset()
            records.append(Record(partition, offset, (message.key() or b"").decode(errors="replace"),
                                  message.value() or b"", _decode_headers(message.headers())))
            if offset + 1 >= todo[partition][1]:
                remaining.discard(partition)
    finally:
        consumer.close()
    return records


def produce(brokers: str, topic: str, messages: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    """Produces (key, value) pairs; returns (partition, offset) of each, in order."""
    producer = Producer({"bootstrap.servers": brokers, "acks": "all", "log_level": 3})
    placed: dict[int, tuple[int, int]] = {}

    def delivered(index):
        def callback(error, message):
            if error is None:
                placed[index] = (message.partition(), message.offset())
        return callback

    for index, (key, value) in enumerate(messages):
        producer.produce(topic, key=key.encode(), value=value, on_delivery=delivered(index))
    producer.flush(30)
    return [placed.get(i, (-1, -1)) for i in range(len(messages))]


def event_versions(records: list[Record], bucket: str) -> set[tuple[str, str]]:
    """(key, etag) of every MinIO event of `bucket` among `records`."""
    seen = set()
    prefix = f"{bucket}/"
    for record in records:
        if not record.key.startswith(prefix):
            continue
        try:
            for entry in json.loads(record.value).get("Records", []):
                etag = entry["s3"]["object"].get("eTag", "").strip('"')
                seen.add((record.key[len(prefix):], etag))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    return seen
