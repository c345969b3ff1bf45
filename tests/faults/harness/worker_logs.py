"""What the workers' JSON log lines say: outputs written, failures by reason."""

from __future__ import annotations

import glob
import json
import os
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class LogSummary:
    processed: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    lines: int = 0

    def failed_reasons(self) -> dict[str, int]:
        return dict(Counter(line.get("reason", "?") for line in self.failed))

    def duplicates(self) -> tuple[int, str]:
        """Writes of one output key for one source version beyond the first, and the basis used."""
        has_etag = bool(self.processed) and all("etag" in line for line in self.processed)
        basis = "etag" if has_etag else "input_width,input_height,input_bytes"

        def identity(line):
            if has_etag:
                return (line.get("target"), line.get("target_key"), line.get("variant"),
                        str(line["etag"]).strip('"'))
            return (line.get("target"), line.get("target_key"), line.get("variant"),
                    line.get("input_width"), line.get("input_height"), line.get("input_bytes"))

        counts = Counter(identity(line) for line in self.processed)
        return sum(n - 1 for n in counts.values()), basis


def _parse(path: str):
    with open(path, "rb") as log:
        for raw in log:
            try:
                yield json.loads(raw)
            except ValueError:
                continue


def _add_file(summary: LogSummary, path: str, bucket: str) -> None:
    for line in _parse(path):
        if not isinstance(line, dict):
            continue
        summary.lines += 1
        if line.get("msg") == "processed" and line.get("bucket") == bucket:
            summary.processed.append(line)
        elif line.get("msg") == "failed" and line.get("bucket", bucket) == bucket:
            summary.failed.append(line)


def summarise(folder: str, bucket: str) -> LogSummary:
    """Lines of every worker log in `folder` about `bucket` (failures without a bucket included)."""
    summary = LogSummary()
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        _add_file(summary, path, bucket)
    return summary


def processed_keys(path: str, bucket: str) -> set[str]:
    """Source keys one worker's log says it wrote outputs for."""
    summary = LogSummary()
    if os.path.exists(path):
        _add_file(summary, path, bucket)
    return {line["key"] for line in summary.processed if "key" in line}


def total_size(folder: str) -> int:
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(folder, "*.log")))
