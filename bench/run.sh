#!/usr/bin/env bash
# The benchmark behind `make bench` (bench/README.md says what and why).
#
#   bench/run.sh path/to/imgpipe
#
# Expects the local stack's settings in the environment (source .stack/env)
# and the stack running (make stack-up). Three parts:
#   1. corpus: 48 JPEGs of 4000x3000 made once from mate-backgrounds photos
#      (bench/corpus.sh, with the pinned Pillow of the peers' venv), cached
#      in $IMGPIPE_CACHE/bench-corpus;
#   2. image path, no network: fit within 256x256, JPEG quality 80, one image
#      per core at a time, done by `imgpipe process`, Pillow and sharp;
#      BENCH_RUNS rounds (default 3), tools interleaved;
#   3. end to end: upload the corpus to MinIO, the worker (`imgpipe run`)
#      consumes the bucket events from Kafka and writes the thumbnails;
#      throughput, upload->output latency, worker CPU and memory;
#      BENCH_E2E_ROUNDS rounds (default 2) against one running worker.
# Prints a table and writes JSON to $IMGPIPE_CACHE/bench-results/.
#
# Settings: BENCH_RUNS (3), BENCH_E2E_ROUNDS (2), BENCH_UPLOAD_PARALLEL (4),
# BENCH_TIMEOUT_S (180, per end-to-end round),
# BENCH_SKIP_PEERS=1 (imgpipe only), BENCH_SKIP_E2E=1, BENCH_KEEP=1 (keep the
# benchmark's buckets and work folder).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/peers

imgpipe=${1:?usage: bench/run.sh path/to/imgpipe}
imgpipe=$(realpath "$imgpipe")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peers=$here/peers
# shellcheck source=bench/peers.sh
source "$here/peers.sh"
cache=${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}
results_dir=$cache/bench-results
runs=${BENCH_RUNS:-3}
upload_parallel=${BENCH_UPLOAD_PARALLEL:-4}
timeout_s=${BENCH_TIMEOUT_S:-180}
e2e_rounds=${BENCH_E2E_ROUNDS:-2}
cores=$(nproc)
readonly size=256 quality=80
started_s=$(date +%s)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ -x $imgpipe ]] || die "$imgpipe is not an executable (make build)"
command -v python3 >/dev/null || die "python3 is needed"
command -v jq >/dev/null || die "jq is needed"
if [[ ${BENCH_SKIP_E2E:-0} != 1 ]]; then
  command -v curl >/dev/null || die "curl is needed"
  for v in IMGPIPE_S3_ENDPOINT IMGPIPE_S3_ACCESS_KEY IMGPIPE_S3_SECRET_KEY IMGPIPE_KAFKA_BROKERS; do
    [[ -n ${!v:-} ]] || die "$v is not set: run through 'make bench' or 'source .stack/env' first"
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-bench.XXXXXX")
mkdir -p "$work/image" "$work/e2e" "$results_dir"
worker_pid='' minio_pid=0 kafka_pid=0 e2e_buckets=()
cleanup() {
  if [[ -n $worker_pid ]] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid" 2>/dev/null || true
    wait "$worker_pid" 2>/dev/null || true
  fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    note "kept $work${e2e_buckets[0]:+ and the buckets ${e2e_buckets[*]}}"
  else
    local bucket
    for bucket in "${e2e_buckets[@]}"; do
      s3_remove_bucket "$bucket" 2>/dev/null || note "could not remove the bucket ${bucket}"
    done
    rm -rf "$work"
  fi
}
trap cleanup EXIT

read -r load1 _ < /proc/loadavg
if awk -v l="$load1" -v c="$cores" 'BEGIN { exit !(l > 0.5 * c) }'; then
  note "warning: load average ${load1} on ${cores} cores before the start: other work competes, numbers will be noisy"
fi

# ---- 1. peers: Pillow in a venv (it also makes the corpus), sharp from npm ------
venv=$cache/bench-venv
node_dir=$cache/bench-node
pillow_ok=0 sharp_ok=0
say "peers"
if peers_venv "$venv" "$peers/requirements.txt" "$work/venv.log"; then
  pillow_ok=1
else
  note "Pillow missing: could not make $venv ($(tail -1 "$work/venv.log")); apt-get install python3-venv"
fi
if ((pillow_ok)); then
  note "Pillow $("$venv/bin/python" -c 'import PIL; print(PIL.__version__)') in $venv"
fi

if [[ ${BENCH_SKIP_PEERS:-0} == 1 ]]; then
  note "BENCH_SKIP_PEERS=1: imgpipe only"
else
  if peers_node "$node_dir" "$peers" "$work/npm.log"; then
    sharp_ok=1
  else
    note "sharp skipped: $(tail -1 "$work/npm.log")"
  fi
  if ((sharp_ok)); then
    note "sharp $(jq -r .version "$node_dir/node_modules/sharp/package.json") in $node_dir"
  fi
fi

# ---- corpus ----------------------------------------------------------------------
say "corpus"
if ((pillow_ok)); then
  corpus=$(BENCH_PYTHON=$venv/bin/python "$here/corpus.sh" "$imgpipe")
else
  corpus=$("$here/corpus.sh" "$imgpipe")
fi
mapfile -t files < <(find "$corpus" -maxdepth 1 -name '*.jpg' | LC_ALL=C sort)
n=${#files[@]}
cat "${files[@]}" >/dev/null  # into the page cache: every tool reads warm files

# ---- 2. image path -------------------------------------------------------------
# The same task for every tool, as an imgpipe rule: fit within 256x256, JPEG
# quality 80 (4:2:0, optimised Huffman tables), metadata stripped, decoded at
# the scale Pillow's draft and sharp's fastShrinkOnLoad: false use
# (shrink_on_load: conservative). The second configuration differs only by
# `srgb: false` (no ICC conversion), to show what the colour-management step
# costs on inputs without a profile; the third uses imgpipe's default
# shrink_on_load (fast), next to sharp's default. The inputs are one folder's
# *.jpg files, so {name} cannot merge two of them: unique_keys: false.
thumb_config() {  # srgb shrink_on_load
  cat <<EOF
rules:
  - name: bench
    match: {bucket: bench}
    outputs:
      - name: thumb
        bucket: thumbs
        key: "{name}.{format}"
        unique_keys: false
        resize: {width: ${size}, height: ${size}}
        srgb: $1
        shrink_on_load: $2
        format: jpeg
        encoder: {quality: ${quality}}
EOF
}
thumb_config true conservative >"$work/thumb.yaml"
thumb_config false conservative >"$work/thumb-nosrgb.yaml"
thumb_config true fast >"$work/thumb-fast.yaml"
"$imgpipe" validate --local --config "$work/thumb.yaml" >/dev/null || die "thumb.yaml is invalid"

# `imgpipe process` handles its files one after another, so it runs as one
# process per core, each over a fixed share of the files. The shares are dealt
# round-robin (file i to process i mod cores): sorted by name, the large
# Elephants_* files would otherwise all land in the first share. Pillow and
# sharp hand out files dynamically.
parts=()
for ((p = 0; p < cores; p++)); do
  for ((i = p; i < ${#files[@]}; i += cores)); do printf '%s\0' "${files[i]}"; done >"$work/part-$p"
  parts+=("$work/part-$p")
done
printf '%s\0' "${files[0]}" >"$work/part-one"
# shellcheck disable=SC2016  # the positional parameters belong to the inner bash
# One process per core, each render on one thread (IMGPIPE_RENDERS=1; `process`
# gives a lone render every core otherwise), like sharp.concurrency(1).
sharded='cfg=$1 out=$2 bin=$3; shift 3; pids=()
for part in "$@"; do
  IMGPIPE_RENDERS=1 xargs -0 -a "$part" "$bin" process --config "$cfg" --bucket bench --output-dir "$out" & pids+=($!)
done
rc=0; for pid in "${pids[@]}"; do wait "$pid" || rc=1; done; exit "$rc"'
run_tool() {  # tool run; run "one": only the first image, for the start-up cost
  local tool=$1 run=$2 out=$work/image/$1-$2
  local -a cmd inputs=("${files[@]}") shares=("${parts[@]}")
  if [[ $run == one ]]; then inputs=("${files[0]}") shares=("$work/part-one"); fi
  case $tool in
    imgpipe|imgpipe-nosrgb|imgpipe-fast)
      local config=$work/thumb.yaml
      [[ $tool == imgpipe-nosrgb ]] && config=$work/thumb-nosrgb.yaml
      [[ $tool == imgpipe-fast ]] && config=$work/thumb-fast.yaml
      cmd=(bash -c "$sharded" _ "$config" "$out.d" "$imgpipe" "${shares[@]}") ;;
    pillow)
      cmd=("$venv/bin/python" "$peers/pillow_thumbs.py" --workers "$cores" --size "$size"
           --quality "$quality" --out "$out.d" "${inputs[@]}") ;;
    sharp|sharp-fast)
      cmd=(env "BENCH_NODE_DIR=$node_dir" node "$peers/sharp_thumbs.mjs" --workers "$cores"
           --size "$size" --quality "$quality" --out "$out.d" "${inputs[@]}")
      [[ $tool == sharp-fast ]] && cmd+=(--fast-shrink) ;;
  esac
  rm -rf "$out.d"
  python3 "$peers/measure.py" --label "$tool" --json "$out.json" --stdout "$out.out" \
    --outputs "$out.d" -- "${cmd[@]}" \
    || die "$tool failed in run $run: $(head -c 400 "$out.out")"
  jq -r --arg t "$tool" --arg r "$run" \
    '"    \($t) run \($r): \(.wall_s) s wall, \(.cpu_s) s CPU"' "$out.json" >&2
  rm -rf "$out.d"
}
printf '%s\0' "${files[@]}" >"$work/files0"
tools=(imgpipe imgpipe-nosrgb imgpipe-fast)
if ((pillow_ok)) && [[ ${BENCH_SKIP_PEERS:-0} != 1 ]]; then tools+=(pillow); fi
if ((sharp_ok)); then tools+=(sharp sharp-fast); fi
say "image path: ${n} JPEGs -> fit ${size}x${size}, JPEG q${quality}, ${cores} at a time; ${runs} rounds of: ${tools[*]}"
for tool in "${tools[@]}"; do run_tool "$tool" one; done
for ((run = 1; run <= runs; run++)); do
  for tool in "${tools[@]}"; do run_tool "$tool" "$run"; done
done

# ---- 3. end to end -------------------------------------------------------------
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }  # utime+stime
sys_ticks() { awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6; exit }' /proc/stat; }  # total idle
pid_of() { [[ -f $1 ]] && kill -0 "$(<"$1")" 2>/dev/null && cat "$1" || echo 0; }
metric_sum() { curl -fs "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m) == 1 { s += $NF } END { print s + 0 }'; }

e2e_snapshot() {  # suffix: CPU counters of the worker, MinIO, Kafka and the machine
  printf 'worker_ticks_%s %s\n' "$1" "$(proc_ticks "$worker_pid")"
  if ((minio_pid)); then printf 'minio_ticks_%s %s\n' "$1" "$(proc_ticks "$minio_pid")"; fi
  if ((kafka_pid)); then printf 'kafka_ticks_%s %s\n' "$1" "$(proc_ticks "$kafka_pid")"; fi
  printf 'sys_ticks_%s %s\n' "$1" "$(sys_ticks)"
}

upload_one() {  # prefix file: prints key, PUT start and end (epoch ms), bytes
  local key s e
  key=$1/$(basename "$2")
  s=$(date +%s%3N)
  curl -fsS --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION:-us-east-1}:s3" \
    --user "${IMGPIPE_S3_ACCESS_KEY}:${IMGPIPE_S3_SECRET_KEY}" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H 'Content-Type: image/jpeg' \
    -T "$2" "${IMGPIPE_S3_ENDPOINT}/${IMGPIPE_SOURCE_BUCKET}/${key}" -o /dev/null || return 255
  e=$(date +%s%3N)
  printf '%s\t%s\t%s\t%s\n' "$key" "$s" "$e" "$(stat -c %s "$2")"
}

s3_delete() {  # bucket[/key]
  curl -fsS -X DELETE --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION:-us-east-1}:s3" \
    --user "${IMGPIPE_S3_ACCESS_KEY}:${IMGPIPE_S3_SECRET_KEY}" "${IMGPIPE_S3_ENDPOINT}/$1" -o /dev/null
}
export -f upload_one s3_delete

s3_remove_bucket() {  # bucket: deletes its objects (the benchmark's few hundred), then the bucket
  local keys key
  keys=$(curl -fsS --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION:-us-east-1}:s3" \
           --user "${IMGPIPE_S3_ACCESS_KEY}:${IMGPIPE_S3_SECRET_KEY}" \
           "${IMGPIPE_S3_ENDPOINT}/$1?list-type=2&max-keys=1000" | grep -o '<Key>[^<]*</Key>' \
           | sed 's/<[^>]*>//g') || return 1
  if [[ -n $keys ]]; then
    # shellcheck disable=SC2016  # $1 is s3_delete's argument, expanded by the inner bash
    while IFS= read -r key; do printf '%s/%s\n' "$1" "$key"; done <<<"$keys" \
      | xargs -P 4 -I{} bash -c 's3_delete "$1"' _ {} || return 1
  fi
  s3_delete "$1"
}

e2e_round() {  # round: upload the corpus under r<round>/, wait for every output
  local round=$1 dir=$work/e2e/r$1 prefix=r$1
  mkdir -p "$dir"
  note "round ${round}: uploading ${n} files to s3://${IMGPIPE_SOURCE_BUCKET}/${prefix}/, ${upload_parallel} at a time"
  { e2e_snapshot 0; printf 'start_ms %s\n' "$(date +%s%3N)"; } >"$dir/meta.txt"
  # shellcheck disable=SC2016  # $1 and $2 are upload_one's arguments, expanded by the inner bash
  # (an upload that fails returns 255, which stops xargs)
  xargs -0 -P "$upload_parallel" -n 1 -a "$work/files0" bash -c 'upload_one "$1" "$2"' _ "$prefix" \
    >"$dir/uploads.tsv" || die "an upload failed"
  local deadline=$(( $(date +%s) + timeout_s )) done_count failed
  # shellcheck disable=SC2016  # jq variables
  local filter='fromjson? | select(.bucket == $b and (.key | startswith($p)))'
  while :; do
    done_count=$(jq -rR --arg b "$IMGPIPE_SOURCE_BUCKET" --arg p "$prefix/" "$filter"' | select(.msg == "processed") | .key' \
                   "$work/e2e/worker.log" | sort -u | wc -l)
    failed=$(jq -rR --arg b "$IMGPIPE_SOURCE_BUCKET" --arg p "$prefix/" "$filter"' | select(.msg == "failed") | .key' \
               "$work/e2e/worker.log" | wc -l)
    if [[ -t 2 ]]; then printf '\r    %d/%d outputs' "$done_count" "$n" >&2; fi
    (( done_count + failed >= n )) && break
    kill -0 "$worker_pid" 2>/dev/null || die "worker exited: $(tail -3 "$work/e2e/worker.log")"
    (( $(date +%s) < deadline )) || die "timed out after ${timeout_s} s with ${done_count}/${n} outputs"
    sleep 0.2
  done
  if [[ -t 2 ]]; then printf '\n' >&2; fi
  { printf 'end_ms %s\n' "$(date +%s%3N)"; e2e_snapshot 1; printf 'failed %s\n' "$failed"; } >>"$dir/meta.txt"
  note "round ${round}: ${done_count} outputs, ${failed} failed"
}

e2e() {
  local id port
  id=$(date +%Y%m%d%H%M%S)-$$
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Unique buckets and consumer group: other users of the stack are not disturbed.
  export IMGPIPE_SOURCE_BUCKET=bench-src-$id IMGPIPE_TARGET_BUCKET=bench-dst-$id
  export IMGPIPE_KAFKA_GROUP=imgpipe-bench-$id IMGPIPE_HTTP_LISTEN=127.0.0.1:$port
  export IMGPIPE_WIDTH=$size IMGPIPE_HEIGHT=$size IMGPIPE_QUALITY=$quality
  unset IMGPIPE_CONFIG IMGPIPE_WORKERS
  local src=$IMGPIPE_SOURCE_BUCKET dst=$IMGPIPE_TARGET_BUCKET
  e2e_buckets=("$src" "$dst")  # removed by cleanup, unless BENCH_KEEP=1
  say "end to end: s3://${src} -> Kafka (group ${IMGPIPE_KAFKA_GROUP}) -> imgpipe run -> s3://${dst}"
  "$imgpipe" setup >"$work/e2e/setup.log" 2>&1 || die "imgpipe setup failed: $(tail -3 "$work/e2e/setup.log")"
  "$imgpipe" run >"$work/e2e/worker.log" 2>&1 &
  worker_pid=$!
  local i
  for ((i = 0; i < 150; i++)); do
    curl -fs "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1 && break
    kill -0 "$worker_pid" 2>/dev/null || die "worker exited: $(tail -3 "$work/e2e/worker.log")"
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:${port}/readyz" >/dev/null || die "worker not ready after 30 s"
  # A new group starts at the beginning of the topic: let it skip the other
  # buckets' backlog before the clock starts (events received stays still).
  local last=-1 now_count stable=0
  for ((i = 0; i < 120 && stable < 3; i++)); do
    now_count=$(metric_sum "$port" imgpipe_events_received_total)
    if [[ $now_count == "$last" ]]; then stable=$((stable + 1)); else stable=0; fi
    last=$now_count
    sleep 0.5
  done
  note "worker ready; backlog skipped (${last} events seen before the start)"

  local stack=${IMGPIPE_STACK_DIR:-.stack}
  minio_pid=$(pid_of "$stack/minio/minio.pid")
  kafka_pid=$(pid_of "$stack/kafka/kafka.pid")
  for ((i = 1; i <= e2e_rounds; i++)); do
    e2e_round "$i"
    sleep 1  # let the last round's stragglers (metrics, commits) settle
  done
  {
    printf 'clk_tck %s\n' "$(getconf CLK_TCK)"
    printf 'worker_hwm_kib %s\n' "$(awk '/^VmHWM:/ { print $2 }' "/proc/$worker_pid/status")"
    printf 'workers %s\n' "$(jq -rR 'fromjson? | select(.msg == "started") | .workers' "$work/e2e/worker.log" | head -1)"
  } >"$work/e2e/meta.txt"
  curl -fs "http://127.0.0.1:${port}/metrics" >"$work/e2e/metrics.txt" || true
  kill -TERM "$worker_pid"
  local status=0
  wait "$worker_pid" || status=$?
  worker_pid=
  printf 'exit %s\n' "$status" >>"$work/e2e/meta.txt"
  note "worker stopped with SIGTERM, exit status ${status}"

  # When did each event reach Kafka? The message timestamps (CreateTime, set
  # by MinIO's producer) split the latency into MinIO's part and imgpipe's.
  # Read after the worker stopped, outside the measured windows; needs the
  # stack's Kafka tools (KAFKA_LIBS) and java, skipped otherwise.
  if [[ -d ${KAFKA_LIBS:-} ]] && command -v java >/dev/null; then
    note "reading the events' Kafka timestamps"
    timeout 90 java -cp "${KAFKA_LIBS}/*" org.apache.kafka.tools.consumer.ConsoleConsumer \
      --bootstrap-server "${IMGPIPE_KAFKA_BROKERS}" --topic "${IMGPIPE_KAFKA_TOPIC:-bucket-events}" \
      --from-beginning --timeout-ms 6000 --property print.timestamp=true 2>/dev/null \
      | grep -F "\"Key\":\"${src}/" >"$work/e2e/kafka.tsv" || true
  fi

}
if [[ ${BENCH_SKIP_E2E:-0} != 1 ]]; then e2e; fi

# ---- report --------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
result=$results_dir/bench-$stamp.json
python3 "$peers/report.py" --work "$work" --corpus "$corpus" --imgpipe "$imgpipe" \
  --cores "$cores" --runs "$runs" --size "$size" --quality "$quality" --load "$load1" \
  --upload-parallel "$upload_parallel" --started "$started_s" --json "$result"
cp "$result" "$results_dir/latest.json"
printf '\nresults: %s (also %s)\n' "$result" "$results_dir/latest.json"
