#!/usr/bin/env bash
# Run the suite's own tests (parsers, schemas, judges against the Mastodon captures, the reference
# server, the Redis driver, an end-to-end run). Sets up the venv and redis-server first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --redis
bash scripts/setup.sh --postgres
bash scripts/setup.sh --browser
bash scripts/setup.sh --interop
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
