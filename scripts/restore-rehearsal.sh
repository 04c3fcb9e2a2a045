#!/usr/bin/env bash
# Restore rehearsal: restore a backup of the database into a new database, check that its
# migrations match this code and that its ledger balances (manage.py audit_ledger), then drop
# it (KEEP=1 keeps it for a look).
#
#   scripts/restore-rehearsal.sh DUMP [NEW_DATABASE]
#
# DUMP is `pg_dump --format=custom` output (or a plain .sql file). The server is the one libpq's
# variables name (PGHOST, PGPORT, PGUSER, PGPASSWORD; defaults: the local server); the new
# database must not exist yet. Exits non-zero when the restore or the audit fails.
set -euo pipefail
cd "$(dirname "$0")/.."
dump=${1:?usage: scripts/restore-rehearsal.sh DUMP [NEW_DATABASE]}
database=${2:-clientdesk_restore_$(date +%Y%m%d%H%M%S)}
python=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}
[ -r "$dump" ] || { echo "Cannot read $dump" >&2; exit 2; }

createdb "$database"
echo "Restoring $dump into $database"
if [ "${KEEP:-0}" != 1 ]; then
  trap 'dropdb --if-exists "$database"' EXIT
fi
if [[ "$dump" == *.sql ]]; then
  psql --quiet --set ON_ERROR_STOP=1 --dbname "$database" --file "$dump" >/dev/null
else
  pg_restore --no-owner --no-privileges --exit-on-error --dbname "$database" "$dump"
fi

# The audit only reads the database: development settings, which need no secret. libpq
# supplies the password from PGPASSWORD.
export DEBUG=1 CLIENTDESK_VAR_DIR=${CLIENTDESK_VAR_DIR:-$(mktemp -d)}
export DATABASE_URL="postgres://${PGUSER:-$(id -un)}@${PGHOST:-127.0.0.1}:${PGPORT:-5432}/$database"
unset REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND PROMETHEUS_MULTIPROC_DIR
if "$python" manage.py migrate --check >/dev/null; then
  echo "Migrations: the backup is at this code's migrations."
else
  echo "Migrations: the backup is behind this code; run migrate after restoring it." >&2
fi
"$python" manage.py audit_ledger
echo "Restore rehearsal of $dump: OK"
