#!/usr/bin/env bash
# A first `make test` as on a fresh machine: a clean clone of this checkout's HEAD, with the optional
# system packages (docker-compose, chromium, redis-server, prometheus) removed first, so the install path runs for
# real; then `make test` a second time on the same clone. The clone uses ports of its own, so it runs
# beside this checkout's services.
#
#   scripts/fresh-machine-check.sh            needs root (apt-get); takes a while (npm and apt downloads)
#
# It removes those packages from THIS machine; `make test` installs them again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[fresh] $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "needs root: it removes and reinstalls system packages with apt-get"; exit 1; }

work=$(mktemp -d /tmp/callsync-fresh-XXXXXX)
chmod 755 "$work"
clone="$work/callsync"
git clone -q "$ROOT" "$clone"
log "clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in $clone"
cleanup() { (cd "$clone" && make down >/dev/null 2>&1 && scripts/services.sh destroy >/dev/null 2>&1) || true; rm -rf "$work"; }
trap cleanup EXIT

log "removing docker-compose, chromium, redis-server, redis-tools and prometheus"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -q docker-compose chromium redis-server redis-tools prometheus >"$work/apt-remove.log" 2>&1 || {
  tail -n 20 "$work/apt-remove.log" >&2; exit 1; }
for cmd in docker-compose chromium redis-server redis-cli prometheus promtool; do
  if command -v "$cmd" >/dev/null; then log "$cmd is still installed after apt-get remove"; exit 1; fi
done

export LOCAL_PG_PORT=$("$ROOT/scripts/free-port.sh") LOCAL_REDIS_PORT=$("$ROOT/scripts/free-port.sh")
for run in 1 2; do
  log "make test, run $run (log: $work/make-test-$run.log)"
  if ! (cd "$clone" && make test) >"$work/make-test-$run.log" 2>&1; then
    tail -n 60 "$work/make-test-$run.log" >&2
    log "FAIL: make test run $run"
    trap - EXIT
    (cd "$clone" && make down >/dev/null 2>&1) || true
    log "the clone and its logs stay in $work"
    exit 1
  fi
  grep -E '^(Tests|Test Suites):' "$work/make-test-$run.log" >&2
  if grep -q 'Force exiting Jest\|did not exit one second after' "$work/make-test-$run.log"; then log "FAIL: Jest did not exit on its own in run $run"; exit 1; fi
done
log "PASS: make test passed twice on a fresh clone, the first time without docker-compose, chromium, redis-server or prometheus"
