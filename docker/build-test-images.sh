#!/usr/bin/env bash
# Builds the images the Docker end-to-end tests and bench/container-start.sh run, offline (no
# registry is reachable here): a busybox-static + git rootfs imported as xares-test/base, the
# published native binaries (artifacts/native) imported as xares-test/publish, then Dockerfile.sidecar's
# final stage built on that (xares-test/sidecar) and docker/workspace.Dockerfile on top of both
# (xares-test/workspace). Needs DOCKER_HOST (scripts/setup-docker.sh start prints it).
# Rebuilds only what changed (content hashes kept as image labels).
set -euo pipefail
cd "$(dirname "$0")/.."
art=${XARES_ARTIFACTS:-artifacts}
docker=${DOCKER:-/usr/bin/docker}
export DOCKER_BUILDKIT=0

[ -n "${DOCKER_HOST:-}" ] || { echo "xares: set DOCKER_HOST (scripts/setup-docker.sh start prints it)" >&2; exit 2; }
for f in $art/native/xares-sidecar $art/native/git-credential-xares /bin/busybox /usr/bin/git; do
    [ -e "$f" ] || { echo "xares: $f is missing (scripts/publish.sh; apt-get install busybox-static git)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/xares-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

current_label() { "$docker" image inspect --format "{{ index .Config.Labels \"xares.hash\" }}" "$1" 2>/dev/null || true; }

# The libraries a binary loads, copied at their own paths.
copy_with_libs() {
    local root=$1; shift
    local bin lib
    for bin in "$@"; do
        cp -L --parents "$bin" "$root"
        for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do
            [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
        done
    done
}

# The libraries only (the glibc the native AOT binaries need: libm, libz, …).
copy_libs() {
    local root=$1; shift
    local lib
    for lib in $(ldd "$@" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do
        [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
    done
}

# 1. Base: busybox applets, git (with git-remote-http) and the libraries they need.
# ldd exits 1 for the statically linked git-credential-xares (it still lists the sidecar's libraries).
base_hash=$( (sha256sum /bin/busybox /usr/bin/git; { ldd "$art/native/xares-sidecar" "$art/native/git-credential-xares" || true; } | grep -o '/[^ ]*' | grep -v ':$' | sort -u; dpkg-query -W git busybox-static) | sha256sum | cut -c1-16)
if [ "$(current_label xares-test/base)" != "$base_hash" ]; then
    root="$work/base"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,run,var/tmp,home}
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
    copy_libs "$root" "$art/native/xares-sidecar" "$art/native/git-credential-xares"
    copy_with_libs "$root" /usr/bin/git /usr/lib/git-core/git-remote-http /usr/lib/git-core/git-upload-pack /usr/lib/git-core/git-receive-pack
    # git-core helpers are mostly hard links of git; symlinks keep the rootfs small.
    for tool in /usr/lib/git-core/*; do
        [ -e "$root$tool" ] || ln -s /usr/bin/git "$root$tool"
    done
    ln -sf /usr/lib/git-core/git-remote-http "$root/usr/lib/git-core/git-remote-https"
    mkdir -p "$root/usr/share/git-core"
    cp -r /usr/share/git-core/templates "$root/usr/share/git-core/" 2>/dev/null || true
    printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000:dev:/home/dev:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\ndev:x:1000:\n' >"$root/etc/group"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    tar -C "$root" -c . | "$docker" import \
        --change "LABEL xares.hash=$base_hash" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
        --change 'CMD ["/bin/sh"]' - xares-test/base >/dev/null
    echo "xares: built xares-test/base" >&2
fi

# 2. The published binaries as the "publish" stage, and Dockerfile.sidecar's final stage on it.
pub_hash=$( (sha256sum $art/native/xares-sidecar $art/native/git-credential-xares; sed -n '/^# --- final stage/,$p' Dockerfile.sidecar) | sha256sum | cut -c1-16)
if [ "$(current_label xares-test/sidecar)" != "$pub_hash" ]; then
    mkdir -p "$work/publish/out"
    cp $art/native/xares-sidecar $art/native/git-credential-xares "$work/publish/out/"
    tar -C "$work/publish" -c . | "$docker" import - xares-test/publish >/dev/null
    { echo "FROM xares-test/publish AS publish"; sed -n '/^# --- final stage/,$p' Dockerfile.sidecar; echo "LABEL xares.hash=$pub_hash"; } >"$work/Dockerfile.final"
    "$docker" build -q -f "$work/Dockerfile.final" -t xares-test/sidecar "$work" >/dev/null
    echo "xares: built xares-test/sidecar" >&2
fi

# 3. The example workspace image on the test base.
ws_hash=$( (echo "$base_hash $pub_hash"; cat docker/workspace.Dockerfile docker/xares-entrypoint.sh) | sha256sum | cut -c1-16)
if [ "$(current_label xares-test/workspace)" != "$ws_hash" ]; then
    mkdir -p "$work/ctx/docker"
    cp docker/xares-entrypoint.sh "$work/ctx/docker/"
    { cat docker/workspace.Dockerfile; echo "LABEL xares.hash=$ws_hash"; } >"$work/ctx/Dockerfile"
    "$docker" build -q --build-arg BASE_IMAGE=xares-test/base --build-arg SIDECAR_IMAGE=xares-test/sidecar \
        -t xares-test/workspace "$work/ctx" >/dev/null
    echo "xares: built xares-test/workspace" >&2
fi
echo xares-test/workspace
