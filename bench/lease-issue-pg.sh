#!/usr/bin/env bash
# Lease-issue throughput and latency of the published broker on PostgreSQL, with one or more
# replicas on one database, and revocation propagation across two replicas:
#   bash bench/lease-issue-pg.sh [REPLICAS=2] [SESSIONS=64] [SECONDS=10] [WARMUP=2]
# Starts the throwaway cluster (scripts/setup-postgres.sh), creates a fresh database, starts
# REPLICAS brokers on it (free loopback ports, one shared master key), runs bench/LeaseLoad with
# its sessions spread round-robin over the replicas (each request is a full issue: session check,
# match, decrypt, lease row and audit record committed under the cluster-wide write lock), then
# with two or more replicas `LeaseLoad propagation` (revoke through B, time until a session on
# A hears it). Stops everything and drops the database. The last lines are rows for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=${1:-2}
sessions=${2:-64}
seconds=${3:-10}
warmup=${4:-2}

source bench/common.sh
ensure_artifacts
dotnet build bench/LeaseLoad/LeaseLoad.csproj -c Release -nologo -v quiet >&2
server=$(bash scripts/setup-postgres.sh)
database="xares_bench_$$"
psql_server() { psql "postgresql://postgres@127.0.0.1:${XARES_PG_PORT:-54329}/postgres" -qAt -c "$1"; }
psql_server "CREATE DATABASE $database" >/dev/null
connection="${server/Database=postgres/Database=$database}"

work=$(mktemp -d /tmp/xlp-XXXXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    psql_server "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

master_key=$(head -c 32 /dev/urandom | base64)
rest_urls=()
grpc_urls=()
for i in $(seq "$replicas"); do
    rest_port=$(free_port)
    grpc_port=$(free_port)
    while [ "$grpc_port" = "$rest_port" ]; do grpc_port=$(free_port); done
    XARES_MASTER_KEY="$master_key" XARES_DATABASE="$connection" \
        dotnet "$ARTIFACTS/broker/xares-broker.dll" serve --data-dir "$work/data$i" \
        --rest-url "http://127.0.0.1:$rest_port" --grpc-url "http://127.0.0.1:$grpc_port" "${BENCH_BROKER_LIMITS[@]}" \
        </dev/null >"$work/broker$i.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do
        [ "$(http_status /readyz "$rest_port" 2>/dev/null)" = 200 ] && break
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then
            echo "xares: replica $i exited; its log:" >&2
            tail -n 40 "$work/broker$i.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    rest_urls+=("http://127.0.0.1:$rest_port")
    grpc_urls+=("http://127.0.0.1:$grpc_port")
done
key_file="$work/data1/initial-admin-key"
for _ in $(seq 50); do [ -s "$key_file" ] && break; sleep 0.1; done

echo "xares: $replicas replica(s) on PostgreSQL ($database); $sessions sessions for $seconds s after a $warmup s warm-up" >&2
load_at_start=$(load_average)
grpc_list=$(IFS=,; echo "${grpc_urls[*]}")
result=$(dotnet run --project bench/LeaseLoad/LeaseLoad.csproj -c Release --no-build -- \
    "${rest_urls[0]}" "$grpc_list" "$key_file" "$sessions" "$seconds" "$warmup")
echo "$result"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
rate=$(field rate "$result")
echo "| $(date -u +%F) | lease-issue-pg | PostgreSQL, $replicas replica(s), $(field sessions "$result") sessions, $(field seconds "$result") s after $warmup s warm-up: ${rate%/s} leases/s, p50 $(field p50 "$result" | sed 's/ms$/ ms/'), p99 $(field p99 "$result" | sed 's/ms$/ ms/'), max $(field max "$result" | sed 's/ms$/ ms/') | >= 3,000 leases/s with 2 replicas | load1 $load_at_start |"

if [ "$replicas" -ge 2 ]; then
    load_at_start=$(load_average)
    result=$(dotnet run --project bench/LeaseLoad/LeaseLoad.csproj -c Release --no-build -- \
        propagation "${rest_urls[1]}" "${grpc_urls[0]}" "$key_file" 200)
    echo "$result"
    echo "| $(date -u +%F) | revocation-propagation | PostgreSQL, revoked via replica B, heard on replica A, $(field revocations "$result") revocations: p50 $(field p50 "$result" | sed 's/ms$/ ms/'), p99 $(field p99 "$result" | sed 's/ms$/ ms/'), max $(field max "$result" | sed 's/ms$/ ms/') | p99 <= 1 s | load1 $load_at_start |"
fi
