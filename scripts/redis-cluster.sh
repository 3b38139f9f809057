#!/usr/bin/env bash
# A local 3-master Redis Cluster on loopback, for `make test-cluster`.
#   scripts/redis-cluster.sh start   start (harmless if running) and form the cluster
#   scripts/redis-cluster.sh stop
# Ports: REDIS_CLUSTER_PORTS (default "7101 7102 7103"); data under .local/redis-cluster (git-ignored).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORTS="${REDIS_CLUSTER_PORTS:-7101 7102 7103}"
DIR="${CALLSYNC_DATA_DIR:-$ROOT/.local}/redis-cluster"
log() { echo "[cluster] $*" >&2; }

start() {
  "$ROOT/scripts/ensure-packages.sh" redis-server
  for p in $PORTS; do
    mkdir -p "$DIR/$p"
    if redis-cli -p "$p" ping >/dev/null 2>&1; then continue; fi
    # A previous run's cluster config would point at nodes that are gone: start clean.
    rm -f "$DIR/$p/nodes.conf"
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --dir "$DIR/$p" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --save '' --appendonly no --maxmemory-policy noeviction \
      --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log"
  done
  for p in $PORTS; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  first=${PORTS%% *}
  if ! redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok'; then
    nodes=""; for p in $PORTS; do nodes="$nodes 127.0.0.1:$p"; done
    # shellcheck disable=SC2086
    redis-cli --cluster create $nodes --cluster-replicas 0 --cluster-yes >/dev/null
    for _ in $(seq 100); do redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.1; done
  fi
  redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok' || { log "cluster did not form; see $DIR/*/redis.log"; exit 1; }
  log "3-master cluster on $(for p in $PORTS; do printf '127.0.0.1:%s ' "$p"; done)"
}

stop() {
  for p in $PORTS; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  log "cluster stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  nodes) for p in $PORTS; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//' ;;
  *) echo "usage: $0 start|stop|nodes" >&2; exit 2 ;;
esac
