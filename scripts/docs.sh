#!/usr/bin/env bash
# Build the documentation site with warnings as errors: docs/_build/html/index.html.
# Needs the docs extra: pip install -e ".[docs]".
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
