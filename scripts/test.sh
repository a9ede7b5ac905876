#!/usr/bin/env bash
# npm test: every test once with the default engine, then test/integration again with the other one
# (the inline engine when the default is pooled, else the pooled engine), so both engines pass the
# same integration suite. The second run reaches every mount through MAPNFS_TEST_ENGINE_OPTS, which
# test/fixtures/mount.ts puts on each `mapnfs mount`. Exits with the first failing run's status.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NO_COLOR=1

default=$(node --input-type=module -e "
  import { defaultWorkers } from './dist/mount/options.js'
  import { availableParallelism } from 'node:os'
  console.log(defaultWorkers(availableParallelism()))") || { echo "test.sh: cannot read the default engine (build first)" >&2; exit 1; }
# The other engine, with two connections per engine (or per worker) so that nconnect is exercised too.
if [ "$default" = 0 ]; then other='workers=2,nconnect=2'; else other='workers=0,nconnect=2'; fi

echo "=== all tests, default engine (workers=$default) ==="
uvu -r tsx test '\.test\.ts$'
first=$?

echo
echo "=== test/integration again, every mount with -o $other ==="
MAPNFS_TEST_ENGINE_OPTS="$other" uvu -r tsx test/integration '\.test\.ts$'
second=$?

[ "$first" -ne 0 ] && exit "$first"
exit "$second"
