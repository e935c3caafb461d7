#!/usr/bin/env bash
# Installs the system packages the build needs, only when missing (idempotent).
# Debian/Ubuntu; uses sudo only when not root. Swift 6 must already be on PATH.
set -euo pipefail

packages=(libbox2d-dev libopenblas-dev libhdf5-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "bootstrap: installing ${missing[*]}" >&2
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
    echo "bootstrap: swift not found on PATH; install a Swift 6 toolchain (swift.org) first" >&2
    exit 1
fi
