#!/usr/bin/env bash
# Minted GitHub App tokens and OAuth connections vs static credentials under the lease-issue load,
# in one run of the published broker (artifacts/broker) on SQLite. LeaseLoad's minted mode runs the
# GitHub API stand-in (tools/DevGitServer/GitHub) and a minimal OAuth provider (device and token
# endpoints) in its own process, both answering every call after LATENCY_MS, registers an app and
# a provider with the broker (--outbound-allow 127.0.0.1 lets it reach them), connects a user, and:
#   static       SESSIONS workspaces asking for a stored token in a closed loop over gRPC;
#   minted-warm  SESSIONS workspaces naming acme/app, whose tokens were minted in the warm-up and
#                are reused (the phase must mint nothing), same load shape;
#   oauth-warm   SESSIONS workspaces of the connected user: its access token, reused (no refresh);
#                the three alternate ROUNDS times (each round starting with the next kind), each
#                phase SECONDS long, pooled per kind;
#   minted-cold  COLD_WORKERS closed loops, each fill on a fresh workspace (so each one mints):
#                first alone for SECONDS (the broker's CPU per such fill), then while the static
#                sessions keep their load up: fill latency and mints per minute (counted by the
#                stand-in: POST /app/installations/{id}/access_tokens).
#   bash bench/minted-fill.sh [SESSIONS=32] [SECONDS=10] [WARMUP=5] [COLD_WORKERS=4] [LATENCY_MS=50] [ROUNDS=3]
# XARES_ARTIFACTS=DIR measures artifacts published elsewhere. The last lines are rows for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-32}
seconds=${2:-10}
warmup=${3:-5}
cold_workers=${4:-4}
latency_ms=${5:-50}
rounds=${6:-3}

source bench/common.sh
ensure_artifacts
dotnet build bench/LeaseLoad/LeaseLoad.csproj -c Release -nologo -v quiet >&2

start_sqlite_broker --outbound-allow 127.0.0.1

echo "xares: broker on 127.0.0.1:$rest_port (REST) and :$grpc_port (gRPC); stand-ins at +$latency_ms ms;" \
    "$sessions sessions, $rounds rounds of static, minted-warm and oauth-warm for $seconds s each after a $warmup s warm-up, then $cold_workers cold workers" >&2
load_at_start=$(load_average)
# LeaseLoad reads the broker's CPU time per phase from /proc (CPU per lease holds up on a busy machine).
result=$(BENCH_BROKER_PID=$broker dotnet run --project bench/LeaseLoad/LeaseLoad.csproj -c Release --no-build -- minted \
    "http://127.0.0.1:$rest_port" "http://127.0.0.1:$grpc_port" "$work/data/initial-admin-key" \
    "$sessions" "$seconds" "$warmup" "$cold_workers" "$latency_ms" "$rounds")
echo "$result"

# field KIND NAME: NAME=value on the line starting with KIND.
field() { grep "^$1 " <<<"$result" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
ms() { sed 's/ms$/ ms/' <<<"$1"; }
# summary KIND [cpu]: rate and latencies (and the broker's CPU per lease, for the phases that run alone).
summary() {
    local cpu=""
    [ "${2:-}" = cpu ] && cpu=", broker CPU $(ms "$(field "$1" broker_cpu_per_lease)")/lease"
    echo "$(field "$1" rate | sed 's,/s$,,') leases/s, p50 $(ms "$(field "$1" p50)"), p99 $(ms "$(field "$1" p99)"), max $(ms "$(field "$1" max)")$cpu"
}
echo "| $(date -u +%F) | minted-fill | $sessions sessions, $rounds × $seconds s each after $warmup s warm-up, stand-ins +$latency_ms ms: static $(summary static cpu); minted warm reuse $(summary minted-warm cpu) ($(field minted-warm mints) mints); OAuth warm reuse $(summary oauth-warm cpu) ($(field oauth-warm refreshes) refreshes); cold fills that mint, $cold_workers workers alone: p50 $(ms "$(field minted-cold-alone p50)"), p99 $(ms "$(field minted-cold-alone p99)"), $(field minted-cold-alone mints_per_min) mints/min, broker CPU $(ms "$(field minted-cold-alone broker_cpu_per_fill)")/fill ($(ms "$(field minted-cold-alone broker_cpu_per_fill_net)") net of its idle $(field minted-cold-alone broker_idle_cpu)); beside the static load: p50 $(ms "$(field minted-cold p50)"), p99 $(ms "$(field minted-cold p99)"), $(field minted-cold mints_per_min) mints/min; static meanwhile $(summary static-under-mints) | warm minted (and OAuth) p50/p99 <= static's; mints/min reported | load1 $load_at_start |"
