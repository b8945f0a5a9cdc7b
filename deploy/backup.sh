#!/bin/sh
# Back up dxbot's PostgreSQL database (everything the bot knows, including its inbox and
# outbox) to a compressed custom-format dump: deploy/backup.sh [DATABASE_URL] [FILE]
# DATABASE_URL may be dxbot's own (postgresql+asyncpg://…); the +asyncpg is dropped for pg_dump.
set -eu
url="${1:-${DATABASE_URL:?set DATABASE_URL or pass it}}"
url="$(printf '%s' "$url" | sed 's/^postgresql+asyncpg:/postgresql:/')"
file="${2:-dxbot-$(date -u +%Y%m%dT%H%M%SZ).dump}"
pg_dump --format=custom --no-owner --file="$file" "$url"
echo "$file"
