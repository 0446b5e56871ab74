#!/usr/bin/env bash
# Install FormWatch with its test extras into .venv, lint, type-check, and run the whole test suite.
# Real-footage tests read ../shared/footage and ../shared/models/yolo11n-pose.pt and skip,
# saying why, where those are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if [ -z "${FORMWATCH_WEIGHTS:-}" ] && [ -f ../shared/models/yolo11n-pose.pt ]; then
  export FORMWATCH_WEIGHTS="$PWD/../shared/models/yolo11n-pose.pt"
fi
# The report's browser test uses Debian's chromium; install it where we can, else that test skips.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the report's browser test..."
  (timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium) \
    >/dev/null 2>&1 || echo "chromium could not be installed: the browser test will skip"
fi
export YOLO_CONFIG_DIR="${YOLO_CONFIG_DIR:-$PWD/.venv/ultralytics-config}"
.venv/bin/ruff check pipeline flows tests benchmarks
.venv/bin/mypy  # pipeline/ and flows/, configured in pyproject.toml's [tool.mypy]
# Two test workers: a pose model's run keeps ~1.2 of the 2 cores busy, and the Prefect servers' start-ups
# wait; tests sharing a module-scoped fixture stay on one worker (their xdist_group). FORMWATCH_TEST_WORKERS=0
# runs in one process.
exec .venv/bin/python -m pytest -n "${FORMWATCH_TEST_WORKERS:-2}" --dist loadgroup "$@"
