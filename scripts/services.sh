#!/usr/bin/env bash
# Throwaway Postgres 15 and Redis 7 for local runs and tests, without Docker.
# Data lives in $CALLSYNC_DATA_DIR (default ./.local, git-ignored); both bind to 127.0.0.1 only.
#   scripts/services.sh start    start both (harmless if already running); installs what is missing
#   scripts/services.sh stop     stop both
#   scripts/services.sh destroy  stop both and delete their data
#   scripts/services.sh status
#   scripts/services.sh start-postgres|stop-postgres|crash-postgres|start-redis|stop-redis   one service (chaos tests)
# CALLSYNC_DATA_DIR, LOCAL_PG_PORT and LOCAL_REDIS_PORT select another, independent instance.
# A DATABASE_URL or REDIS_URL of your own (environment or .env) means no local service for it:
# start, stop and status leave it alone (scripts/local-env.sh decides).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"

PGDATA="$CALLSYNC_DATA_DIR/pg"
REDIS_DIR="$CALLSYNC_DATA_DIR/redis"
log() { echo "[services] $*" >&2; }


pg_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  return 1
}

# Postgres refuses to run as root: run it as a system user that owns the data directory.
pg_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  echo postgres
}

as_pg() {
  local user; user=$(pg_user)
  # From /, since the current directory may be out of the Postgres user's reach.
  if [ "$(id -un)" = "$user" ]; then "$@"; else (cd / && runuser -u "$user" -- "$@"); fi
}

# Postgres runs as another user, who must be able to reach the data directory. A checkout under a
# private home directory (/root is 700) is out of its reach; then the data lives in /var/tmp instead,
# at a path derived from the checkout's, so start, stop and status still agree.
resolve_pgdata() {
  mkdir -p "$CALLSYNC_DATA_DIR"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$(pg_user)" -- test -x "$CALLSYNC_DATA_DIR" 2>/dev/null; then
    local base; base="/var/tmp/callsync-$(printf '%s' "$CALLSYNC_DATA_DIR" | sha1sum | cut -c1-12)"
    # /var/tmp is writable by everyone and this name can be guessed: anyone could have put a symlink
    # or a directory of theirs there for root to chown. Use it only if root made it, else refuse.
    if [ -e "$base" ] || [ -L "$base" ]; then
      if [ -L "$base" ] || [ ! -d "$base" ] || [ "$(stat -c %u "$base")" != 0 ] || [ -n "$(find "$base" -maxdepth 0 -perm /022)" ]; then
        log "refusing $base: it is not a directory owned by root and writable only by root (someone else made it?)."
        log "  remove it, or use a data directory the postgres user can reach: CALLSYNC_DATA_DIR=/srv/callsync"
        exit 1
      fi
    else
      (umask 022 && mkdir "$base")
    fi
    PGDATA="$base/pg"
    if [ -L "$PGDATA" ]; then log "refusing $PGDATA: it is a symlink"; exit 1; fi
  fi
}

# The local Postgres's password, made once and kept in the data directory (git-ignored, 0600).
pg_password() { cat "$CALLSYNC_DATA_DIR/pg-password"; }


# The pid of the process listening on TCP `port` (any address), if there is one; empty if none.
# Read from /proc, so it needs no network tools; as another user only that user's processes are found.
port_holder() {
  local hex inode fd pid
  hex=$(printf '%04X' "$1")
  inode=$(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [ -n "$inode" ] || return 1
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ]; then pid=${fd#/proc/}; echo "${pid%%/*}"; return 0; fi
  done
  echo "?"
}

# Stop with a message that names the port, what holds it, the log file, and how to choose another.
port_taken() {
  local what=$1 port=$2 variable=$3 logfile=$4 pid holder
  pid=$(port_holder "$port") || return 0
  if [ "$pid" = "?" ]; then holder="a process this user cannot see"; else
    holder="$(cat "/proc/$pid/comm" 2>/dev/null || echo unknown) (pid $pid"
    # Postgres runs inside its data directory: say whose it is.
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] && holder="$holder, data directory $(readlink "/proc/$pid/cwd" 2>/dev/null || echo unknown)"
    holder="$holder)"
  fi
  log "cannot start $what: port $port on 127.0.0.1 is already taken by $holder."
  log "  log file: $logfile"
  log "  choose another port: $variable=$((port + 1)) make up   (or put $variable=... in .env; make test takes it too)"
  if [ "$what" = Postgres ]; then log "  or use a Postgres of your own: DATABASE_URL=postgres://user:pass@host:5432/db"; else log "  or use a Redis of your own: REDIS_URL=redis://host:6379"; fi
  exit 1
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

start_pg() {
  if [ "$CALLSYNC_LOCAL_PG" != 1 ]; then log "Postgres: using DATABASE_URL ($(without_password "$DATABASE_URL")); no local one started"; return; fi
  local bin; bin=$(pg_bin) || { "$ROOT/scripts/ensure-packages.sh" postgresql; bin=$(pg_bin); }
  mkdir -p "$CALLSYNC_DATA_DIR"
  if pg_running; then log "Postgres already running on 127.0.0.1:$LOCAL_PG_PORT"; return; fi
  port_taken Postgres "$LOCAL_PG_PORT" LOCAL_PG_PORT "$PGDATA/server.log"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising Postgres in $PGDATA"
    mkdir -p "$PGDATA"
    chown "$(pg_user)" "$PGDATA"
    chmod 700 "$PGDATA"
    # The data dir's parents must be traversable by the Postgres user. TCP connections need the
    # password (any local user can reach 127.0.0.1); the socket lives in the data directory (0700).
    local pwfile; pwfile=$(mktemp)
    pg_password > "$pwfile"
    chown "$(pg_user)" "$pwfile"
    as_pg "$bin/initdb" -D "$PGDATA" -U callsync --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >/dev/null || { rm -f "$pwfile"; exit 1; }
    rm -f "$pwfile"
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 30 \
    -o "-p $LOCAL_PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null 2>&1; then
    log "Postgres did not start on 127.0.0.1:$LOCAL_PG_PORT; the end of its log, $PGDATA/server.log:"
    tail -n 15 "$PGDATA/server.log" >&2 || true
    exit 1
  fi
  local psql="$bin/psql"; [ -x "$psql" ] || psql=psql
  export PGPASSWORD; PGPASSWORD=$(pg_password)
  # A data directory made before passwords were required still trusts every local TCP connection:
  # give the role its password, then require it.
  if grep -Eq '^host.*trust$' "$PGDATA/pg_hba.conf" 2>/dev/null; then
    "$psql" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U callsync -d postgres -qc "alter role callsync password '$PGPASSWORD'"
    sed -i -E 's/^(host.*)trust$/\1scram-sha-256/' "$PGDATA/pg_hba.conf"
    as_pg "$bin/pg_ctl" -D "$PGDATA" reload >/dev/null
    log "Postgres now requires the password in $CALLSYNC_DATA_DIR/pg-password for TCP connections"
  fi
  # The application database (tests create their own next to it).
  if [ "$("$psql" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U callsync -d postgres -tAc "select count(*) from pg_database where datname = 'callsync'")" = 0 ]; then
    "$psql" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U callsync -d postgres -qc "create database callsync"
  fi
  log "Postgres running on 127.0.0.1:$LOCAL_PG_PORT (log: $PGDATA/server.log)"
}

stop_pg() {
  [ "$CALLSYNC_LOCAL_PG" = 1 ] || return 0
  if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; log "Postgres stopped"; fi
}

# Like a power cut for the server: no checkpoint, and commits not yet flushed to the WAL are lost (the
# next start runs crash recovery). `make chaos` uses it.
crash_pg() {
  [ "$CALLSYNC_LOCAL_PG" = 1 ] || { log "DATABASE_URL is not the local Postgres; not touching it"; exit 1; }
  if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null; log "Postgres crashed (immediate stop)"; fi
}

redis_running() { [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null; }

start_redis() {
  if [ "$CALLSYNC_LOCAL_REDIS" != 1 ]; then log "Redis: using ${REDIS_CLUSTER_NODES:+the cluster in REDIS_CLUSTER_NODES}${REDIS_CLUSTER_NODES:-REDIS_URL ($(without_password "$REDIS_URL"))}; no local one started"; return; fi
  "$ROOT/scripts/ensure-packages.sh" redis-server
  mkdir -p "$REDIS_DIR"
  if redis_running; then log "Redis already running on 127.0.0.1:$LOCAL_REDIS_PORT"; return; fi
  port_taken Redis "$LOCAL_REDIS_PORT" LOCAL_REDIS_PORT "$REDIS_DIR/redis.log"
  # No persistence: Postgres is the source of truth, and pending rows are re-enqueued from it.
  redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --dir "$REDIS_DIR" \
    --save '' --appendonly no --maxmemory-policy noeviction
  for _ in $(seq 50); do redis-cli -p "$LOCAL_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$LOCAL_REDIS_PORT" ping >/dev/null || { log "Redis did not start; see $REDIS_DIR/redis.log"; exit 1; }
  log "Redis running on 127.0.0.1:$LOCAL_REDIS_PORT (log: $REDIS_DIR/redis.log)"
}

stop_redis() {
  [ "$CALLSYNC_LOCAL_REDIS" = 1 ] || return 0
  if redis_running; then
    redis-cli -p "$LOCAL_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$REDIS_DIR/redis.pid")"
    for _ in $(seq 50); do redis_running || break; sleep 0.1; done
    log "Redis stopped"
  fi
}

resolve_pgdata
case "${1:-}" in
  start) start_pg; start_redis ;;
  stop) stop_redis; stop_pg ;;
  destroy) stop_redis; stop_pg; rm -rf "$PGDATA" "$CALLSYNC_DATA_DIR"; rmdir "$(dirname "$PGDATA")" 2>/dev/null || true ;;
  start-postgres) start_pg ;;
  stop-postgres) stop_pg ;;
  crash-postgres) crash_pg ;;
  start-redis) start_redis ;;
  stop-redis) stop_redis ;;
  status)
    if [ "$CALLSYNC_LOCAL_PG" != 1 ]; then echo "postgres: external, DATABASE_URL=$(without_password "$DATABASE_URL")"
    elif pg_running; then echo "postgres: running on 127.0.0.1:$LOCAL_PG_PORT"; else echo "postgres: stopped"; fi
    if [ "$CALLSYNC_LOCAL_REDIS" != 1 ]; then echo "redis:    external, ${REDIS_CLUSTER_NODES:+REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES}${REDIS_CLUSTER_NODES:-REDIS_URL=$(without_password "$REDIS_URL")}"
    elif redis_running; then echo "redis:    running on 127.0.0.1:$LOCAL_REDIS_PORT"; else echo "redis:    stopped"; fi ;;
  *) echo "usage: $0 start|stop|destroy|status|start-postgres|stop-postgres|crash-postgres|start-redis|stop-redis" >&2; exit 2 ;;
esac
