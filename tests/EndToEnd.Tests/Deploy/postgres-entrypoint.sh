#!/bin/sh
# Entrypoint of the offline PostgreSQL test image (build-images.sh): the subset of the official
# postgres image's interface the compose stack uses. POSTGRES_USER, POSTGRES_PASSWORD_FILE and
# POSTGRES_DB create the cluster in an empty PGDATA; then the command (postgres …) runs.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" -A scram-sha-256 -E UTF8 --no-locale >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
fi
exec "$@"
