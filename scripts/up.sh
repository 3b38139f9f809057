#!/usr/bin/env bash
# `make up`: local Postgres + Redis, migrations, then ingress, live, worker and dashboard in the foreground.
# Ctrl-C stops the processes and, if this run started them, Postgres and Redis too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/local-env.sh

# Local Postgres and Redis unless DATABASE_URL / REDIS_URL name your own; on exit, stop only what
# this run started.
before=$(scripts/services.sh status)
stop_on_exit=()
[ "$CALLSYNC_LOCAL_PG" = 1 ] && ! grep -q "^postgres: running" <<<"$before" && stop_on_exit+=(stop-postgres)
[ "$CALLSYNC_LOCAL_REDIS" = 1 ] && ! grep -q "^redis: *running" <<<"$before" && stop_on_exit+=(stop-redis)
trap 'for c in "${stop_on_exit[@]}"; do scripts/services.sh "$c"; done' EXIT
scripts/services.sh start
# Nothing balances load in front of a local run: Ctrl-C stops the ingress without a drain.
if [ -z "${SHUTDOWN_DRAIN:-}${SHUTDOWN_DRAIN_MS:-}" ]; then export SHUTDOWN_DRAIN=0; fi

node apps/cli/dist/main.js migrate

url="http://127.0.0.1:${PORT}/api/webhooks/retell"
cat <<MSG

  callsync is starting.
    Webhook URL:  $url
                  (point your Retell agent's webhook at this path on a public URL, e.g. through a tunnel)
    During calls: http://127.0.0.1:${LIVE_PORT:-3002}/api/retell/inbound   .../api/retell/functions/<name>
                  (the live process: Retell's inbound webhook and custom function URLs; the ingress
                  answers the same paths, beside webhook load; make functions ARGS="export --base-url ...")
    Health:       http://127.0.0.1:${PORT}/healthz   http://127.0.0.1:${PORT}/readyz
    Metrics:      http://127.0.0.1:${INGRESS_METRICS_PORT:-9465}/metrics   (its own listener, not the public port)
    Dashboard:    http://127.0.0.1:${DASHBOARD_PORT:-3001}/admin/queues   (Bull Board; user ${DASHBOARD_USER:-admin}, password $DASHBOARD_PASSWORD)
    Worker:       http://127.0.0.1:${WORKER_METRICS_PORT:-9464}/metrics
    Postgres:     $(without_password "$DATABASE_URL")$([ "$CALLSYNC_LOCAL_PG" = 1 ] || echo "   (yours: no local Postgres started)")
    Redis:        $(without_password "${REDIS_CLUSTER_NODES:-$REDIS_URL}")$([ "$CALLSYNC_LOCAL_REDIS" = 1 ] || echo "   (yours: no local Redis started)")

  Send a test delivery, in another terminal:
    make demo     signed sample calls (full, anonymous caller, failed dial, redelivery), then the resulting rows
    make stats    processing rate, stuck sessions, queue counts
MSG
if [ "${CALLSYNC_USING_DEV_KEY:-}" = 1 ]; then
  cat <<MSG
  No RETELL_API_KEY is set, so a local development key is used ($RETELL_API_KEY).
  Real Retell deliveries need your key: put RETELL_API_KEY=... in .env (see .env.example).
MSG
fi
if [ "${CALLSYNC_USING_LOCAL_SECRET_KEY:-}" = 1 ]; then
  cat <<MSG
  CALLSYNC_SECRET_KEY comes from $CALLSYNC_DATA_DIR/secret-key (made once; keep it with the data:
  without it the caller hashes and destination secrets in this database cannot be read; docs/secret-key.md).
MSG
fi
if [ "${CALLSYNC_FAKE_RETELL:-}" = 1 ]; then
  cat <<MSG
  Reconciliation asks a fake Retell API on $RETELL_API_BASE_URL, every ${RECONCILE_INTERVAL:-${RECONCILE_EVERY_MINUTES:-5} min}
  (set RECONCILE_INTERVAL=30s for a quick look; \`make reconcile\` runs a pass now).
MSG
fi
echo "  Ctrl-C stops everything."
echo

node scripts/supervise.mjs
