#!/usr/bin/env bash
# Rewrites tests/golden/*.json from the built prunesim: runs the golden tests with
# PRUNESIM_UPDATE_GOLDENS=1, which writes each report instead of comparing it. Only for a change
# of figures that is intended; tests/golden/README.md says how to check and commit one.
# Usage: scripts/update_goldens.sh [ctest -R regex, default: every golden]
set -euo pipefail
cd "$(dirname "$0")/.."
B="${BUILD_DIR:-build}"
cmake --build "$B" --target prunesim test_golden
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 PRUNESIM_UPDATE_GOLDENS=1
ctest --test-dir "$B" -R "^Zoo/Golden.ReportMatches/${1:-}" -j "$(nproc)" --output-on-failure
git status --short tests/golden
