#!/usr/bin/env bash
# The local stack for imgpipe: a single-node Kafka (KRaft) and an S3 server
# that publishes bucket events to Kafka: MinIO, or versitygw with
# STACK_S3=versitygw (docs/s3-servers.md). No Docker: Kafka runs from jars that
# Maven resolves (scripts/stack/kafka-pom.xml), the S3 servers from binaries
# that `go install` builds. All are cached once per machine under
# $IMGPIPE_CACHE; data, logs and pid files live in $STACK_DIR. Everything
# binds 127.0.0.1.
#
#   stack.sh up       start Kafka, then the S3 server (idempotent), write
#                     $STACK_DIR/env; Kafka counts as up once a consumer group
#                     can join and commit
#   stack.sh kafka-up start Kafka only (no env file)
#   stack.sh prometheus-up / prometheus-down
#                     start or stop the stack's Prometheus alone (also started by
#                     `up` with STACK_PROMETHEUS=1 and stopped by `down`)
#   stack.sh down     stop the S3 server, then Kafka, and wait until they have exited
#   stack.sh status   pid, port and health of each service
#   stack.sh clean    down, then delete $STACK_DIR (data and logs)
#
# Environment: STACK_DIR (default <repo>/.stack), IMGPIPE_CACHE (default
# ~/.cache/imgpipe), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093),
# MINIO_PORT (9000), MINIO_CONSOLE_PORT (9001), MINIO_BIN (a MinIO binary to
# use instead of building one), MINIO_ROOT_USER / MINIO_ROOT_PASSWORD
# (default imgpipe / imgpipe-secret-key, versitygw's too), STACK_START_TIMEOUT
# (60 seconds), STACK_S3 (minio or versitygw), VERSITYGW_PORT (7070),
# VERSITYGW_BIN (a versitygw binary to use instead of building one),
# STACK_PROMETHEUS (1: `up` also starts Prometheus, Debian's package, with
# deploy/prometheus/imgpipe-rules.yaml), PROMETHEUS_PORT (9090),
# PROMETHEUS_TARGETS (workers' host:port to scrape, comma-separated,
# default 127.0.0.1:8080), PROMETHEUS_SCRAPE_INTERVAL (5s),
# STACK_TLS (1: the secure stack of docs/security.md: a private CA made with
# openssl, MinIO on HTTPS, Kafka on SASL_SSL with SCRAM-SHA-512 users only;
# a stack folder keeps the mode it was first started with).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
IMGPIPE_CACHE="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
readonly HOST=127.0.0.1
readonly KAFKA_PORT="${KAFKA_PORT:-9092}"
readonly KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
readonly MINIO_PORT="${MINIO_PORT:-9000}"
readonly MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
readonly START_TIMEOUT="${STACK_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT=30

readonly TOPIC=bucket-events
readonly REGION=us-east-1
readonly NOTIFY_ID=PRIMARY
# Development credentials, fixed on purpose: MinIO listens on 127.0.0.1 only
# and tests/demos can rely on them. Override both to use others.
readonly S3_ACCESS_KEY="${MINIO_ROOT_USER:-imgpipe}"
readonly S3_SECRET_KEY="${MINIO_ROOT_PASSWORD:-imgpipe-secret-key}"

readonly KAFKA_POM="$SCRIPT_DIR/kafka-pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")"
readonly KAFKA_VERSION
readonly KAFKA_LIBS="$IMGPIPE_CACHE/kafka-$KAFKA_VERSION/libs"
readonly KAFKA_DIR="$STACK_DIR/kafka"
readonly KAFKA_PID="$KAFKA_DIR/kafka.pid"
readonly KAFKA_LOG="$KAFKA_DIR/kafka.log"
# What the command line of this stack's broker contains (see live_pid).
readonly KAFKA_MATCH="kafka.Kafka $KAFKA_DIR/server.properties"

# MinIO's community edition is source only; this pins the commit we build.
readonly MINIO_MODULE=github.com/minio/minio
readonly MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
readonly MINIO_COMMIT="${MINIO_VERSION##*-}"
readonly MINIO_DEFAULT_BIN="$IMGPIPE_CACHE/minio/bin-${MINIO_COMMIT:0:7}/minio"
MINIO_BIN="${MINIO_BIN:-$MINIO_DEFAULT_BIN}"
readonly MINIO_DIR="$STACK_DIR/minio"
readonly MINIO_PID="$MINIO_DIR/minio.pid"
readonly MINIO_LOG="$MINIO_DIR/minio.log"
readonly MINIO_MATCH=" server $MINIO_DIR/data "

# versitygw: a POSIX folder as its backend; it publishes every bucket's events
# to one topic (it has no per-bucket notification API).
readonly STACK_S3="${STACK_S3:-minio}"
readonly VERSITYGW_PORT="${VERSITYGW_PORT:-7070}"
readonly VERSITYGW_MODULE=github.com/versity/versitygw/cmd/versitygw
readonly VERSITYGW_VERSION=v1.8.0
readonly VERSITYGW_DEFAULT_BIN="$IMGPIPE_CACHE/versitygw/bin-$VERSITYGW_VERSION/versitygw"
VERSITYGW_BIN="${VERSITYGW_BIN:-$VERSITYGW_DEFAULT_BIN}"
readonly VERSITYGW_DIR="$STACK_DIR/versitygw"
readonly VERSITYGW_PID="$VERSITYGW_DIR/versitygw.pid"
readonly VERSITYGW_LOG="$VERSITYGW_DIR/versitygw.log"
readonly VERSITYGW_MATCH=" posix $VERSITYGW_DIR/data"
# The topic exists before the gateway starts (it sends a test event then and
# refuses to start when it cannot); as many partitions as setup would create.
readonly VERSITYGW_TOPIC_PARTITIONS=6

# Prometheus: optional (STACK_PROMETHEUS=1), scraping the workers listed in
# targets.json (file service discovery: edit it while Prometheus runs to add a
# worker) and evaluating the project's alert and recording rules.
readonly STACK_PROMETHEUS="${STACK_PROMETHEUS:-0}"
readonly PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
readonly PROMETHEUS_TARGETS="${PROMETHEUS_TARGETS:-$HOST:8080}"
readonly PROMETHEUS_SCRAPE_INTERVAL="${PROMETHEUS_SCRAPE_INTERVAL:-5s}"
readonly PROMETHEUS_RULES="$REPO_ROOT/deploy/prometheus/imgpipe-rules.yaml"
readonly PROMETHEUS_DIR="$STACK_DIR/prometheus"
readonly PROMETHEUS_PID="$PROMETHEUS_DIR/prometheus.pid"
readonly PROMETHEUS_LOG="$PROMETHEUS_DIR/prometheus.log"
readonly PROMETHEUS_MATCH="--config.file=$PROMETHEUS_DIR/prometheus.yml"

# The secure stack (STACK_TLS=1): certificates and passwords are made once
# per stack folder under $TLS_DIR (git-ignored with it), files 0600.
readonly STACK_TLS="${STACK_TLS:-0}"
readonly TLS_DIR="$STACK_DIR/tls"
readonly TLS_MODE_FILE="$STACK_DIR/tls-mode"
readonly SASL_MECHANISM=SCRAM-SHA-512
readonly KAFKA_ADMIN_USER=admin
readonly KAFKA_WORKER_USER=imgpipe
readonly KAFKA_MINIO_USER=minio
readonly KAFKA_ADMIN_CONFIG="$TLS_DIR/admin-client.properties"
# The worker's own MinIO user; `imgpipe setup` creates it (as the root user)
# with a policy that lets it read the sources and write the targets only.
readonly S3_WORKER_USER=imgpipe-worker

readonly ENV_FILE="$STACK_DIR/env"
# curl's options for the stack's S3 server.
S3_CURL_TLS=()
if [[ "$STACK_TLS" == 1 ]]; then S3_CURL_TLS=(--cacert "$TLS_DIR/ca.crt"); fi
readonly S3_CURL_TLS

log() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- processes

# The pid in $1 if that process is alive and its command line contains $2
# (guards against a recycled pid); nothing otherwise.
live_pid() {
  local pidfile=$1 pattern=$2 pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(<"$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern" && echo "$pid"
  return 0
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# spawn PIDFILE OUTFILE CMD...: starts CMD detached (own session, stdin closed,
# output appended to OUTFILE), its pid written to PIDFILE before it runs.
spawn() {
  local pidfile=$1 outfile=$2 what=$3
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$outfile" 2>&1 &
  local i
  for i in $(seq 50); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "could not start $what"
}

# stop_process NAME PIDFILE PATTERN: sends TERM, waits for the process to exit,
# KILLs it after $STOP_TIMEOUT seconds.
stop_process() {
  local name=$1 pidfile=$2 pattern=$3 pid i
  pid="$(live_pid "$pidfile" "$pattern")"
  if [[ -z "$pid" ]]; then
    rm -f "$pidfile"
    log "$name is not running"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    [[ -d "/proc/$pid" ]] || break
    sleep 0.1
  done
  if [[ -d "/proc/$pid" ]]; then
    log "$name did not exit within ${STOP_TIMEOUT}s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
}

# wait_healthy NAME PIDFILE PATTERN CHECK LOGFILE...: waits until the command
# CHECK succeeds; dies with the tails of the logs on timeout or when the
# process (pid file + pattern, see live_pid) has exited.
wait_healthy() {
  local name=$1 pidfile=$2 pattern=$3 check=$4 i f
  shift 4
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    if "$check"; then return 0; fi
    [[ -n "$(live_pid "$pidfile" "$pattern")" ]] || break
    sleep 0.2
  done
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      echo "--- last lines of $f" >&2
      tail -n 25 "$f" >&2
    fi
  done
  if [[ -z "$(live_pid "$pidfile" "$pattern")" ]]; then
    die "$name exited during startup; see $*"
  fi
  die "$name not healthy after ${START_TIMEOUT}s; see $*"
}

# Dies when a port this stack is about to bind is taken by something else,
# before anything is started.
check_port_free() {
  local port=$1 var=$2
  if port_open "$port"; then
    die "port $port is in use by another process (stop it or set $var)"
  fi
}

# ---------------------------------------------------------------- TLS

tls() { [[ "$STACK_TLS" == 1 ]]; }

# A stack folder keeps the mode it was first started with: the broker's
# listeners and SCRAM users are part of its data.
check_tls_mode() {
  local mode=plain other=1
  if tls; then mode=tls other=0; fi
  if [[ -f "$TLS_MODE_FILE" ]]; then
    [[ "$(<"$TLS_MODE_FILE")" == "$mode" ]] \
      || die "the stack in $STACK_DIR was made with STACK_TLS=$other; use that, another STACK_DIR, or make stack-clean"
    return 0
  fi
  if [[ -d "$KAFKA_DIR/data" && $mode == tls ]]; then
    die "the stack in $STACK_DIR was made without TLS; use another STACK_DIR, or make stack-clean first"
  fi
  mkdir -p "$STACK_DIR"
  echo "$mode" >"$TLS_MODE_FILE"
}

# The content of secret file $TLS_DIR/$1.password, made (16 random bytes, hex)
# when missing.
tls_secret() {
  cat "$(secret_file "$1")"
}

# secret_file NAME: the file holding NAME's random password (made on first use).
secret_file() {
  local file="$TLS_DIR/$1.password"
  if [[ ! -s "$file" ]]; then
    (umask 077 && openssl rand -hex 16 >"$file")
  fi
  echo "$file"
}

# The MinIO root user's secret in a file of its own, for setup's *_FILE setting.
s3_root_secret_file() {
  local file="$TLS_DIR/s3-root.password"
  (umask 077 && printf '%s\n' "$S3_SECRET_KEY" >"$file")
  echo "$file"
}

# sign_certificate CSR OUT START END: signs CSR with the stack's CA as a server
# certificate for 127.0.0.1 and localhost, valid from START to END
# (YYYYMMDDHHMMSSZ). openssl ca wants a configuration and a database; both
# are thrown away afterwards.
sign_certificate() {
  local csr=$1 out=$2 start=$3 end=$4 work="$TLS_DIR/ca-work"
  rm -rf "$work"
  mkdir -p "$work"
  : >"$work/index.txt"
  cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = stack
[stack]
database = $work/index.txt
new_certs_dir = $work
rand_serial = yes
certificate = $TLS_DIR/ca.crt
private_key = $TLS_DIR/ca.key
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
[server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:$HOST, DNS:localhost
CNF
  openssl ca -batch -notext -config "$work/ca.cnf" -extensions server \
    -startdate "$start" -enddate "$end" -in "$csr" -out "$out" >"$work/ca.log" 2>&1 \
    || { cat "$work/ca.log" >&2; die "openssl could not sign $out"; }
  rm -rf "$work"
}

# new_key NAME: $TLS_DIR/NAME.key, an EC P-256 key (PKCS#8 PEM), mode 0600.
new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$TLS_DIR/$1.key" 2>/dev/null) || die "openssl could not make $1.key"
}

# new_ca NAME: a self-signed CA, $TLS_DIR/NAME.crt and NAME.key.
new_ca() {
  new_key "$1"
  openssl req -x509 -new -key "$TLS_DIR/$1.key" -subj "/CN=imgpipe stack $1" -days 3650 \
    -sha256 -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$TLS_DIR/$1.crt" 2>/dev/null \
    || die "openssl could not make $1.crt"
}

# new_server_certificate NAME START END: NAME.key and NAME.crt, signed by the CA.
new_server_certificate() {
  new_key "$1"
  openssl req -new -key "$TLS_DIR/$1.key" -subj "/CN=imgpipe stack $1" \
    -out "$TLS_DIR/$1.csr" 2>/dev/null || die "openssl could not make $1.csr"
  sign_certificate "$TLS_DIR/$1.csr" "$TLS_DIR/$1.crt" "$2" "$3"
  rm -f "$TLS_DIR/$1.csr"
}

utc_stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# The CA and the servers' certificate (MinIO and Kafka share it), and for the
# tests an expired certificate from the same CA and a second CA that signed
# nothing here. Made once per stack folder.
ensure_tls_material() {
  [[ -s "$TLS_DIR/server.p12" ]] && return 0
  command -v openssl >/dev/null || die "openssl not found: run scripts/bootstrap.sh"
  log "making a private CA and server certificates in $TLS_DIR (once per stack folder)"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  new_ca ca
  new_ca other-ca
  new_server_certificate server "$(utc_stamp '-1 day')" "$(utc_stamp '+825 days')"
  new_server_certificate expired "$(utc_stamp '-30 days')" "$(utc_stamp '-1 day')"
  # Kafka reads its key and certificate from a PKCS#12 keystore.
  (umask 077 && openssl pkcs12 -export -in "$TLS_DIR/server.crt" -inkey "$TLS_DIR/server.key" \
    -certfile "$TLS_DIR/ca.crt" -name kafka -passout "pass:$(tls_secret keystore)" \
    -out "$TLS_DIR/server.p12.tmp") || die "openssl could not make the Kafka keystore"
  mv "$TLS_DIR/server.p12.tmp" "$TLS_DIR/server.p12"
}

# The JAAS line of a SCRAM login as user $1.
scram_jaas() {
  printf 'org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";' \
    "$1" "$(tls_secret "$1")"
}

# PLAIN over TLS, for workers whose librdkafka cannot do SCRAM with Kafka 4
# (before 2.6.1, see worker_sasl_mechanism): the broker checks the worker's
# password (and setup's, as admin) against this JAAS entry instead of a SCRAM credential.
plain_jaas() {
  printf 'org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s" user_%s="%s" user_%s="%s";' \
    "$KAFKA_ADMIN_USER" "$(tls_secret "$KAFKA_ADMIN_USER")" \
    "$KAFKA_ADMIN_USER" "$(tls_secret "$KAFKA_ADMIN_USER")" \
    "$KAFKA_WORKER_USER" "$(tls_secret "$KAFKA_WORKER_USER")"
}

# The mechanism the env file gives the worker: SCRAM-SHA-512 when the
# librdkafka imgpipe is built with here can log in with it to Kafka 4 (2.6.1
# and later), else PLAIN (still over TLS). STACK_WORKER_SASL_MECHANISM overrides.
worker_sasl_mechanism() {
  if [[ -n "${STACK_WORKER_SASL_MECHANISM:-}" ]]; then
    echo "$STACK_WORKER_SASL_MECHANISM"
    return
  fi
  local version
  version="$(pkg-config --modversion rdkafka 2>/dev/null || echo 0)"
  if [[ "$(printf '%s\n2.6.1\n' "$version" | sort -V | head -n1)" == 2.6.1 ]]; then
    echo "$SASL_MECHANISM"
  else
    echo PLAIN
  fi
}

# How Kafka's own tools (probe, topics, users) connect to the secure stack: as
# the admin user the storage was formatted with.
write_kafka_admin_config() {
  (umask 077 && cat >"$KAFKA_ADMIN_CONFIG" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=$SASL_MECHANISM
sasl.jaas.config=$(scram_jaas "$KAFKA_ADMIN_USER")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
PROPERTIES
  )
}

# Kafka's Java tools with the broker's jars and quiet logging.
kafka_tool() {
  java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2-probe.properties" "$@"
}

# Creates the SCRAM users the worker and MinIO log in with (or sets their
# passwords again), with Kafka's own ConfigCommand, as the admin user.
ensure_scram_users() {
  local user
  for user in "$KAFKA_WORKER_USER" "$KAFKA_MINIO_USER"; do
    if ! kafka_tool kafka.admin.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" \
        --command-config "$KAFKA_ADMIN_CONFIG" --alter --entity-type users --entity-name "$user" \
        --add-config "$SASL_MECHANISM=[iterations=8192,password=$(tls_secret "$user")]" \
        >"$KAFKA_DIR/scram-users.log" 2>&1; then
      cat "$KAFKA_DIR/scram-users.log" >&2
      die "could not create the Kafka user $user"
    fi
  done
  log "Kafka users $KAFKA_WORKER_USER and $KAFKA_MINIO_USER can log in ($SASL_MECHANISM)"
}

# ---------------------------------------------------------------- Kafka

# Resolves the broker's jars with Maven, once per machine and again whenever
# kafka-pom.xml changes (a stamp next to libs/ holds the pom's checksum).
ensure_kafka_libs() {
  local stamp="$KAFKA_LIBS.pom.sha256" sum
  sum="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [[ -d "$KAFKA_LIBS" && -f "$stamp" && "$(<"$stamp")" == "$sum" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "maven not found: run scripts/bootstrap.sh"
  log "resolving Kafka $KAFKA_VERSION jars with Maven (once per machine) into $KAFKA_LIBS"
  local tmp="$KAFKA_LIBS.tmp.$$" mvnlog="$KAFKA_LIBS.maven.log"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  if ! mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >"$mvnlog" 2>&1; then
    rm -rf "$tmp"
    tail -n 30 "$mvnlog" >&2
    die "maven could not resolve $KAFKA_POM; see $mvnlog"
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  echo "$sum" >"$stamp"
}

write_kafka_config() {
  mkdir -p "$KAFKA_DIR/data"
  # Property names as in config/server.properties of Kafka 4.1 (KRaft,
  # combined broker+controller, dynamic quorum bootstrapped by --standalone).
  local listener=PLAINTEXT
  tls && listener=SASL_SSL
  (umask 077 && cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/stack/stack.sh on each start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=$listener://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=$listener://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=$listener
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,$listener:$listener
$(kafka_tls_properties)
num.network.threads=2
num.io.threads=4
log.dirs=$KAFKA_DIR/data
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
# One partition: on this single node, the readiness probe's group then shares
# its coordinator with every other group (none is left loading).
offsets.topic.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=168
log.segment.bytes=134217728
log.retention.check.interval.ms=300000
EOF
  )
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
# Written by scripts/stack/stack.sh: the broker logs to one file.
name = imgpipe-kafka
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
EOF
  cat >"$KAFKA_DIR/log4j2-probe.properties" <<EOF
# Written by scripts/stack/stack.sh: the group probe's client logs warnings only.
name = imgpipe-kafka-probe
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = console
EOF
}

# The secure listener's settings (none on the plain stack): TLS with the
# stack's certificate, SCRAM logins only; the broker talks to itself as the
# admin user. The controller listener stays plain text on 127.0.0.1: only the
# broker in the same process uses it, as User:ANONYMOUS, which is therefore a
# super user next to admin (docs/security.md). Everyone else needs ACLs, which
# `imgpipe setup` grants.
kafka_tls_properties() {
  tls || return 0
  cat <<EOF
sasl.enabled.mechanisms=$SASL_MECHANISM,PLAIN
sasl.mechanism.inter.broker.protocol=$SASL_MECHANISM
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$(scram_jaas "$KAFKA_ADMIN_USER")
listener.name.sasl_ssl.plain.sasl.jaas.config=$(plain_jaas)
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/server.p12
ssl.keystore.password=$(tls_secret keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.crt
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$KAFKA_ADMIN_USER;User:ANONYMOUS
EOF
}

# The JVM command line, as the distribution's kafka-run-class.sh builds it,
# with a smaller heap. Sets the array KAFKA_JAVA.
kafka_java_cmd() {
  KAFKA_JAVA=(java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties"
    "-Dkafka.logs.dir=$KAFKA_DIR"
    -cp "$KAFKA_LIBS/*")
}

kafka_java() {
  local KAFKA_JAVA
  kafka_java_cmd
  "${KAFKA_JAVA[@]}" "$@"
}

# Formats the KRaft metadata log once (meta.properties marks it done).
format_kafka_storage() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [[ -n "$cluster_id" ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
  log "formatting Kafka storage (cluster id $cluster_id)"
  # The secure stack's admin user exists from the start: the broker logs in
  # as it, and creates the other users with it.
  local scram=()
  if tls; then
    scram=(--add-scram "$SASL_MECHANISM=[name=$KAFKA_ADMIN_USER,password=$(tls_secret "$KAFKA_ADMIN_USER")]")
  fi
  kafka_java kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$KAFKA_DIR/server.properties" "${scram[@]}" >>"$KAFKA_DIR/format.log" 2>&1 \
    || { cat "$KAFKA_DIR/format.log" >&2; die "formatting Kafka storage failed"; }
}

# Sends an ApiVersions v0 request and expects a response with our correlation
# id and error code 0: the PLAINTEXT listener is up and answers requests. On
# the secure stack: the listener completes a verified TLS handshake.
kafka_answers() {
  if tls; then
    # The secure listener: a TLS handshake that verifies against the stack's CA.
    timeout 3 openssl s_client -connect "$HOST:$KAFKA_PORT" -CAfile "$TLS_DIR/ca.crt" \
      -verify_return_error -brief </dev/null >/dev/null 2>&1
    return
  fi
  # shellcheck disable=SC2016  # expanded by the inner shell
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x07\x00\x04ping" >&3
    reply="$(head -c 10 <&3 | od -An -tx1 | tr -d " \n")"
    [[ "${reply:8:8}" == 00000007 && "${reply:16:4}" == 0000 ]]
  ' "$HOST" "$KAFKA_PORT" 2>/dev/null
}

kafka_started() {
  grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null && kafka_answers
}

# Answering ApiVersions is not enough: on a just-formatted broker the group
# coordinator is still loading __consumer_offsets, and the first commit fails
# with "not coordinator". Healthy means a consumer group can join and commit
# (scripts/stack/GroupProbe.java, run with the broker's own client jars; it
# retries until the deadline).
kafka_group_ready() {
  local probe_log="$KAFKA_DIR/group-probe.log" start=$SECONDS
  if ! java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2-probe.properties" \
      "$SCRIPT_DIR/GroupProbe.java" "$HOST:$KAFKA_PORT" "$START_TIMEOUT" \
      "$(if tls; then echo "$KAFKA_ADMIN_CONFIG"; fi)" >"$probe_log" 2>&1; then
    tail -n 20 "$probe_log" >&2
    die "Kafka answers, but a consumer group cannot join and commit within ${START_TIMEOUT}s; see $probe_log and $KAFKA_LOG"
  fi
  log "Kafka consumer groups work (join and commit in $((SECONDS - start))s)"
}

kafka_pid() { live_pid "$KAFKA_PID" "$KAFKA_MATCH"; }

start_kafka() {
  if [[ -n "$(kafka_pid)" ]]; then
    if kafka_answers; then
      log "Kafka already running (pid $(kafka_pid))"
      return 0
    fi
    log "Kafka is running but does not answer yet; waiting"
    wait_healthy Kafka "$KAFKA_PID" "$KAFKA_MATCH" kafka_answers "$KAFKA_LOG"
    kafka_group_ready
    return 0
  fi
  command -v java >/dev/null || die "java not found: run scripts/bootstrap.sh"
  ensure_kafka_libs
  if tls; then
    ensure_tls_material
    write_kafka_admin_config
  fi
  write_kafka_config
  format_kafka_storage
  log "starting Kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT (log: $KAFKA_LOG)"
  # Only lines of this start count for the health check.
  if [[ -f "$KAFKA_LOG" ]]; then mv -f "$KAFKA_LOG" "$KAFKA_LOG.previous"; fi
  local KAFKA_JAVA
  kafka_java_cmd
  spawn "$KAFKA_PID" "$KAFKA_DIR/stdout.log" "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"
  wait_healthy Kafka "$KAFKA_PID" "$KAFKA_MATCH" kafka_started "$KAFKA_LOG" "$KAFKA_DIR/stdout.log"
  kafka_group_ready
  if tls; then ensure_scram_users; fi
}

# ---------------------------------------------------------------- MinIO

# Reads `go install -v` output (one line per package compiled) and shows a
# running count: in place on a terminal, a line every 200 packages otherwise.
build_progress() {
  local line n=0 start=$SECONDS every=200 pre='' post='\n'
  if [[ -t 1 ]]; then every=25 pre='\r' post=''; fi
  while IFS= read -r line; do
    [[ "$line" == "go: downloading "* ]] && continue
    n=$((n + 1))
    if ((n % every == 0)); then
      printf "${pre}stack:   %d packages compiled (%ds)${post}" "$n" $((SECONDS - start))
    fi
  done
  if ((n > 0)); then
    printf "${pre}stack:   %d packages compiled (%ds)\n" "$n" $((SECONDS - start))
  fi
}

# go_build NAME MODULE@VERSION BIN: builds a Go server once per machine into
# the folder of BIN (its cache), showing progress.
go_build() {
  local name=$1 module=$2 bin=$3 gobin buildlog start=$SECONDS
  gobin="$(dirname "$bin")"
  buildlog="$gobin.build.log"
  mkdir -p "$gobin"
  log "building $name once per machine, cached in $gobin (several minutes; log: $buildlog)"
  # GOTOOLCHAIN=auto: an older Go fetches the toolchain the module asks for
  # (itself a Go module).
  if ! (GOBIN="$gobin" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
        go install -v "$module" 2>&1 | tee "$buildlog" | build_progress); then
    tail -n 30 "$buildlog" >&2
    die "building $name failed; see $buildlog"
  fi
  [[ -x "$bin" ]] || die "go install finished but $bin is missing; see $buildlog"
  log "$name built in $((SECONDS - start))s"
}

# Builds MinIO from source once per machine (MINIO_BIN skips this).
ensure_minio_bin() {
  [[ -x "$MINIO_BIN" ]] && return 0
  [[ "$MINIO_BIN" == "$MINIO_DEFAULT_BIN" ]] || die "MINIO_BIN=$MINIO_BIN is not an executable file"
  command -v go >/dev/null || die "go not found: run scripts/bootstrap.sh"
  go_build MinIO "$MINIO_MODULE@$MINIO_VERSION" "$MINIO_DEFAULT_BIN"
}

# Ready means more than live: MinIO answers S3 requests before it has loaded
# each bucket's notification rules (cmd/bucket-metadata-sys.go loads them in
# the background after the listener is up), and an upload acknowledged in that
# window produces no event at all. /minio/health/cluster answers 503
# ("bucket-metadata-offline") until the rules are loaded.
minio_ready() {
  curl -fsS --max-time 2 -o /dev/null "${S3_CURL_TLS[@]}" \
    "$(s3_scheme)://$HOST:$MINIO_PORT/minio/health/cluster" 2>/dev/null
}

s3_scheme() { if tls; then echo https; else echo http; fi; }

# MinIO's certificate folder on the secure stack: its key and certificate,
# and the CA it trusts as a client (of Kafka) in CAs/.
prepare_minio_certs() {
  local certs="$MINIO_DIR/certs"
  mkdir -p "$certs/CAs"
  chmod 700 "$certs"
  cp "$TLS_DIR/server.crt" "$certs/public.crt"
  (umask 077 && cp "$TLS_DIR/server.key" "$certs/private.key")
  cp "$TLS_DIR/ca.crt" "$certs/CAs/imgpipe-stack-ca.crt"
}

# MinIO's Kafka target on the secure stack: TLS, verified against the CA in
# its certificate folder, and a SCRAM login as the minio user.
minio_kafka_tls_env() {
  tls || return 0
  printf '%s\n' "MINIO_NOTIFY_KAFKA_TLS_$NOTIFY_ID=on" \
    "MINIO_NOTIFY_KAFKA_TLS_SKIP_VERIFY_$NOTIFY_ID=off" \
    "MINIO_NOTIFY_KAFKA_SASL_$NOTIFY_ID=on" \
    "MINIO_NOTIFY_KAFKA_SASL_MECHANISM_$NOTIFY_ID=sha512" \
    "MINIO_NOTIFY_KAFKA_SASL_USERNAME_$NOTIFY_ID=$KAFKA_MINIO_USER" \
    "MINIO_NOTIFY_KAFKA_SASL_PASSWORD_$NOTIFY_ID=$(tls_secret "$KAFKA_MINIO_USER")"
}

minio_pid() { live_pid "$MINIO_PID" "$MINIO_MATCH"; }

start_minio() {
  if [[ -n "$(minio_pid)" ]]; then
    if minio_ready; then
      log "MinIO already running (pid $(minio_pid))"
      return 0
    fi
    log "MinIO is running but not ready yet; waiting"
    wait_healthy MinIO "$MINIO_PID" "$MINIO_MATCH" minio_ready "$MINIO_LOG"
    return 0
  fi
  ensure_minio_bin
  mkdir -p "$MINIO_DIR/data" "$MINIO_DIR/events-queue"
  local certs=() tls_env=()
  if tls; then
    prepare_minio_certs
    certs=(--certs-dir "$MINIO_DIR/certs")
    mapfile -t tls_env < <(minio_kafka_tls_env)
  fi
  log "starting MinIO on $(s3_scheme)://$HOST:$MINIO_PORT, console $HOST:$MINIO_CONSOLE_PORT (log: $MINIO_LOG)"
  if [[ -f "$MINIO_LOG" ]]; then mv -f "$MINIO_LOG" "$MINIO_LOG.previous"; fi
  # Events go to Kafka through a queue dir: each is stored on disk and
  # retried until Kafka accepts it (also while the topic does not exist).
  # MINIO_API_SYNC_EVENTS: the event is in that queue before the PUT answers,
  # so a MinIO crash right after a 200 cannot lose it.
  # No update checks and no call-home: nothing leaves 127.0.0.1.
  spawn "$MINIO_PID" "$MINIO_LOG" env \
    MINIO_ROOT_USER="$S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$S3_SECRET_KEY" \
    MINIO_REGION="$REGION" MINIO_API_SYNC_EVENTS=on \
    MINIO_BROWSER=on MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    "MINIO_NOTIFY_KAFKA_ENABLE_$NOTIFY_ID=on" \
    "MINIO_NOTIFY_KAFKA_BROKERS_$NOTIFY_ID=$HOST:$KAFKA_PORT" \
    "MINIO_NOTIFY_KAFKA_TOPIC_$NOTIFY_ID=$TOPIC" \
    "MINIO_NOTIFY_KAFKA_QUEUE_DIR_$NOTIFY_ID=$MINIO_DIR/events-queue" \
    "MINIO_NOTIFY_KAFKA_QUEUE_LIMIT_$NOTIFY_ID=100000" \
    "${tls_env[@]}" \
    "$MINIO_BIN" server "$MINIO_DIR/data" "${certs[@]}" \
    --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT"
  wait_healthy MinIO "$MINIO_PID" "$MINIO_MATCH" minio_ready "$MINIO_LOG"
}

# ---------------------------------------------------------------- versitygw

ensure_versitygw_bin() {
  [[ -x "$VERSITYGW_BIN" ]] && return 0
  [[ "$VERSITYGW_BIN" == "$VERSITYGW_DEFAULT_BIN" ]] \
    || die "VERSITYGW_BIN=$VERSITYGW_BIN is not an executable file"
  command -v go >/dev/null || die "go not found: run scripts/bootstrap.sh"
  go_build versitygw "$VERSITYGW_MODULE@$VERSITYGW_VERSION" "$VERSITYGW_DEFAULT_BIN"
}

# Creates the event topic unless it exists, with Kafka's own admin tool.
ensure_event_topic() {
  local security=()
  if tls; then security=(--command-config "$KAFKA_ADMIN_CONFIG"); fi
  if ! kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$KAFKA_PORT" \
      "${security[@]}" \
      --create --if-not-exists --topic "$TOPIC" \
      --partitions "$VERSITYGW_TOPIC_PARTITIONS" --replication-factor 1 \
      >"$KAFKA_DIR/topic.log" 2>&1; then
    cat "$KAFKA_DIR/topic.log" >&2
    die "could not create topic $TOPIC"
  fi
}

versitygw_ready() {
  curl -fsS --max-time 2 -o /dev/null "http://$HOST:$VERSITYGW_PORT/health" 2>/dev/null
}

versitygw_pid() { live_pid "$VERSITYGW_PID" "$VERSITYGW_MATCH"; }

start_versitygw() {
  if [[ -n "$(versitygw_pid)" ]]; then
    log "versitygw already running (pid $(versitygw_pid))"
    wait_healthy versitygw "$VERSITYGW_PID" "$VERSITYGW_MATCH" versitygw_ready "$VERSITYGW_LOG"
    return 0
  fi
  ensure_versitygw_bin
  ensure_event_topic
  mkdir -p "$VERSITYGW_DIR/data"
  log "starting versitygw on $HOST:$VERSITYGW_PORT (log: $VERSITYGW_LOG)"
  if [[ -f "$VERSITYGW_LOG" ]]; then mv -f "$VERSITYGW_LOG" "$VERSITYGW_LOG.previous"; fi
  # Events go straight to Kafka from the request (no queue on disk): while
  # Kafka is down they are lost, and backfill/reconcile is the safety net.
  spawn "$VERSITYGW_PID" "$VERSITYGW_LOG" env \
    ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    "$VERSITYGW_BIN" --region "$REGION" --port "$HOST:$VERSITYGW_PORT" --health /health --quiet \
    --event-kafka-url "$HOST:$KAFKA_PORT" --event-kafka-topic "$TOPIC" \
    posix "$VERSITYGW_DIR/data"
  wait_healthy versitygw "$VERSITYGW_PID" "$VERSITYGW_MATCH" versitygw_ready "$VERSITYGW_LOG"
}

# ---------------------------------------------------------------- Prometheus

prometheus_ready() {
  curl -fsS --max-time 2 -o /dev/null "http://$HOST:$PROMETHEUS_PORT/-/ready" 2>/dev/null
}

prometheus_pid() { live_pid "$PROMETHEUS_PID" "$PROMETHEUS_MATCH"; }

# targets.json for file service discovery, from PROMETHEUS_TARGETS.
write_prometheus_targets() {
  local targets
  targets="$(jq -cn --arg t "$PROMETHEUS_TARGETS" '[{targets: ($t | split(",") | map(select(length > 0)))}]')"
  printf '%s\n' "$targets" >"$PROMETHEUS_DIR/targets.json.tmp"
  mv -f "$PROMETHEUS_DIR/targets.json.tmp" "$PROMETHEUS_DIR/targets.json"
}

write_prometheus_config() {
  # YAML is a superset of JSON: jq writes it, with every value quoted right.
  jq -n --arg interval "$PROMETHEUS_SCRAPE_INTERVAL" --arg rules "$PROMETHEUS_RULES" \
    --arg targets "$PROMETHEUS_DIR/targets.json" '{
      global: {scrape_interval: $interval, evaluation_interval: $interval},
      rule_files: [$rules],
      scrape_configs: [{job_name: "imgpipe",
                        file_sd_configs: [{files: [$targets], refresh_interval: "5s"}]}]
    }' >"$PROMETHEUS_DIR/prometheus.yml"
}

start_prometheus() {
  if [[ -n "$(prometheus_pid)" ]]; then
    log "Prometheus already running (pid $(prometheus_pid)); scraping $(jq -c '.[0].targets' "$PROMETHEUS_DIR/targets.json")"
    wait_healthy Prometheus "$PROMETHEUS_PID" "$PROMETHEUS_MATCH" prometheus_ready "$PROMETHEUS_LOG"
    return 0
  fi
  command -v prometheus >/dev/null || die "prometheus not found: run scripts/bootstrap.sh"
  check_port_free "$PROMETHEUS_PORT" PROMETHEUS_PORT
  mkdir -p "$PROMETHEUS_DIR/data"
  write_prometheus_targets
  write_prometheus_config
  log "starting Prometheus on $HOST:$PROMETHEUS_PORT, scraping $PROMETHEUS_TARGETS every $PROMETHEUS_SCRAPE_INTERVAL (log: $PROMETHEUS_LOG)"
  if [[ -f "$PROMETHEUS_LOG" ]]; then mv -f "$PROMETHEUS_LOG" "$PROMETHEUS_LOG.previous"; fi
  spawn "$PROMETHEUS_PID" "$PROMETHEUS_LOG" prometheus "$PROMETHEUS_MATCH" \
    "--storage.tsdb.path=$PROMETHEUS_DIR/data" "--web.listen-address=$HOST:$PROMETHEUS_PORT"
  wait_healthy Prometheus "$PROMETHEUS_PID" "$PROMETHEUS_MATCH" prometheus_ready "$PROMETHEUS_LOG"
}

# The S3 server of this stack: its port and how the worker reaches it.
s3_port() { if [[ "$STACK_S3" == versitygw ]]; then echo "$VERSITYGW_PORT"; else echo "$MINIO_PORT"; fi; }

# ---------------------------------------------------------------- commands

write_env() {
  local tmp="$ENV_FILE.tmp"
  # It holds the S3 secret: readable by its owner only.
  (umask 077 && : >"$tmp")
  {
    echo "# Written by scripts/stack/stack.sh up. Use: source $ENV_FILE"
    echo "export IMGPIPE_KAFKA_BROKERS=$HOST:$KAFKA_PORT"
    echo "export IMGPIPE_KAFKA_TOPIC=$TOPIC"
    echo "export IMGPIPE_S3_ENDPOINT=$(s3_scheme)://$HOST:$(s3_port)"
    echo "export IMGPIPE_S3_REGION=$REGION"
    if tls; then
      # Least privilege: the worker runs as its own users; setup acts as the
      # admins and gives those users their rights. Secrets only in files.
      echo "export IMGPIPE_S3_ACCESS_KEY=$S3_WORKER_USER"
      echo "export IMGPIPE_S3_SECRET_KEY_FILE=$(printf '%q' "$(secret_file "$S3_WORKER_USER")")"
      echo "export IMGPIPE_SETUP_S3_ADMIN_ACCESS_KEY=$(printf '%q' "$S3_ACCESS_KEY")"
      echo "export IMGPIPE_SETUP_S3_ADMIN_SECRET_KEY_FILE=$(printf '%q' "$(s3_root_secret_file)")"
      echo "export IMGPIPE_SETUP_KAFKA_ADMIN_USERNAME=$KAFKA_ADMIN_USER"
      echo "export IMGPIPE_SETUP_KAFKA_ADMIN_PASSWORD_FILE=$(printf '%q' "$(secret_file "$KAFKA_ADMIN_USER")")"
      echo "export IMGPIPE_SETUP_KAFKA_PUBLISHER_USER=$KAFKA_MINIO_USER"
    else
      echo "export IMGPIPE_S3_ACCESS_KEY=$(printf '%q' "$S3_ACCESS_KEY")"
      echo "export IMGPIPE_S3_SECRET_KEY=$(printf '%q' "$S3_SECRET_KEY")"
    fi
    echo "export IMGPIPE_NOTIFY_ARN=arn:minio:sqs::$NOTIFY_ID:kafka"
    echo "export IMGPIPE_STACK_S3=$STACK_S3"
    if [[ "$STACK_S3" == versitygw ]]; then
      # It publishes every event itself, keys as they are (docs/s3-servers.md).
      echo "export IMGPIPE_S3_NOTIFICATIONS=server"
      echo "export IMGPIPE_S3_EVENT_KEYS=raw"
    fi
    if tls; then
      echo "export IMGPIPE_S3_CA_FILE=$(printf '%q' "$TLS_DIR/ca.crt")"
      echo "export IMGPIPE_KAFKA_SECURITY_PROTOCOL=sasl_ssl"
      echo "export IMGPIPE_KAFKA_SASL_MECHANISM=$(worker_sasl_mechanism)"
      echo "export IMGPIPE_KAFKA_SASL_USERNAME=$KAFKA_WORKER_USER"
      # The container convention: the secret in a file only its owner reads.
      echo "export IMGPIPE_KAFKA_SASL_PASSWORD_FILE=$(printf '%q' "$TLS_DIR/$KAFKA_WORKER_USER.password")"
      echo "export IMGPIPE_KAFKA_SSL_CA_LOCATION=$(printf '%q' "$TLS_DIR/ca.crt")"
      echo "export IMGPIPE_STACK_TLS_DIR=$(printf '%q' "$TLS_DIR")"
      echo "export IMGPIPE_STACK_KAFKA_ADMIN_CONFIG=$(printf '%q' "$KAFKA_ADMIN_CONFIG")"
    fi
    echo "export IMGPIPE_STACK_DIR=$(printf '%q' "$STACK_DIR")"
    echo "export KAFKA_LIBS=$(printf '%q' "$KAFKA_LIBS")"
    echo "export MINIO_BIN=$(printf '%q' "$MINIO_BIN")"
    if [[ -n "$(prometheus_pid)" ]]; then
      echo "export IMGPIPE_STACK_PROMETHEUS=http://$HOST:$PROMETHEUS_PORT"
    fi
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

# One line per service: name, state, pid, address, log.
print_service() {
  local name=$1 pid=$2 addr=$3 healthy=$4 logfile=$5 state=stopped
  if [[ -n "$pid" ]]; then
    state=unhealthy
    [[ "$healthy" == yes ]] && state=healthy
  fi
  printf '  %-6s %-9s pid %-7s %-16s log %s\n' "$name" "$state" "${pid:--}" "$addr" "$logfile"
}

# Exit status 0 only when Kafka and this stack's S3 server are healthy.
cmd_status() {
  local kpid mpid vpid kh=no mh=no vh=no
  kpid="$(kafka_pid)"
  mpid="$(minio_pid)"
  vpid="$(versitygw_pid)"
  if [[ -n "$kpid" ]] && kafka_answers; then kh=yes; fi
  if [[ -n "$mpid" ]] && minio_ready; then mh=yes; fi
  if [[ -n "$vpid" ]] && versitygw_ready; then vh=yes; fi
  echo "stack in $STACK_DIR (S3: $STACK_S3):"
  print_service kafka "$kpid" "$HOST:$KAFKA_PORT" "$kh" "$KAFKA_LOG"
  if [[ "$STACK_S3" == versitygw || -n "$vpid" ]]; then
    print_service vgw "$vpid" "$HOST:$VERSITYGW_PORT" "$vh" "$VERSITYGW_LOG"
  fi
  if [[ "$STACK_S3" != versitygw || -n "$mpid" ]]; then
    print_service minio "$mpid" "$HOST:$MINIO_PORT" "$mh" "$MINIO_LOG"
  fi
  if [[ -n "$mpid" ]]; then
    echo "  console $(s3_scheme)://$HOST:$MINIO_CONSOLE_PORT (user $S3_ACCESS_KEY)"
  fi
  local ppid ph=no
  ppid="$(prometheus_pid)"
  if [[ -n "$ppid" ]] && prometheus_ready; then ph=yes; fi
  if [[ "$STACK_PROMETHEUS" == 1 || -n "$ppid" ]]; then
    print_service prom "$ppid" "$HOST:$PROMETHEUS_PORT" "$ph" "$PROMETHEUS_LOG"
  fi
  if [[ -f "$ENV_FILE" ]]; then echo "  env     source $ENV_FILE"; fi
  local s3_healthy=$mh
  [[ "$STACK_S3" == versitygw ]] && s3_healthy=$vh
  [[ "$kh" == yes && "$s3_healthy" == yes ]]
}

cmd_up() {
  if [[ -z "$(kafka_pid)" ]]; then
    check_port_free "$KAFKA_PORT" KAFKA_PORT
    check_port_free "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
  fi
  if [[ "$STACK_S3" == versitygw ]]; then
    [[ -n "$(versitygw_pid)" ]] || check_port_free "$VERSITYGW_PORT" VERSITYGW_PORT
  elif [[ -z "$(minio_pid)" ]]; then
    check_port_free "$MINIO_PORT" MINIO_PORT
    check_port_free "$MINIO_CONSOLE_PORT" MINIO_CONSOLE_PORT
  fi
  check_tls_mode
  start_kafka
  if [[ "$STACK_S3" == versitygw ]]; then start_versitygw; else start_minio; fi
  if [[ "$STACK_PROMETHEUS" == 1 ]]; then start_prometheus; fi
  write_env
  if tls && [[ "$(worker_sasl_mechanism)" == PLAIN ]]; then
    log "the worker logs in with SASL PLAIN over TLS: librdkafka $(pkg-config --modversion rdkafka 2>/dev/null) cannot use SCRAM with Kafka 4 (fixed in 2.6.1); MinIO and Kafka's tools use $SASL_MECHANISM"
  fi
  cmd_status
}

# Prometheus alone, e.g. for a test with its own targets and scrape interval.
cmd_prometheus_up() {
  mkdir -p "$STACK_DIR"
  start_prometheus
  if [[ -f "$ENV_FILE" ]]; then write_env; fi
}

cmd_prometheus_down() {
  stop_process Prometheus "$PROMETHEUS_PID" "$PROMETHEUS_MATCH"
  if [[ -f "$ENV_FILE" ]]; then write_env; fi
}

# Kafka alone, e.g. a second broker on other ports for a test.
cmd_kafka_up() {
  [[ -n "$(kafka_pid)" ]] || {
    check_port_free "$KAFKA_PORT" KAFKA_PORT
    check_port_free "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
  }
  check_tls_mode
  start_kafka
}

cmd_down() {
  if [[ -n "$(prometheus_pid)" ]]; then stop_process Prometheus "$PROMETHEUS_PID" "$PROMETHEUS_MATCH"; fi
  stop_process versitygw "$VERSITYGW_PID" "$VERSITYGW_MATCH"
  stop_process MinIO "$MINIO_PID" "$MINIO_MATCH"
  stop_process Kafka "$KAFKA_PID" "$KAFKA_MATCH"
}

cmd_clean() {
  cmd_down
  log "removing $STACK_DIR"
  rm -rf "$STACK_DIR"
}

usage() {
  sed -n '2,34p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  [[ -n "$KAFKA_VERSION" ]] || die "no <kafka.version> in $KAFKA_POM"
  [[ "$STACK_S3" == minio || "$STACK_S3" == versitygw ]] \
    || die "STACK_S3=$STACK_S3: must be minio or versitygw"
  [[ "$STACK_PROMETHEUS" == 0 || "$STACK_PROMETHEUS" == 1 ]] \
    || die "STACK_PROMETHEUS=$STACK_PROMETHEUS: must be 0 or 1"
  [[ "$STACK_TLS" == 0 || "$STACK_TLS" == 1 ]] || die "STACK_TLS=$STACK_TLS: must be 0 or 1"
  if [[ "$STACK_TLS" == 1 && "$STACK_S3" == versitygw ]]; then
    die "STACK_TLS=1 is for MinIO; versitygw's stack is plain text (docs/security.md)"
  fi
  case "${1:-}" in
    up) cmd_up ;;
    kafka-up) cmd_kafka_up ;;
    prometheus-up) cmd_prometheus_up ;;
    prometheus-down) cmd_prometheus_down ;;
    down) cmd_down ;;
    status) cmd_status ;;
    clean) cmd_clean ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
