#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker compose config` where the plugin
# exists, else docker-compose (v1, from apt), which checks the file against the compose schema.
# Installs nothing: `make test` runs scripts/ensure-packages.sh docker-compose first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RETELL_API_KEY="${RETELL_API_KEY:-key_validate_only}" DASHBOARD_PASSWORD="${DASHBOARD_PASSWORD:-validate-only}"
export CALLSYNC_SECRET_KEY="${CALLSYNC_SECRET_KEY:-validate-only}"
if docker compose version >/dev/null 2>&1; then
  exec docker compose -f "${1:-docker-compose.yml}" config -q
fi
if ! command -v docker-compose >/dev/null; then
  echo "validate-compose: neither 'docker compose' nor docker-compose is installed; run scripts/ensure-packages.sh docker-compose" >&2
  exit 3
fi
exec docker-compose -f "${1:-docker-compose.yml}" config -q
