#!/usr/bin/env bash
# The main job on the embedded default: set up, then sample every clip under data/clips
# into the local catalog data/catalog (frames, scenes, thumbnails and the clips' subtitle
# files), print a summary and search the text.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash data/fetch.sh
.venv/bin/framesift ingest data/clips --catalog data/catalog "$@"
.venv/bin/framesift catalog summary data/catalog
.venv/bin/framesift search "racing car" --catalog data/catalog --limit 3
