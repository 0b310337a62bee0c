#!/usr/bin/env bash
# Set-up + the whole test suite on a fresh machine (README command 2; .ci/run calls this).
# torch is installed first and pinned so that pip takes the CPU wheel instead of a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[dev,ray,docs,notebooks]"   # docs: the site is built by tests/test_docs.py
export GRAPHREC_DATA="${GRAPHREC_DATA:-$(cd .. && pwd)/shared/datasets}"
# --strict-markers: a typo in a marker fails; exit code 5 (no tests collected) is a failure too.
python -m pytest -q --strict-markers -p no:cacheprovider "$@"
