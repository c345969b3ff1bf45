"""Pass/fail of a scenario row, and test-results/faults.md + faults.json."""

from __future__ import annotations

import json
import os


def verdict(row: dict) -> list[str]:
    """Why the scenario failed; empty when it passed."""
    problems = [f"{row[field]} {field}" for field in ("missing", "stale", "invalid", "crashes")
                if row.get(field)]
    problems += [f"check failed: {c['name']} ({c['detail']})" for c in row.get("checks", [])
                 if not c["ok"]]
    if row.get("error"):
        problems.append(f"harness error: {row['error']}")
    return problems


def _reasons(counts: dict) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items())) or "-"


COLUMNS = ["scenario", "uploaded", "acked", "expected", "present", "missing", "stale", "invalid",
           "dup writes", "dead-lettered", "crashes", "max exit s", "wall s", "lost in MinIO", "result"]


def _cells(row: dict) -> list[str]:
    if "uploaded" not in row:
        return [row["name"]] + ["-"] * (len(COLUMNS) - 2) + ["ERROR"]
    return [row["name"], str(row["uploaded"]), str(row["acknowledged"]), str(row["outputs_expected"]),
            str(row["present"]), str(row["missing"]), str(row["stale"]), str(row["invalid"]),
            str(row["duplicates"]), _reasons(row["dead_lettered"]), str(row["crashes"]),
            f"{row['max_exit_s']:.1f}", f"{row['wall_s']:.0f}", str(row["lost_in_minio"]),
            "pass" if not row["problems"] else "FAIL"]


def _details(row: dict) -> list[str]:
    lines = [f"### {row['name']}", ""]
    for problem in row["problems"]:
        lines.append(f"- FAIL: {problem}")
    for check in row.get("checks", []):
        lines.append(f"- check {'ok' if check['ok'] else 'FAILED'}: {check['name']} — {check['detail']}")
    for key in ("idle", "dead_letter_source", "duplicates_basis", "crash_details", "notes",
                "samples", "lost_in_minio_samples", "timeline", "readyz_during_stall", "readyz_max_latency_s",
                "missing_without_event", "kill_moments_s", "kafka_down_s", "minio_down_s", "acked_before_kill", "ungated_acked", "ungated_errors", "ungated_without_output", "ungated_without_output_samples", "backfill_found_missing", "minio_killed_at", "minio_restarted_at",
                "stalled_worker_partitions", "reuploaded_while_stopped", "stopped_s",
                "sigterm_during_stall_exit_s", "poison_expected", "failed_log_lines"):
        if row.get(key) not in (None, "", [], {}):
            lines.append(f"- {key}: {json.dumps(row[key], sort_keys=True)}")
    return lines + [""]


def write(rows: list[dict], meta: dict, folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "faults.json"), "w", encoding="utf-8") as out:
        json.dump({**meta, "scenarios": rows}, out, indent=2, sort_keys=False)
    lines = [f"# imgpipe fault suite ({meta['scale']})", "",
             f"{meta['started']}, seed {meta['seed']}, suite at {meta['commit']}, "
             f"binary {meta['binary']}, "
             f"wall time {meta['wall_s']:.0f} s. Passed: {meta['passed']}/{len(rows)}.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    lines += ["", "dead-lettered: from the dead-letter topic when it has records for the scenario, "
              "otherwise from the workers' `failed` log lines (see dead_letter_source below). "
              "dup writes: `processed` log lines for an output key and source version beyond the "
              "first (basis below). lost in MinIO: acknowledged PUTs with no event in the topic.", ""]
    for row in rows:
        lines += _details(row)
    with open(os.path.join(folder, "faults.md"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines))
