#!/usr/bin/env bash
# A fleet of sidecars on one broker: bench/FleetLoad simulates SIDECARS sidecars in one process,
# each on its own HTTP/2 connection from its own loopback address, speaking the real gRPC protocol
# (bootstrap, revocation stream resumed after its last sequence with full-jitter backoff, token
# refresh, fills), beside a few real `xares-sidecar serve` processes as witnesses.
#   bash bench/fleet.sh [SIDECARS=1000]            one broker on SQLite: lease rate with 32 busy sidecars
#                                                  alone, then the fleet idle (broker CPU, RSS per sidecar),
#                                                  the shared credential deleted (told to every sidecar,
#                                                  p50/p99/max), lease rate beside the fleet, broker restart
#   bash bench/fleet.sh [SIDECARS=1000] pg [REPLICAS=2]  the fleet spread over REPLICAS brokers on one
#                                                  PostgreSQL database; a revocation through each replica
# Uses artifacts/ as published (scripts/publish.sh when missing); XARES_ARTIFACTS=DIR measures
# artifacts published elsewhere. FLEET_OPTIONS passes more FleetLoad options (e.g. "--idle-seconds 60").
# The last line is a row for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sidecars=${1:-1000}
mode=${2:-sqlite}
replicas=0
if [ "$mode" = pg ]; then
    replicas=${3:-2}
fi

source bench/common.sh
ensure_artifacts
dotnet build bench/FleetLoad/FleetLoad.csproj -c Release -nologo -v quiet >&2
if [ "$replicas" -gt 0 ]; then
    bash scripts/setup-postgres.sh >/dev/null
fi

# One socket per simulated sidecar in FleetLoad and one per sidecar in the broker it starts, plus
# files, pipes and the database: raise the soft limit to the hard one.
ulimit -Sn "$(ulimit -Hn)"
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt $((sidecars + 1000)) ]; then
    echo "xares: open-file limit $(ulimit -Sn) is too low for $sidecars sidecars" >&2
    exit 1
fi

load_at_start=$(load_average)
# The 32 busy sidecars run in a closed loop far above the default per-session rate (bench/common.sh).
# shellcheck disable=SC2086
output=$(dotnet run --project bench/FleetLoad/FleetLoad.csproj -c Release --no-build -- \
    --sidecars "$sidecars" --replicas "$replicas" ${FLEET_OPTIONS:-} -- "${BENCH_BROKER_LIMITS[@]}" | tee >(cat >&2))
row=$(sed -n 's/^row: //p' <<<"$output" | tail -n 1)
wait # the copy to stderr
echo "| $(date -u +%F) | ${row%% | *} | ${row#* | } | load1 $load_at_start |"
