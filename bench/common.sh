# Shared by the bench/*.sh scripts (sourced, not run).

# ensure_package COMMAND PACKAGE: installs PACKAGE from Debian's archive once, when COMMAND is missing.
ensure_package() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "xares: installing $2" >&2
        local sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update >&2
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$2" >&2
    fi
}

# The published broker, sidecar and helper: artifacts/ (published when missing), or the folder
# named by XARES_ARTIFACTS (broker/ and native/ inside, as scripts/publish.sh lays them out).
# To measure the current tree, run scripts/publish.sh first (the README's benchmark section does).
ARTIFACTS=${XARES_ARTIFACTS:-artifacts}
ensure_artifacts() {
    if [ ! -s "$ARTIFACTS/broker/xares-broker.dll" ] || [ ! -x "$ARTIFACTS/native/xares-sidecar" ] || [ ! -x "$ARTIFACTS/native/git-credential-xares" ]; then
        if [ -n "${XARES_ARTIFACTS:-}" ]; then
            echo "xares: XARES_ARTIFACTS=$XARES_ARTIFACTS does not hold broker/ and native/ artifacts" >&2
            return 1
        fi
        bash scripts/publish.sh >&2
    fi
}

# A loopback TCP port nothing listens on right now (bash's /dev/tcp: no extra tools needed).
free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "xares: no free loopback port found" >&2
    return 1
}

# http_status URL_PATH PORT: the status code of a GET on 127.0.0.1:PORT, or nothing.
http_status() {
    local line
    exec 3<>"/dev/tcp/127.0.0.1/$2" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    IFS=' ' read -r _ line _ <&3 || true
    exec 3<&- 3>&-
    echo "$line"
}

# The 1-minute load average right now: figures taken on a busy machine say so in their row.
load_average() {
    cut -d ' ' -f 1 /proc/loadavg
}

# The load generators run every session in a closed loop far above the broker's default session
# call rate (100/s, burst 200); this keeps the per-session token bucket in the path but never empty.
BENCH_BROKER_LIMITS=(--session-rate 100000 --session-burst 100000)

# start_sqlite_broker [SERVE OPTION…]: the published broker on SQLite in a private temporary folder
# ($work, data in $work/data) on two free loopback ports ($rest_port, $grpc_port), in the background
# ($broker is its pid) with BENCH_BROKER_LIMITS; waits until it is healthy and has written its
# initial admin key; stops it and removes $work when the script exits.
start_sqlite_broker() {
    work=$(mktemp -d /tmp/xb-XXXXXXXX)
    chmod 700 "$work"
    rest_port=$(free_port)
    grpc_port=$(free_port)
    while [ "$grpc_port" = "$rest_port" ]; do grpc_port=$(free_port); done

    dotnet "$ARTIFACTS/broker/xares-broker.dll" serve --data-dir "$work/data" \
        --rest-url "http://127.0.0.1:$rest_port" --grpc-url "http://127.0.0.1:$grpc_port" "${BENCH_BROKER_LIMITS[@]}" "$@" \
        </dev/null >"$work/broker.log" 2>&1 &
    broker=$!
    trap 'kill -TERM "$broker" 2>/dev/null && wait "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT

    for _ in $(seq 600); do
        [ "$(http_status /healthz "$rest_port" 2>/dev/null)" = 200 ] && [ -s "$work/data/initial-admin-key" ] && return 0
        if ! kill -0 "$broker" 2>/dev/null; then
            echo "xares: the broker exited; its log:" >&2
            tail -n 40 "$work/broker.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "xares: the broker did not become healthy within 60 s" >&2
    tail -n 40 "$work/broker.log" >&2
    exit 1
}
