#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install FormWatch into it. Usage: scripts/setup.sh [EXTRAS]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "FormWatch needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras="${1:-}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
