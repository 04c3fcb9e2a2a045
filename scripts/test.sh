#!/usr/bin/env bash
# The whole test suite against PostgreSQL and Redis, browser tests in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh
# A database, queue and cache prefix of this run's own, so that two runs on one machine (two
# checkouts, CI beside a developer) never share state. pytest-django creates test_<name> and
# drops it at the end.
run_id=${CLIENTDESK_RUN_ID:-$$}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clientdesk_run$run_id}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15}
export CELERY_TASK_DEFAULT_QUEUE=${CELERY_TASK_DEFAULT_QUEUE:-clientdesk-test-$run_id}
export CACHE_KEY_PREFIX=${CACHE_KEY_PREFIX:-clientdesk-test-$run_id}
# The simulated routers listen on loopback, the only network the tests may connect to (the
# settings default to this under pytest; exported for the processes the tests start).
export OUTBOUND_ALLOWED_NETWORKS=${OUTBOUND_ALLOWED_NETWORKS:-127.0.0.0/8}
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
# pytest-xdist: one worker per CPU (TEST_WORKERS to choose), each on a database, queue and cache
# prefix of its own (config/settings.py). A module's tests stay together on one worker, in order
# (a story's steps, a module's shared fixtures). `-n 0` among the arguments: this one process.
exec .venv/bin/pytest --create-db -n "${TEST_WORKERS:-auto}" --dist loadfile "$@"
