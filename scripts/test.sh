#!/usr/bin/env bash
# Set up, then run the default test suite (slow tests are opt-in: scripts/test.sh -m slow).
# The tests also need Chromium, for the JupyterLab widget test in a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
exec .venv/bin/python -m pytest -q "$@"
