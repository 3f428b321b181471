#!/bin/sh
# Entrypoint snippet for a workspace container with Xares (POSIX sh; works with busybox).
# Start the container with:
#   --tmpfs /run/xares:mode=0700[,uid=UID]   the socket and any bootstrap token stay in memory
#   --label xares.workspace=<id>             the workspace registered through POST /api/v1/workspaces
#   -e XARES_BROKER_URL=https://broker:7401  the broker's gRPC address
# The broker's Docker watcher sees the container start and hands a bootstrap token in through
# `docker exec … xares-sidecar bootstrap` (stdin); this script starts the sidecar, waits until it
# holds a session, configures git (`xares-sidecar install`), loads its git-env.sh and then runs the
# container's command.
set -eu

: "${XARES_BROKER_URL:?set XARES_BROKER_URL to the broker gRPC URL}"
XARES_BOOTSTRAP_WAIT=${XARES_BOOTSTRAP_WAIT:-60}

xares-sidecar serve &

# Wait for the bootstrap. `status` exits 0 once the broker accepted the token (3: session held,
# broker unreachable for now), 4 while the sidecar holds no session, 1 until it listens (docs/cli.md).
waited=0
while :; do
    status=0
    xares-sidecar status >/dev/null 2>&1 || status=$?
    case "$status" in 0|3) break ;; esac
    if [ "$waited" -ge $((XARES_BOOTSTRAP_WAIT * 10)) ]; then
        echo "xares: no bootstrap within ${XARES_BOOTSTRAP_WAIT}s; git will ask for credentials as usual" >&2
        break
    fi
    sleep 0.1
    waited=$((waited + 1))
done

xares-sidecar install || echo "xares: xares-sidecar install failed; git is not configured for Xares" >&2

# Command-scope git config for the container's command and everything it starts (see README, Git
# setup): no other credential helper, wherever configured, receives a Xares token.
xares_git_env="${XDG_CONFIG_HOME:-${HOME:-/root}/.config}/xares/git-env.sh"
if [ -r "$xares_git_env" ]; then
    . "$xares_git_env"
fi

exec "$@"
