#!/usr/bin/env python3
"""Turns e2e.py's measurements into the results of `make bench`: latest.json,
latest.md and a dated copy, latest.png (throughput, CPU per image, low-rate
latency distributions), every ratio to imgpipe and issue 9's targets.

    e2e_report.py RAW.json --out DIR [--date YYYY-MM-DD]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

COLUMNS = [  # (field, header, format)
    ("images_per_s", "drain img/s", "{:.2f}"),
    ("cpu_s_per_image", "CPU ms/img", "ms"),
    ("minio_cpu_s_per_image", "MinIO CPU ms/img", "ms"),
    ("kafka_cpu_s_per_image", "Kafka CPU ms/img", "ms"),
    ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
    ("out_kib_per_image", "out KiB/img", "{:.1f}"),
    ("startup_s", "first output s", "{:.1f}"),
    ("p50_ms", "low-rate p50 ms", "{:.0f}"),
    ("p95_ms", "p95", "{:.0f}"),
    ("p99_ms", "p99", "{:.0f}"),
    ("low_rate_minio_p50_ms", "MinIO part p50", "{:.0f}"),
    ("low_rate_consumer_p50_ms", "consumer part p50", "{:.0f}"),
    ("low_rate_consumer_p95_ms", "consumer p95", "{:.0f}"),
    ("low_rate_consumer_idle_p50_ms", "consumer p50, idle arrivals", "{:.0f}"),
]


def cell(value, fmt: str) -> str:
    if value is None:
        return "–"
    if fmt == "ms":
        return f"{value * 1000:.0f}"
    return fmt.format(value)


def by_name(result: dict) -> dict[str, dict]:
    return {s["name"]: s for s in result["systems"]}


def ratio(a, b):
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def subject(systems: dict[str, dict]) -> tuple[str | None, str]:
    """The imgpipe row the targets apply to (the image, the build users deploy,
    when it was measured) and its libvips ceiling."""
    if "imgpipe-image" in systems:
        return "imgpipe-image", "limit-image"
    return ("imgpipe" if "imgpipe" in systems else None), "limit"


def targets(systems: dict[str, dict]) -> list[tuple[str, float | None, str, bool | None]]:
    """(target, measured, goal, met) for issue 9's targets that this run can judge."""
    name, ceiling = subject(systems)
    if not name:
        return []
    me, rows = systems[name], []

    def add(label, value, goal, met):
        rows.append((label, value, goal, None if value is None else met(value)))
    for peer, goal in ((ceiling, 1.05), ("python-tutorial", 0.65), ("node-sharp", 0.9)):
        if peer in systems:
            add(f"{name} CPU/image vs {peer}", ratio(me["cpu_s_per_image"], systems[peer]["cpu_s_per_image"]),
                f"≤ {goal}", lambda v, g=goal: v <= g)
    for peer, goal in (("python-tutorial", 2.7), ("python-procs", 1.4), ("node-sharp", 1.2)):
        if peer in systems:
            add(f"{name} drain throughput vs {peer}", ratio(me["images_per_s"], systems[peer]["images_per_s"]),
                f"≥ {goal}", lambda v, g=goal: v >= g)
    if ceiling in systems and me.get("low_rate_consumer_p50_ms") is not None:
        bound = systems[ceiling]["cpu_s_per_image"] * 1000 + 25
        add(f"{name} low-rate consumer part p50 (ms)", me["low_rate_consumer_p50_ms"],
            f"≤ {bound:.0f} ({ceiling} + 25)", lambda v: v <= bound)
        add(f"{name} low-rate consumer part p50, idle arrivals (ms)", me.get("low_rate_consumer_idle_p50_ms"),
            f"≤ {bound:.0f} ({ceiling} + 25)", lambda v: v <= bound)
    add(f"{name} peak RSS (MB)", me["peak_rss_mb"], "≤ 300", lambda v: v <= 300)
    add(f"{name} outputs larger than their input", len(me.get("larger_than_input", [])), "0", lambda v: v == 0)
    return rows


def markdown(result: dict, png: str) -> str:
    systems = by_name(result)
    m, c = result["machine"], result["corpus"]
    lines = [f"# imgpipe end-to-end benchmark, {result['started']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, {m['os']}, kernel {m['kernel']}; "
             f"load average {m['load_before']:.2f} before the start. Topic partitions: {result['topic_partitions']}.",
             f"Corpus: {c['count']} images, digest `{c['digest'][:12]}`, {c['bytes'] / 1e6:.0f} MB; formats "
             f"{c['formats']}; megapixels {c['megapixels']}; {c['portrait']} portrait, {c['exif_orientation']} "
             f"EXIF-oriented, {c['icc_profile']} with ICC; JPEG bits/pixel {c['jpeg_bits_per_pixel']}.",
             f"Job: {result['job']}. Low rate: {result['settings']['rate_per_s']} uploads/s for "
             f"{result['settings']['steady_s']} s.", "",
             "| system | " + " | ".join(h for _, h, _ in COLUMNS) + " | outputs checked |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for s in result["systems"]:
        checked = "–" if "bad_outputs" not in s else ("ok" if not s["bad_outputs"] else f"{len(s['bad_outputs'])} bad")
        lines.append(f"| {s['name']} | " + " | ".join(cell(s.get(f), fmt) for f, _, fmt in COLUMNS)
                     + f" | {checked} |")
    for s in result["systems"]:
        if len(s.get("processes", [])) > 1:
            shares = ", ".join(str(p["outputs"]) for p in s["processes"])
            lines += ["", f"{s['name']}: outputs written by each of its {len(s['processes'])} processes "
                      f"(drain and low rate together): {shares}."]
    if d := result.get("minio_event_delivery"):
        lines += ["", f"MinIO's event delivery, measured alone: {d['objects']} uploads of 1 KiB, 8 at a time, at "
                  f"{d['puts_per_s']} PUTs/s; their events entered Kafka at {d['events_per_s']} events/s, the first "
                  f"{d['first_event_after_first_put_s']} s after the first PUT, the last "
                  f"{d['last_event_after_last_put_s']} s after the last; MinIO CPU "
                  f"{d['minio_cpu_ms_per_object']} ms per upload (PUT and event together)."]
    name, _ = subject(systems)
    if name:
        me = systems[name]
        lines += ["", f"Ratios to {name} (other ÷ {name}; above 1 = {name} better for CPU, RSS and latency, "
                  f"below 1 = {name} better for throughput):", "",
                  "| system | drain img/s | CPU/img | peak RSS | out KiB/img | low-rate p50 | consumer part p50 |",
                  "|---|---|---|---|---|---|---|"]
        for s in result["systems"]:
            if s["name"] == name:
                continue
            fields = ("images_per_s", "cpu_s_per_image", "peak_rss_mb", "out_kib_per_image", "p50_ms",
                      "low_rate_consumer_p50_ms")
            lines.append(f"| {s['name']} | " + " | ".join(cell(ratio(s.get(f), me.get(f)), "{:.2f}")
                                                         for f in fields) + " |")
        lines += ["", "Issue 9's targets:", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for label, value, goal, met in targets(systems):
            lines.append(f"| {label} | {cell(value, '{:g}')} | {goal} | "
                         f"{'–' if met is None else ('yes' if met else '**no**')} |")
    lines += ["", "What bounds the targets not met, the optimisations so far and a capacity model: "
              "[docs/performance.md](../../docs/performance.md).", "",
              f"![throughput, CPU per image and latency]({png})", ""]
    return "\n".join(lines)


def chart(result: dict, path: str) -> None:
    systems = result["systems"]
    names = [s["name"] for s in systems]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    ax1.bar(names, [s["images_per_s"] for s in systems], color="#4878a8")
    ax1.set_title("backlog drain, images/s (higher is better)")
    own = [s["cpu_s_per_image"] * 1000 for s in systems]
    minio = [(s.get("minio_cpu_s_per_image") or 0) * 1000 for s in systems]
    kafka = [(s.get("kafka_cpu_s_per_image") or 0) * 1000 for s in systems]
    ax2.bar(names, own, label="consumer", color="#4878a8")
    ax2.bar(names, minio, bottom=own, label="MinIO", color="#e49444")
    ax2.bar(names, kafka, bottom=[a + b for a, b in zip(own, minio)], label="Kafka", color="#6a9f58")
    ax2.set_title("CPU ms per image (lower is better)")
    ax2.legend()
    with_samples = [s for s in systems if s.get("samples", {}).get("consumer_ms")]
    if with_samples:
        ax3.boxplot([s["samples"]["consumer_ms"] for s in with_samples], whis=(1, 99), showfliers=False)
        ax3.set_xticks(range(1, len(with_samples) + 1), [s["name"] for s in with_samples])
    ax3.set_title("low rate: event in Kafka → output, ms (1–99 %)")
    for ax in (ax1, ax2, ax3):
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle(f"{result['machine']['cores']} cores, corpus {result['corpus']['count']} images "
                 f"({result['corpus']['digest'][:12]}), {result['started']}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def lean(result: dict) -> dict:
    """latest.json: the measured figures, without the per-upload samples."""
    out = dict(result)
    out["systems"] = [{k: v for k, v in s.items() if k != "samples"} for s in result["systems"]]
    out["targets"] = [{"target": t, "measured": v, "goal": g, "met": m} for t, v, g, m in targets(by_name(result))]
    return out


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw")
    parser.add_argument("--out", required=True)
    parser.add_argument("--date", help="also write DATE.md (the dated copy)")
    args = parser.parse_args(argv)
    result = json.load(open(args.raw, encoding="utf-8"))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(lean(result), f, indent=1)
        f.write("\n")
    for stem in ["latest"] + ([args.date] if args.date else []):
        with open(os.path.join(args.out, f"{stem}.md"), "w", encoding="utf-8") as f:
            f.write(markdown(result, f"{stem}.png"))
        chart(result, os.path.join(args.out, f"{stem}.png"))
    print(markdown(result, "latest.png"))
    # A system that wrote wrong outputs did not do the benchmark's job: its
    # numbers compare nothing (the harness check of `make test` fails on it).
    wrong = {s["name"]: s["bad_outputs"] for s in result["systems"] if s.get("bad_outputs")}
    for name, bad in wrong.items():
        print(f"e2e_report: {name}: {len(bad)} wrong outputs, e.g. {next(iter(bad.items()))}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
