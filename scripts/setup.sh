#!/usr/bin/env bash
# Installs what triscan needs on a fresh Debian/Ubuntu machine (as root), or names
# the missing packages (otherwise), then configures and builds into $BUILD_DIR.
# Used by the README's two commands; safe to run again (does nothing already done).
#   BUILD_DIR   build folder (default: build)
#   CMAKE_ARGS  extra configure arguments
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make pkg-config libopenblas-dev liblapacke-dev libmpfr-dev libgmp-dev libboost-dev
          libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev python3 python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# matplotlib renders the reports' plots (validation/plot_report.py).
if ! python3 -c 'import matplotlib, numpy' >/dev/null 2>&1; then
  echo "setup: installing matplotlib and numpy for python3" >&2
  python3 -m pip install -q matplotlib numpy 2>/dev/null \
    || python3 -m pip install -q --break-system-packages matplotlib numpy \
    || { echo "setup: could not install matplotlib (plots will be skipped)" >&2; }
fi

BUILD_DIR=${BUILD_DIR:-build}
jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$BUILD_DIR"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} >"$BUILD_DIR/configure.log" 2>&1 \
  || { cat "$BUILD_DIR/configure.log" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j "$jobs"
