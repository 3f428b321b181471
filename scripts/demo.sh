#!/usr/bin/env bash
# THE main job (README): installs what publishing needs, publishes the broker, sidecar and helper
# (scripts/publish.sh, so the demo always runs what the tree holds), then runs the narrated demo
# (tools/Demo). Arguments go to the demo: --keep keeps its temporary folder, --minted adds the
# GitHub App step (a minted token expires and is replaced), --help explains.
# Exits with the demo's status: non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    --help|-h)
        exec dotnet run --project tools/Demo/Demo.csproj -c Release -- --help
        ;;
esac

bash scripts/install-prerequisites.sh
echo "xares: publishing artifacts (broker, native sidecar and helper)..." >&2
bash scripts/publish.sh >&2
echo "xares: building the demo..." >&2
dotnet build tools/Demo/Demo.csproj -c Release -nologo -v quiet >&2
exec dotnet run --project tools/Demo/Demo.csproj -c Release --no-build -- "$@"
