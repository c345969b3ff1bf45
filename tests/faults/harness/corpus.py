"""A deterministic corpus of small real photos, plus the poison objects.

Photos come from the Debian wallpaper packages under /usr/share/backgrounds,
cropped to a random aspect ratio and downscaled to 200-640 px on the long
side (fixed seed). The result is cached; a different seed, size or format
version gives a different cache folder.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import random
import shutil
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

CORPUS_FORMAT = 1
BACKGROUNDS = "/usr/share/backgrounds"


@dataclass(frozen=True)
class Photo:
    """One image body of the corpus."""

    name: str
    body: bytes
    width: int
    height: int
    content_type: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body).hexdigest()

    @property
    def aspect(self) -> float:
        return self.width / self.height


@dataclass(frozen=True)
class Corpus:
    photos: list[Photo]
    poison: dict[str, Photo]  # reason it must be rejected with -> object


def _sources() -> list[str]:
    files = [path for ext in ("jpg", "jpeg", "png")
             for path in glob.glob(f"{BACKGROUNDS}/**/*.{ext}", recursive=True)]
    files = sorted(set(files))
    if not files:
        raise RuntimeError(f"no photos under {BACKGROUNDS} (apt-get install mate-backgrounds)")
    return files


def _crop_to_aspect(image: Image.Image, aspect: float) -> Image.Image:
    width, height = image.size
    if width / height > aspect:
        new_width = int(height * aspect)
        left = (width - new_width) // 2
        return image.crop((left, 0, left + new_width, height))
    new_height = int(width / aspect)
    top = (height - new_height) // 2
    return image.crop((0, top, width, top + new_height))


def _variant(image: Image.Image, rng: random.Random) -> tuple[Image.Image, str]:
    aspect = rng.choice([0.5, 0.66, 0.75, 1.0, 1.33, 1.5, 1.78, 2.0]) * rng.uniform(0.97, 1.03)
    cropped = _crop_to_aspect(image, aspect)
    long_side = rng.randint(200, 640)
    scale = long_side / max(cropped.size)
    size = (max(1, round(cropped.width * scale)), max(1, round(cropped.height * scale)))
    fmt = "png" if rng.random() < 0.2 else "jpeg"
    return cropped.resize(size, Image.Resampling.LANCZOS), fmt


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=85)
    else:
        image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _open_rgb(path: str) -> Image.Image:
    image = Image.open(path)
    image.draft("RGB", (1600, 1600))  # JPEG: decode at a reduced scale
    image = image.convert("RGB")
    image.thumbnail((1600, 1600))
    return image


def _build_photos(folder: str, seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    sources = _sources()
    manifest = []
    per_source = -(-count // len(sources))
    for source_index, path in enumerate(sources):
        image = _open_rgb(path)
        for _ in range(per_source):
            if len(manifest) == count:
                return manifest
            variant, fmt = _variant(image, rng)
            name = f"p{len(manifest):03d}-s{source_index:02d}.{'jpg' if fmt == 'jpeg' else 'png'}"
            with open(os.path.join(folder, name), "wb") as out:
                out.write(_encode(variant, fmt))
            manifest.append({"name": name, "width": variant.width, "height": variant.height,
                             "content_type": f"image/{fmt}"})
    return manifest


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def decompression_bomb(side: int = 30000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side pixels, all black: about 110 KB."""
    row = b"\0" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    chunks = [compressor.compress(row * 1000) for _ in range(side // 1000)]
    chunks.append(compressor.compress(row * (side % 1000)))
    chunks.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", b"".join(chunks)) + _png_chunk(b"IEND", b""))


def _poison(photos: list[Photo], folder: str) -> dict[str, Photo]:
    bomb_path = os.path.join(folder, "bomb-30000.png")
    if not os.path.exists(bomb_path):
        with open(bomb_path, "wb") as out:
            out.write(decompression_bomb())
    with open(bomb_path, "rb") as f:
        bomb = f.read()
    jpeg = next(p for p in photos if p.content_type == "image/jpeg" and len(p.body) > 20000)
    return {
        "not_an_image": Photo("not-an-image.jpg", b"this is a text file, not a photo\n" * 40,
                              0, 0, "image/jpeg"),
        "decode_failed": Photo("truncated.jpg", jpeg.body[: len(jpeg.body) * 55 // 100],
                               jpeg.width, jpeg.height, "image/jpeg"),
        "empty_object": Photo("empty.jpg", b"", 0, 0, "image/jpeg"),
        "too_many_pixels": Photo("bomb.png", bomb, 30000, 30000, "image/png"),
    }


def load(cache_root: str, seed: int = 20240601, count: int = 96) -> Corpus:
    folder = os.path.join(cache_root, f"v{CORPUS_FORMAT}-seed{seed}-n{count}")
    manifest_path = os.path.join(folder, "manifest.json")
    if not os.path.exists(manifest_path):
        tmp = f"{folder}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        manifest = _build_photos(tmp, seed, count)
        with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=1)
        shutil.rmtree(folder, ignore_errors=True)
        os.rename(tmp, folder)
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    photos = []
    for entry in manifest:
        with open(os.path.join(folder, entry["name"]), "rb") as body:
            photos.append(Photo(entry["name"], body.read(), entry["width"], entry["height"],
                                entry["content_type"]))
    return Corpus(photos, _poison(photos, folder))
