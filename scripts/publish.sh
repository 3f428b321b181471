#!/usr/bin/env bash
# Publishes what the end-to-end tests and the workspace image run:
#   artifacts/broker/  xares-broker.dll           framework-dependent, Release
#   artifacts/native/  xares-sidecar, git-credential-xares   native AOT, linux-x64, Release
# Idempotent: each run replaces both folders. --no-build reuses an existing Release build of
# the solution for the broker (scripts/test.sh builds once); the AOT programs always compile
# for linux-x64, which a plain build does not.
set -euo pipefail
cd "$(dirname "$0")/.."

no_build=()
case "${1:-}" in
    "") ;;
    --no-build) no_build=(--no-build) ;;
    *) echo "usage: scripts/publish.sh [--no-build]" >&2; exit 2 ;;
esac

bash scripts/install-prerequisites.sh

rm -rf artifacts/broker artifacts/native
dotnet publish src/CredentialBroker/CredentialBroker.csproj -c Release -o artifacts/broker "${no_build[@]}" -nologo
dotnet publish src/WorkspaceSidecar/WorkspaceSidecar.csproj -c Release -r linux-x64 -o artifacts/native -nologo
dotnet publish src/git-credential-xares/git-credential-xares.csproj -c Release -r linux-x64 -o artifacts/native -nologo

for artifact in artifacts/broker/xares-broker.dll artifacts/native/xares-sidecar artifacts/native/git-credential-xares; do
    if [ ! -s "$artifact" ]; then
        echo "xares: publish did not produce $artifact" >&2
        exit 1
    fi
done
[ -x artifacts/native/xares-sidecar ] && [ -x artifacts/native/git-credential-xares ] || {
    echo "xares: native artifacts are not executable" >&2
    exit 1
}
echo "xares: published to $(pwd)/artifacts" >&2
