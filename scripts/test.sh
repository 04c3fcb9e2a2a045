#!/usr/bin/env bash
# The whole test suite against PostgreSQL and Redis, browser tests in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/clientdesk}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15}
export CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium)}
exec .venv/bin/pytest --create-db "$@"
