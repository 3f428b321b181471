# syntax=docker/dockerfile:1
# The Xares broker image: published in an SDK stage, run on the ASP.NET Core runtime image as a
# non-root user, with a read-only root filesystem in mind (state in the /var/lib/xares volume,
# scratch files in a tmpfs on /tmp):
#
#   docker build -t xares/broker .
#   docker run -d --read-only --tmpfs /tmp -v xares-data:/var/lib/xares -p 7400:7400 -p 7401:7401 \
#       -e XARES_MASTER_KEY_FILE=/run/secrets/master-key -v /etc/xares/master.key:/run/secrets/master-key:ro \
#       -e XARES_TLS_CERT=… -e XARES_TLS_KEY=… xares/broker
#
# Every option is a XARES_* variable or a key of the settings file (XARES_CONFIG); arguments after
# the image name replace `serve`, e.g. `docker run --rm … xares/broker migrate`. The master key
# file must be readable by uid 1654. deploy/compose/ runs two replicas on PostgreSQL.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS publish
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY protos/ protos/
COPY src/ src/
# A developer's bin/ and obj/ (host paths in project.assets.json) must not reach the restore.
RUN find src -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + \
    && dotnet publish src/CredentialBroker/CredentialBroker.csproj -c Release -o /out \
    && rm -f /out/*.pdb

# --- final stage (tests build exactly these lines on an offline runtime image and "publish" image) ---
FROM ${RUNTIME_IMAGE} AS broker
COPY --from=publish /out/ /opt/xares/broker/
# uid 1654 is the runtime images' unprivileged "app" user; the data directory is its volume.
RUN mkdir -p /var/lib/xares && chown 1654:1654 /var/lib/xares && chmod 0700 /var/lib/xares
USER 1654:1654
WORKDIR /var/lib/xares
# No diagnostic IPC sockets in /tmp; listeners on every interface of the container, REST 7400 and gRPC 7401
# (http:// off loopback needs --plaintext-behind-proxy; otherwise give https:// URLs and a certificate).
ENV HOME=/tmp \
    DOTNET_EnableDiagnostics=0 \
    XARES_DATA_DIR=/var/lib/xares \
    XARES_REST_URL=https://0.0.0.0:7400 \
    XARES_GRPC_URL=https://0.0.0.0:7401
VOLUME ["/var/lib/xares"]
EXPOSE 7400 7401
# The broker asks its own /readyz (database reachable, keyring loaded): no curl in the image.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD ["dotnet", "/opt/xares/broker/xares-broker.dll", "health"]
ENTRYPOINT ["dotnet", "/opt/xares/broker/xares-broker.dll"]
CMD ["serve"]
