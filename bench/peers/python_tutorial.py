#!/usr/bin/env python3
"""The `python-tutorial` peer of issue 9's end-to-end benchmark: the consumer of
MinIO's Kafka tutorial behind the original design notes, written for the
benchmark. One process, kafka-python's KafkaConsumer with auto-commit, the MinIO
Python client, Pillow; one message at a time.

It does the benchmark's job, the same for every system: fit in 1024x1024,
auto-orient, convert an embedded profile to sRGB, strip metadata, JPEG quality
85, into the target bucket under the same key.

Settings from the stack's env file (IMGPIPE_KAFKA_BROKERS, IMGPIPE_KAFKA_TOPIC,
IMGPIPE_S3_ENDPOINT, IMGPIPE_S3_ACCESS_KEY, IMGPIPE_S3_SECRET_KEY) and:
    --group G        consumer group (several processes in one group: python-procs)
    --source B       the bucket whose uploads it processes (the topic carries others)
    --target B       target bucket
    --idle-exit S    exit after S seconds without a message (the drain is over)
Prints one JSON line at exit: messages, outputs, failures.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import time
import urllib.parse

from kafka import KafkaConsumer
from minio import Minio
from PIL import Image, ImageCms, ImageOps

SIZE = (1024, 1024)
SRGB = ImageCms.createProfile("sRGB")


def to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if not icc:
        return image.convert("RGB")
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.profileToProfile(image.convert("RGB"), source, SRGB, outputMode="RGB")


def thumbnail(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    image.thumbnail(SIZE)  # draft() first: libjpeg's DCT scaling for JPEGs
    image = to_srgb(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif, no icc: stripped
    return out.getvalue()


def records_of(message, source: str) -> list[tuple[str, str]]:
    """(bucket, key) of each upload into `source` a MinIO event names; ValueError when it is none."""
    event = json.loads(message.value)
    found = []
    for record in event.get("Records", []):
        if not record.get("eventName", "").startswith("s3:ObjectCreated:"):
            continue
        s3 = record["s3"]
        if s3["bucket"]["name"] != source:
            continue
        found.append((s3["bucket"]["name"], urllib.parse.unquote_plus(s3["object"]["key"])))
    return found


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", required=True)
    parser.add_argument("--source", required=True, help="only events of this bucket")
    parser.add_argument("--target", required=True)
    parser.add_argument("--idle-exit", type=float, default=10.0)
    parser.add_argument("--max-poll-records", type=int, default=500,
                        help="kafka-python's max_poll_records (its default: 500)")
    args = parser.parse_args(argv)
    endpoint = urllib.parse.urlparse(os.environ["IMGPIPE_S3_ENDPOINT"])
    client = Minio(endpoint.netloc, access_key=os.environ["IMGPIPE_S3_ACCESS_KEY"],
                   secret_key=os.environ["IMGPIPE_S3_SECRET_KEY"], secure=endpoint.scheme == "https")
    consumer = KafkaConsumer(os.environ["IMGPIPE_KAFKA_TOPIC"],
                             bootstrap_servers=os.environ["IMGPIPE_KAFKA_BROKERS"].split(","),
                             group_id=args.group, auto_offset_reset="earliest", enable_auto_commit=True,
                             consumer_timeout_ms=int(args.idle_exit * 1000),
                             max_poll_records=args.max_poll_records)
    started, counts = time.monotonic(), {"messages": 0, "outputs": 0, "failures": 0}
    # The benchmark stops it with SIGTERM: exit through the finally below, so
    # that each process's counts reach the log (they show whether the
    # processes of python-procs shared the work).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        consume(consumer, client, args, counts)
    finally:
        consumer.close()
        print(json.dumps({**counts, "pid": os.getpid(),
                          "seconds": round(time.monotonic() - started, 3)}), flush=True)
    return 0


def consume(consumer, client, args, counts: dict) -> None:
    """The tutorial's loop: one message at a time, until idle_exit seconds pass without one."""
    for message in consumer:
        counts["messages"] += 1
        try:
            uploads = records_of(message, args.source)
        except (ValueError, KeyError, TypeError) as error:  # not a MinIO event: skip it
            counts["failures"] += 1
            print(f"python-tutorial: offset {message.offset}: not an event: {error}", file=sys.stderr)
            continue
        for bucket, key in uploads:
            try:
                response = client.get_object(bucket, key)
                try:
                    data = response.read()
                finally:
                    response.close()
                    response.release_conn()
                out = thumbnail(data)
                client.put_object(args.target, key, io.BytesIO(out), len(out), content_type="image/jpeg")
                counts["outputs"] += 1
            except Exception as error:  # a bad image must not stop the consumer
                counts["failures"] += 1
                print(f"python-tutorial: {bucket}/{key}: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
