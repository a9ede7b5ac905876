#!/usr/bin/env bash
# npm run demo: runs scripts/demo.ts with tsx (npm's predemo has already run setup.sh and the build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec npx --no-install tsx scripts/demo.ts "$@"
