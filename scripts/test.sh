#!/usr/bin/env bash
# Run the suite's own tests (parsers, schemas, judges against the Mastodon captures, the reference
# server, the Redis driver, an end-to-end run). Sets up the venv and redis-server first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --redis
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
