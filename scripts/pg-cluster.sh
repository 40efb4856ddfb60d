#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests and benchmarks.
#   pg-cluster.sh start   → prints `export TEST_DATABASE_URL=...; export PG_CLUSTER_DIR=...`
#   pg-cluster.sh stop DIR → stops it and removes its folder
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/copilot-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # One role must log in with a password, so that a wrong password can be tested.
    sed -i '1i host all copilot_pw 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=512MB -c maintenance_work_mem=512MB"
    echo "$opts" >"$dir/pg.opts"
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$PG_BIN/psql" -qAt -h "$dir" -p "$port" -U postgres -d postgres \
      -c "create role copilot_pw login password 'right-password'" >/dev/null
    echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres; export PG_CLUSTER_DIR=$dir"
    ;;
  stop)
    dir=${2:?usage: pg-cluster.sh stop DIR}
    case "$dir" in /tmp/copilot-pg.*) ;; *) echo "refusing to remove $dir" >&2; exit 2 ;; esac
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  pause)
    # Stops the server but keeps the cluster (to test a database outage).
    dir=${2:?usage: pg-cluster.sh pause DIR}
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume)
    dir=${2:?usage: pg-cluster.sh resume DIR}
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/pg.opts")" start >/dev/null
    ;;
  *)
    echo "usage: pg-cluster.sh start | stop DIR | pause DIR | resume DIR" >&2
    exit 2
    ;;
esac
