# Sourced by test.sh and bench.sh: makes sure TEST_DATABASE_URL points at PostgreSQL 15 + pgvector,
# provisioning a throwaway cluster (removed on exit) when it is not set.
ensure_test_database() {
  if [ -z "${TEST_DATABASE_URL:-}" ]; then
    bash scripts/provision-postgres.sh
    eval "$(bash scripts/pg-cluster.sh start)"
    trap 'bash scripts/pg-cluster.sh stop "$PG_CLUSTER_DIR"' EXIT
    echo "test database: throwaway cluster at $TEST_DATABASE_URL" >&2
  fi
  export TEST_DATABASE_URL
}
