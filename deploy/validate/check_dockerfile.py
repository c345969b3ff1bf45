#!/usr/bin/env python3
"""Build-free checks of the imgpipe and MinIO Dockerfiles, beyond hadolint's rules.

  check_dockerfile.py ROOT

What hadolint cannot know about this project:
  - imgpipe: a build stage and a runtime stage, both on the same Debian release
    (the binary is linked against trixie's libraries); the runtime stage
    installs no compiler or -dev package; it copies exactly the CMake binary
    build/src/cli/imgpipe from the build stage; it runs as a numeric non-root
    USER (kubelet can only verify runAsNonRoot for a numeric user); the
    ENTRYPOINT is the binary in exec form;
  - the build stage installs every -dev package scripts/bootstrap.sh installs;
  - every directory CMakeLists.txt adds with add_subdirectory() is inside a
    path the build stage COPYs and .dockerignore lets through (a new top-level
    folder in the build would otherwise break only the image build);
  - the build stage runs the unit tests; the runtime stage runs the copied
    binary once (`imgpipe --version`), so a runtime library the binary needs
    but the stage does not install fails the image build itself (make image,
    part of make test, builds it for real);
  - MinIO: built from a pinned module version, numeric non-root USER.
Prints one line per check; exit status 1 when any fails.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex
import sys

FAILED: list[str] = []


def report(name: str, problems: list[str]):
    if problems:
        FAILED.append(name)
        for p in problems:
            print(f"dockerfile: FAIL {name}: {p}")
    else:
        print(f"dockerfile: ok   {name}")


def parse(path: str):
    """Instructions as (keyword, argument text, line number); continuations joined."""
    out, buf, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            stripped = line.rstrip("\n")
            if not buf and (not stripped.strip() or stripped.lstrip().startswith("#")):
                continue
            if buf and stripped.lstrip().startswith("#"):
                continue  # comment inside a continued instruction
            if not buf:
                start = no
            if stripped.endswith("\\"):
                buf += stripped[:-1] + " "
                continue
            buf += stripped
            keyword, _, rest = buf.strip().partition(" ")
            out.append((keyword.upper(), rest.strip(), start))
            buf = ""
    return out


def stages(instructions):
    """[(name, base, [instructions])] with global ARG defaults substituted in FROM."""
    args, result = {}, []
    for kw, rest, no in instructions:
        if kw == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name] = default
        elif kw == "FROM":
            parts = rest.split()
            parts = [p for p in parts if not p.startswith("--")]
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(result))
            result.append((name, base, []))
        elif result:
            result[-1][2].append((kw, rest, no))
    return result


def apt_packages(stage_instructions) -> list[str]:
    pkgs = []
    for kw, rest, _ in stage_instructions:
        if kw != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", rest):
            words = shlex.split(command)
            if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
                pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return pkgs


def numeric_user(stage_instructions) -> tuple[str | None, list[str]]:
    users = [rest for kw, rest, _ in stage_instructions if kw == "USER"]
    if not users:
        return None, ["the final stage sets no USER (it would run as root)"]
    uid = users[-1].split(":")[0]
    if not uid.isdigit():
        return None, [f"USER {users[-1]} is not numeric: kubelet cannot verify runAsNonRoot"]
    if int(uid) == 0:
        return uid, ["USER is root"]
    return uid, []


def dockerignore_allows(root: str, rel: str) -> bool:
    path = os.path.join(root, ".dockerignore")
    if not os.path.exists(path):
        return True
    allowed = True
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = line[1:] if negate else line
            pattern = pattern.rstrip("/")
            parts = rel.split("/")
            # a pattern matches the path or one of its parent folders
            if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)):
                allowed = negate
    return allowed


def check_imgpipe(root: str):
    dockerfile = os.path.join(root, "Dockerfile")
    st = stages(parse(dockerfile))
    problems = []
    if len(st) < 2:
        problems.append(f"{len(st)} stage(s); want a build stage and a runtime stage")
        report("imgpipe: multi-stage", problems)
        return
    report("imgpipe: multi-stage", [])
    build_name, build_base, build_ins = st[0]
    run_name, run_base, run_ins = st[-1]

    problems = []
    if not re.search(r"trixie.*slim|:13[.0-9]*-slim", run_base):
        problems.append(f"runtime base {run_base!r} is not Debian trixie-slim")
    if build_base != run_base:
        problems.append(f"build stage on {build_base!r}, runtime on {run_base!r}: not the same Debian release")
    report("imgpipe: runtime stage on the build stage's Debian (trixie-slim)", problems)

    pkgs = apt_packages(run_ins)
    bad = [p for p in pkgs if p.endswith("-dev") or p in ("build-essential", "cmake", "ninja-build", "gcc", "g++", "pkg-config")]
    report("imgpipe: runtime stage installs no build tools",
           [f"runtime stage installs {', '.join(bad)}"] if bad else [])

    copies = [rest for kw, rest, _ in run_ins if kw == "COPY"]
    want = f"--from={build_name} /src/build/src/cli/imgpipe "
    report("imgpipe: runtime copies the CMake binary build/src/cli/imgpipe",
           [] if any(c.startswith(want) for c in copies) else [f"no `COPY {want}...` in the runtime stage"])

    uid, problems = numeric_user(run_ins)
    report("imgpipe: numeric non-root USER", problems)

    entry = [rest for kw, rest, _ in run_ins if kw == "ENTRYPOINT"]
    problems = []
    if not entry or not entry[-1].startswith("["):
        problems.append("ENTRYPOINT missing or not in exec form")
    elif "imgpipe" not in entry[-1]:
        problems.append(f"ENTRYPOINT {entry[-1]} does not run imgpipe")
    report("imgpipe: ENTRYPOINT is the worker, exec form", problems)

    # every add_subdirectory() of CMakeLists.txt is in the build context
    copied = []
    for kw, rest, _ in build_ins:
        if kw == "COPY" and not rest.startswith("--from"):
            srcs = rest.split()[:-1]
            copied += [s.rstrip("/") for s in srcs if not s.startswith("--")]
    problems = []
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = f.read()
    needed = ["CMakeLists.txt"] + re.findall(r"^\s*add_subdirectory\(\s*([^\s)]+)", cmake, re.M)
    needed += re.findall(r"^\s*include\(\s*([^\s)]+\.cmake)\s*\)", cmake, re.M)
    for path in needed:
        if not any(path == c or path.startswith(c + "/") for c in copied):
            problems.append(f"{path} (used by CMakeLists.txt) is not COPYed into the build stage")
        elif not dockerignore_allows(root, path):
            problems.append(f"{path} (used by CMakeLists.txt) is excluded by .dockerignore")
    report("imgpipe: build stage gets everything CMakeLists.txt uses", problems)

    # the build stage installs every -dev package scripts/bootstrap.sh installs for local builds
    problems = []
    bootstrap = os.path.join(root, "scripts", "bootstrap.sh")
    if os.path.exists(bootstrap):
        with open(bootstrap, encoding="utf-8") as f:
            m = re.search(r"APT_PACKAGES=\(([^)]*)\)", f.read())
        local_dev = [p for p in (m.group(1).split() if m else []) if p.endswith("-dev")]
        build_pkgs = apt_packages(build_ins)
        problems = [f"{p} (scripts/bootstrap.sh) is not installed in the build stage"
                    for p in local_dev if p not in build_pkgs]
    report("imgpipe: build stage has the -dev packages of scripts/bootstrap.sh", problems)

    problems = []
    if not any(kw == "RUN" and "ctest" in rest and "-L unit" in rest for kw, rest, _ in build_ins):
        problems.append("the build stage does not run the unit tests (ctest -L unit)")
    copy_at = next((i for i, (kw, rest, _) in enumerate(run_ins) if kw == "COPY" and rest.startswith(want)), None)
    runs_binary = copy_at is not None and any(
        kw == "RUN" and "/usr/local/bin/imgpipe" in rest and "--version" in rest for kw, rest, _ in run_ins[copy_at:])
    if not runs_binary:
        problems.append("the runtime stage does not run the copied binary (imgpipe --version) after the COPY")
    report("imgpipe: unit tests in the build stage, the binary run in the runtime stage", problems)
    return uid


def check_minio(root: str):
    dockerfile = os.path.join(root, "deploy/minio/image/Dockerfile")
    instructions = parse(dockerfile)
    st = stages(instructions)
    problems = []
    if len(st) < 2:
        problems.append("want a Go build stage and a runtime stage")
    version = [rest for kw, rest, _ in instructions if kw == "ARG" and rest.startswith("MINIO_VERSION=")]
    if not version or not re.match(r"MINIO_VERSION=v[0-9]+\.[0-9]+\.[0-9]+-", version[0]):
        problems.append("no pinned ARG MINIO_VERSION=<module version>")
    if not any(kw == "RUN" and "go install" in rest and "github.com/minio/minio@${MINIO_VERSION}" in rest
               for _, _, ins in st for kw, rest, _ in ins):
        problems.append("MinIO is not built with `go install github.com/minio/minio@${MINIO_VERSION}`")
    report("minio: built from the pinned source version", problems)
    uid, problems = numeric_user(st[-1][2] if st else [])
    report("minio: numeric non-root USER", problems)


def main(argv):
    root = argv[0] if argv else "."
    check_imgpipe(root)
    check_minio(root)
    print(f"dockerfile: {'FAILED ' + ', '.join(FAILED) if FAILED else 'every structural check ok'}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
