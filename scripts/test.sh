#!/usr/bin/env bash
# Set up, run the linters (ruff check, ruff format --check, mypy --strict), then the whole
# test suite, slow tests included. Stops at the first check that fails and names it.
# Extra arguments go to pytest (scripts/test.sh tests/test_catalog.py -k s3); a plain
# `pytest` deselects the slow tests, this script runs them.
# The tests also need Chromium, for the JupyterLab widget test in a real browser.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "==> $*"; }

# Runs one named check; on failure prints which one and stops with its exit status.
check() {
  local name=$1
  shift
  step "$name: $*"
  local status=0
  "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAILED: $name (exit status $status): $*" >&2
    exit "$status"
  fi
}

step "setup: system packages, .venv and framesift (scripts/setup.sh)"
bash scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  step "setup: installing chromium (apt-get)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

LINTED=(src tests benchmarks notebooks)
check "ruff check" .venv/bin/ruff check "${LINTED[@]}"
check "ruff format" .venv/bin/ruff format --check "${LINTED[@]}"
check "mypy" .venv/bin/mypy  # strict; files and options in pyproject.toml
check "pytest" .venv/bin/python -m pytest -q -m "slow or not slow" "$@"
