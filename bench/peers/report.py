#!/usr/bin/env python3
"""Turns what bench/run.sh collected in its work folder into one JSON file and
a table on stdout. Standard library only.

    report.py --work DIR --corpus DIR --imgpipe PATH --cores N --runs N
              --size 256 --quality 80 --load L --upload-parallel N
              --started EPOCH_S --json OUT.json
"""
import argparse
import datetime as dt
import glob
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import time

from measure import jpeg_size

TOOLS = {
    "imgpipe": "imgpipe process (libvips, shrink_on_load: conservative, srgb on)",
    "imgpipe-nosrgb": "imgpipe process, conservative, srgb: false",
    "imgpipe-fast": "imgpipe process, its default shrink_on_load: fast",
    "pillow": "Pillow thumbnail() (draft mode), Pool",
    "sharp": "sharp, fastShrinkOnLoad: false",
    "sharp-fast": "sharp, its default fastShrinkOnLoad",
}


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def command_output(*command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine(cores, load):
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": cores,
        "cpu": model,
        "kernel": platform.release(),
        "load_average_at_start": float(load),
        "libvips_debian": command_output("dpkg-query", "-W", "-f=${Version}", "libvips42"),
        "libjpeg_turbo_debian": command_output("dpkg-query", "-W", "-f=${Version}",
                                               "libjpeg62-turbo"),
    }


def corpus_facts(corpus):
    files = sorted(glob.glob(os.path.join(corpus, "*.jpg")))
    sizes = [os.path.getsize(f) for f in files]
    dims = {}
    pixels = 0
    for f in files:
        w, h = jpeg_size(f)
        dims[f"{w}x{h}"] = dims.get(f"{w}x{h}", 0) + 1
        pixels += w * h
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            digest.update(f"{os.path.basename(f)} {hashlib.sha256(fh.read()).hexdigest()}\n".encode())
    try:
        with open(os.path.join(corpus, ".maker")) as fh:
            maker = fh.read().strip()
    except OSError:
        maker = None
    return {
        "path": corpus,
        "made_by": maker,
        "sha256": digest.hexdigest(),
        "count": len(files),
        "bytes": sum(sizes),
        "bytes_min": min(sizes),
        "bytes_max": max(sizes),
        "dimensions": dims,
        "bits_per_pixel": round(8 * sum(sizes) / pixels, 3),
    }


def image_path(work, count):
    tools = {}
    for path in sorted(glob.glob(os.path.join(work, "image", "*.json"))):
        name = os.path.basename(path)[:-5]
        tool, run = name.rsplit("-", 1)
        with open(path) as f:
            m = json.load(f)
        version = None
        try:
            with open(path[:-5] + ".out") as f:
                first = f.readline()
            info = json.loads(first) if first.startswith("{") and '"tool"' in first else {}
            version = {k: info[k] for k in ("version", "libjpeg", "libvips") if k in info} or None
        except (OSError, ValueError):
            pass
        out = m.get("outputs", {})
        entry = tools.setdefault(tool, {"description": TOOLS.get(tool, tool), "runs": []})
        if version:
            entry["version"] = version
        if run == "one":  # start-up + the first image alone
            entry["one_image"] = {"wall_ms": round(1000 * m["wall_s"]), "cpu_ms": round(1000 * m["cpu_s"]),
                                  "max_rss_mib": round(m["max_rss_kib"] / 1024, 1)}
            continue
        entry["runs"].append({
            "run": int(run),
            "wall_s": m["wall_s"],
            "cpu_s": m["cpu_s"],
            "user_s": m["user_s"],
            "sys_s": m["sys_s"],
            "images_per_s": round(count / m["wall_s"], 2),
            "cpu_ms_per_image": round(1000 * m["cpu_s"] / count, 1),
            "max_rss_mib": round(m["max_rss_kib"] / 1024, 1),
            "tree_rss_mib": round(m["tree_rss_kib"] / 1024, 1),
            "outputs": out.get("count"),
            "output_bytes": out.get("bytes"),
            "output_sizes": out.get("sizes"),
        })
    for entry in tools.values():
        runs = sorted(entry["runs"], key=lambda r: r["run"])
        entry["runs"] = runs
        best = min(runs, key=lambda r: r["wall_s"])
        entry["summary"] = {
            "images_per_s_best": best["images_per_s"],
            "images_per_s_median": round(count / statistics.median(r["wall_s"] for r in runs), 2),
            "cpu_ms_per_image_median": round(statistics.median(r["cpu_ms_per_image"] for r in runs), 1),
            "cpu_ms_per_image_min": min(r["cpu_ms_per_image"] for r in runs),
            "max_rss_mib": max(r["max_rss_mib"] for r in runs),
            "tree_rss_mib": max(r["tree_rss_mib"] for r in runs),
            "output_kib_per_image": round((best["output_bytes"] or 0) / 1024 / max(1, best["outputs"] or 1), 1),
            "outputs_ok": all(r["outputs"] == count for r in runs),
            "output_sizes": best["output_sizes"],
        }
    return tools


def parse_ts(text):
    """'2026-11-27T00:29:18.447Z' -> epoch milliseconds."""
    moment = dt.datetime.strptime(text.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return round(moment.timestamp() * 1000)


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition(" ")
            meta[key] = value
    return meta


def end_to_end(work, count, size):
    e2e = os.path.join(work, "e2e")
    if not os.path.exists(os.path.join(e2e, "meta.txt")):
        return None
    meta = read_meta(os.path.join(e2e, "meta.txt"))
    processed = {}
    with open(os.path.join(e2e, "worker.log"), errors="replace") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("msg") == "processed" and record.get("bucket", "").startswith("bench-src-"):
                processed.setdefault(record["key"], record)  # the first, should one be redone
    in_kafka = {}  # key -> Kafka CreateTime (epoch ms) of its event
    try:
        with open(os.path.join(e2e, "kafka.tsv"), errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")  # CreateTime:MS [Partition:P] JSON
                try:
                    event = json.loads(fields[-1])
                    key = event["Key"].split("/", 1)[1]
                    created = int(fields[0].split(":", 1)[1])
                except (ValueError, KeyError, IndexError):
                    continue
                in_kafka[key] = min(created, in_kafka.get(key, created))
    except OSError:
        pass
    rounds = []
    for directory in sorted(glob.glob(os.path.join(e2e, "r*"))):
        if os.path.exists(os.path.join(directory, "uploads.tsv")):
            rounds.append(e2e_round(directory, processed, in_kafka, int(meta["clk_tck"]), count))
    return {
        "images_per_round": count,
        "box": f"{size}x{size}",
        "workers": int(meta["workers"]) if meta.get("workers", "").isdigit() else None,
        "worker_peak_rss_mib": round(int(meta["worker_hwm_kib"]) / 1024, 1),
        "worker_exit": int(meta.get("exit", -1)),
        "kafka_timestamps": bool(in_kafka),
        "rounds": rounds,
    }


def e2e_round(directory, processed, in_kafka, clk, count):
    meta = read_meta(os.path.join(directory, "meta.txt"))
    uploads = {}
    with open(os.path.join(directory, "uploads.tsv")) as f:
        for line in f:
            key, start, end, nbytes = line.rstrip("\n").split("\t")
            uploads[key] = (int(start), int(end), int(nbytes))
    first_start = min(u[0] for u in uploads.values())
    last_upload = max(u[1] for u in uploads.values())
    done = {k: parse_ts(processed[k]["ts"]) for k in uploads if k in processed}
    records = {k: processed[k] for k in done}
    last_output = max(done.values()) if done else None
    latency = [done[k] - uploads[k][1] for k in done]  # PUT returned -> output written
    to_kafka = [in_kafka[k] - uploads[k][1] for k in done if k in in_kafka]
    from_kafka = [done[k] - in_kafka[k] for k in done if k in in_kafka]
    n = len(done)

    def ticks(name):
        if f"{name}_ticks_0" in meta and f"{name}_ticks_1" in meta:
            return (int(meta[f"{name}_ticks_1"]) - int(meta[f"{name}_ticks_0"])) / clk
        return None

    def per_image(cpu):
        return round(1000 * cpu / n, 1) if cpu is not None and n else None

    def spread(values):
        return {"p50": percentile(values, 50), "p95": percentile(values, 95),
                "max": max(values, default=None)} if values else None

    total0, idle0 = map(int, meta["sys_ticks_0"].split())
    total1, idle1 = map(int, meta["sys_ticks_1"].split())
    span_s = (last_output - first_start) / 1000 if last_output else None
    kafka_times = [in_kafka[k] for k in done if k in in_kafka]
    # Once the last event is in Kafka only imgpipe is left: how fast does it
    # drain what is still waiting then?
    drain = None
    if kafka_times and last_output:
        last_event = max(kafka_times)
        backlog = sum(1 for k in done if done[k] > last_event)
        if backlog and last_output > last_event:
            drain = {"images": backlog, "seconds": round((last_output - last_event) / 1000, 3),
                     "images_per_s": round(1000 * backlog / (last_output - last_event), 1)}
    return {
        "round": int(os.path.basename(directory)[1:]),
        "images": count,
        "processed": n,
        "failed": int(meta.get("failed", 0)),
        "upload_bytes": sum(u[2] for u in uploads.values()),
        "upload_phase_s": round((last_upload - first_start) / 1000, 3),
        "first_upload_to_last_output_s": span_s,
        "images_per_s": round(n / span_s, 2) if span_s else None,
        "latency_ms": spread(latency),  # PUT returned -> "processed" log line (output written)
        "put_to_kafka_ms": spread(to_kafka),  # MinIO: PUT returned -> event's Kafka CreateTime
        "kafka_to_output_ms": spread(from_kafka),  # imgpipe: in Kafka -> output (queue + job)
        "last_event_in_kafka_to_last_output_s":
            round((last_output - max(kafka_times)) / 1000, 3) if kafka_times else None,
        "drain_after_last_event": drain,
        "worker_get_ms": spread([r["get_ms"] for r in records.values() if "get_ms" in r]),
        "worker_transform_ms": spread([r["transform_ms"] for r in records.values() if "transform_ms" in r]),
        "worker_job_ms": spread([r["ms"] for r in records.values() if "ms" in r]),
        "worker_cpu_ms_per_image": per_image(ticks("worker")),
        "minio_cpu_ms_per_image": per_image(ticks("minio")),
        "kafka_cpu_ms_per_image": per_image(ticks("kafka")),
        "machine_busy_cores": round(
            (os.cpu_count() or 1) * ((total1 - total0) - (idle1 - idle0)) / max(1, total1 - total0), 2),
        "timeline_ms": [  # per image, ms after the first PUT started: PUT done, in Kafka, output
            [k, uploads[k][1] - first_start,
             in_kafka[k] - first_start if k in in_kafka else None, done[k] - first_start]
            for k in sorted(done, key=done.get)],
    }


def fmt(value, spec=""):
    return "-" if value is None else format(value, spec)


def print_tables(result):
    c = result["corpus"]
    m = result["machine"]
    print()
    print(f"imgpipe benchmark, {result['date']}, {m['cores']} cores ({m['cpu']}), "
          f"load average {m['load_average_at_start']} at the start")
    print(f"corpus: {c['count']} JPEGs {', '.join(c['dimensions'])}, "
          f"{c['bytes'] / 2**20:.0f} MiB ({c['bytes_min'] / 2**20:.2f}-{c['bytes_max'] / 2**20:.2f} MiB, "
          f"{c['bits_per_pixel']} bits/pixel), made by {c['made_by']}, digest {c['sha256'][:12]}")
    task = result["task"]
    print(f"\nimage path (no network): fit within {task['box']}, JPEG q{task['quality']}, "
          f"{m['cores']} images at a time; {task['runs']} round{'s' if task['runs'] != 1 else ''}, "
          "tools interleaved")
    header = ("tool", "img/s best", "img/s median", "CPU ms/img", "RSS largest MiB",
              "RSS all MiB", "out KiB/img", "1 image ms", "outputs")
    rows = []
    for tool, entry in result["image_path"].items():
        s = entry["summary"]
        sizes = ",".join(s["output_sizes"] or {})
        rows.append((entry["description"], fmt(s["images_per_s_best"], ".1f"),
                     fmt(s["images_per_s_median"], ".1f"), fmt(s["cpu_ms_per_image_median"], ".1f"),
                     fmt(s["max_rss_mib"], ".0f"), fmt(s["tree_rss_mib"], ".0f"),
                     fmt(s["output_kib_per_image"], ".1f"),
                     fmt(entry.get("one_image", {}).get("wall_ms")),
                     f"{'all ' if s['outputs_ok'] else 'MISSING '}{sizes}"))
    table(header, rows)
    versions = [f"imgpipe: Debian libvips {m['libvips_debian']}, libjpeg-turbo {m['libjpeg_turbo_debian']}"]
    for tool in ("pillow", "sharp"):
        v = result["image_path"].get(tool, {}).get("version")
        if v and tool == "pillow":
            versions.append(f"Pillow {v.get('version')} (libjpeg-turbo {v.get('libjpeg')}, in its wheel)")
        elif v:
            versions.append(f"sharp {v.get('version')} (libvips {v.get('libvips')}, mozjpeg, in its npm package)")
    print("  versions: " + "; ".join(versions))
    print("  walls per round (s): " + "; ".join(
        f"{tool} {' '.join(format(r['wall_s'], '.2f') for r in e['runs'])}"
        for tool, e in result["image_path"].items()))

    e = result.get("end_to_end")
    if e and e["rounds"]:
        r0 = e["rounds"][0]
        print(f"\nend to end on the local stack: {e['images_per_round']} uploads a round "
              f"({r0['upload_bytes'] / 2**20:.0f} MiB, {task['upload_parallel']} PUTs at a time) -> MinIO -> "
              f"Kafka -> imgpipe run ({fmt(e['workers'])} workers) -> {e['box']} JPEG q{task['quality']}")
        header = ["measure"] + [f"round {r['round']}" for r in e["rounds"]]
        measures = [
            ("outputs / failed", lambda r: f"{r['processed']} / {r['failed']}"),
            ("uploads took", lambda r: f"{r['upload_phase_s']:.2f} s"),
            ("first upload -> last output", lambda r: f"{fmt(r['first_upload_to_last_output_s'], '.2f')} s"),
            ("throughput", lambda r: f"{fmt(r['images_per_s'], '.1f')} images/s"),
            ("PUT -> output p50 / p95 / max", lambda r: ms3(r["latency_ms"])),
            ("  PUT -> event in Kafka (MinIO)", lambda r: ms3(r["put_to_kafka_ms"])),
            ("  event in Kafka -> output (imgpipe)", lambda r: ms3(r["kafka_to_output_ms"])),
            ("  imgpipe job: GET+resize+PUT", lambda r: ms3(r["worker_job_ms"])),
            ("  of which resize (transform_ms)", lambda r: ms3(r["worker_transform_ms"])),
            ("last event in Kafka -> last output", lambda r: (
                f"{r['drain_after_last_event']['images']} images in "
                f"{r['drain_after_last_event']['seconds']:.2f} s = "
                f"{r['drain_after_last_event']['images_per_s']:.0f}/s")
             if r["drain_after_last_event"] else
             f"{fmt(r['last_event_in_kafka_to_last_output_s'], '.2f')} s"),
            ("CPU per image: worker", lambda r: f"{fmt(r['worker_cpu_ms_per_image'], '.1f')} ms"),
            ("CPU per image: MinIO / Kafka", lambda r: f"{fmt(r['minio_cpu_ms_per_image'], '.1f')} / "
                                                      f"{fmt(r['kafka_cpu_ms_per_image'], '.1f')} ms"),
            ("machine busy (every process)", lambda r: f"{r['machine_busy_cores']} of {m['cores']} cores"),
        ]
        table(header, [[name] + [how(r) for r in e["rounds"]] for name, how in measures])
        print(f"worker peak RSS (VmHWM) {e['worker_peak_rss_mib']:.0f} MiB; "
              f"exit status after SIGTERM {e['worker_exit']}"
              + ("" if e["kafka_timestamps"] else "; no Kafka timestamps (java or KAFKA_LIBS missing)"))
    print(f"\nbench took {result['bench_seconds']} s")


def ms3(d):
    if not d:
        return "-"
    return f"{fmt(d['p50'])} / {fmt(d['p95'])} / {fmt(d['max'])} ms"


def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))


def main():
    p = argparse.ArgumentParser()
    for name in ("work", "corpus", "imgpipe", "load", "json"):
        p.add_argument(f"--{name}", required=True)
    for name in ("cores", "runs", "size", "quality", "upload-parallel", "started"):
        p.add_argument(f"--{name}", type=int, required=True)
    a = p.parse_args()
    corpus = corpus_facts(a.corpus)
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(a.cores, a.load),
        "imgpipe": a.imgpipe,
        "corpus": corpus,
        "task": {"box": f"{a.size}x{a.size}", "fit": "inside", "quality": a.quality,
                 "chroma": "4:2:0", "runs": a.runs, "upload_parallel": a.upload_parallel},
        "image_path": image_path(a.work, corpus["count"]),
        "end_to_end": end_to_end(a.work, corpus["count"], a.size),
        "bench_seconds": round(time.time() - a.started),
    }
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
    print_tables(result)


if __name__ == "__main__":
    main()
