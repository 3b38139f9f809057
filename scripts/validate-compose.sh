#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine: `docker compose config` where the plugin
# exists, else docker-compose (v1, from apt), which checks the file against the compose schema.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export RETELL_API_KEY="${RETELL_API_KEY:-key_validate_only}" DASHBOARD_PASSWORD="${DASHBOARD_PASSWORD:-validate-only}"
if docker compose version >/dev/null 2>&1; then
  exec docker compose -f "${1:-docker-compose.yml}" config -q
fi
if ! command -v docker-compose >/dev/null; then
  echo "[compose] installing docker-compose (schema validation only; no engine needed)" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
exec docker-compose -f "${1:-docker-compose.yml}" config -q
