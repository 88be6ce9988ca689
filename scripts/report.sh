#!/usr/bin/env bash
# Run a notebook from notebooks/ and keep it as a self-contained HTML report
# (`framesift report`: papermill, then nbconvert with the code hidden).
#   bash scripts/report.sh NOTEBOOK OUT.html [-p NAME VALUE ...] [--show-code]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: bash scripts/report.sh NOTEBOOK OUT.html [-p NAME VALUE ...] [--show-code]" >&2
    exit 2
fi
notebook=$1
html=$2
shift 2
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$root/.venv/bin/framesift" ] || bash "$root/scripts/setup.sh"
exec "$root/.venv/bin/framesift" report --notebook "$notebook" -o "$html" "$@"
