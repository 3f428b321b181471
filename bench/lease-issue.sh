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

start_sqlite_broker

echo "xares: broker on 127.0.0.1:$rest_port (REST) and :$grpc_port (gRPC); $sessions sessions for $seconds s after a $warmup s warm-up" >&2
# The admin key is passed as a file path, never as a value.
load_at_start=$(load_average)
result=$(dotnet run --project bench/LeaseLoad/LeaseLoad.csproj -c Release --no-build -- \
    "http://127.0.0.1:$rest_port" "http://127.0.0.1:$grpc_port" "$work/data/initial-admin-key" "$sessions" "$seconds" "$warmup")
echo "$result"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $result"; }
rate=$(field rate)
echo "| $(date -u +%F) | lease-issue | $(field sessions) sessions, $(field seconds) s after $warmup s warm-up: ${rate%/s} leases/s, p50 $(field p50 | sed 's/ms$/ ms/'), p99 $(field p99 | sed 's/ms$/ ms/'), max $(field max | sed 's/ms$/ ms/') | >= 5,000 leases/s, p99 <= 20 ms | load1 $load_at_start |"
