#!/usr/bin/env python3
"""The benchmark's task done with Pillow: every input JPEG made to fit within
WxH (default 256x256) and written as JPEG quality Q (default 80), with a
multiprocessing pool of N processes (default: one per core).

    pillow_thumbs.py --out DIR [--workers N] [--size 256] [--quality 80] FILE...

The idiomatic Pillow way: Image.thumbnail(), which first calls draft() so that
libjpeg decodes at 1/2, 1/4 or 1/8 scale (DCT scaling, like libvips'
shrink-on-load), leaving at least a factor of 2 (reducing_gap=2.0) for the
final resampling. Output: RGB, 4:2:0 chroma (Pillow's default), optimised
Huffman tables (optimize=True, as imgpipe and sharp do), no metadata.
Prints one JSON object: count, failures, output bytes, output sizes.
"""
import argparse
import json
import os
import sys
from multiprocessing import Pool

from PIL import Image, features

SIZE = (256, 256)
QUALITY = 80
OUT_DIR = "."


def init(size, quality, out_dir):
    global SIZE, QUALITY, OUT_DIR
    SIZE, QUALITY, OUT_DIR = size, quality, out_dir


def thumb(path):
    try:
        with Image.open(path) as im:
            im.thumbnail(SIZE)  # draft mode + reduce + bicubic
            if im.mode != "RGB":
                im = im.convert("RGB")
            target = os.path.join(OUT_DIR, os.path.splitext(os.path.basename(path))[0] + ".jpg")
            im.save(target, "JPEG", quality=QUALITY, optimize=True)
            return {"ok": True, "bytes": os.path.getsize(target), "size": list(im.size)}
    except Exception as error:  # noqa: BLE001 - reported, counted as a failure
        return {"ok": False, "error": f"{path}: {error}"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=80)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    size = (args.size, args.size)
    pool = Pool(args.workers, initializer=init, initargs=(size, args.quality, args.out))
    results = list(pool.imap_unordered(thumb, args.files, chunksize=1))
    pool.close()
    pool.join()  # the workers are reaped, so their CPU time reaches our parent's rusage
    failures = [r["error"] for r in results if not r["ok"]]
    print(json.dumps({
        "tool": "pillow",
        "version": Image.__version__,
        "libjpeg": features.version("libjpeg_turbo") or features.version("jpg"),
        "count": len(results) - len(failures),
        "failures": failures,
        "output_bytes": sum(r["bytes"] for r in results if r["ok"]),
        "output_sizes": sorted({"x".join(map(str, r["size"])) for r in results if r["ok"]}),
    }))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
