#!/usr/bin/env bash
# Installs PostgreSQL 15 and builds pgvector from Debian's source package (bookworm has no
# pgvector package; trixie's source builds against PostgreSQL 15). Idempotent: a no-op when
# the server and the extension are already there. Needs root on Debian.
set -euo pipefail

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
BUILD_DIR=${PGVECTOR_BUILD_DIR:-/var/cache/copilot-pgvector}

log() { echo "provision-postgres: $*" >&2; }

have_vector() {
  [ -x "$PG_CONFIG" ] || return 1
  local share lib
  share=$("$PG_CONFIG" --sharedir) lib=$("$PG_CONFIG" --pkglibdir)
  [ -f "$share/extension/vector.control" ] && [ -f "$lib/vector.so" ]
}

apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
}

if [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_CONFIG" ] || ! dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL $PG_MAJOR server or headers missing and not root: install postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR, or set TEST_DATABASE_URL"
    exit 1
  fi
  apt_update
  log "installing postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev >&2
fi

if have_vector; then
  log "pgvector already installed"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "pgvector is missing and not root: build it from source, or set TEST_DATABASE_URL"
  exit 1
fi

SRC_LIST=/etc/apt/sources.list.d/copilot-trixie-src.sources
if [ ! -f "$SRC_LIST" ]; then
  log "adding a trixie deb-src entry for pgvector's source package"
  cat >"$SRC_LIST" <<'LIST'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
LIST
  apt_updated=0
fi
apt_update
command -v dpkg-source >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >&2

mkdir -p "$BUILD_DIR"
cd "$BUILD_DIR"
src=$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
if [ -z "$src" ]; then
  log "apt-get source pgvector"
  apt-get source -qq pgvector >&2
  src=$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
fi
[ -n "$src" ] || { log "apt-get source pgvector produced no source tree"; exit 1; }
log "building $src against PostgreSQL $PG_MAJOR"
make -s -C "$src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >&2
make -s -C "$src" PG_CONFIG="$PG_CONFIG" install >&2
have_vector || { log "pgvector build finished but the extension files are missing"; exit 1; }
log "pgvector installed"
