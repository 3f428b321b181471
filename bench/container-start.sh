#!/usr/bin/env bash
# Container start → working `git credential fill` inside it, through the Docker watcher.
# Starts the private engine (scripts/setup-docker.sh), builds the offline test images, starts the
# published broker with --docker, stores one git credential, then N times: registers a workspace,
# `docker run`s the example workspace image (docker/workspace.Dockerfile) labelled with it, and the
# container's own command loops `git credential fill` until the helper answers. The container
# notes the moment in /proc/uptime (busybox has no nanosecond clock; 10 ms resolution), which the
# script compares with the container's State.StartedAt and with the moment `docker run` was called.
# Usage: bash bench/container-start.sh   [CONTAINERS=20]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

CONTAINERS=${CONTAINERS:-20}
load=$(load_average)
ensure_artifacts
DOCKER_HOST=$(bash scripts/setup-docker.sh start | tail -n 1)
export DOCKER_HOST
docker=/usr/bin/docker
XARES_ARTIFACTS=$ARTIFACTS image=$(bash docker/build-test-images.sh | tail -n 1)

work=$(mktemp -d /tmp/xares-bench.XXXXXX)
rest=$(free_port); grpc=$(free_port)
dotnet "$ARTIFACTS/broker/xares-broker.dll" serve --data-dir "$work/data" --rest-url "http://127.0.0.1:$rest" \
    --grpc-url "http://127.0.0.1:$grpc" --docker "$DOCKER_HOST" >"$work/broker.log" 2>&1 &
broker=$!
containers=()
cleanup() {
    ((${#containers[@]})) && "$docker" rm -f "${containers[@]}" >/dev/null 2>&1
    kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 300); do
    [ "$(http_status /healthz "$rest" 2>/dev/null)" = 200 ] && [ -s "$work/data/initial-admin-key" ] && break
    sleep 0.1
done
key=$(cat "$work/data/initial-admin-key")
api() { curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
id_of() { sed -n 's/.*"id":"\([^"]*\)".*/\1/p'; }

user=$(api -d '{"name":"bench"}' "http://127.0.0.1:$rest/api/v1/users" | id_of)
secret="xbench_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
api -d "{\"kind\":\"git\",\"provider\":\"generic\",\"url\":\"http://127.0.0.1:9418\",\"username\":\"bench\",\"secret\":\"$secret\"}" \
    "http://127.0.0.1:$rest/api/v1/users/$user/credentials" >/dev/null

# The container's command: fill until the helper answers, then note the moment (uptime seconds).
probe='until printf "protocol=http\nhost=127.0.0.1:9418\n\n" | GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null | grep -q "^password="; do sleep 0.01; done; cut -d" " -f1 /proc/uptime > /tmp/ready; exec sleep 3600'
offset=$(python3 -c 'import time; print(time.time() - float(open("/proc/uptime").read().split()[0]))')

from_start=(); from_run=()
for i in $(seq "$CONTAINERS"); do
    ws=$(api -d "{\"userId\":\"$user\",\"name\":\"bench$i\"}" "http://127.0.0.1:$rest/api/v1/workspaces" | id_of)
    run_at=$(cut -d' ' -f1 /proc/uptime)
    c=$("$docker" run -d --network host --tmpfs /run/xares:mode=0700 --label "xares.workspace=$ws" \
        -e "XARES_BROKER_URL=http://127.0.0.1:$grpc" "$image" sh -c "$probe")
    containers+=("$c")
    ready=""
    for _ in $(seq 300); do
        ready=$("$docker" exec "$c" cat /tmp/ready 2>/dev/null || true)
        [ -n "$ready" ] && break
        sleep 0.05
    done
    [ -n "$ready" ] || { echo "xares: container $i never answered git credential fill" >&2; "$docker" logs "$c" >&2; exit 1; }
    started=$("$docker" inspect --format '{{.State.StartedAt}}' "$c")
    from_start+=("$(python3 -c "import datetime,sys; s=sys.argv[1]; b,f=s.rstrip('Z').split('.'); t=datetime.datetime.fromisoformat(b).replace(tzinfo=datetime.timezone.utc).timestamp()+float('0.'+f); print(round(($ready+$offset-t)*1000))" "$started")")
    from_run+=("$(python3 -c "print(round(($ready-$run_at)*1000))")")
    "$docker" rm -f "$c" >/dev/null
done

stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "p50 %d ms, min %d, max %d", a[int((NR+1)/2)], a[1], a[NR]}'; }
echo "container start -> working git credential fill ($CONTAINERS containers): $(stats "${from_start[@]}")" >&2
echo "docker run called -> working git credential fill: $(stats "${from_run[@]}")" >&2
echo "| $(date -u +%F) | container-start (p50 of $CONTAINERS) | start→fill $(stats "${from_start[@]}"); docker run→fill $(stats "${from_run[@]}") | ≤ 1 s | $load |"
