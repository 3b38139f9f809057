# Sourced by the Makefile recipes and scripts: defaults for running callsync on this machine.
# Precedence: the environment, then ./.env, then the defaults below.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A URL with its password hidden, for messages.
without_password() { printf '%s' "$1" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#'; }
if [ -f "$ROOT/.env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[1]}"; value="${BASH_REMATCH[2]}"
    value="${value%%[[:space:]]#*}"                      # trailing comment
    value="${value%"${value##*[![:space:]]}"}"           # trailing spaces
    [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]] && value="${BASH_REMATCH[1]}"
    [ -z "${!key+set}" ] && export "$key=$value"
  done < "$ROOT/.env"
fi

export CALLSYNC_DATA_DIR="${CALLSYNC_DATA_DIR:-$ROOT/.local}"
export LOCAL_PG_PORT="${LOCAL_PG_PORT:-54329}"
export LOCAL_REDIS_PORT="${LOCAL_REDIS_PORT:-63799}"
# A DATABASE_URL or REDIS_URL given by the environment or .env is the user's own service: the scripts
# use it and start no local one (CALLSYNC_LOCAL_PG / CALLSYNC_LOCAL_REDIS = 0). Decided once, by the
# first script that sources this file; the ones it starts inherit the decision.
local_redis_url="redis://127.0.0.1:${LOCAL_REDIS_PORT}"
if [ -z "${CALLSYNC_LOCAL_PG:-}" ]; then
  if [ -z "${DATABASE_URL:-}" ] || [[ "$DATABASE_URL" =~ ^postgres://callsync(:[^@]*)?@127\.0\.0\.1:${LOCAL_PG_PORT}/callsync$ ]]; then
    export CALLSYNC_LOCAL_PG=1
  else
    export CALLSYNC_LOCAL_PG=0
  fi
fi
if [ "$CALLSYNC_LOCAL_PG" = 1 ]; then
  # The local Postgres requires a password on TCP (anyone on this machine can reach 127.0.0.1): a
  # random one, made once and kept in the data directory.
  mkdir -p "$CALLSYNC_DATA_DIR"
  [ -s "$CALLSYNC_DATA_DIR/pg-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$CALLSYNC_DATA_DIR/pg-password")
  local_pg_url="postgres://callsync:$(cat "$CALLSYNC_DATA_DIR/pg-password")@127.0.0.1:${LOCAL_PG_PORT}/callsync"
  # A URL given without the password (an older .env) gets it.
  [ -n "${DATABASE_URL:-}" ] && [[ "$DATABASE_URL" != postgres://callsync:* ]] && export DATABASE_URL="$local_pg_url"
fi
if [ -z "${CALLSYNC_LOCAL_REDIS:-}" ]; then
  if [ -z "${REDIS_URL:-}${REDIS_CLUSTER_NODES:-}" ] || [ "${REDIS_URL:-}" = "$local_redis_url" ]; then export CALLSYNC_LOCAL_REDIS=1; else export CALLSYNC_LOCAL_REDIS=0; fi
fi
[ "$CALLSYNC_LOCAL_PG" = 1 ] && export DATABASE_URL="${DATABASE_URL:-$local_pg_url}"
[ -n "${REDIS_CLUSTER_NODES:-}" ] || export REDIS_URL="${REDIS_URL:-$local_redis_url}"
unset local_pg_url local_redis_url
export NODE_ENV="${NODE_ENV:-development}"
export PORT="${PORT:-3000}"
if [ -z "${DASHBOARD_PASSWORD:-}" ]; then
  # Bull Board can retry and delete jobs, so even locally it sits behind a password: a random one,
  # kept in the (git-ignored) data directory so it survives restarts. `make up` prints it.
  mkdir -p "$CALLSYNC_DATA_DIR"
  [ -s "$CALLSYNC_DATA_DIR/dashboard-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$CALLSYNC_DATA_DIR/dashboard-password")
  export DASHBOARD_PASSWORD="$(cat "$CALLSYNC_DATA_DIR/dashboard-password")"
fi
if [ -z "${CALLSYNC_SECRET_KEY:-}" ]; then
  # The key that keys caller hashes and encrypts destination secrets (docs/secret-key.md): a random
  # one, made once and kept in the (git-ignored) data directory, never in Postgres. Every local
  # command (make up, test, demo, migrate, destinations, forget) gets the same one from here.
  mkdir -p "$CALLSYNC_DATA_DIR"
  [ -s "$CALLSYNC_DATA_DIR/secret-key" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$CALLSYNC_DATA_DIR/secret-key")
  export CALLSYNC_SECRET_KEY="$(cat "$CALLSYNC_DATA_DIR/secret-key")"
  export CALLSYNC_USING_LOCAL_SECRET_KEY=1
fi
if [ -z "${RETELL_API_KEY:-}" ]; then
  # A throwaway key so the system runs with no Retell account; `make demo` signs with it.
  export RETELL_API_KEY="key_local_dev_only_not_a_secret"
  export CALLSYNC_USING_DEV_KEY=1
  # No Retell account: reconciliation asks the fake Retell API that `make up` starts on loopback.
  if [ -z "${RETELL_API_BASE_URL:-}" ]; then
    export FAKE_RETELL_PORT="${FAKE_RETELL_PORT:-3099}"
    export RETELL_API_BASE_URL="http://127.0.0.1:${FAKE_RETELL_PORT}"
    export CALLSYNC_FAKE_RETELL=1
  fi
fi
