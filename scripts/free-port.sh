#!/usr/bin/env bash
# Print a TCP port on 127.0.0.1 that nothing listens on now (the kernel picks it).
set -euo pipefail
exec node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { process.stdout.write(String(s.address().port) + "\n"); s.close(); });'
