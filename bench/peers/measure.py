#!/usr/bin/env python3
"""Runs one command and measures it: wall time, CPU time (user + system of the
command and every descendant it waited for, from wait4), the peak RSS of its
largest process (ru_maxrss) and the peak of the summed RSS of its whole
process tree (sampled from /proc every 50 ms).

    measure.py --json OUT.json [--label L] [--stdout FILE] [--outputs DIR] -- command args...

Writes {"label", "wall_s", "user_s", "sys_s", "cpu_s", "max_rss_kib",
"tree_rss_kib", "exit"} to OUT.json, and with --outputs, what the command
wrote there: {"count", "bytes", "sizes": {"WxH": count}} from the JPEG
headers, so that every tool's output is checked the same way. Exits with the
command's status. Standard library only: runs under any python3.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_pids(root):
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass  # gone already
    return pids


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KIB
    except (OSError, ValueError, IndexError):
        return 0


def jpeg_size(path):
    """(width, height) from a JPEG's SOF marker, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height
        i += 2 + length
    return None


def outputs(directory):
    count, total, sizes = 0, 0, {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            count += 1
            total += os.path.getsize(path)
            dims = jpeg_size(path)
            key = f"{dims[0]}x{dims[1]}" if dims else "not-a-jpeg"
            sizes[key] = sizes.get(key, 0) + 1
    return {"count": count, "bytes": total, "sizes": sizes}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--stdout", help="file for the command's standard output")
    parser.add_argument("--outputs", help="folder whose JPEGs to count and measure afterwards")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")

    out = open(args.stdout, "wb") if args.stdout else None
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=out)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.05):
            total = sum(rss_kib(p) for p in tree_pids(child.pid))
            peak[0] = max(peak[0], total)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if out:
        out.close()

    result = {
        "label": args.label,
        "wall_s": round(wall, 4),
        "user_s": round(usage.ru_utime, 4),
        "sys_s": round(usage.ru_stime, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "max_rss_kib": usage.ru_maxrss,
        "tree_rss_kib": max(peak[0], usage.ru_maxrss),
        "exit": child.returncode,
    }
    if args.outputs:
        result["outputs"] = outputs(args.outputs)
    with open(args.json, "w") as f:
        json.dump(result, f)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
