#!/usr/bin/env bash
# The main job on the embedded default: set up, then sample every clip under data/clips
# into the local catalog data/catalog, and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash data/fetch.sh
.venv/bin/framesift ingest data/clips --catalog data/catalog "$@"
.venv/bin/framesift catalog summary data/catalog
