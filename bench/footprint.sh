#!/usr/bin/env bash
# Footprint of what a workspace image carries: the published sizes of artifacts/native/xares-sidecar
# and git-credential-xares, and the resident memory (VmRSS from /proc) of a serving sidecar once it
# is connected to a broker and idle, and again idle after serving 200 helper requests
# (bench/HelperBench sets up broker, workspace and sidecar).
#   bash bench/footprint.sh [IDLE_SECONDS=5]
# XARES_ARTIFACTS=DIR measures artifacts published elsewhere. The last line is a row for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-5}

source bench/common.sh
ensure_artifacts

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
sidecar_bytes=$(stat -c %s "$ARTIFACTS"/native/xares-sidecar)
helper_bytes=$(stat -c %s "$ARTIFACTS"/native/git-credential-xares)
echo "xares-sidecar          $sidecar_bytes bytes ($(mib "$sidecar_bytes") MiB)"
echo "git-credential-xares   $helper_bytes bytes ($(mib "$helper_bytes") MiB)"

dotnet build bench/HelperBench/HelperBench.csproj -c Release -nologo -v quiet >&2
load_at_start=$(load_average)
rss=$(dotnet run --project bench/HelperBench/HelperBench.csproj -c Release --no-build -- sidecar-rss --idle-seconds "$idle" | tee /dev/stderr | tail -n 1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $rss"; }
echo "| $(date -u +%F) | footprint | helper $(mib "$helper_bytes") MiB, sidecar $(mib "$sidecar_bytes") MiB on disk; sidecar VmRSS connected+idle $(field connected-idle) MiB, idle after 200 gets $(field served-idle) MiB, peak $(field peak) MiB | helper <= 10 MB, sidecar idle RSS <= 30 MB | load1 $load_at_start |"
