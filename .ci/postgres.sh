#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1 for the tests and prints the line
#   export VERITEE_TEST_PG_URL=postgres://postgres@127.0.0.1:<port>/<db>
# on stdout (progress goes to stderr), so callers do:   eval "$(bash .ci/postgres.sh)"
# Installs Debian's postgresql package when no server binaries are found. Idempotent: a server it
# started before on the same port is reused, and the database is created only if missing.
#
# Environment (all optional; keep these names stable, other suites reuse this script):
#   VERITEE_PG_PORT  TCP port (default 55432)     VERITEE_PG_DIR  data directory (default /tmp/veritee-pg)
#   VERITEE_PG_DB    database name (default veritee_test)
set -euo pipefail

port="${VERITEE_PG_PORT:-55432}"
dir="${VERITEE_PG_DIR:-/tmp/veritee-pg}"
db="${VERITEE_PG_DB:-veritee_test}"
log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bindir="$(find_bindir || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  log "installing postgresql (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bindir="$(find_bindir)"
fi
[ -x "$bindir/initdb" ] || { log "no initdb found"; exit 1; }

# initdb and postgres refuse to run as root: use the postgres account when we are root.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

sock="$dir/socket"
if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initdb in $dir/data"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" --auth=trust --username=postgres -E UTF8 >/dev/null
  fi
  as_pg mkdir -p "$sock"
  log "starting on 127.0.0.1:$port"
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=off" start >/dev/null
fi
for _ in $(seq 1 60); do
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" || { log "server did not come up"; exit 1; }

if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
fi
log "ready: database $db on 127.0.0.1:$port"
echo "export VERITEE_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/$db"
