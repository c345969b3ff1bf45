#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan, in
# build-fuzz) and runs each for FUZZ_SECONDS from its seeds (tests/fuzz/seeds.py)
# and its regression inputs (tests/fuzz/regressions/<fuzzer>/), growing a
# corpus under $IMGPIPE_CACHE/fuzz/<fuzzer> that outlives the checkout.
# A crash, a hang past FUZZ_TIMEOUT seconds or more than FUZZ_RSS_MB of memory
# fails the run; the input is kept in build-fuzz/findings/<fuzzer>/.
# Usage: scripts/fuzz.sh [fuzzer ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-360}"
timeout_s="${FUZZ_TIMEOUT:-10}"
rss_mb="${FUZZ_RSS_MB:-2048}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
cache="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}/fuzz"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DIMGPIPE_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzzers -j "$(nproc)"

# Every harness tests/fuzz/CMakeLists.txt declares, unless named.
fuzzers=("$@")
if [[ ${#fuzzers[@]} -eq 0 ]]; then
  for binary in "$build"/tests/fuzz/*_fuzzer; do fuzzers+=("$(basename "$binary")"); done
fi

seeds="$build/seeds"
rm -rf "$seeds"
"$(tests/faults/venv.sh)" tests/fuzz/seeds.py "$seeds"

failed=0
for fuzzer in "${fuzzers[@]}"; do
  corpus="$cache/$fuzzer" findings="$build/findings/$fuzzer" log="$build/findings/$fuzzer.log"
  mkdir -p "$corpus" "$findings"
  inputs=("$corpus" "$seeds/$fuzzer")
  [[ -d tests/fuzz/regressions/$fuzzer ]] && inputs+=("tests/fuzz/regressions/$fuzzer")
  if "$build/tests/fuzz/$fuzzer" -max_total_time="$seconds" -timeout="$timeout_s" \
      -rss_limit_mb="$rss_mb" -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" "${inputs[@]}" >"$log" 2>&1; then
    verdict=ok
  else
    verdict=FAILED
    failed=1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)"
  corpus_size="$(find "$corpus" -type f | wc -l)"
  printf 'fuzz: %-6s %-20s %4ss  %9s runs  %s  corpus %s inputs\n' \
    "$verdict" "$fuzzer" "$seconds" "${runs:-?}" "${coverage:-cov: ?}" "$corpus_size"
  if [[ $verdict == FAILED ]]; then
    grep -E 'ERROR|property failed|SUMMARY' "$log" | head -5 | sed 's/^/fuzz:   /'
    echo "fuzz:   input and log in $findings, $log"
  fi
done
exit "$failed"
