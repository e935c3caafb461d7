#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
swift build --build-tests
swift test --skip-build "$@"
# The Python package in a fresh virtual environment, against the CLI (skipped with arguments).
if [ $# -eq 0 ]; then bash scripts/python-check.sh; fi
# A suite plan as a Slurm job array on a one-node test cluster, against a local run
# (skipped when arguments select tests).
if [ $# -eq 0 ]; then bash scripts/slurm-check.sh; fi
