#!/usr/bin/env bash
# The load test: gunicorn (as docker-compose.yml runs it), a Celery worker, PostgreSQL and Redis on
# this machine, production settings, and Locust driving USERS simulated people for DURATION.
# Prints p50/p95/p99 per page and the error count (bench/report.py). See bench/README.md.
#
#   bench/run_load.sh                       # 200 users, 2 new per second, 5 minutes
#   NODES=2 bench/run_load.sh               # two gunicorn servers behind Debian's nginx
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
NODES=${NODES:-1}
# Workers per gunicorn: 5 (2 × cores + 1) for one node; in the two-node mode 3 each, about as many in all.
WEB_WORKERS=${WEB_WORKERS:-$([ "$NODES" = 1 ] && echo 5 || echo 3)}
LOCUST=${LOCUST:-.venv/bin/locust}
OUT=${LOAD_OUT:-bench/out}
mkdir -p "$OUT"
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

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
rm -f "$OUT"/access-node*.log "$OUT"/access-proxy.log
# docker-compose.yml's web command, on a local port; the access log goes to a file we count 5xx in.
start_gunicorn() {  # port, access log, error log
  setsid .venv/bin/gunicorn config.wsgi --bind "127.0.0.1:$1" --workers "$WEB_WORKERS" \
    --access-logfile "$2" --error-logfile "$3" >>"$OUT/web.out" 2>&1 &
  pids+=($!)
}
: >"$OUT/web.out"
if [ "$NODES" = 1 ]; then
  start_gunicorn "$PORT" "$OUT/access.log" "$OUT/web.log"
  access_logs=("$OUT/access.log")
  upstream_ports=("$PORT")
else
  # NODES gunicorn servers on ports of their own, sharing PostgreSQL and Redis, behind Debian's nginx
  # on $PORT: round robin, forwarded headers, X-Forwarded-Proto https as from the TLS proxy.
  command -v nginx >/dev/null || { echo "load: NODES=$NODES needs nginx (apt-get install nginx-light)"; exit 1; }
  upstream_ports=()
  access_logs=()
  servers=""
  for node in $(seq 1 "$NODES"); do
    node_port=$(free_port)
    start_gunicorn "$node_port" "$OUT/access-node$node.log" "$OUT/web-node$node.log"
    upstream_ports+=("$node_port")
    access_logs+=("$OUT/access-node$node.log")
    servers="$servers    server 127.0.0.1:$node_port max_fails=3 fail_timeout=10s;"$'\n'
  done
  mkdir -p "$OUT/nginx"
  NGINX_DIR=$(cd "$OUT/nginx" && pwd)
  cat >"$NGINX_DIR/nginx.conf" <<NGINX
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log $(cd "$OUT" && pwd)/access-proxy.log;
  client_body_temp_path $NGINX_DIR/body;
  proxy_temp_path $NGINX_DIR/proxy;
  fastcgi_temp_path $NGINX_DIR/fastcgi;
  uwsgi_temp_path $NGINX_DIR/uwsgi;
  scgi_temp_path $NGINX_DIR/scgi;
  upstream web {
$servers    keepalive 32;
  }
  server {
    listen 127.0.0.1:$PORT;
    gzip on;
    gzip_types text/css application/javascript application/json image/svg+xml;
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}
NGINX
  setsid nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' >"$OUT/proxy.out" 2>&1 &
  pids+=($!)
  access_logs+=("$OUT/access-proxy.log")
fi
setsid .venv/bin/celery -A config worker --loglevel=warning --concurrency=1 >"$OUT/worker.log" 2>&1 &
pids+=($!)

for port in "${upstream_ports[@]}" "$PORT"; do
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "load: gunicorn did not start:"; tail "$OUT"/web*.log; exit 1; }
    sleep 0.5
  done
done
curl -fsS "http://127.0.0.1:$PORT/healthz"; echo
git_commit=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
echo "load: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $git_commit; uptime before: $(uptime)"

echo "load: $USERS users, $SPAWN_RATE new per second, for $DURATION, against $NODES × gunicorn --workers $WEB_WORKERS"
LOAD_USERS="$OUT/users.json" "$LOCUST" -f bench/locustfile.py --headless -u "$USERS" -r "$SPAWN_RATE" \
  -t "$DURATION" --host "http://127.0.0.1:$PORT" --csv "$OUT/load" --only-summary --loglevel WARNING \
  >"$OUT/locust.log" 2>&1 || true

echo "load: uptime after: $(uptime)"
"$PY" bench/report.py "$OUT/load_stats.csv" "${access_logs[@]}" \
  --users "$USERS" --duration "$DURATION" --web-workers "$WEB_WORKERS" --nodes "$NODES" | tee "$OUT/summary.md"
