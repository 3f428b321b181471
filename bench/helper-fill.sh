#!/usr/bin/env bash
# Measures `git credential fill` through the published git-credential-xares with a WARM sidecar
# cache, side by side with a static shell helper, in alternating hyperfine rounds; then times the helper
# alone (spawn, runtime init, sidecar call). bench/HelperBench sets up a real broker, git server
# account and credential, workspace and sidecar, and runs hyperfine against them.
#   bash bench/helper-fill.sh [RUNS=300] [WARMUP=20]
# Uses artifacts/ as published (runs scripts/publish.sh only when they are missing); hyperfine's
# JSON goes to artifacts/bench/. XARES_ARTIFACTS=DIR measures artifacts published elsewhere. The last
# line is a row for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}
warmup=${2:-20}

source bench/common.sh
ensure_package hyperfine hyperfine
ensure_artifacts

dotnet build bench/HelperBench/HelperBench.csproj -c Release -nologo -v quiet >&2
load_at_start=$(load_average)
line=$(dotnet run --project bench/HelperBench/HelperBench.csproj -c Release --no-build -- \
    fill --runs "$runs" --warmup "$warmup" --export artifacts/bench | tee /dev/stderr | tail -n 1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
echo "| $(date -u +%F) | helper-fill | \`git credential fill\` median ($(field runs) runs): xares $(field xares) ms, static helper $(field static) ms, ratio $(field ratio); helper \`get\` $(field get) ms = spawn $(field spawn) + runtime init $(field init) + sidecar call $(field call) ms | ratio <= 1.5 | load1 $load_at_start |"
