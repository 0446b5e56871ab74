#!/usr/bin/env bash
# Install FormWatch with its test extras into .venv, lint, and run the whole test suite.
# Real-footage tests read ../shared/footage and ../shared/models/yolo11n-pose.pt and skip,
# saying why, where those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if [ -z "${FORMWATCH_WEIGHTS:-}" ] && [ -f ../shared/models/yolo11n-pose.pt ]; then
  export FORMWATCH_WEIGHTS="$PWD/../shared/models/yolo11n-pose.pt"
fi
export YOLO_CONFIG_DIR="${YOLO_CONFIG_DIR:-$PWD/.venv/ultralytics-config}"
.venv/bin/ruff check pipeline flows tests benchmarks
exec .venv/bin/python -m pytest "$@"
