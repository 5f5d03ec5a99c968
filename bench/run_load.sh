#!/usr/bin/env bash
# The load test: gunicorn (as docker-compose.yml runs it), a Celery worker, PostgreSQL and Redis on
# this machine, production settings, and Locust driving USERS simulated people for DURATION.
# Prints p50/p95/p99 per page and the error count (bench/report.py). See bench/README.md.
#
#   bench/run_load.sh                       # 200 users, 2 new per second, 5 minutes
#   SPAWN_RATE=20 bench/run_load.sh         # everyone signs in within 10 s (a burst of Argon2)
#   USERS=50 DURATION=1m bench/run_load.sh  # a quick look
#   RESEED=1 bench/run_load.sh              # rebuild the database first
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
USERS=${USERS:-200}
SPAWN_RATE=${SPAWN_RATE:-2}
DURATION=${DURATION:-5m}
PG=${LOAD_PG:-postgres://postgres@127.0.0.1:5432}
DB=${LOAD_DB:-rapport_load}
PORT=${LOAD_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WEB_WORKERS=${WEB_WORKERS:-5}
OUT=${LOAD_OUT:-bench/out}
mkdir -p "$OUT"

export DATABASE_URL="$PG/$DB"
export REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/7}
export DJANGO_DEBUG=0
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
# Fixed, not random like the secret: the seeded managers' authenticator seeds are encrypted with it
# and must still decrypt on the next run (a throwaway database; never use this key elsewhere).
export MFA_ENCRYPTION_KEYS=${LOAD_MFA_KEY:-be5fp6LJL-F97M5iXRgNORG-Jv_NgJ-6NAHrEk6TLr8=}
export DJANGO_BEHIND_PROXY=1
export LOG_LEVEL=${LOG_LEVEL:-WARNING}

if [ "${RESEED:-0}" = 1 ] || ! psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  echo "load: creating $DB and seeding it (about a minute)"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  "$PY" manage.py migrate --no-input -v0
  "$PY" bench/seed_load.py "$OUT/users.json"
fi
[ -f "$OUT/users.json" ] || "$PY" bench/seed_load.py "$OUT/users.json"
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py collectstatic --no-input -v0
# Sign-in failures of earlier runs must not lock anyone out.
"$PY" manage.py shell -c "from axes.models import AccessAttempt; AccessAttempt.objects.all().delete()"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

: >"$OUT/access.log"
# docker-compose.yml's web command, on a local port; the access log goes to a file we count 5xx in.
setsid .venv/bin/gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WEB_WORKERS" \
  --access-logfile "$OUT/access.log" --error-logfile "$OUT/web.log" >"$OUT/web.out" 2>&1 &
pids+=($!)
setsid .venv/bin/celery -A config worker --loglevel=warning --concurrency=1 >"$OUT/worker.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "load: gunicorn did not start:"; tail "$OUT/web.log"; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz"; echo

echo "load: $USERS users, $SPAWN_RATE new per second, for $DURATION, against gunicorn --workers $WEB_WORKERS"
LOAD_USERS="$OUT/users.json" .venv/bin/locust -f bench/locustfile.py --headless -u "$USERS" -r "$SPAWN_RATE" \
  -t "$DURATION" --host "http://127.0.0.1:$PORT" --csv "$OUT/load" --only-summary --loglevel WARNING \
  >"$OUT/locust.log" 2>&1 || true

"$PY" bench/report.py "$OUT/load_stats.csv" "$OUT/access.log" \
  --users "$USERS" --duration "$DURATION" --web-workers "$WEB_WORKERS" | tee "$OUT/summary.md"
