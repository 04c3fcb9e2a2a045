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
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo
# Simulated MikroTik routers (routers/simulator.py) for the demo ISP's routers; sessions come
# and go, so statuses change from one poll to the next.
.venv/bin/python manage.py run_router_simulator --from-db --churn 20 > var/simulator.log 2>&1 &
SIMULATOR_PID=$!
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
echo "Log in as 'demo' (owner of all three tenants) or another login above; password: clientdesk-demo"
echo
.venv/bin/python manage.py runserver "$HOST:$PORT"
