#!/usr/bin/env bash
# The README's main command: installs what is missing and builds (scripts/setup.sh,
# which also installs matplotlib for the plots), prints the simulated formats, then runs
# the `default` stability study and regenerates docs/accuracy/default/ (report.md,
# results.csv, results.json, plots/). About a minute on 2 cores after the build.
#   BUILD_DIR   build folder (default: build)
#   THREADS     study worker threads (default: all cores; results do not depend on it)
#   Extra arguments go to `triscan study` (e.g. --resume after an interruption).
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-build}
scripts/setup.sh
threads=${THREADS:-$(nproc 2>/dev/null || echo 2)}
"$BUILD_DIR/triscan" formats
"$BUILD_DIR/triscan" study --preset default --out docs/accuracy/default --threads "$threads" "$@"
echo "run-study: report in docs/accuracy/default/report.md" >&2
