#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and benchmarks, idempotently: installs
# Debian's postgresql when it is missing, `initdb -A trust` a cluster in $XARES_PG_DIR (default
# /tmp/xares-postgres) owned by the postgres user, listening on 127.0.0.1:$XARES_PG_PORT (default
# 54329) with its own socket directory, and starts it with pg_ctl. Prints the Npgsql connection
# string on stdout and writes it to $XARES_PG_DIR/connection-string, where the tests look for it
# (or set XARES_TEST_POSTGRES). `setup-postgres.sh stop` stops the cluster.
# Trust authentication on loopback: a test fixture, never a deployment.
set -euo pipefail

dir=${XARES_PG_DIR:-/tmp/xares-postgres}
port=${XARES_PG_PORT:-54329}
data=$dir/data
sockets=$dir/sockets
log=$dir/server.log

find_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    return 1
}

as_owner=()
sudo=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
else
    sudo=(sudo)
fi

if ! bin=$(find_bin); then
    echo "xares: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package from starting its own cluster on port 5432.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    fi
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" apt-get install -y --no-install-recommends postgresql >&2
    bin=$(find_bin)
fi

if [ "${1:-}" = stop ]; then
    [ -d "$data" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >&2 || true
    exit 0
fi

mkdir -p "$dir" "$sockets"
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir" "$sockets"

if [ ! -s "$data/PG_VERSION" ]; then
    "${as_owner[@]}" "$bin/initdb" -A trust -U postgres -E UTF8 --locale=C.UTF-8 -D "$data" >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockets'
max_connections = 300
shared_buffers = 128MB
EOF
fi

if ! "${as_owner[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >&2 ||
        { tail -n 20 "$log" >&2; exit 1; }
fi

connection="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
echo "$connection" >"$dir/connection-string"
echo "$connection"
