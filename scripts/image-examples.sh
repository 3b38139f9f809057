#!/usr/bin/env bash
# The image's last build step for examples/ (the Dockerfile runs it in /app after `tsc -b` and
# `npm prune`): examples/ (@callsync/examples) stays in the image only while built code requires it,
# that is while apps/ingress/src/functions.ts registers one of its functions; otherwise the folder
# and its link in node_modules go. Either way its sources, tests and sample data (tenants.yaml) go.
# Usage: scripts/image-examples.sh [ROOT]   (default: the current directory)
set -euo pipefail
cd "${1:-.}"
if grep -rqsE --include='*.js' '(require\(|from )"@callsync/examples"' apps/*/dist packages/*/dist; then
  rm -rf examples/*.ts examples/functions examples/tsconfig.json examples/tenants.yaml
  echo "image-examples: kept examples/dist (a registered function requires @callsync/examples)"
else
  rm -rf examples node_modules/@callsync/examples
  echo "image-examples: removed examples/ (no built code requires @callsync/examples)"
fi
