#!/usr/bin/env bash
# Builds the compose stack's images offline (no registry here), for the deploy end-to-end test:
#   xares-test/workspace        docker/build-test-images.sh (busybox + git base, sidecar layer)
#   xares-test/dotnet           that base plus this host's .NET runtime (dotnet host, shared
#                               frameworks), the libraries it loads (ICU, OpenSSL) and git-http-backend:
#                               the stand-in for mcr.microsoft.com/dotnet/aspnet
#   xares-test/broker           the top-level Dockerfile's final stage on xares-test/dotnet, with
#                               the published broker (artifacts/broker) as its "publish" stage
#   xares-test/dev-git-server   deploy/compose/dev-git-server.Dockerfile's final stage, likewise
#   xares-test/postgres         this host's PostgreSQL 15 with postgres-entrypoint.sh: the stand-in
#                               for the official postgres image
# Needs DOCKER_HOST, XARES_ARTIFACTS (broker/, native/) and XARES_DEVGIT_DIR (the published
# xares-dev-git-server). Rebuilds only what changed (content hashes kept as image labels).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../.."
art=${XARES_ARTIFACTS:-artifacts}
devgit=${XARES_DEVGIT_DIR:?set XARES_DEVGIT_DIR to the published dev git server}
docker=${DOCKER:-/usr/bin/docker}
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
pg=/usr/lib/postgresql/15
export DOCKER_BUILDKIT=0

for f in "$art/broker/xares-broker.dll" "$devgit/xares-dev-git-server.dll" "$pg/bin/postgres" /usr/lib/git-core/git-http-backend; do
    [ -e "$f" ] || { echo "xares: $f is missing" >&2; exit 1; }
done
XARES_ARTIFACTS=$art bash docker/build-test-images.sh >/dev/null

work=$(mktemp -d /tmp/xares-deploy-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

current_label() { "$docker" image inspect --format "{{ index .Config.Labels \"xares.hash\" }}" "$1" 2>/dev/null || true; }
base_hash() { "$docker" image inspect --format '{{.Id}}' "$1"; }

# copy_libs ROOT FILE…: the shared libraries FILEs load, at their own paths.
copy_libs() {
    local root=$1 lib; shift
    for lib in $( { ldd "$@" 2>/dev/null || true; } | grep -o '/[^ ]*' | grep -v ':$' | sort -u); do
        [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
    done
}

# final_stage DOCKERFILE: its lines from the "final stage" marker on.
final_stage() { sed -n '/^# --- final stage/,$p' "$1"; }

# build TAG HASH CONTEXT: docker build CONTEXT/Dockerfile as TAG labelled HASH.
build() {
    echo "LABEL xares.hash=$2" >>"$3/Dockerfile"
    "$docker" build -q -t "$1" "$3" >/dev/null
    echo "xares: built $1" >&2
}

# 1. The .NET runtime on the test base (what the aspnet runtime image provides online).
runtime="$dotnet_root/shared/Microsoft.NETCore.App"
hash=$( (base_hash xares-test/base; ls -R "$dotnet_root/shared" "$dotnet_root/host"; sha256sum /usr/lib/git-core/git-http-backend) | sha256sum | cut -c1-16)
if [ "$(current_label xares-test/dotnet)" != "$hash" ]; then
    ctx="$work/dotnet"; root="$ctx/rootfs"
    mkdir -p "$root/usr/share/dotnet" "$root/usr/bin" "$root/etc/ssl/certs" "$root/opt/stage"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/shared" "$root/usr/share/dotnet/"
    ln -s /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
    copy_libs "$root" "$dotnet_root/dotnet" "$runtime"/*/*.so /usr/lib/git-core/git-http-backend
    # Loaded with dlopen, so ldd does not list them.
    for lib in /lib/x86_64-linux-gnu/{libssl.so.3,libcrypto.so.3,libicuuc.so.72,libicui18n.so.72,libicudata.so.72,libz.so.1}; do
        cp -L --parents "$lib" "$root"
    done
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    cp /usr/lib/git-core/git-http-backend "$root/opt/stage/"
    printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000:dev:/home/dev:/bin/sh\napp:x:1654:1654:app:/tmp:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\ndev:x:1000:\napp:x:1654:\n' >"$root/etc/group"
    # The base links every git-core program to git; http-backend is a program of its own.
    cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM xares-test/base
COPY rootfs/ /
RUN mv -f /opt/stage/git-http-backend /usr/lib/git-core/git-http-backend && rmdir /opt/stage
ENV DOTNET_ROOT=/usr/share/dotnet
DOCKERFILE
    build xares-test/dotnet "$hash" "$ctx"
fi
dotnet_id=$(base_hash xares-test/dotnet)

# final_image TAG DOCKERFILE PUBLISH_DIR HEADER: DOCKERFILE's final stage, with PUBLISH_DIR as its
# "publish" stage (/out) and HEADER naming the runtime stage.
final_image() {
    local tag=$1 file=$2 publish=$3 header=$4 hash
    hash=$( (echo "$dotnet_id"; find "$publish" -type f -print0 | sort -z | xargs -0 sha256sum; final_stage "$file") | sha256sum | cut -c1-16)
    [ "$(current_label "$tag")" != "$hash" ] || return 0
    local ctx="$work/${tag##*/}"
    mkdir -p "$ctx/publish/out"
    cp -a "$publish"/. "$ctx/publish/out/"
    tar -C "$ctx/publish" -c . | "$docker" import - "$tag-publish" >/dev/null
    { printf '%s\n' "$header" "FROM $tag-publish AS publish"; final_stage "$file"; } >"$ctx/Dockerfile"
    build "$tag" "$hash" "$ctx"
}

# 2. The broker and the dev git server, from their Dockerfiles' final stages.
final_image xares-test/broker Dockerfile "$art/broker" "ARG RUNTIME_IMAGE=xares-test/dotnet"
final_image xares-test/dev-git-server deploy/compose/dev-git-server.Dockerfile "$devgit" "FROM xares-test/dotnet AS git-runtime"

# 3. PostgreSQL (server programs, their libraries, share files and time zones) on the test base.
hash=$( (base_hash xares-test/base; ls -lR "$pg"; cat "$here/postgres-entrypoint.sh") | sha256sum | cut -c1-16)
if [ "$(current_label xares-test/postgres)" != "$hash" ]; then
    ctx="$work/postgres"; root="$ctx/rootfs"
    mkdir -p "$root$pg/bin" "$root/usr/share/postgresql" "$root/usr/share" "$root/usr/local/bin" "$root/etc"
    cp -a "$pg/bin/"{postgres,initdb,pg_ctl,pg_isready,pg_dump,pg_restore,psql} "$root$pg/bin/" 2>/dev/null || cp -a "$pg/bin/"{postgres,initdb,pg_ctl,pg_isready,pg_dump,pg_restore} "$root$pg/bin/"
    # llvmjit pulls in LLVM (hundreds of MB); without it the server just does not JIT.
    cp -a "$pg/lib" "$root$pg/"
    rm -f "$root$pg/lib/llvmjit"*
    rm -rf "$root$pg/lib/bitcode"
    cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
    rm -rf "$root/usr/share/postgresql/15/man"
    cp -a /usr/share/zoneinfo "$root/usr/share/"
    copy_libs "$root" "$root$pg/bin/"* "$root$pg/lib/"*.so
    cp "$here/postgres-entrypoint.sh" "$root/usr/local/bin/postgres-entrypoint.sh"
    printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
    cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM xares-test/base
COPY rootfs/ /
RUN mkdir -p /var/lib/postgresql/data /var/run/postgresql && chown -R 999:999 /var/lib/postgresql /var/run/postgresql && chmod 0700 /var/lib/postgresql/data
ENV PATH=$pg/bin:/usr/local/bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data TZ=UTC
USER 999:999
VOLUME ["/var/lib/postgresql/data"]
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
DOCKERFILE
    build xares-test/postgres "$hash" "$ctx"
fi
echo "xares-test/broker xares-test/dev-git-server xares-test/postgres xares-test/workspace"
