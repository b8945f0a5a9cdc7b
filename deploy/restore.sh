#!/bin/sh
# Restore a dump made by deploy/backup.sh into an EMPTY database (stop every replica first):
#   deploy/restore.sh FILE [DATABASE_URL]
# then start the replicas; `dxbot db upgrade` brings an older dump's schema up to date.
set -eu
file="${1:?pass the dump file}"
url="${2:-${DATABASE_URL:?set DATABASE_URL or pass it}}"
url="$(printf '%s' "$url" | sed 's/^postgresql+asyncpg:/postgresql:/')"
pg_restore --no-owner --exit-on-error --dbname="$url" "$file"
