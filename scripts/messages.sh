#!/usr/bin/env bash
# Bring the Russian catalogues up to date with the code, then compile them.
#   scripts/messages.sh          makemessages (templates, Python, static/js) and compilemessages
#   scripts/messages.sh compile  compilemessages only
# Entries carry no file locations (--no-location) and are not wrapped, so that a catalogue
# changes only when a string does; tests/i18n/ checks that running this changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}
IGNORE=(--ignore=.venv --ignore=tests --ignore=bench --ignore=var --ignore=docs
        --ignore=scripts --ignore=static/vendor --ignore='*.egg-info' --ignore=node_modules)
if [ "${1:-}" != compile ]; then
  .venv/bin/python manage.py makemessages -l ru --no-location --no-wrap --no-obsolete \
    "${IGNORE[@]}"
  .venv/bin/python manage.py makemessages -d djangojs -l ru --no-location --no-wrap \
    --no-obsolete "${IGNORE[@]}"
fi
.venv/bin/python manage.py compilemessages -l ru "${IGNORE[@]}"
