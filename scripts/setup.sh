#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: a project venv with the suite installed (editable, with
# test and dev tools) and, when asked (--redis), Debian's redis-server for the Redis-bus tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# The product's dependencies plus the `test` (hypothesis, pytest-asyncio, pytest-cov, Mastodon.py...)
# and `dev` (ruff) extras; reinstalled whenever pyproject.toml changes.
if ! .venv/bin/python -c "import conformance, rfc3339_validator, hypothesis, pytest_cov, mastodon, matplotlib, locust" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev,test,load]'
  touch .venv/.installed
fi
# A venv made before the explicit format checkers still holds jsonschema[format-nongpl]'s
# rfc3987-syntax, which jsonschema imports whenever it is present (~40 grammars, seconds).
if .venv/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('rfc3987_syntax') is None)"; then
  .venv/bin/python -m pip uninstall --quiet --yes rfc3987-syntax
fi
if [ "${1:-}" = "--redis" ] && ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

# --- --postgres: Debian's PostgreSQL for tests/database and the bare-mode CI run ----------------
# initdb/postgres come from the versioned /usr/lib/postgresql/<v>/bin (tests/support/
# postgres_server.py finds them there); the package's own cluster is not used.
for arg in "$@"; do
  if [ "$arg" = "--postgres" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
     && ! command -v initdb >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
done

# --- --browser: headless Chromium for tests/reports/test_html_report_browser.py ---------------
# Debian's `chromium` package; the HTML report is checked in a real browser (the test skips,
# saying why, when chromium is missing).
for arg in "$@"; do
  if [ "$arg" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
done

# --- --interop: masto.js for tests/interop/test_interop_masto_js.py ----------------------------
# `npm ci` from the committed package-lock.json, only when node and npm exist and node_modules is
# missing or older than the lock file (the test skips, saying why, without them).
for arg in "$@"; do
  if [ "$arg" = "--interop" ] && command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
     && { [ ! -f tests/interop/js/node_modules/.package-lock.json ] \
          || [ tests/interop/js/package-lock.json -nt tests/interop/js/node_modules/.package-lock.json ]; }; then
    npm ci --prefix tests/interop/js --no-audit --no-fund --loglevel=error >/dev/null
  fi
done
