"""What `shrink_on_load: fast` (imgpipe's default) costs in quality and saves
in CPU against `conservative` (libvips' thumbnail rule), on the camera corpus
and on two synthetic worst cases (docs/performance.md, "Shrink-on-load").

Every `--every`-th JPEG of the corpus is fitted into 1024x1024 by
`imgpipe process` under both policies, as PNG (lossless, to see the resampling
alone) and as JPEG quality 85 (what users get). Each output is compared with a
reference made here independently of libvips: Pillow decodes the whole photo,
turns it upright and resamples it with its Lanczos filter to the output's size.
Photos with an ICC profile are left out of the comparison (imgpipe converts
them to sRGB, the reference does not). CPU: user + system seconds of
`imgpipe process` over the same photos, JPEG outputs only, one render thread,
`--rounds` times per policy, alternating.

  shrink_quality.py --imgpipe build/src/cli/imgpipe --corpus DIR [--every 5] [--rounds 2] [--json F]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile

import numpy as np
from PIL import Image, ImageOps

POLICIES = ("fast", "conservative")


def config(policy: str, formats: tuple[str, ...]) -> str:
    outputs = "".join(f"""
      - name: {fmt}
        bucket: out-{policy}
        key: "{{key}}.{fmt}"
        unique_keys: false
        resize: {{width: 1024, height: 1024}}
        format: {"png" if fmt == "png" else "jpeg"}
        encoder: {{compression: 1}}
        shrink_on_load: {policy}""" for fmt in formats)
    return f"rules:\n  - name: q\n    match: {{bucket: raw}}\n    outputs:{outputs}\n"


def process(imgpipe: str, cfg: str, out: str, inputs: list[str]) -> float:
    """CPU seconds (user + system) of one `imgpipe process` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([imgpipe, "process", "--config", cfg, "--output-dir", out, *inputs], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "IMGPIPE_RENDERS": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255 ** 2 / mse))


def reference(path: str, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB").resize(size, Image.LANCZOS))


def worst_cases(work: str) -> dict[str, str]:
    """A zone plate (every frequency up to near Nyquist) and stripes finer than
    the output can hold (they should come out flat grey), 4000x3000."""
    h, w = 3000, 4000
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    zone = 127.5 + 127.5 * np.cos(np.pi * ((x - w / 2) ** 2 + (y - h / 2) ** 2) / (2.2 * w))
    stripes = 127.5 + 127.5 * np.sin(2 * np.pi * x / 3.1)
    paths = {}
    for name, pixels in (("zone-plate", zone), ("fine-stripes", stripes)):
        paths[name] = os.path.join(work, f"{name}.jpg")
        Image.fromarray(np.stack([pixels] * 3, -1).astype(np.uint8)).save(paths[name], quality=95)
    return paths


def compare(inputs: dict[str, str], out: str, fmt: str) -> dict[str, dict[str, float]]:
    """name -> policy -> PSNR of the output against the reference."""
    scores = {}
    for name, path in inputs.items():
        outputs = {p: np.asarray(Image.open(os.path.join(out, f"out-{p}", f"{os.path.basename(path)}.{fmt}"))
                                 .convert("RGB")) for p in POLICIES}
        h, w = outputs["fast"].shape[:2]
        if outputs["conservative"].shape[:2] != (h, w):
            raise SystemExit(f"{name}: the policies made different sizes")
        ref = reference(path, (w, h))
        scores[name] = {p: round(psnr(outputs[p], ref), 2) for p in POLICIES}
        scores[name]["same"] = bool(np.array_equal(outputs["fast"], outputs["conservative"]))
    return scores


def summary(scores: dict[str, dict]) -> dict:
    """Medians over every photo; the differences over those the policies
    decoded at different scales (the others come out identical)."""
    diffs = [s["fast"] - s["conservative"] for s in scores.values() if not s["same"]]
    return {"images": len(scores), "decoded_differently": len(diffs),
            "median_psnr_db": {p: round(statistics.median(s[p] for s in scores.values()), 2) for p in POLICIES},
            "fast_minus_conservative_db": {"median": round(statistics.median(diffs), 3) if diffs else 0,
                                           "worst": round(min(diffs), 3) if diffs else 0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imgpipe", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--every", type=int, default=5, help="every Nth JPEG of the corpus")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    manifest = {f["name"]: f for f in json.load(open(os.path.join(args.corpus, "manifest.json")))["files"]}
    jpegs = sorted(n for n, f in manifest.items() if f["format"] == "jpeg")[args.every - 1::args.every]
    paths = [os.path.join(args.corpus, n) for n in jpegs]
    with tempfile.TemporaryDirectory() as work:
        for p in POLICIES:
            for fmts, suffix in ((("png", "jpg"), ""), (("jpg",), "-jpg")):
                with open(os.path.join(work, f"{p}{suffix}.yaml"), "w", encoding="utf-8") as f:
                    f.write(config(p, fmts))
        cpu = {p: [] for p in POLICIES}
        for _ in range(args.rounds):
            for p in POLICIES:
                cpu[p].append(process(args.imgpipe, os.path.join(work, f"{p}-jpg.yaml"), os.path.join(work, "cpu"),
                                      paths) / len(paths))
        synthetic = worst_cases(work)
        for p in POLICIES:
            process(args.imgpipe, os.path.join(work, f"{p}.yaml"), os.path.join(work, "q"),
                    paths + list(synthetic.values()))
        plain = {n: os.path.join(args.corpus, n) for n in jpegs if not manifest[n]["icc"]}
        result = {
            "photos": len(paths), "compared": len(plain),
            "cpu_ms_per_photo": {p: [round(c * 1000, 1) for c in cpu[p]] for p in POLICIES},
            "png": summary(compare(plain, os.path.join(work, "q"), "png")),
            "jpeg_q85": summary(compare(plain, os.path.join(work, "q"), "jpg")),
            "worst_cases_png": compare(synthetic, os.path.join(work, "q"), "png"),
        }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
