#!/usr/bin/env bash
# The Python package's checks: a fresh virtual environment, `pip install ./python[minari]`
# (which builds the Swift library in release mode and ships it inside the package), then
# python/tests against the ofql-eval executable of the same checkout:
#   bash scripts/python-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null
command -v python3 >/dev/null || { echo "python-check: python3 is missing" >&2; exit 1; }
python3 -c 'import venv, ensurepip' 2>/dev/null || {
  echo "python-check: installing python3-venv" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3-venv >/dev/null; else sudo apt-get install -y -q python3-venv >/dev/null; fi
}
# One release build (Swift runtime linked statically) serves the CLI and the package.
swift build -c release -Xswiftc -static-stdlib --product ofql-eval >/dev/null
venv=.venv-check
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q "./python[minari]"
OFQL_EVAL="$(swift build -c release -Xswiftc -static-stdlib --show-bin-path)/ofql-eval" \
  "$venv/bin/python" -m unittest discover -s python/tests -v
