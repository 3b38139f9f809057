#!/usr/bin/env bash
# Throwaway Postgres 15 and Redis 7 for local runs and tests, without Docker.
# Data lives in $CALLSYNC_DATA_DIR (default ./.local, git-ignored); both bind to 127.0.0.1 only.
#   scripts/services.sh start    start both (harmless if already running); installs what is missing
#   scripts/services.sh stop     stop both
#   scripts/services.sh destroy  stop both and delete their data
#   scripts/services.sh status
#   scripts/services.sh start-postgres|stop-postgres|crash-postgres|start-redis|stop-redis   one service (chaos tests)
# CALLSYNC_DATA_DIR, LOCAL_PG_PORT and LOCAL_REDIS_PORT select another, independent instance.
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
    PGDATA="/var/tmp/callsync-$(printf '%s' "$CALLSYNC_DATA_DIR" | sha1sum | cut -c1-12)/pg"
    mkdir -p "$(dirname "$PGDATA")"
    chmod 755 "$(dirname "$PGDATA")"
  fi
}

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

start_pg() {
  local bin; bin=$(pg_bin) || { "$ROOT/scripts/ensure-packages.sh" postgresql; bin=$(pg_bin); }
  mkdir -p "$CALLSYNC_DATA_DIR"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    log "initialising Postgres in $PGDATA"
    mkdir -p "$PGDATA"
    chown "$(pg_user)" "$PGDATA"
    chmod 700 "$PGDATA"
    # The data dir's parents must be traversable by the Postgres user.
    as_pg "$bin/initdb" -D "$PGDATA" -U callsync --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if pg_running; then log "Postgres already running on 127.0.0.1:$LOCAL_PG_PORT"; return; fi
  as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 30 \
    -o "-p $LOCAL_PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  # The application database (tests create their own next to it).
  local psql="$bin/psql"; [ -x "$psql" ] || psql=psql
  if [ "$("$psql" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U callsync -d postgres -tAc "select count(*) from pg_database where datname = 'callsync'")" = 0 ]; then
    "$psql" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U callsync -d postgres -qc "create database callsync"
  fi
  log "Postgres running on 127.0.0.1:$LOCAL_PG_PORT (log: $PGDATA/server.log)"
}

stop_pg() {
  if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; log "Postgres stopped"; fi
}

# Like a power cut for the server: no checkpoint, and commits not yet flushed to the WAL are lost (the
# next start runs crash recovery). `make chaos` uses it.
crash_pg() {
  if pg_running; then as_pg "$(pg_bin)/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null; log "Postgres crashed (immediate stop)"; fi
}

redis_running() { [ -f "$REDIS_DIR/redis.pid" ] && kill -0 "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null; }

start_redis() {
  "$ROOT/scripts/ensure-packages.sh" redis-server
  mkdir -p "$REDIS_DIR"
  if redis_running; then log "Redis already running on 127.0.0.1:$LOCAL_REDIS_PORT"; return; fi
  # No persistence: Postgres is the source of truth, and pending rows are re-enqueued from it.
  redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --dir "$REDIS_DIR" \
    --save '' --appendonly no --maxmemory-policy noeviction
  for _ in $(seq 50); do redis-cli -p "$LOCAL_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$LOCAL_REDIS_PORT" ping >/dev/null || { log "Redis did not start; see $REDIS_DIR/redis.log"; exit 1; }
  log "Redis running on 127.0.0.1:$LOCAL_REDIS_PORT (log: $REDIS_DIR/redis.log)"
}

stop_redis() {
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
    pg_running && echo "postgres: running on 127.0.0.1:$LOCAL_PG_PORT" || echo "postgres: stopped"
    redis_running && echo "redis:    running on 127.0.0.1:$LOCAL_REDIS_PORT" || echo "redis:    stopped" ;;
  *) echo "usage: $0 start|stop|destroy|status|start-postgres|stop-postgres|crash-postgres|start-redis|stop-redis" >&2; exit 2 ;;
esac
