#!/usr/bin/env bash
# The main job end to end on the small embedded default: installs what it needs, builds a
# release binary and runs `ofql-eval demo` (extra arguments are passed to it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
swift build -c release --product ofql-eval
exec .build/release/ofql-eval demo "$@"
