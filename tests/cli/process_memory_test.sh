#!/usr/bin/env bash
# Peak memory of `imgpipe process` on decompression bombs: a real 30000x30000
# PNG (2.7 GB of pixels behind about 2.6 MB of deflate) and a JPEG whose SOF
# header claims 65000x65000. Each must be rejected from its header: exit
# status 2, one JSON line with "status":"rejected","reason":"too_many_pixels",
# no output written, and a peak RSS (getrusage of the child) under 200 MB.
# A small valid PNG goes through the same configuration first, so that a
# broken configuration or measurement cannot pass for a rejection.
#
# Usage: process_memory_test.sh IMGPIPE_BINARY
# The bomb is cached in ${IMGPIPE_CORPUS_DIR:-/tmp/imgpipe-corpus}.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
  echo "usage: $0 IMGPIPE_BINARY" >&2
  exit 2
fi

exec python3 - "$1" "${IMGPIPE_CORPUS_DIR:-/tmp/imgpipe-corpus}" <<'PYTHON'
import base64, json, os, resource, struct, subprocess, sys, tempfile, zlib

imgpipe, corpus = sys.argv[1], sys.argv[2]
LIMIT_KB = 200 * 1024
failures = []


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(path, width, height, rows):
    """Writes an 8-bit RGB PNG; `rows` yields the filtered scanlines."""
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
        for block in rows:
            data = deflate.compress(block)
            if data:
                out.write(chunk(b"IDAT", data))
        out.write(chunk(b"IDAT", deflate.flush()))
        out.write(chunk(b"IEND", b""))


def bomb_path():
    side = 30000
    path = os.path.join(corpus, "bomb-30000x30000-rgb-py-v1.png")
    if not os.path.exists(path):
        os.makedirs(corpus, exist_ok=True)
        row = b"\0" * (1 + side * 3)  # filter byte 0, black pixels
        batch = 100
        temporary = "%s.tmp.%d" % (path, os.getpid())
        png(temporary, side, side, (row * batch for _ in range(side // batch)))
        os.rename(temporary, path)
    return path


# A 32x20 baseline JPEG made by libvips (Q=60, stripped).
TINY_JPEG = base64.b64decode(
    "/9j/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBD"
    "AQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0//wAARCAAUACAD"
    "ASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEG"
    "E1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4"
    "eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6"
    "/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEI"
    "FEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaH"
    "iImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIR"
    "AxEAPwBliCNN/tG4mLIcxkKvIPbPrzUEOyceeW3YzjjtWYol8sCJhsBIaui0rT3XRJri4ZYYR8scjHHzE8H8+K8+tLnSSWxmYs5E"
    "jSsA8pVSvl9F9jWj4f1Gx06aI3VszRbCGMmCSf7wHH0xTrK0mmhluCYwI3AYDAZ/b/69WtU0e6mjjWBok8xQUEsYyR/sn1qleKje"
    "Og7o53QFD3Rt25jdeR69K6PxFK3kR2IAEEaI4Ueu4j+VFFZS+IHuU7RzFcybQOYS3PqKs3V1NcaERK5OyQFTnkcUUV0XaoKxK3P/"
    "2Q==")


def jpeg_claiming(path, width, height):
    """Patches the SOF0/1/2 segment of TINY_JPEG to claim width x height."""
    data = bytearray(TINY_JPEG)
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if 0xC0 <= marker <= 0xC2:
            data[at + 5:at + 9] = struct.pack(">HH", height, width)
            break
        at += 2 + length
    else:
        raise SystemExit("no SOF segment in the embedded JPEG")
    with open(path, "wb") as out:
        out.write(data)


def measure(work, name, path):
    """Runs imgpipe process on one file in a fresh Python child; returns
    (exit status, stdout lines, peak RSS in kB of imgpipe alone)."""
    output_dir = os.path.join(work, "out-" + name)
    runner = ("import resource, subprocess, sys\n"
              "p = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL,"
              " stdout=open(sys.argv[1], 'wb'), timeout=300)\n"
              "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    stdout_file = os.path.join(work, name + ".stdout")
    result = subprocess.run(
        [sys.executable, "-c", runner, stdout_file, imgpipe, "process", "--config",
         os.path.join(work, "config.yaml"), "--output-dir", output_dir, path],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True)
    status, peak_kb = (int(field) for field in result.stdout.split())
    with open(stdout_file, encoding="utf-8", errors="replace") as lines:
        stdout = lines.read().splitlines()
    written = []
    for root, _, files in os.walk(output_dir):
        written += [os.path.join(root, f) for f in files]
    return status, stdout, peak_kb, written


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message)


with tempfile.TemporaryDirectory(prefix="imgpipe-memory-") as work:
    with open(os.path.join(work, "config.yaml"), "w") as config:
        config.write(
            "pipeline:\n"
            "  max_input_pixels: 268402689\n"
            "  fail_on: truncated\n"
            "rules:\n"
            "  - name: thumbs\n"
            "    match: {bucket: raw}\n"
            "    outputs:\n"
            "      - name: thumb\n"
            "        bucket: processed\n"
            "        key: \"thumbs/{key}.{format}\"\n"
            "        resize: {width: 256, height: 256}\n"
            "        format: jpeg\n")
    control = os.path.join(work, "control.png")
    png(control, 640, 400,
        (b"\0" + bytes((x * 255 // 639, y * 255 // 399, 128)[c] for x in range(640)
                       for c in range(3)) for y in range(400)))
    fake = os.path.join(work, "header-65000x65000.jpg")
    jpeg_claiming(fake, 65000, 65000)
    bomb = bomb_path()

    status, stdout, peak_kb, written = measure(work, "control", control)
    print("control.png: exit %d, peak RSS %.1f MB, %s" % (status, peak_kb / 1024, stdout))
    check(status == 0, "control: exit status %d, expected 0" % status)
    check(len(stdout) == 1 and json.loads(stdout[0]).get("status") == "ok",
          "control: expected one JSON line with status ok, got %r" % stdout)
    check(len(written) == 1, "control: expected one output file, got %r" % written)
    check(peak_kb > 1024, "control: a peak RSS of %d kB cannot be right" % peak_kb)

    for name, path in (("bomb-30000x30000.png", bomb), ("header-65000x65000.jpg", fake)):
        status, stdout, peak_kb, written = measure(work, name, path)
        print("%s: exit %d, peak RSS %.1f MB, %s" % (name, status, peak_kb / 1024, stdout))
        check(status == 2, "%s: exit status %d, expected 2" % (name, status))
        check(len(stdout) == 1, "%s: expected one line on stdout, got %r" % (name, stdout))
        if len(stdout) == 1:
            line = json.loads(stdout[0])
            check(line.get("status") == "rejected",
                  "%s: status %r, expected rejected" % (name, line.get("status")))
            check(line.get("reason") == "too_many_pixels",
                  "%s: reason %r, expected too_many_pixels" % (name, line.get("reason")))
        check(not written, "%s: outputs written for a rejected input: %r" % (name, written))
        check(peak_kb < LIMIT_KB,
              "%s: peak RSS %.1f MB, limit 200 MB" % (name, peak_kb / 1024))

sys.exit(1 if failures else 0)
PYTHON
