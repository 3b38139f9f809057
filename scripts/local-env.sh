# Sourced by the Makefile recipes and scripts: defaults for running callsync on this machine.
# Precedence: the environment, then ./.env, then the defaults below.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
export DATABASE_URL="${DATABASE_URL:-postgres://callsync@127.0.0.1:${LOCAL_PG_PORT}/callsync}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:${LOCAL_REDIS_PORT}}"
export NODE_ENV="${NODE_ENV:-development}"
export PORT="${PORT:-3000}"
if [ -z "${DASHBOARD_PASSWORD:-}" ]; then
  # Bull Board can retry and delete jobs, so even locally it sits behind a password: a random one,
  # kept in the (git-ignored) data directory so it survives restarts. `make up` prints it.
  mkdir -p "$CALLSYNC_DATA_DIR"
  [ -s "$CALLSYNC_DATA_DIR/dashboard-password" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$CALLSYNC_DATA_DIR/dashboard-password")
  export DASHBOARD_PASSWORD="$(cat "$CALLSYNC_DATA_DIR/dashboard-password")"
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
