#!/usr/bin/env bash
# Runs every test against both database backends: native PostgreSQL + pgvector
# (TEST_DATABASE_URL, or a throwaway cluster provisioned here) and the embedded PGlite.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib-postgres.sh
ensure_test_database

# One migrated embedded database, copied by every test that needs a fresh one (creating one
# from nothing takes PGlite several seconds).
COPILOT_TEST_TEMPLATE=$(mktemp -d /tmp/copilot-template.XXXXXX)
export COPILOT_TEST_TEMPLATE
trap_cmd=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
trap "rm -rf '$COPILOT_TEST_TEMPLATE'; ${trap_cmd:-true}" EXIT
node dist/test/support/make-template.js "$COPILOT_TEST_TEMPLATE"

# Only *.test.js files: the runner would also execute the support files found in a folder.
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find dist/test -name '*.test.js' | sort); fi
node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=300000 "${files[@]}"
