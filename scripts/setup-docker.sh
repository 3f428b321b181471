#!/usr/bin/env bash
# A private Docker engine for the Docker end-to-end tests and the container benchmark.
#   scripts/setup-docker.sh start   install Debian's docker.io, docker-compose (deploy tests) and
#                                   busybox-static if missing, start
#                                   dockerd under $XARES_DOCKER_DIR (default /tmp/xares-docker)
#   scripts/setup-docker.sh stop    stop that dockerd (and its containers)
#   scripts/setup-docker.sh status  exit 0 when it answers
# The engine listens only on a unix socket of its own; nothing touches /var/run/docker.sock,
# iptables or a bridge (containers get loopback only, or the host's network with --network host).
# On success `start` writes the engine URL (unix:///…/docker.sock) to $XARES_DOCKER_DIR/endpoint,
# which the tests read (or set XARES_TEST_DOCKER yourself to point them at another engine).
# Nothing here is fatal to the rest of the test run: when the engine can't start, the Docker tests
# report it and fail, with the reason in $XARES_DOCKER_DIR/dockerd.log.
# Several engines run side by side when each has its own $XARES_DOCKER_DIR (socket, pid file,
# data-root, exec-root and its containerd all live there), e.g. XARES_DOCKER_DIR=/tmp/xares-docker2.
# With XARES_DOCKER_TLS_PORT set, the engine also listens on tcp://127.0.0.1:PORT with --tlsverify,
# using ca.pem, server.pem and server-key.pem that the caller put in $XARES_DOCKER_DIR/tls.
set -uo pipefail

dir=${XARES_DOCKER_DIR:-/tmp/xares-docker}
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

install_engine() {
    if command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ] && [ -x /usr/bin/docker-compose ] && dpkg -s busybox-static >/dev/null 2>&1; then
        return 0
    fi
    echo "xares: installing docker.io, docker-compose and busybox-static" >&2
    # Keep the package's service from starting on the system socket: policy-rc.d 101 = "not now".
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends docker.io docker-compose busybox-static >/dev/null
}

answers() {
    [ -S "$sock" ] && DOCKER_HOST="unix://$sock" /usr/bin/docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

launch() {
    local driver=$1
    mkdir -p "$dir/data" "$dir/exec"
    local tls=()
    if [ -n "${XARES_DOCKER_TLS_PORT:-}" ]; then
        tls=(-H "tcp://127.0.0.1:$XARES_DOCKER_TLS_PORT" --tlsverify --tlscacert "$dir/tls/ca.pem"
            --tlscert "$dir/tls/server.pem" --tlskey "$dir/tls/server-key.pem")
    fi
    setsid "${sudo[@]}" dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
        -H "unix://$sock" "${tls[@]}" --storage-driver "$driver" \
        --iptables=false --ip-masq=false --bridge=none >>"$log" 2>&1 &
    for _ in $(seq 1 300); do
        answers && return 0
        if [ -n "$(jobs -rp)" ] || [ -f "$pidfile" ]; then sleep 0.1; else return 1; fi
    done
    return 1
}

stop_engine() {
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile" "$dir/endpoint"
}

case "${1:-start}" in
    start)
        install_engine || { echo "xares: could not install docker.io" >&2; exit 1; }
        if answers; then
            echo "unix://$sock" >"$dir/endpoint"
            echo "unix://$sock"
            exit 0
        fi
        stop_engine
        mkdir -p "$dir"
        chmod 700 "$dir"
        driver=${XARES_DOCKER_STORAGE_DRIVER:-$(cat "$dir/storage-driver" 2>/dev/null || echo overlay2)}
        if ! launch "$driver"; then
            stop_engine
            if [ "$driver" = overlay2 ]; then
                echo "xares: dockerd did not start with overlay2; trying vfs" >&2
                driver=vfs
                launch vfs || { stop_engine; echo "xares: dockerd did not start; see $log" >&2; exit 1; }
            else
                echo "xares: dockerd did not start; see $log" >&2
                exit 1
            fi
        fi
        echo "$driver" >"$dir/storage-driver"
        echo "unix://$sock" >"$dir/endpoint"
        echo "unix://$sock"
        ;;
    stop) stop_engine ;;
    status) answers ;;
    *) echo "usage: scripts/setup-docker.sh start|stop|status" >&2; exit 2 ;;
esac
