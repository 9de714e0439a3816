#!/usr/bin/env bash
# Run the conformance suite. With no --target it starts the embedded reference server,
# runs every case against it and stops it; any `run` option may follow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mastodon-streaming-conformance run "$@"
