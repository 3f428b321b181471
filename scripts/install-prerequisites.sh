#!/usr/bin/env bash
# Installs what building, publishing (native AOT) and the end-to-end tests need: git, clang
# (Debian's clang-14 is enough; Directory.Build.props points the AOT linker at it), zlib
# headers, systemd-analyze (the deploy tests verify deploy/systemd's unit with it), zsh and fish
# (the completion scripts are tested in each shell), and chromium (the web UI tests drive it
# through Playwright; no browser download). Does nothing when they are present; runs
# `apt-get update` only when installing.
set -euo pipefail

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v clang >/dev/null 2>&1 || command -v clang-14 >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)

if ((${#missing[@]})); then
    echo "xares: installing ${missing[*]}" >&2
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null 2>&1; then
    echo "xares: the .NET SDK is not on PATH (global.json asks for 10.0.100 or a later feature band)" >&2
    exit 1
fi
