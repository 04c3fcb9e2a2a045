#!/usr/bin/env bash
# The portal with demo data on embedded defaults: SQLite, an SQLite-backed Celery broker, a
# Celery worker with beat, and the router simulator. No server to install.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DEBUG=${DEBUG:-1}
# The demo's routers are simulated on this machine: loopback is the only network it connects to.
export OUTBOUND_ALLOWED_NETWORKS=${OUTBOUND_ALLOWED_NETWORKS:-127.0.0.0/8}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var
fail() {
  echo "demo: $*" >&2
  exit 1
}
# Another demo (another checkout) may run on this machine: the portal's address must be free.
.venv/bin/python -c 'import socket, sys
s = socket.socket()
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError as exc:
    sys.exit(f"{sys.argv[1]}:{sys.argv[2]} is taken ({exc}); set PORT (and HOST) to a free one.")' \
  "$HOST" "$PORT" || fail "the portal cannot listen on $HOST:$PORT"
# The demo routers' API password: this checkout's own, made once and kept in var/.
if [[ ! -s var/demo-router-password ]]; then
  (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(18))' \
    > var/demo-router-password)
fi
DEMO_ROUTER_PASSWORD=$(cat var/demo-router-password)
export DEMO_ROUTER_PASSWORD
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo
# Simulated MikroTik routers (routers/simulator.py) for the demo ISP's routers; sessions come
# and go, so statuses change from one poll to the next. The demo waits until they listen, and
# stops if they cannot (a port taken by another demo, say).
.venv/bin/python manage.py run_router_simulator --from-db --churn 20 > var/simulator.log 2>&1 &
SIMULATOR_PID=$!
for _ in $(seq 1 60); do
  grep -q '^Simulating' var/simulator.log && break
  kill -0 "$SIMULATOR_PID" 2>/dev/null || break
  sleep 0.5
done
if ! grep -q '^Simulating' var/simulator.log; then
  kill "$SIMULATOR_PID" 2>/dev/null || true
  cat var/simulator.log >&2
  fail "the router simulator did not start (log: var/simulator.log)"
fi
.venv/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
  --schedule var/celerybeat-schedule > var/celery.log 2>&1 &
CELERY_PID=$!
stop_background() {
  # Celery's worker with embedded beat may linger after TERM; it gets a few seconds, then KILL.
  kill "$CELERY_PID" "$SIMULATOR_PID" 2>/dev/null || true
  for _ in 1 2 3 4 5; do
    kill -0 "$CELERY_PID" 2>/dev/null || break
    sleep 1
  done
  pkill -KILL -P "$CELERY_PID" 2>/dev/null || true
  kill -KILL "$CELERY_PID" "$SIMULATOR_PID" 2>/dev/null || true
}
trap stop_background EXIT INT TERM
echo
echo "Clientdesk is starting at http://$HOST:$PORT/  (Celery worker and beat log: var/celery.log)"
echo "$(head -n 1 var/simulator.log)  (API password: var/demo-router-password)"
echo "Log in as 'demo' (owner of all three tenants) or another login above; password: clientdesk-demo"
echo
.venv/bin/python manage.py runserver "$HOST:$PORT"
