#!/usr/bin/env python3
"""Makes the end-to-end benchmark's camera-like corpus (issue 9), deterministically.

    make_camera_corpus.py OUT_DIR [--count 300] [--photos DIR ...] [--icc FILE]

Real photos from Debian's wallpaper packages (mate-backgrounds, plasma-workspace-
wallpapers: every JPEG of at least 2 MP, the largest size of each wallpaper) are
cropped and resized to camera sizes, and given sensor-like noise (signal-dependent
luminance noise plus weaker chroma noise, as a camera's sensor and demosaicing
leave it), so that the JPEGs carry 2-4 bits per pixel like camera files. Smooth
upscaled wallpapers at 0.9 bits per pixel would understate the cost of decoding.

The mix (fixed by the seed, recorded in manifest.json): 2 to 24 megapixels with
most at 12 MP, a fifth portrait; among the JPEGs some carry an EXIF orientation
(pixels stored rotated, as cameras do) and some an embedded ICC profile (Adobe RGB,
from colord's profiles); a few PNG and WebP. With the pinned Pillow and numpy the
same bytes come out on every x86-64 machine: manifest.json's digest names them.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
import os
import sys

import numpy as np
from PIL import Image

SEED = 20261203
DEFAULT_PHOTOS = ["/usr/share/backgrounds/mate", "/usr/share/wallpapers"]
DEFAULT_ICC = "/usr/share/color/icc/colord/AdobeRGB1998.icc"
# (megapixels, share of the corpus): most at 12 MP, as phones and compact cameras.
SIZES = [(2, 0.08), (5, 0.08), (8, 0.12), (12, 0.52), (16, 0.10), (24, 0.10)]
PORTRAIT_SHARE = 0.2
FORMATS = [("jpeg", 0.9), ("png", 0.05), ("webp", 0.05)]
ORIENTATION_SHARE = 0.15   # of the JPEGs: EXIF orientation 6 or 8
ICC_SHARE = 0.2            # of the JPEGs: an embedded Adobe RGB profile
TARGET_BPP = (2.0, 4.0)    # bits per pixel of the JPEGs
# Wallpapers of those packages that are drawings or renders, not photographs.
NOT_PHOTOS = ("Elephants", "GreenTraditional", "Autumn", "Flow", "Honeywave", "PastelHills",
              "SafeLanding", "Shell")


def photos(dirs: list[str]) -> list[str]:
    """Every photo (JPEG, at least 2 MP) under `dirs`; of a wallpaper's sizes only the largest."""
    found: dict[str, tuple[int, str]] = {}
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "**", "*.jp*g"), recursive=True)):
            with Image.open(path) as im:
                pixels = im.width * im.height
            if pixels < 2_000_000:
                continue
            # plasma: <name>/contents/images/<size>.jpg; mate: one file per photo
            key = path.split("/contents/")[0] if "/contents/" in path else path
            if os.path.basename(key).startswith(NOT_PHOTOS):
                continue
            if key not in found or pixels > found[key][0]:
                found[key] = (pixels, path)
    return sorted(p for _, p in found.values())


def pick(rng: np.random.Generator, choices):
    values, shares = zip(*choices)
    return values[rng.choice(len(values), p=np.array(shares) / sum(shares))]


def camera_size(megapixels: int, portrait: bool) -> tuple[int, int]:
    """4:3 frames of about `megapixels`, width and height even."""
    width = int(round((megapixels * 1e6 * 4 / 3) ** 0.5 / 2)) * 2
    height = int(round(width * 3 / 4 / 2)) * 2
    return (height, width) if portrait else (width, height)


def crop_to(source: Image.Image, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A random crop of `source` with the aspect of `size`, at least half its extent, resized."""
    want = size[0] / size[1]
    scale = rng.uniform(0.6, 1.0)
    w = min(source.width, int(source.height * want)) * scale
    h = w / want
    x = rng.uniform(0, source.width - w)
    y = rng.uniform(0, source.height - h)
    return source.resize(size, Image.Resampling.LANCZOS, box=(x, y, x + w, y + h))


def add_sensor_noise(image: Image.Image, sigma: float, rng: np.random.Generator) -> Image.Image:
    """Shot noise that grows with brightness plus read noise, on luminance mostly."""
    a = np.asarray(image, dtype=np.float32)
    luma = a.mean(axis=2, keepdims=True)
    shot = np.sqrt(np.maximum(luma, 1.0) / 255.0)
    noise_l = rng.standard_normal(a.shape[:2], dtype=np.float32)[..., None] * sigma * (0.4 + shot)
    noise_c = rng.standard_normal(a.shape, dtype=np.float32) * (sigma * 0.35)
    out = np.clip(a + noise_l + noise_c, 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGB")


def exif_with_orientation(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "imgpipe-bench"       # Make
    exif[0x0110] = "corpus camera"       # Model
    exif[0x0132] = "2026:12:03 12:00:00"  # DateTime
    exif[0x0112] = orientation
    return exif.tobytes()


def encode_jpeg(image: Image.Image, quality: int, exif: bytes | None, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    kwargs = {"quality": quality, "subsampling": "4:2:0", "optimize": False}
    if exif:
        kwargs["exif"] = exif
    if icc:
        kwargs["icc_profile"] = icc
    image.save(out, "JPEG", **kwargs)
    return out.getvalue()


def camera_jpeg(image: Image.Image, rng: np.random.Generator, exif, icc) -> tuple[bytes, float]:
    """Noise raised until the JPEG (quality 92, like a camera's) reaches TARGET_BPP."""
    pixels = image.width * image.height
    sigma = 2.5
    for _ in range(6):
        data = encode_jpeg(add_sensor_noise(image, sigma, rng), 92, exif, icc)
        bpp = len(data) * 8 / pixels
        if TARGET_BPP[0] <= bpp <= TARGET_BPP[1]:
            break
        sigma *= 1.6 if bpp < TARGET_BPP[0] else 0.6
    return data, sigma


def make_one(index: int, sources: list[str], rng: np.random.Generator, icc: bytes | None) -> tuple[dict, bytes]:
    fmt = pick(rng, FORMATS)
    megapixels = pick(rng, SIZES) if fmt == "jpeg" else pick(rng, SIZES[:4])
    portrait = rng.random() < PORTRAIT_SHARE
    size = camera_size(megapixels, portrait)
    source_path = sources[int(rng.integers(len(sources)))]
    with Image.open(source_path) as source:
        image = crop_to(source.convert("RGB"), size, rng)
    entry = {"source": os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(source_path))))
             if "/contents/" in source_path else os.path.basename(source_path),
             "format": fmt, "megapixels": megapixels, "portrait": portrait}
    if fmt == "jpeg":
        orientation = int(rng.choice([6, 8])) if rng.random() < ORIENTATION_SHARE else 1
        with_icc = icc is not None and rng.random() < ICC_SHARE
        stored = image
        if orientation == 6:   # shown rotated 90 degrees clockwise: stored turned the other way
            stored = image.transpose(Image.Transpose.ROTATE_90)
        elif orientation == 8:
            stored = image.transpose(Image.Transpose.ROTATE_270)
        data, sigma = camera_jpeg(stored, rng, exif_with_orientation(orientation), icc if with_icc else None)
        entry.update(orientation=orientation, icc=with_icc, noise_sigma=round(sigma, 3))
        name = f"cam-{index:04d}.jpg"
    else:
        noisy = add_sensor_noise(image, 1.5, rng)
        out = io.BytesIO()
        if fmt == "png":
            noisy.save(out, "PNG", compress_level=6)
            name = f"cam-{index:04d}.png"
        else:
            noisy.save(out, "WEBP", quality=90, method=4)
            name = f"cam-{index:04d}.webp"
        data = out.getvalue()
    width, height = (size[1], size[0]) if fmt == "jpeg" and entry.get("orientation", 1) != 1 else size
    entry.update(name=name, stored_width=width, stored_height=height, bytes=len(data),
                 bits_per_pixel=round(len(data) * 8 / (size[0] * size[1]), 3),
                 sha256=hashlib.sha256(data).hexdigest())
    return entry, data


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--photos", nargs="*", default=DEFAULT_PHOTOS)
    parser.add_argument("--icc", default=DEFAULT_ICC)
    args = parser.parse_args(argv)
    sources = photos(args.photos)
    if len(sources) < 8:
        sys.exit(f"camera corpus: found {len(sources)} photos of 2 MP or more under {args.photos}; "
                 "apt-get install mate-backgrounds plasma-workspace-wallpapers")
    icc = open(args.icc, "rb").read() if os.path.exists(args.icc) else None
    if icc is None:
        print(f"camera corpus: no {args.icc} (apt-get install colord-data): no ICC profiles", file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    files = []
    for i in range(args.count):
        entry, data = make_one(i, sources, rng, icc)
        with open(os.path.join(args.out, entry["name"]), "wb") as f:
            f.write(data)
        files.append(entry)
        if (i + 1) % 25 == 0:
            print(f"camera corpus: {i + 1}/{args.count}", file=sys.stderr)
    digest = hashlib.sha256("".join(f"{e['name']}:{e['sha256']}\n" for e in files).encode()).hexdigest()
    jpegs = [e for e in files if e["format"] == "jpeg"]
    summary = {
        "digest": digest, "count": len(files), "seed": SEED, "photos": [os.path.relpath(p, "/usr/share") for p in sources],
        "formats": {f: sum(e["format"] == f for e in files) for f, _ in FORMATS},
        "megapixels": {str(mp): sum(e["megapixels"] == mp for e in files) for mp, _ in SIZES},
        "portrait": sum(e["portrait"] for e in files),
        "exif_orientation": sum(e.get("orientation", 1) != 1 for e in jpegs),
        "icc_profile": sum(bool(e.get("icc")) for e in jpegs),
        "jpeg_bits_per_pixel": {"min": min(e["bits_per_pixel"] for e in jpegs),
                                "median": float(np.median([e["bits_per_pixel"] for e in jpegs])),
                                "max": max(e["bits_per_pixel"] for e in jpegs)},
        "bytes": sum(e["bytes"] for e in files),
        "pillow": Image.__version__, "numpy": np.__version__,
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"summary": summary, "files": files}, f, indent=1)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
