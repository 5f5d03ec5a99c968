#!/usr/bin/env bash
# Restore a dump made by ops/backup.sh into the database named by DATABASE_URL, replacing what
# is there. Usage: DATABASE_URL=postgres://… ops/restore.sh FILE
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database to restore into}"
file="${1:?usage: ops/restore.sh FILE}"
[ -f "$file" ] || { echo "restore: no such file: $file" >&2; exit 2; }
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$DATABASE_URL" "$file"
echo "restore: $file restored"
