#!/usr/bin/env bash
# Runs the benchmarks in bench/ (not part of `npm test`) against a throwaway PostgreSQL 15 +
# pgvector cluster (or TEST_DATABASE_URL) and the embedded database. Each prints a table.
#   npm run bench             → all of them
#   npm run bench -- startup  → only bench/startup.ts
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib-postgres.sh
ensure_test_database

filter=${1:-}
for bench in dist/bench/*.bench.js; do
  name=$(basename "$bench" .bench.js)
  if [ -n "$filter" ] && [ "$name" != "$filter" ]; then continue; fi
  echo "== $name"
  node --expose-gc "$bench"
done
