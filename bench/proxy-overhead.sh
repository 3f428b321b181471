#!/usr/bin/env bash
# Proxy overhead of `xares-sidecar run` (proxy mode, the default): requests/s and added p50/p99
# latency against a direct call to the same local OpenAI-shaped provider stub, side by side in one
# run, for small and streamed (20 SSE chunks) chat completions. bench/proxy-overhead starts a real
# broker and sidecar from the published artifacts, the stub, and `run` holding the proxy open.
#   bash bench/proxy-overhead.sh [LATENCY_REQUESTS=2000] [CONCURRENCY=16] [SECONDS=5]
# Also a stub that waits 20 ms before answering (closer to a real provider), small and streamed.
# Latency: sequential requests (concurrency 1); throughput: CONCURRENCY clients for SECONDS. And
# the small request through socat, a byte relay in its own process (installed from Debian when
# missing): the floor for any proxy that is a separate process.
# XARES_ARTIFACTS=DIR measures artifacts published elsewhere. The last line is a row for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
latency=${1:-2000}
concurrency=${2:-16}
seconds=${3:-5}

source bench/common.sh
ensure_artifacts
ensure_package socat socat

dotnet build bench/proxy-overhead/ProxyOverhead.csproj -c Release -nologo -v quiet >&2
load_at_start=$(load_average)
line=$(dotnet run --project bench/proxy-overhead/ProxyOverhead.csproj -c Release --no-build -- \
    --latency-requests "$latency" --concurrency "$concurrency" --seconds "$seconds" | tee /dev/stderr | tail -n 1)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
echo "| $(date -u +%F) | proxy-overhead | proxy vs direct, small: +$(field small_added_p50) ms p50, +$(field small_added_p99) ms p99, $(field small_rps_proxy) vs $(field small_rps_direct) req/s ($(field small_ratio)); streamed: +$(field stream_added_p50) ms p50, +$(field stream_added_p99) ms p99, $(field stream_rps_proxy) vs $(field stream_rps_direct) req/s ($(field stream_ratio)); byte relay (socat), small: +$(field relay_added_p50) ms p50, $(field relay_rps) req/s ($(field relay_ratio)); 20 ms provider: +$(field slow_added_p50) ms p50, $(field slow_rps_proxy) vs $(field slow_rps_direct) req/s ($(field slow_ratio)), streamed +$(field slow_stream_added_p50) ms p50, $(field slow_stream_rps_proxy) vs $(field slow_stream_rps_direct) req/s ($(field slow_stream_ratio)); c=$concurrency | added p50 <= 1 ms, >= 90% req/s | load1 $load_at_start |"
