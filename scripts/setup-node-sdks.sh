#!/usr/bin/env bash
# Installs what the end-to-end tests run from tests/EndToEnd.Tests/node: the official OpenAI and
# Anthropic npm SDKs and the real CLIs run under `xares-sidecar run` (Claude Code, Codex CLI, Gemini
# CLI, OpenCode; about 1.3 GB, mostly their native binaries), and the OpenAPI schema validator
# OpenApiClientTests runs on the broker's document; versions pinned in package.json.
# Idempotent: does nothing when node_modules already matches package-lock.json. Exits non-zero
# when node/npm are missing or the install fails.
set -euo pipefail
cd "$(dirname "$0")/../tests/EndToEnd.Tests/node"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "xares: node and npm are needed for the AI SDK and CLI end-to-end tests" >&2
    exit 1
fi
# npm writes this marker on every install; newer than the lock means nothing to do.
if [[ -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]]; then
    exit 0
fi
# `npm install`, not `npm ci`: the lock pins every version, but OpenCode lists optional native
# packages for other platforms that the lock cannot hold here, and `npm ci` refuses such a lock.
npm install --no-audit --no-fund --loglevel=error
