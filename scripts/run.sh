#!/usr/bin/env bash
# Install FormWatch into .venv, then run the annotate_footage flow: scripts/run.sh SOURCE... [formwatch run options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh"
exec "$here/../.venv/bin/formwatch" run "$@"
