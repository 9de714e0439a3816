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
# MSC_TEST_WORKERS=N: N pytest worker processes (pytest-xdist), whole files each (--dist loadfile:
# a module's fixtures, e.g. the live-fault and hostile-corpus runs, start once); coverage is still
# combined by pytest-cov. Default 1 (one process): beside a CPU-heavy file on 2 cores, the
# TLS-proxy session of tests/transports/test_insecure_tls.py still loses connections.
workers=${MSC_TEST_WORKERS:-1}
parallel=()
if [ "$workers" != 1 ]; then parallel=(-n "$workers" --dist loadfile); fi
exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
