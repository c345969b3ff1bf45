"""Checks of the outputs of every acknowledged upload against its current source."""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from PIL import Image

from .corpus import Photo
from .uploader import Ledger


@dataclass(frozen=True)
class Box:
    width: int
    height: int

    def fit(self, photo: Photo) -> tuple[int, int]:
        """Dimensions of `photo` fitted into the box, never enlarged."""
        scale = min(1.0, self.width / photo.width, self.height / photo.height)
        return max(1, round(photo.width * scale)), max(1, round(photo.height * scale))


@dataclass
class OutputReport:
    expected: int = 0
    status: Counter = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)
    failed_keys: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str, status: str, detail: str) -> None:
        self.status[status] += 1
        if status != "ok":
            self.failed_keys.setdefault(status, []).append(key)
            self.samples.setdefault(status, [])
            if len(self.samples[status]) < 15:
                self.samples[status].append(f"{key}: {detail}")

    @property
    def present(self) -> int:
        return self.expected - self.status["missing"]


def _not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _get(client, bucket: str, key: str):
    try:
        return client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if _not_found(error):
            return None
        raise


def _matches(size: tuple[int, int], expected: tuple[int, int]) -> bool:
    return abs(size[0] - expected[0]) <= 1 and abs(size[1] - expected[1]) <= 1


def _dimension_verdict(size, box: Box, current: Photo | None, older: list[Photo]) -> tuple[str, str]:
    if size[0] > box.width or size[1] > box.height:
        return "invalid", f"{size} does not fit in {box.width}x{box.height}"
    if current is None:
        return "invalid", "the current source is not a version the harness uploaded"
    if _matches(size, box.fit(current)):
        return "ok", ""
    for photo in older:
        if _matches(size, box.fit(photo)):
            return "stale", f"{size} are the dimensions of an older upload ({photo.name})"
    return "invalid", f"{size} match no upload of this key (current expects {box.fit(current)})"


class OutputChecker:
    def __init__(self, client, source: str, target: str, box: Box, ledger: Ledger, sidecar: bool):
        self.client = client
        self.source = source
        self.target = target
        self.box = box
        self.ledger = ledger
        self.sidecar = sidecar

    def versions(self, key: str) -> list[Photo]:
        md5s = {put.md5 for put in self.ledger.puts if put.key == key}
        return [self.ledger.photos_by_md5[m] for m in sorted(md5s)]

    def check_key(self, key: str) -> tuple[str, str]:
        head = self.client.head_object(Bucket=self.source, Key=key)
        current_etag = head["ETag"].strip('"')
        output = _get(self.client, self.target, key)
        if output is None:
            return "missing", "no output"
        body = output["Body"].read()
        marker = output.get("Metadata", {}).get("imgpipe-source-etag", "").strip('"')
        if marker != current_etag:
            return "stale", f"output from ETag {marker}, source is now {current_etag}"
        try:
            with Image.open(io.BytesIO(body)) as image:
                image.load()
                size = image.size
        except Exception as error:  # noqa: BLE001 - any decode failure makes the output invalid
            return "invalid", f"not decodable: {error}"
        current = self.ledger.photos_by_md5.get(current_etag)
        older = [p for p in self.versions(key) if p.md5 != current_etag]
        verdict = _dimension_verdict(size, self.box, current, older)
        if verdict[0] != "ok" or not self.sidecar:
            return verdict
        return self._check_sidecar(key, current_etag)

    def _check_sidecar(self, key: str, current_etag: str) -> tuple[str, str]:
        sidecar = _get(self.client, self.target, f"{key}.json")
        if sidecar is None:
            return "missing", "no sidecar"
        try:
            etag = str(json.loads(sidecar["Body"].read())["source"]["etag"]).strip('"')
        except (ValueError, KeyError, TypeError) as error:
            return "invalid", f"sidecar unreadable: {error}"
        if etag != current_etag:
            return "stale", f"sidecar from ETag {etag}, source is now {current_etag}"
        return "ok", ""

    def check(self, keys: list[str]) -> OutputReport:
        report = OutputReport(expected=len(keys))
        with ThreadPoolExecutor(max_workers=8) as pool:
            for key, (status, detail) in zip(keys, pool.map(self._safe_check, keys)):
                report.add(key, status, detail)
        return report

    def _safe_check(self, key: str) -> tuple[str, str]:
        try:
            return self.check_key(key)
        except ClientError as error:
            return "invalid", f"S3 error: {error}"

    def confirmed(self, key: str, etag: str) -> bool:
        """Cheap progress probe: the output exists and names `etag` as its source."""
        try:
            head = self.client.head_object(Bucket=self.target, Key=key)
        except ClientError:
            return False
        return head.get("Metadata", {}).get("imgpipe-source-etag", "").strip('"') == etag


def list_keys(client, bucket: str) -> set[str]:
    keys = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def aspect_differs(a: Photo, b: Photo, box: Box) -> bool:
    """True when the two photos' fitted outputs can be told apart by their dimensions."""
    return (abs(math.log(a.aspect / b.aspect)) > 0.15
            and not _matches(box.fit(a), box.fit(b)))
