#!/usr/bin/env python3
"""The results of `make demo`: a table on stdout and an HTML contact sheet.

Reads the worker's JSON log (one "processed" line per output written) and the
uploads the demo made (TSV: key, local file, ms since the epoch when the PUT
answered), downloads every source and output object from the buckets (so the
page shows what is stored, not what was meant to be), and writes
<out>/index.html with each uploaded photo beside its outputs: dimensions,
bytes, format and the time from the upload's 200 to the output's log line.

Standard library only; S3 requests go through curl --aws-sigv4 with the
stack's settings (IMGPIPE_S3_* in the environment), like scripts/demo.sh.
Usage: demo_report.py --log LOG --uploads TSV --out DIR [--source-bucket B]
"""
from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif", "avif": "avif",
              "tiff": "tif", "heif": "heic"}


@dataclass
class Picture:
    """One object in a bucket as the page shows it."""
    bucket: str
    key: str
    width: int
    height: int
    format: str
    bytes: int = 0
    file: str = ""         # relative to the report folder once downloaded
    after_upload_ms: int | None = None  # outputs only


@dataclass
class Upload:
    key: str
    local_file: str
    uploaded_ms: int
    source: Picture | None = None
    outputs: list[Picture] = field(default_factory=list)


def read_uploads(path: Path) -> dict[str, Upload]:
    uploads = {}
    for line in path.read_text().splitlines():
        key, local_file, uploaded_ms = line.split("\t")
        uploads[key] = Upload(key, local_file, int(uploaded_ms))
    return uploads


def epoch_ms(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def attach_outputs(uploads: dict[str, Upload], log: Path, source_bucket: str) -> None:
    """Adds each logged output to its upload; a target written twice keeps its last line."""
    latest: dict[tuple[str, str], dict] = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # librdkafka or start-up text
        if entry.get("msg") == "processed" and entry.get("bucket") == source_bucket \
                and entry.get("key") in uploads:
            latest[(entry["target"], entry["target_key"])] = entry
    for (target, target_key), entry in sorted(latest.items()):
        upload = uploads[entry["key"]]
        upload.source = Picture(source_bucket, upload.key, entry["input_width"],
                                entry["input_height"], entry["input_format"])
        upload.outputs.append(Picture(target, target_key, entry["output_width"],
                                      entry["output_height"], entry["output_format"],
                                      after_upload_ms=epoch_ms(entry["ts"]) - upload.uploaded_ms))


def object_url(bucket: str, key: str) -> str:
    quoted = "/".join(urllib.parse.quote(part, safe="") for part in key.split("/"))
    return f"{os.environ['IMGPIPE_S3_ENDPOINT']}/{bucket}/{quoted}"


def download(picture: Picture, folder: Path, name: str) -> None:
    """GETs the object into folder/name.<ext> and records its path and size."""
    target = folder / f"{name}.{EXTENSIONS.get(picture.format, 'bin')}"
    subprocess.run(
        ["curl", "-fsS", "--aws-sigv4", f"aws:amz:{os.environ['IMGPIPE_S3_REGION']}:s3",
         "--user", f"{os.environ['IMGPIPE_S3_ACCESS_KEY']}:{os.environ['IMGPIPE_S3_SECRET_KEY']}",
         "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
         "-o", str(target), object_url(picture.bucket, picture.key)], check=True)
    picture.bytes = target.stat().st_size
    picture.file = f"{folder.name}/{target.name}"


def describe(picture: Picture) -> str:
    return f"{picture.width}×{picture.height} · {picture.bytes:,} B · {picture.format}"


def figure(picture: Picture, role: str) -> str:
    caption = [f'<span class="where">{html.escape(picture.bucket)}/{html.escape(picture.key)}</span>',
               f'<span class="facts">{describe(picture)}</span>']
    if picture.after_upload_ms is not None:
        caption.append(f'<span class="latency">{picture.after_upload_ms:,} ms after upload</span>')
    attributes = " ".join(f'data-{name}="{html.escape(str(value))}"' for name, value in [
        ("role", role), ("bucket", picture.bucket), ("key", picture.key),
        ("width", picture.width), ("height", picture.height), ("bytes", picture.bytes),
        ("format", picture.format)] + ([("after-upload-ms", picture.after_upload_ms)]
                                       if picture.after_upload_ms is not None else []))
    return (f'<figure class="{role}"><img src="{html.escape(picture.file)}" loading="eager" '
            f'alt="{html.escape(picture.key)}" {attributes}>'
            f'<figcaption>{"".join(caption)}</figcaption></figure>')


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
.summary { color: #555; margin-bottom: 1.2rem; }
.photo { display: flex; gap: 1rem; align-items: flex-start; padding: .8rem 0;
         border-top: 1px solid #ddd; }
figure { margin: 0; width: 300px; }
img { max-width: 300px; max-height: 220px; display: block; background:
      repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
figcaption span { display: block; font-size: 12px; }
.where { word-break: break-all; color: #333; }
.facts { color: #000; font-variant-numeric: tabular-nums; }
.latency { color: #2a6a2a; }
.missing { color: #a33; align-self: center; }
"""


def page(uploads: list[Upload], summary: str) -> str:
    rows = []
    for upload in uploads:
        cells = [figure(upload.source, "source")] if upload.source else [
            f'<p class="missing">{html.escape(upload.key)}: no output logged</p>']
        cells += [figure(output, "output") for output in upload.outputs]
        rows.append(f'<section class="photo">{"".join(cells)}</section>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>imgpipe demo: contact sheet</title><style>{STYLE}</style></head><body>'
            f'<h1>imgpipe demo</h1><p class="summary">{html.escape(summary)}</p>'
            f'{"".join(rows)}</body></html>\n')


def print_table(uploads: list[Upload]) -> None:
    rows = [("key", "input", "input size", "output", "output size", "upload→output")]
    for upload in uploads:
        for output in upload.outputs:
            rows.append((upload.key, f"{upload.source.bytes} B",
                         f"{upload.source.width}x{upload.source.height}", f"{output.bytes} B",
                         f"{output.width}x{output.height}", f"{output.after_upload_ms} ms"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--uploads", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--source-bucket", default=os.environ.get("IMGPIPE_SOURCE_BUCKET", "raw"))
    args = parser.parse_args()

    uploads = read_uploads(args.uploads)
    attach_outputs(uploads, args.log, args.source_bucket)
    shutil.rmtree(args.out, ignore_errors=True)
    (args.out / "sources").mkdir(parents=True)
    (args.out / "outputs").mkdir()
    ordered = sorted(uploads.values(), key=lambda upload: upload.key)
    for number, upload in enumerate(ordered, start=1):
        if upload.source:
            download(upload.source, args.out / "sources", f"{number:03d}")
        for index, output in enumerate(upload.outputs, start=1):
            download(output, args.out / "outputs", f"{number:03d}-{index}")

    outputs = [output for upload in ordered for output in upload.outputs]
    latencies = sorted(output.after_upload_ms for output in outputs)
    summary = (f"{len(ordered)} photos uploaded, {len(outputs)} outputs; "
               f"{sum(u.source.bytes for u in ordered if u.source):,} B in, "
               f"{sum(o.bytes for o in outputs):,} B out")
    if latencies:
        summary += f"; upload to output {latencies[0]:,}–{latencies[-1]:,} ms"
    (args.out / "index.html").write_text(page(ordered, summary))
    print_table(ordered)
    missing = [upload.key for upload in ordered if not upload.outputs]
    if missing:
        print(f"demo_report: no output logged for {len(missing)} uploads", file=sys.stderr)


if __name__ == "__main__":
    main()
