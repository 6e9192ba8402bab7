#!/usr/bin/env bash
# Runs logproc's local services (PostgreSQL, Redis, Apache Kafka 4.1.1 KRaft): up|down|status|env|start SVC|stop SVC.
set -euo pipefail

# ---------------------------------------------------------------------------
# Settings (defaults are what the project uses; the overrides exist for tests
# of this script itself).
# ---------------------------------------------------------------------------
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_VERSION=4.1.1
CACHE_DIR=${LOGPROC_CACHE:-$HOME/.cache/logproc}
STATE_DIR=${LOGPROC_STATE:-$HOME/.cache/logproc/state}
KAFKA_LIBS=$CACHE_DIR/kafka-$KAFKA_VERSION/libs
KAFKA_DIR=$STATE_DIR/kafka
KAFKA_PID_FILE=$KAFKA_DIR/kafka.pid
KAFKA_LOG=$KAFKA_DIR/kafka.log
KAFKA_PORT=${LOGPROC_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${LOGPROC_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_READY_TIMEOUT=${LOGPROC_KAFKA_READY_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=20
PG_CLUSTER=${LOGPROC_PG_CLUSTER:-main}
PG_PORT=${LOGPROC_PG_PORT:-5432}
PG_DB=${LOGPROC_PG_DB:-logproc}
REDIS_PORT=${LOGPROC_REDIS_PORT:-6379}
if [[ $REDIS_PORT == 6379 ]]; then REDIS_LOGFILE=/var/log/redis/ci.log; else REDIS_LOGFILE=/var/log/redis/ci-$REDIS_PORT.log; fi

# Only the `export` lines go to the real stdout (fd 4); everything else to stderr,
# so `eval "$(scripts/services.sh up)"` works. Every child that may outlive this
# script is started through `detached` with its stdio redirected, or a caller's
# $(...) would wait for it forever (and fd 9, the lock, would never be released).
exec 4>&1 1>&2

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w 300 9 || die "could not get the lock $STATE_DIR/.lock within 300 s"
}

# Runs "$@" with every fd above 2 closed (our fds 4 and 9, and whatever the caller
# leaked to us), so a daemon it leaves behind holds no pipe or lock of ours. If
# KAFKA_PID_OUT is set, writes the pid that will become "$@" there first.
# (An array, not only a function: `cmd &` on a function would leave a forked
# copy of this script as the daemon's parent, holding our fds.)
# shellcheck disable=SC2016 # expanded by the inner bash
DETACH=(bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-"; done
  [[ -n ${KAFKA_PID_OUT:-} ]] && echo $$ >"$KAFKA_PID_OUT.tmp" && mv "$KAFKA_PID_OUT.tmp" "$KAFKA_PID_OUT"
  unset KAFKA_PID_OUT; cd / && exec "$@"' detached)
detached() { "${DETACH[@]}" "$@"; }

# alive PID: exists and is not a zombie (an unreaped zombie would make stop wait for nothing)
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null || true) # fine: comm "java" has no spaces
  [[ $st != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  [[ $(id -u) == 0 ]] || die "need root to apt-get install $*"
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 </dev/null 4>&- 9>&-
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  # NEEDRESTART_MODE=l: list only, never restart the machine's running services.
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l detached apt-get install -y -q "$@" >&2 </dev/null
}

ensure_packages() {
  local pkgs=() installed_pg=0
  pg_version >/dev/null 2>&1 || { pkgs+=(postgresql); installed_pg=1; }
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || pkgs+=(redis-server)
  command -v java >/dev/null || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || [[ -e $KAFKA_LIBS/.complete ]] || pkgs+=(maven)
  ((${#pkgs[@]} == 0)) && return 0
  apt_install "${pkgs[@]}"
  if ((installed_pg)); then
    local v; v=$(pg_version) || die "postgresql installed but no cluster under /etc/postgresql"
    [[ -d /etc/postgresql/$v/$PG_CLUSTER ]] || detached pg_createcluster "$v" "$PG_CLUSTER" -p "$PG_PORT" >&2 </dev/null
    # Fresh Debian clusters use peer/scram auth; the project expects trust on loopback.
    local hba=/etc/postgresql/$v/$PG_CLUSTER/pg_hba.conf
    cat >"$hba" <<'EOF'
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
host    all   all   ::1/128       trust
EOF
    if pg_running; then pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" reload </dev/null >&2 4>&- 9>&- || true; fi
  fi
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
pg_version() {
  local v
  v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
  [[ -n $v ]] && command -v pg_ctlcluster >/dev/null || return 1
  echo "$v"
}
pg_running() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

pg_ctl_do() { # ACTION [ARGS]: runs pg_ctlcluster quietly, shows its output on failure
  local v out rc=0
  v=$(pg_version) || die "PostgreSQL is not installed (run: $0 up)"
  mkdir -p "$STATE_DIR"
  out=$STATE_DIR/pg_ctlcluster.out
  detached pg_ctlcluster --skip-systemctl-redirect "$v" "$PG_CLUSTER" "$@" </dev/null >"$out" 2>&1 || rc=$?
  if ((rc != 0)); then cat "$out" >&2; fi
  return "$rc"
}

pg_start() {
  if pg_running; then log "postgres already up on 127.0.0.1:$PG_PORT"; return 0; fi
  log "starting postgres (cluster $(pg_version || echo '?')/$PG_CLUSTER)"
  # rc 2 = "already running" (e.g. still starting up); the wait below decides.
  pg_ctl_do start || (($? == 2)) || die "pg_ctlcluster start failed"
  local i
  for ((i = 0; i < 300; i++)); do pg_running && { log "postgres up"; return 0; }; sleep 0.1; done
  die "postgres did not accept connections on 127.0.0.1:$PG_PORT within 30 s"
}

pg_stop() {
  local v; v=$(pg_version) || { log "postgres not installed"; return 0; }
  if [[ -z $(pg_lsclusters -h "$v" "$PG_CLUSTER" 2>/dev/null | awk '$4 ~ /^online/') ]] && ! pg_running; then
    log "postgres already down"; return 0
  fi
  log "stopping postgres"
  pg_ctl_do stop -m fast || (($? == 2)) || die "pg_ctlcluster stop failed"
  local i
  for ((i = 0; i < 300; i++)); do port_open "$PG_PORT" || { log "postgres down"; return 0; }; sleep 0.1; done
  die "postgres still listening on $PG_PORT after stop"
}

pg_create_db() {
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [[ $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") != 1 ]]; then
    log "creating database $PG_DB"
    "${psql[@]}" -c "CREATE DATABASE \"$PG_DB\"" 2>/dev/null ||
      [[ $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") == 1 ]] ||
      die "could not create database $PG_DB"
  fi
}

# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------
redis_running() { [[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

redis_start() {
  if redis_running; then log "redis already up on 127.0.0.1:$REDIS_PORT"; return 0; fi
  command -v redis-server >/dev/null || die "redis-server is not installed (run: $0 up)"
  log "starting redis"
  mkdir -p /var/lib/redis "$(dirname "$REDIS_LOGFILE")" "$STATE_DIR"
  detached redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile "$REDIS_LOGFILE" </dev/null >"$STATE_DIR/redis-start.out" 2>&1 ||
    { cat "$STATE_DIR/redis-start.out" >&2; die "redis-server failed to start"; }
  local i
  for ((i = 0; i < 100; i++)); do redis_running && { log "redis up"; return 0; }; sleep 0.1; done
  tail -n 20 "$REDIS_LOGFILE" >&2 || true
  die "redis did not answer PING on 127.0.0.1:$REDIS_PORT within 10 s"
}

redis_stop() {
  if ! port_open "$REDIS_PORT"; then log "redis already down"; return 0; fi
  log "stopping redis"
  timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave </dev/null >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 200; i++)); do port_open "$REDIS_PORT" || { log "redis down"; return 0; }; sleep 0.1; done
  die "redis still listening on $REDIS_PORT after shutdown"
}

# ---------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------
# Sends a Kafka Metadata v4 request (all topics) over /dev/tcp and succeeds if
# the reply carries our correlation id and at least one broker. No JVM: ~30 ms.
kafka_probe() {
  local out
  out=$(timeout "${1:-3}" bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/'"$KAFKA_PORT"'" || exit 1
    printf "\x00\x00\x00\x0f\x00\x03\x00\x04\x00\x00\x00\x2a\xff\xff\xff\xff\xff\xff\x00" >&3
    head -c 16 <&3 | od -An -v -tu1' 2>/dev/null) || return 1
  # shellcheck disable=SC2086
  set -- $out
  (($# == 16)) && [[ "$5 $6 $7 $8" == "0 0 0 42" ]] && ((${13} + ${14} + ${15} + ${16} > 0))
}

is_kafka_pid() { # PID: alive and running kafka.Kafka
  local cmd
  alive "$1" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true)
  [[ $cmd == *kafka.Kafka* ]]
}

# pid of our broker if it is alive, else nothing
kafka_our_pid() {
  local pid
  [[ -f $KAFKA_PID_FILE ]] || return 1
  pid=$(<"$KAFKA_PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] && is_kafka_pid "$pid" || return 1
  echo "$pid"
}

# pid of whatever kafka.Kafka process listens on KAFKA_PORT (ours or not)
kafka_listener_pid() {
  local pid
  pid=$(ss -ltnpH "sport = :$KAFKA_PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)
  [[ -n $pid ]] && is_kafka_pid "$pid" || return 1
  echo "$pid"
}

kafka_java_opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto)

kafka_fetch_jars() {
  [[ -e $KAFKA_LIBS/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn not found"
  local base=$CACHE_DIR/kafka-$KAFKA_VERSION tmp
  mkdir -p "$base"
  tmp=$(mktemp -d "$base/fetch.XXXXXX")
  log "downloading Kafka $KAFKA_VERSION jars from Maven Central (mvn)"
  cp "$SCRIPT_DIR/kafka/pom.xml" "$tmp/pom.xml" # build outside the work tree
  # mvn's output (only ANSI resets when -q succeeds) is shown only on failure.
  (cd "$tmp" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$tmp/libs" \
    -DincludeScope=runtime </dev/null >"$tmp/mvn.out" 2>&1 4>&- 9>&-) || {
    sed 's/\x1b\[[0-9;]*m//g' "$tmp/mvn.out" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed"
  }
  [[ -f $tmp/libs/kafka_2.13-$KAFKA_VERSION.jar ]] || { rm -rf "$tmp"; die "kafka jar missing after mvn"; }
  touch "$tmp/libs/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp/libs" "$KAFKA_LIBS"
  rm -rf "$tmp"
  log "cached $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties.new" <<EOF
# Written by scripts/services.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=6
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
  mv "$KAFKA_DIR/server.properties.new" "$KAFKA_DIR/server.properties"
  cat >"$KAFKA_DIR/log4j2.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
EOF
}

kafka_format() {
  [[ -f $KAFKA_DIR/data/meta.properties ]] && return 0
  local uuid
  uuid=$(java "${kafka_java_opts[@]}" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -cp "$KAFKA_LIBS/*" \
    kafka.tools.StorageTool random-uuid </dev/null 2>/dev/null 4>&- 9>&- | tail -n1)
  [[ $uuid =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid gave '$uuid'"
  log "formatting Kafka storage (cluster id $uuid)"
  java "${kafka_java_opts[@]}" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -cp "$KAFKA_LIBS/*" \
    kafka.tools.StorageTool format -t "$uuid" -c "$KAFKA_DIR/server.properties" </dev/null >&2 4>&- 9>&- ||
    die "kafka storage format failed"
}

kafka_wait_ready() { # PID
  local pid=$1 deadline=$((SECONDS + KAFKA_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      tail -n 40 "$KAFKA_LOG" >&2 || true
      rm -f "$KAFKA_PID_FILE"
      die "kafka (pid $pid) exited during startup; log: $KAFKA_LOG"
    fi
    if port_open "$KAFKA_PORT" && kafka_probe 3; then return 0; fi
    sleep 0.2
  done
  tail -n 40 "$KAFKA_LOG" >&2 || true
  die "kafka did not answer metadata requests on 127.0.0.1:$KAFKA_PORT within ${KAFKA_READY_TIMEOUT}s; log: $KAFKA_LOG"
}

kafka_start() {
  local pid t0=$SECONDS
  if pid=$(kafka_our_pid); then
    kafka_wait_ready "$pid"
    log "kafka already up on 127.0.0.1:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    if kafka_probe 5; then
      log "reusing the Kafka already listening on 127.0.0.1:$KAFKA_PORT (not started by this script)"
      return 0
    fi
    die "127.0.0.1:$KAFKA_PORT is taken by something that does not answer Kafka metadata requests"
  fi
  port_open "$KAFKA_CONTROLLER_PORT" && die "controller port 127.0.0.1:$KAFKA_CONTROLLER_PORT is already in use"
  kafka_fetch_jars
  kafka_write_config
  kafka_format
  log "starting kafka $KAFKA_VERSION (log: $KAFKA_LOG)"
  rm -f "$KAFKA_PID_FILE"
  # setsid: own session, so a test runner killing its process group leaves it alone.
  # Started as a plain background command (no wrapping subshell that would stay
  # around holding our fds); detached execs java, so the pid file holds java's pid.
  KAFKA_PID_OUT=$KAFKA_PID_FILE setsid "${DETACH[@]}" nohup java -Xms256m -Xmx768m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    </dev/null >>"$KAFKA_LOG" 2>&1 &
  local i
  for ((i = 0; i < 200; i++)); do [[ -s $KAFKA_PID_FILE ]] && break; sleep 0.05; done
  pid=$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || die "kafka pid file $KAFKA_PID_FILE not written within 10 s"
  kafka_wait_ready "$pid"
  log "kafka up on 127.0.0.1:$KAFKA_PORT (pid $pid, $((SECONDS - t0)) s)"
}

kill_and_wait() { # PID NAME
  local pid=$1 name=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < KAFKA_STOP_TIMEOUT * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || return 0; sleep 0.1; done
  die "$name (pid $pid) survived SIGKILL"
}

kafka_stop() { # [ours-only]
  local pid t0=$SECONDS
  if pid=$(kafka_our_pid); then
    log "stopping kafka (pid $pid)"
    kill_and_wait "$pid" kafka
  elif [[ ${1:-} != ours-only ]] && pid=$(kafka_listener_pid); then
    log "stopping the Kafka on 127.0.0.1:$KAFKA_PORT that this script did not start (pid $pid)"
    kill_and_wait "$pid" kafka
  elif [[ ${1:-} != ours-only ]] && port_open "$KAFKA_PORT"; then
    die "127.0.0.1:$KAFKA_PORT is in use by a process that is not kafka.Kafka; not touching it"
  else
    rm -f "$KAFKA_PID_FILE"
    if port_open "$KAFKA_PORT"; then
      log "leaving the Kafka on 127.0.0.1:$KAFKA_PORT alone (not started by this script)"
    else
      log "kafka already down"
    fi
    return 0
  fi
  rm -f "$KAFKA_PID_FILE"
  local i
  for ((i = 0; i < 100; i++)); do port_open "$KAFKA_PORT" || break; sleep 0.1; done
  log "kafka down ($((SECONDS - t0)) s)"
}

kafka_running() { port_open "$KAFKA_PORT" && kafka_probe 3; }

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
print_env() {
  cat >&4 <<EOF
export POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
export REDIS_HOST=127.0.0.1
export REDIS_PORT=$REDIS_PORT
EOF
}

# `up` records in the state dir which of PG/Redis it had to start, so `down` stops only those.
cmd_up() {
  local t0=$SECONDS
  lock
  ensure_packages
  if ! pg_running; then pg_start && touch "$STATE_DIR/postgres.started"; else log "postgres up on 127.0.0.1:$PG_PORT"; fi
  pg_create_db
  if ! redis_running; then redis_start && touch "$STATE_DIR/redis.started"; else log "redis up on 127.0.0.1:$REDIS_PORT"; fi
  kafka_fetch_jars # also when reusing a foreign broker, so `stop kafka; start kafka` works later
  kafka_start
  log "all services up ($((SECONDS - t0)) s)"
  print_env
}

cmd_down() {
  lock
  kafka_stop ours-only
  if [[ -f $STATE_DIR/redis.started ]]; then redis_stop; rm -f "$STATE_DIR/redis.started"; else log "leaving redis alone (not started by this script)"; fi
  if [[ -f $STATE_DIR/postgres.started ]]; then pg_stop; rm -f "$STATE_DIR/postgres.started"; else log "leaving postgres alone (not started by this script)"; fi
}

cmd_status() {
  local s
  pg_running && s=up || s=down; echo "postgres $s" >&4
  redis_running && s=up || s=down; echo "redis $s" >&4
  kafka_running && s=up || s=down; echo "kafka $s" >&4
}

usage() {
  cat >&2 <<EOF
usage: $0 up | down | status | env | start SERVICE | stop SERVICE
  SERVICE: kafka | postgres | redis
  up      start all three (installing PG/Redis if missing), create database $PG_DB, print export lines
  down    stop Kafka, and PG/Redis only if \`up\` started them
  env     print the export lines only
env: LOGPROC_CACHE (jar cache, default ~/.cache/logproc), LOGPROC_STATE (default ~/.cache/logproc/state)
EOF
  exit 2
}

svc_cmd() { # start|stop SERVICE
  local action=$1 svc=${2:-}
  case $svc in kafka | postgres | redis) ;; *) usage ;; esac
  lock
  case $action:$svc in
    start:postgres) pg_start ;;
    stop:postgres) pg_stop ;;
    start:redis) redis_start ;;
    stop:redis) redis_stop ;;
    start:kafka) kafka_start ;;
    stop:kafka) kafka_stop ;;
  esac
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  start | stop) svc_cmd "$1" "${2:-}" ;;
  *) usage ;;
esac
