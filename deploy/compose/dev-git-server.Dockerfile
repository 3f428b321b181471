# syntax=docker/dockerfile:1
# The compose stack's git server: tools/DevGitServer (smart HTTP through `git http-backend`,
# HTTP Basic auth) on the ASP.NET Core runtime with git. A stand-in for a real git host, for
# trying the stack out; point credentials at your GitHub, GitLab or Gitea instead.
#
#   docker build -f deploy/compose/dev-git-server.Dockerfile -t xares/dev-git-server .
#
# Accounts are JSON lines ({"username","token","pathPrefix"?}) read from $DEVGIT_ACCOUNTS_FILE
# (a compose secret); arguments are xares-dev-git-server's (--root, --url, --create-repo).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS publish
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY tools/DevGitServer/ tools/DevGitServer/
RUN find tools -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + \
    && dotnet publish tools/DevGitServer/DevGitServer.csproj -c Release -o /out \
    && rm -f /out/*.pdb

FROM ${RUNTIME_IMAGE} AS git-runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# --- final stage (tests build exactly these lines on an offline "git-runtime" and "publish" image) ---
FROM git-runtime AS dev-git-server
COPY --from=publish /out/ /opt/xares/dev-git-server/
RUN mkdir -p /srv/git && chown 1654:1654 /srv/git
USER 1654:1654
ENV HOME=/tmp DOTNET_EnableDiagnostics=0 DEVGIT_ACCOUNTS_FILE=/dev/null
VOLUME ["/srv/git"]
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet /opt/xares/dev-git-server/xares-dev-git-server.dll \"$@\" < \"$DEVGIT_ACCOUNTS_FILE\"", "xares-dev-git-server"]
CMD ["--root", "/srv/git", "--url", "http://0.0.0.0:8080"]
