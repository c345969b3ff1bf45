#!/usr/bin/env python3
"""Makes the benchmark corpus with Pillow (pinned in requirements.txt, so the
bytes are the same on every x86-64 machine): three 4000x3000 JPEGs of each
source photo, baseline, 4:2:0 chroma, no metadata:

    a: centre 4:3 crop, quality 90
    b: west 4:3 crop, mirrored, quality 90
    c: east 4:3 crop, quality 85

    make_corpus.py --out DIR [--workers N] PHOTO...

Called by bench/corpus.sh. Prints the number of files written.
"""
import argparse
import os
import sys
from multiprocessing import Pool

from PIL import Image, ImageOps

WIDTH, HEIGHT = 4000, 3000
VARIANTS = (("a", "centre", False, 90), ("b", "west", True, 90), ("c", "east", False, 85))


def crop_4_3(im, gravity):
    w, h = im.size
    if w * HEIGHT > h * WIDTH:  # wider than 4:3: cut the sides
        cw, ch = round(h * WIDTH / HEIGHT), h
    else:  # taller: cut top and bottom
        cw, ch = w, round(w * HEIGHT / WIDTH)
    x = {"west": 0, "east": w - cw}.get(gravity, (w - cw) // 2)
    y = (h - ch) // 2
    return im.crop((x, y, x + cw, y + ch))


def make(job):
    path, out = job
    name = os.path.splitext(os.path.basename(path))[0]
    with Image.open(path) as source:
        source = ImageOps.exif_transpose(source).convert("RGB")
        for variant, gravity, mirror, quality in VARIANTS:
            im = crop_4_3(source, gravity).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
            if mirror:
                im = ImageOps.mirror(im)
            im.save(os.path.join(out, f"{name}-{variant}.jpg"), "JPEG", quality=quality,
                    subsampling=2, optimize=False, progressive=False)
    return len(VARIANTS)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("photos", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with Pool(args.workers) as pool:
        made = sum(pool.map(make, [(p, args.out) for p in args.photos], chunksize=1))
    print(made)
    return 0


if __name__ == "__main__":
    sys.exit(main())
