#!/usr/bin/env bash
# Make sure PostgreSQL, Redis, Debian's Chromium, GNU gettext and a compose tool are there for
# the test suite: start the machine's own services when they are stopped, install the tools when
# missing.
set -euo pipefail
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/clientdesk-redis.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
# The catalogue's check (tests/i18n/test_catalogue.py) runs makemessages and msgfmt.
if ! command -v msgfmt >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
  fi
fi
# The compose file's check (tests/ops/test_compose.py) runs `docker compose config`, or the
# standalone docker-compose: no daemon is needed.
if ! { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  fi
fi
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
redis_up || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
command -v chromium >/dev/null || { echo "chromium is not installed" >&2; exit 1; }
command -v msgfmt >/dev/null || { echo "gettext (msgfmt) is not installed" >&2; exit 1; }
{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; } \
  || { echo "neither docker compose nor docker-compose is installed" >&2; exit 1; }
