#!/usr/bin/env bash
# Run a notebook from notebooks/ with papermill and keep it as a self-contained HTML report.
#   bash scripts/report.sh NOTEBOOK OUT.html [papermill options, e.g. -p catalog data/catalog]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash scripts/report.sh NOTEBOOK OUT.html [-p NAME VALUE ...]" >&2
    exit 2
fi
notebook=$1
html=$2
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$root/.venv/bin/papermill" ] || bash "$root/scripts/setup.sh"
executed="$(mktemp -d)/$(basename "$notebook")"
"$root/.venv/bin/papermill" --no-progress-bar "$notebook" "$executed" "$@"
"$root/.venv/bin/jupyter" nbconvert --to html --output "$(basename "$html")" \
    --output-dir "$(cd "$(dirname "$html")" && pwd)" "$executed"
echo "report: $html"
