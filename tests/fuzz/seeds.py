#!/usr/bin/env python3
"""Writes the fuzzers' seed inputs into DIR/<fuzzer>/ (deterministic).

Seeds are what the code meets in normal work, so that libFuzzer starts from
valid shapes and mutates them: the event messages of tests/events/data, the
YAML examples of docs/configuration.md, S3 XML replies, key templates, and
small images of every input format (Pillow) with EXIF orientation and an ICC
profile among them.
"""
import io
import re
import sys
from pathlib import Path

from PIL import Image, ImageCms

ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def events(out: Path) -> None:
    for path in sorted((ROOT / "tests/events/data").glob("*.json")):
        write(out, path.name, path.read_bytes())


def configs(out: Path) -> None:
    text = (ROOT / "docs/configuration.md").read_text()
    for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", text, re.S)):
        write(out, f"configuration-md-{i:02d}.yaml", block.encode())


def s3_xml(out: Path) -> None:
    ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    write(out, "error.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
          b"<Message>The specified key does not exist.</Message><Key>a &amp; b.jpg</Key>"
          b"<RequestId>1</RequestId></Error>")
    write(out, "list.xml", (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult {ns}>'
          "<Name>raw</Name><Prefix></Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
          "<NextContinuationToken>dG9rZW4=</NextContinuationToken>"
          "<Contents><Key>photos/a+b.jpg</Key><LastModified>2026-12-01T10:00:00.123Z</LastModified>"
          '<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>1234</Size></Contents>'
          "<Contents><Key><![CDATA[x<y>.png]]></Key><LastModified>2026-12-01T10:00:01Z"
          "</LastModified><ETag>\"ff\"</ETag><Size>0</Size></Contents></ListBucketResult>").encode())
    write(out, "multipart.xml", b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
          b"<UploadId>abc&#x26;&#38;</UploadId></InitiateMultipartUploadResult>")


def key_templates(out: Path) -> None:
    for i, (template, key) in enumerate([
            ("{key}", "photos/a b.jpg"), ("{dir}/{name}.{format}", "x/y/z.tar.gz"),
            ("thumbs/{variant}/{name}-{etag}.{ext}", "IMG_0001.JPG"), ("{", ""),
            ("out/{unknown}/{key}", "{key}"), ("{dir}{name}{ext}", ".hidden")]):
        write(out, f"template-{i}", f"{template}\x01{key}".encode())


def image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    picture = Image.linear_gradient("L").resize(size).convert(mode)
    return Image.merge(mode, [band.rotate(45 * i) for i, band in enumerate(picture.split())])


def images(out: Path) -> None:
    def save(name: str, picture: Image.Image, fmt: str, **options) -> None:
        buffer = io.BytesIO()
        picture.save(buffer, fmt, **options)
        write(out, name, buffer.getvalue())

    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    save("rotated.jpg", image((24, 16)), "JPEG", quality=85, exif=exif.tobytes(), icc_profile=srgb)
    save("progressive.jpg", image((32, 32)), "JPEG", quality=60, progressive=True)
    save("cmyk.jpg", image((16, 16)).convert("CMYK"), "JPEG")
    save("palette.png", image((20, 20)).convert("P", palette=Image.Palette.ADAPTIVE, colors=8), "PNG")
    save("alpha.png", image((20, 12), "RGBA"), "PNG")
    save("grey16.png", image((8, 8)).convert("I;16"), "PNG")
    save("lossy.webp", image((24, 24)), "WEBP", quality=50)
    save("alpha.webp", image((24, 24), "RGBA"), "WEBP", lossless=True)
    frames = [image((16, 16)).rotate(90 * i) for i in range(3)]
    save("animated.gif", frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0)
    save("deflate.tif", image((16, 16)), "TIFF", compression="tiff_deflate")


SEEDS = {"events_fuzzer": events, "config_fuzzer": configs, "s3_xml_fuzzer": s3_xml,
         "key_template_fuzzer": key_templates, "render_fuzzer": images}

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DIR")
    for fuzzer, make in SEEDS.items():
        make(Path(sys.argv[1]) / fuzzer)
