#!/usr/bin/env bash
# Refreshes .sqlx/, the offline data that sqlx's query macros compile against, from a
# throwaway PostgreSQL cluster migrated with migrations/. Run it after changing a query or
# a migration, and commit .sqlx/. `--check` only verifies that .sqlx/ is fresh (CI does).
# Needs the PostgreSQL server binaries and sqlx-cli
# (`cargo install sqlx-cli --version 0.9.0 --no-default-features --features postgres,rustls`).
set -euo pipefail
cd "$(dirname "$0")/.."
check=()
[ "${1:-}" = "--check" ] && check=(--check)

pgbin=${ICTS_PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$pgbin/initdb" ] || { echo "no PostgreSQL server binaries (set ICTS_PG_BIN_DIR)" >&2; exit 1; }
dir=$(mktemp -d)
chmod 755 "$dir"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "'$pgbin/initdb' -D '$dir/data' -A trust -U postgres >'$dir/initdb.log' 2>&1"
as_pg "'$pgbin/pg_ctl' -D '$dir/data' -w -l '$dir/log' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
trap 'as_pg "\"$pgbin/pg_ctl\" -D \"$dir/data\" -m fast stop" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/icts_sqlx"
cargo sqlx database create
cargo sqlx migrate run --source migrations >/dev/null
SQLX_OFFLINE=false cargo sqlx prepare "${check[@]}" -- --all-targets
