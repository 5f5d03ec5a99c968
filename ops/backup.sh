#!/usr/bin/env bash
# Dump the PostgreSQL database named by DATABASE_URL to a compressed custom-format file.
# Usage: DATABASE_URL=postgres://… ops/backup.sh [FILE]   (default: backups/rapport-<UTC time>.dump)
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "backup: only PostgreSQL is supported (DATABASE_URL=${DATABASE_URL%%:*}://…)" >&2; exit 2;; esac
file="${1:-backups/rapport-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
pg_dump --format=custom --no-owner --no-privileges --file="$file" "$DATABASE_URL"
echo "backup: wrote $file ($(du -h "$file" | cut -f1))"
