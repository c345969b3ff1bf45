"""`make test-demo`: runs the demo on the local stack and checks its contact sheet in a browser.

scripts/demo.sh runs against buckets and a consumer group of its own (so the topic's history
from other tests is not replayed), then the page it wrote is opened in Debian's headless
Chromium through chromedriver. The test fails unless the page loads, every <img> decodes at
the size its caption states, the captions' dimensions, bytes and formats are those of the
objects in the buckets (read back with boto3 and Pillow, not from the page's own files),
and every uploaded photo appears with its output. A screenshot is kept in test-results/.

Usage: check_report.py --binary build/src/cli/imgpipe   (with the stack's env sourced)
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "faults"))
from harness import kafka_io  # noqa: E402

PHOTOS = Path(os.environ.get("DEMO_PHOTOS", "/usr/share/backgrounds/mate"))
ARTEFACTS = ROOT / "test-results"
PIL_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}

# Each image decoded by the browser: what it says it is and what it turned out to be.
DECODE_ALL = """
const done = arguments[arguments.length - 1];
const images = [...document.images];
Promise.all(images.map(img => img.decode().then(() => true, () => false))).then(decoded =>
  done(images.map((img, i) => ({
    decoded: decoded[i], naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    caption: img.closest('figure').querySelector('figcaption').innerText,
    ...img.dataset }))));
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(binary: str, env: dict[str, str], report: Path) -> None:
    subprocess.run([binary, "setup"], env=env, check=True, capture_output=True)
    kafka_io.start_group_at_end(env["IMGPIPE_KAFKA_BROKERS"], env["IMGPIPE_KAFKA_GROUP"],
                                env["IMGPIPE_KAFKA_TOPIC"])
    subprocess.run([str(ROOT / "scripts" / "demo.sh"), binary], env=env, check=True,
                   cwd=ROOT, timeout=600)
    assert (report / "index.html").is_file(), "the demo wrote no contact sheet"


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # The driver of Debian's package, named explicitly: nothing is looked up or downloaded.
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                            options=options)


def images_on_page(report: Path) -> list[dict]:
    driver = browser()
    try:
        driver.set_script_timeout(120)
        driver.get((report / "index.html").as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        assert driver.title == "imgpipe demo: contact sheet", driver.title
        images = driver.execute_async_script(DECODE_ALL)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1400, min(height + 40, 8000))
        ARTEFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTEFACTS / "demo-report.png"))
        return images
    finally:
        driver.quit()


def check_image(s3, image: dict) -> list[str]:
    """What is wrong with one <img> against the object it names (empty: nothing)."""
    where = f"{image['bucket']}/{image['key']}"
    problems = []
    if not image["decoded"]:
        problems.append(f"{where}: the browser could not decode it")
    width, height, size = int(image["width"]), int(image["height"]), int(image["bytes"])
    if (image["naturalWidth"], image["naturalHeight"]) != (width, height):
        problems.append(f"{where}: decoded {image['naturalWidth']}x{image['naturalHeight']}, "
                        f"page says {width}x{height}")
    body = s3.get_object(Bucket=image["bucket"], Key=image["key"])["Body"].read()
    stored = Image.open(io.BytesIO(body))
    if (len(body), stored.size, PIL_FORMATS.get(stored.format)) != (size, (width, height),
                                                                     image["format"]):
        problems.append(f"{where}: stored {len(body)} B {stored.size} {stored.format}, "
                        f"page says {size} B {(width, height)} {image['format']}")
    if image["role"] == "output":
        # The worker logs an output after its PUT answered, which came after the source's PUT.
        after_upload = int(image["afterUploadMs"])
        if not 0 < after_upload < 600_000 or f"{after_upload:,} ms after upload" not in image["caption"]:
            problems.append(f"{where}: {after_upload} ms after upload, caption {image['caption']!r}")
    facts = f"{width}×{height} · {size:,} B · {image['format']}"
    if facts not in image["caption"]:
        problems.append(f"{where}: caption {image['caption']!r} lacks {facts!r}")
    return problems


def stored_keys(s3, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()

    run_id = uuid.uuid4().hex[:6]
    source, target = f"raw-demo-{run_id}", f"processed-demo-{run_id}"
    report = Path(os.environ.get("DEMO_REPORT_DIR", ARTEFACTS / "demo-report")).resolve()
    env = dict(os.environ, IMGPIPE_SOURCE_BUCKET=source, IMGPIPE_TARGET_BUCKET=target,
               IMGPIPE_KAFKA_GROUP=f"imgpipe-demo-{run_id}", DEMO_REPORT_DIR=str(report),
               DEMO_HTTP_PORT=str(free_port()), DEMO_PHOTOS=str(PHOTOS))
    run_demo(args.binary, env, report)
    images = images_on_page(report)

    s3 = boto3.client("s3", endpoint_url=env["IMGPIPE_S3_ENDPOINT"],
                      aws_access_key_id=env["IMGPIPE_S3_ACCESS_KEY"],
                      aws_secret_access_key=env["IMGPIPE_S3_SECRET_KEY"],
                      region_name=env["IMGPIPE_S3_REGION"],
                      config=Config(s3={"addressing_style": "path"}))
    problems = [problem for image in images for problem in check_image(s3, image)]
    for role, bucket in (("source", source), ("output", target)):
        shown = {image["key"] for image in images if image["role"] == role}
        if shown != stored_keys(s3, bucket):
            problems.append(f"{role}s on the page {sorted(shown)} are not the objects in "
                            f"{bucket} {sorted(stored_keys(s3, bucket))}")
    photos = [p for p in PHOTOS.rglob("*") if p.suffix in (".jpg", ".png")]
    sources = sum(image["role"] == "source" for image in images)
    if sources != len(photos):
        problems.append(f"{sources} sources on the page, {len(photos)} photos uploaded")
    if problems:
        sys.exit("demo report: FAIL\n  " + "\n  ".join(problems))
    print(f"demo report: ok, {len(images)} images ({sources} sources) decoded in Chromium and "
          f"equal to the stored objects; screenshot {ARTEFACTS / 'demo-report.png'}")


if __name__ == "__main__":
    main()
