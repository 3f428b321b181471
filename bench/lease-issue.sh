#!/usr/bin/env bash
# Lease-issue throughput and latency of the published broker (artifacts/broker) on SQLite:
# starts it on free loopback ports with a temporary data dir, waits for /healthz, runs
# bench/LeaseLoad (N workspaces with one session each asking for a git credential in a closed
# loop over gRPC; every request is a full issue with its audit record committed), stops it.
#   bash bench/lease-issue.sh [SESSIONS=32] [SECONDS=10] [WARMUP=2]
# WARMUP is the seconds of load before the measured window: the broker's (and the load
# generator's) JIT takes about 5 s under this load to reach steady state, and a shorter warm-up
# leaves that transition in the measured tail (docs/benchmarks.md).
# XARES_ARTIFACTS=DIR measures artifacts published elsewhere. The last line is a row for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-32}
seconds=${2:-10}
warmup=${3:-2}

source bench/common.sh
ensure_artifacts
dotnet build bench/LeaseLoad/LeaseLoad.csproj -c Release -nologo -v quiet >&2

work=$(mktemp -d /tmp/xl-XXXXXXXX)
chmod 700 "$work"
rest_port=$(free_port)
grpc_port=$(free_port)
while [ "$grpc_port" = "$rest_port" ]; do grpc_port=$(free_port); done

dotnet "$ARTIFACTS/broker/xares-broker.dll" serve --data-dir "$work/data" \
    --rest-url "http://127.0.0.1:$rest_port" --grpc-url "http://127.0.0.1:$grpc_port" "${BENCH_BROKER_LIMITS[@]}" \
    </dev/null >"$work/broker.log" 2>&1 &
broker=$!
cleanup() {
    kill -TERM "$broker" 2>/dev/null && wait "$broker" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 600); do
    [ "$(http_status /healthz "$rest_port" 2>/dev/null)" = 200 ] && [ -s "$work/data/initial-admin-key" ] && break
    if ! kill -0 "$broker" 2>/dev/null; then
        echo "xares: the broker exited; its log:" >&2
        tail -n 40 "$work/broker.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ ! -s "$work/data/initial-admin-key" ]; then
    echo "xares: the broker did not become healthy within 60 s" >&2
    tail -n 40 "$work/broker.log" >&2
    exit 1
fi

echo "xares: broker on 127.0.0.1:$rest_port (REST) and :$grpc_port (gRPC); $sessions sessions for $seconds s after a $warmup s warm-up" >&2
# The admin key is passed as a file path, never as a value.
load_at_start=$(load_average)
result=$(dotnet run --project bench/LeaseLoad/LeaseLoad.csproj -c Release --no-build -- \
    "http://127.0.0.1:$rest_port" "http://127.0.0.1:$grpc_port" "$work/data/initial-admin-key" "$sessions" "$seconds" "$warmup")
echo "$result"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $result"; }
rate=$(field rate)
echo "| $(date -u +%F) | lease-issue | $(field sessions) sessions, $(field seconds) s after $warmup s warm-up: ${rate%/s} leases/s, p50 $(field p50 | sed 's/ms$/ ms/'), p99 $(field p99 | sed 's/ms$/ ms/'), max $(field max | sed 's/ms$/ ms/') | >= 5,000 leases/s, p99 <= 20 ms | load1 $load_at_start |"
