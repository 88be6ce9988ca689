#!/usr/bin/env bash
# Prepare a fresh machine: Debian packages the tests and benchmarks use, a virtual
# environment in .venv, and framesift installed into it (editable) with its extras.
# Idempotent: a second run only checks. Each step prints a line before it starts, so the
# minutes of apt-get and pip are not silent.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "setup: checking Debian packages (ffmpeg, libgl1, libglib2.0-0, espeak-ng, tesseract-ocr)"
need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)          # reference tool + fixtures
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || need_apt+=(libgl1)   # OpenCV (PySceneDetect)
ldconfig -p 2>/dev/null | grep -q 'libglib-2.0.so.0' || need_apt+=(libglib2.0-0)
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)    # speech for the speech tests
command -v tesseract >/dev/null 2>&1 || need_apt+=(tesseract-ocr)  # OCR of on-screen text
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "setup: apt-get update (reading the package lists)"
  $SUDO apt-get update -qq
  echo "setup: apt-get install ${need_apt[*]} (a few minutes on a fresh machine)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
else
  echo "setup: Debian packages already installed"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.framesift-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: upgrading pip in .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  echo "setup: installing framesift and its extras into .venv with pip (several minutes on a fresh machine)"
  .venv/bin/python -m pip install -q -c scripts/constraints.txt -e ".[test,dev,notebook,dask,speech,analyze]"
  touch "$stamp"
else
  echo "setup: .venv is up to date"
fi
# An editable install leaves framesift's own modules uncompiled (pip compiles what it
# copies into site-packages, not a source folder): compile them once, so every command
# starts from cached bytecode as an installed package does (about 0.1 s of each command's
# start-up otherwise). Up-to-date files are skipped; Python recompiles any edited later.
echo "setup: compiling framesift's modules to bytecode"
.venv/bin/python -m compileall -q src
echo "setup: done"
