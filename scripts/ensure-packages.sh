#!/usr/bin/env bash
# Install the Debian packages callsync's targets need, when they are missing:
#   scripts/ensure-packages.sh postgresql redis-server chromium docker-compose
# apt's own output goes to $CALLSYNC_DATA_DIR/install.log, never to stdout: what a step prints must
# not depend on whether the machine already had the package (tests run these steps). One line per
# install goes to stderr.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/local-env.sh"

log() { echo "[install] $*" >&2; }

# True when the package's program is already there.
present() {
  case "$1" in
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null ;;
    redis-server) command -v redis-server >/dev/null && command -v redis-cli >/dev/null ;;
    chromium) [ -x /usr/bin/chromium ] ;;
    # The compose file is checked with `docker compose` where that plugin exists, else docker-compose.
    docker-compose) docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null ;;
    # Its binaries, not dpkg's record: a removed (not purged) package still has one.
    prometheus) command -v prometheus >/dev/null && command -v promtool >/dev/null ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for pkg in "$@"; do present "$pkg" || missing+=("$pkg"); done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  log "need root to install ${missing[*]}: apt-get install -y ${missing[*]}"; exit 1
fi
mkdir -p "$CALLSYNC_DATA_DIR"
install_log="$CALLSYNC_DATA_DIR/install.log"
log "installing ${missing[*]} with apt-get (log: $install_log)"
{
  echo "== $(date -u +%FT%TZ) apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
} >>"$install_log" 2>&1 || { log "apt-get failed; the last lines of $install_log:"; tail -n 20 "$install_log" >&2; exit 1; }
for pkg in "${missing[@]}"; do present "$pkg" || { log "$pkg still missing after apt-get install; see $install_log"; exit 1; }; done
