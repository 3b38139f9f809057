#!/usr/bin/env bash
# `make up`: local Postgres + Redis, migrations, then ingress and worker in the foreground.
# Ctrl-C stops the processes and, if this run started them, Postgres and Redis too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/local-env.sh

services_were_running=0
scripts/services.sh status | grep -q "postgres: running" && scripts/services.sh status | grep -q "redis:    running" && services_were_running=1
scripts/services.sh start
if [ "$services_were_running" = 0 ]; then trap 'scripts/services.sh stop' EXIT; fi

node apps/cli/dist/main.js migrate

url="http://127.0.0.1:${PORT}/api/webhooks/retell"
cat <<MSG

  callsync is starting.
    Webhook URL:  $url
                  (point your Retell agent's webhook at this path on a public URL, e.g. through a tunnel)
    Health:       http://127.0.0.1:${PORT}/healthz   http://127.0.0.1:${PORT}/readyz   /metrics
    Dashboard:    http://127.0.0.1:${DASHBOARD_PORT:-3001}/admin/queues   (Bull Board; user ${DASHBOARD_USER:-admin}, password $DASHBOARD_PASSWORD)
    Worker:       http://127.0.0.1:${WORKER_METRICS_PORT:-9464}/metrics
    Postgres:     $DATABASE_URL
    Redis:        $REDIS_URL

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
if [ "${CALLSYNC_FAKE_RETELL:-}" = 1 ]; then
  cat <<MSG
  Reconciliation asks a fake Retell API on $RETELL_API_BASE_URL, every ${RECONCILE_EVERY_MINUTES:-5} min
  (set RECONCILE_EVERY_MINUTES=0.5 for a quick look; \`make reconcile\` runs a pass now).
MSG
fi
echo "  Ctrl-C stops everything."
echo

node scripts/supervise.mjs
