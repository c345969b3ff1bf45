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
import statistics
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
    ("single_consumer_p50_ms", "consumer p50, single uploads", "{:.0f}"),
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


def gap(systems: dict[str, dict]) -> str:
    gaps = {s.get("single_gap_s") for s in systems.values()} - {None}
    return f"{gaps.pop():g} s" if len(gaps) == 1 else "several s"


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
        if me.get("single_consumer_p50_ms") is not None:
            add(f"{name} consumer part p50, single uploads {gap(systems)} apart (ms; not the issue's rate)",
                me["single_consumer_p50_ms"], f"≤ {bound:.0f} ({ceiling} + 25)", lambda v: v <= bound)
    add(f"{name} peak RSS (MB)", me["peak_rss_mb"], "≤ 300", lambda v: v <= 300)
    add(f"{name} outputs larger than their input", len(me.get("larger_than_input", [])), "0", lambda v: v == 0)
    return rows


def ideal_drain(per_image_cpu_s: float, cores: int) -> float:
    """Images/s of a consumer that needs `per_image_cpu_s` of CPU per image
    (its own and the stack's together) and keeps every core busy all the
    time: no consumer with that cost drains faster."""
    return cores / per_image_cpu_s


def ideal_consumer_p50(arrivals_ms: list[float], service_ms: float) -> float | None:
    """Consumer-part p50 (ms) of a consumer that takes the events in the order
    they reached Kafka and needs `service_ms` for each, with no fetch, GET or
    PUT: a lower bound for any consumer given these arrivals."""
    free_at, waits = float("-inf"), []
    for arrived in sorted(arrivals_ms):
        free_at = max(arrived, free_at) + service_ms
        waits.append(free_at - arrived)
    return round(statistics.median(waits), 1) if waits else None


def bursts(arrivals_ms: list[float], gap_ms: float = 200) -> list[int]:
    """Sizes of the groups of events that reached Kafka less than `gap_ms`
    after the one before."""
    sizes: list[int] = []
    previous = None
    for arrived in sorted(arrivals_ms):
        if previous is None or arrived - previous >= gap_ms:
            sizes.append(0)
        sizes[-1] += 1
        previous = arrived
    return sizes


def bounds(result: dict) -> dict:
    """What no consumer could beat in this run: the drain rate at the libvips
    ceiling's CPU per image plus the stack's share, and the low-rate consumer
    part at that CPU spread over every core, given MinIO's arrivals."""
    systems = by_name(result)
    name, ceiling = subject(systems)
    if not name or ceiling not in systems:
        return {}
    me, limit, cores = systems[name], systems[ceiling], result["machine"]["cores"]
    out = {"subject": name, "ceiling": ceiling, "cores": cores}
    stack_s = (me.get("minio_cpu_s_per_image") or 0) + (me.get("kafka_cpu_s_per_image") or 0)
    out["drain_images_per_s"] = round(ideal_drain(limit["cpu_s_per_image"] + stack_s, cores), 2)
    if "node-sharp" in systems:
        out["drain_vs_node_sharp"] = ratio(out["drain_images_per_s"], systems["node-sharp"]["images_per_s"])
    if limit.get("render_cpu_s_per_image"):
        out["render_ms"] = round(limit["render_cpu_s_per_image"] * 1000, 1)
        out["render_vs_ceiling"] = ratio(limit["render_cpu_s_per_image"], limit["cpu_s_per_image"])
    if limit.get("s3_cpu_s_per_image"):
        out["s3_consumer_ms"] = round(limit["s3_cpu_s_per_image"] * 1000, 1)
        out["s3_consumer_vs_ceiling"] = ratio(limit["s3_cpu_s_per_image"], limit["cpu_s_per_image"])
        out["subject_vs_s3_consumer"] = ratio(me["cpu_s_per_image"], limit["s3_cpu_s_per_image"])
    floor = result.get("s3_client_floor") or {}
    if floor.get("per_photo_ms"):
        ceiling_ms = limit["cpu_s_per_image"] * 1000
        out["s3_client"] = floor
        out["cpu_vs_ceiling"] = ratio(ceiling_ms + floor["per_photo_ms"], ceiling_ms)
    arrivals = me.get("samples", {}).get("arrivals_ms") or []
    if arrivals:
        service_ms = limit["cpu_s_per_image"] * 1000 / cores
        sizes = bursts(arrivals)
        out.update({"low_rate_events": len(arrivals), "bursts": len(sizes),
                    "median_burst": statistics.median(sizes), "largest_burst": max(sizes),
                    "service_ms": round(service_ms, 1),
                    "consumer_p50_ms": ideal_consumer_p50(arrivals, service_ms)})
    return out


def bounds_lines(b: dict) -> list[str]:
    if not b:
        return []
    name, ceiling, cores = b["subject"], b["ceiling"], b["cores"]
    lines = ["", "What no consumer could beat in this run (the libvips ceiling's CPU, the stack as measured):", ""]
    drain = (f"- **Drain**: a consumer that needs exactly {ceiling}'s CPU per image, costs MinIO and Kafka what "
             f"{name} cost them and keeps all {cores} cores busy all the time would drain "
             f"{b['drain_images_per_s']} images/s")
    if b.get("drain_vs_node_sharp") is not None:
        drain += f", {b['drain_vs_node_sharp']:g}× node-sharp"
    lines.append(drain + ".")
    if b.get("render_vs_ceiling") is not None:
        lines.append(
            f"- **Render alone**: imgpipe's own render() over the same corpus in memory, on the same threads "
            f"(`bench_limit --via-render`, right after each {ceiling} run), needs {b['render_ms']:g} ms of CPU "
            f"per image, {b['render_vs_ceiling']:g}× {ceiling}'s. What {name} needs above that in the drain is "
            "Kafka, S3 and sharing the cores with the stack.")
    if b.get("s3_consumer_vs_ceiling") is not None:
        lines.append(
            f"- **The thinnest S3 consumer**: the same libvips calls as {ceiling}, each image fetched with a GET "
            f"from this MinIO and its output written back with a PUT (imgpipe's S3 client, no Kafka, no pipeline; "
            f"`bench_limit --via-s3`, right after each {ceiling} run, the stack beside it), need "
            f"{b['s3_consumer_ms']:g} ms of CPU per image, {b['s3_consumer_vs_ceiling']:g}× {ceiling}'s. "
            f"{name} needs {b['subject_vs_s3_consumer']:g}× that.")
    if b.get("cpu_vs_ceiling") is not None:
        f = b["s3_client"]
        lines.append(
            f"- **CPU per image**: imgpipe's S3 requests for one photo cost a libcurl client (curl, one connection, "
            f"{f['photos']} corpus photos of {f['mean_photo_mib']:g} MiB on average, medians of three) "
            f"{f['get_ms']:g} ms for the GET, {f['put_ms']:g} ms for the PUT of a {f['put_kib']:g} KiB output and "
            f"{f['head_ms']:g} ms for a HEAD: {f['per_photo_ms']:g} ms. A consumer that makes these requests "
            f"through libcurl needs at least {b['cpu_vs_ceiling']:g}× {ceiling}'s CPU per image, before Kafka, "
            "logging and sharing the cores with MinIO.")
    if b.get("consumer_p50_ms") is not None:
        lines.append(
            f"- **Low rate**: MinIO put the {b['low_rate_events']} events into Kafka in {b['bursts']} bursts "
            f"(events less than 200 ms apart; median {b['median_burst']:g}, largest {b['largest_burst']}). "
            f"A consumer that renders each in {b['service_ms']:g} ms ({ceiling}'s CPU per image spread over "
            f"{cores} cores), in arrival order, with no fetch, GET or PUT, would have a consumer part p50 of "
            f"{b['consumer_p50_ms']:g} ms.")
    return lines


def process_shares(system: dict) -> str | None:
    """How a system of several processes shared its work, start by start."""
    starts = system.get("processes", [])
    if not starts or all(len(start) < 2 for start in starts):
        return None
    shares = "; ".join(" + ".join(str(p["outputs"]) for p in start) for start in starts)
    return (f"{system['name']}: outputs written by each of its {len(starts[0])} processes, per start of the system "
            f"(one per drain round; the last also took the low rate and the single uploads): {shares}.")


def rounds_lines(result: dict) -> list[str]:
    """Each system's drains, when there were several: the table gives medians."""
    spread = [s for s in result["systems"] if len(s.get("drain_rounds", [])) > 1]
    if not spread:
        return []
    lines = ["", f"Each system drained the corpus {len(spread[0]['drain_rounds'])} times (the `limit` rows: "
             "ran it); the table gives the median of each figure. Every round:", "",
             "| system | drain img/s | CPU ms/img |", "|---|---|---|"]
    for s in spread:
        rates = ", ".join(cell(r["images_per_s"], "{:.2f}") for r in s["drain_rounds"])
        costs = ", ".join(cell(r["cpu_s_per_image"], "ms") for r in s["drain_rounds"])
        lines.append(f"| {s['name']} | {rates} | {costs} |")
    return lines


def limit_shrink(systems: list[dict]) -> str:
    """How the limit rows scaled JPEGs while decoding them (bench_limit's
    --shrink-on-load), as a sentence for the header; results from before the
    option have none."""
    policies = sorted({s["shrink_on_load"] for s in systems if "shrink_on_load" in s})
    if not policies:
        return ""
    return (f" The limit rows decode JPEGs with shrink-on-load {' and '.join(policies)} "
            "(imgpipe's default is fast).")


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
             f"{result['settings']['steady_s']} s.{limit_shrink(result['systems'])}", "",
             "| system | " + " | ".join(h for _, h, _ in COLUMNS) + " | outputs checked |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for s in result["systems"]:
        checked = "–" if "bad_outputs" not in s else ("ok" if not s["bad_outputs"] else f"{len(s['bad_outputs'])} bad")
        lines.append(f"| {s['name']} | " + " | ".join(cell(s.get(f), fmt) for f, _, fmt in COLUMNS)
                     + f" | {checked} |")
    lines += rounds_lines(result)
    for s in result["systems"]:
        if line := process_shares(s):
            lines += ["", line]
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
    lines += bounds_lines(bounds(result))
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
    out["bounds"] = bounds(result)
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
