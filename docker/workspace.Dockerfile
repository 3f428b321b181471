# An example workspace image with Xares. Build the sidecar layer first:
#   docker build -f Dockerfile.sidecar -t xares/sidecar .
#   docker build -f docker/workspace.Dockerfile -t my-workspace .
# and run it (after POST /api/v1/workspaces returned the id):
#   docker run -d --label xares.workspace=ws_… --tmpfs /run/xares:mode=0700 \
#       -e XARES_BROKER_URL=https://xares.internal:7401 my-workspace
ARG BASE_IMAGE=debian:bookworm-slim
ARG SIDECAR_IMAGE=xares/sidecar

FROM ${SIDECAR_IMAGE} AS xares

FROM ${BASE_IMAGE}
# git, and whatever else the workspace needs (code-server, toolchains, …).
# RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=xares /opt/xares/bin/ /usr/local/bin/
# Processes started without a shell (an IDE server via `docker exec`) get the Xares git config from
# the environment (README, Git setup); the entrypoint's `install` writes the file for root's HOME:
# ENV GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=include.path GIT_CONFIG_VALUE_0=/root/.config/xares/git-credentials.conf
COPY docker/xares-entrypoint.sh /usr/local/bin/xares-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/xares-entrypoint.sh"]
CMD ["sleep", "infinity"]
