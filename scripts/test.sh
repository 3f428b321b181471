#!/usr/bin/env bash
# THE test command (README, CI): prerequisites, one Release build, the published artifacts the
# end-to-end tests run, then every test project. Ends with one line computed from the TRX
# results: "N passed, N failed" (", N skipped" when any); exits non-zero if anything failed,
# nothing passed, or a step broke.
set -uo pipefail
cd "$(dirname "$0")/.."

results=TestResults/latest
status=0

# counter NAME ELEMENT: one attribute of a TRX <Counters> element, 0 when absent.
counter() {
    local v
    v=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2")
    echo "${v:-0}"
}

summarize() {
    local passed=0 failed=0 skipped=0 files=0 trx counters name p f s
    shopt -s nullglob
    for trx in "$results"/*.trx; do
        files=$((files + 1))
        counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
        p=$(counter passed "$counters")
        f=$(( $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters") ))
        s=$(counter notExecuted "$counters")
        name=$(grep -o 'storage="[^"]*"' "$trx" | head -n 1 | sed 's/.*\/\([^/]*\)"/\1/')
        echo "  ${name:-$(basename "$trx")} - passed $p, failed $f, skipped $s"
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    done
    echo "Test result files: $files"
    if ((skipped)); then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    if ((failed > 0 || passed == 0 || status != 0)); then
        return 1
    fi
}

rm -rf "$results"
# npm downloads while the rest is set up and built; waited for before the tests.
bash scripts/setup-node-sdks.sh > /tmp/xares-node-setup.log 2>&1 &
node_setup=$!
XARES_TEST_POSTGRES=$(bash scripts/setup-postgres.sh) && export XARES_TEST_POSTGRES || echo "xares: PostgreSQL did not start; its tests fail under CI=true" >&2
bash scripts/setup-docker.sh start >/dev/null || echo "xares: the private Docker engine did not start (see /tmp/xares-docker/dockerd.log); the Docker tests fail" >&2
# A second engine beside it, for the tests of a broker watching several engines.
XARES_DOCKER_DIR=/tmp/xares-docker2 bash scripts/setup-docker.sh start >/dev/null || echo "xares: the second Docker engine did not start (see /tmp/xares-docker2/dockerd.log)" >&2
if ! bash scripts/install-prerequisites.sh; then
    status=1
elif ! dotnet build Xares.sln -c Release -nologo; then
    echo "xares: build failed" >&2
    status=1
elif ! bash scripts/publish.sh --no-build; then
    echo "xares: publish failed" >&2
    status=1
elif ! wait "$node_setup"; then
    cat /tmp/xares-node-setup.log
    echo "xares: installing the node SDKs for the AI tests failed" >&2
    status=1
else
    # All four test projects at once (-m:4; the default, one per core, started the end-to-end
    # tests, the longest, only after two short projects had finished).
    dotnet test Xares.sln -c Release --no-build -nologo -m:4 \
        --logger trx --results-directory "$results" \
        --blame-hang-timeout 5m --blame-hang-dump-type none
    status=$?
fi
bash scripts/setup-docker.sh stop
XARES_DOCKER_DIR=/tmp/xares-docker2 bash scripts/setup-docker.sh stop

summarize
