#!/usr/bin/env bash
# Configures and builds prunesim into build/ (Release, Ninja when present).
# BUILD_DIR picks the folder, BUILD_TARGETS a subset of targets; PRUNESIM_SANITIZE=1 configures the ASan+UBSan build (see
# scripts/test.sh --sanitize, which uses build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
EXTRA=()
if [ "${PRUNESIM_SANITIZE:-0}" = 1 ]; then EXTRA=(-DPRUNESIM_SANITIZE=ON); fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release "${EXTRA[@]}"
fi
# BUILD_TARGETS (space-separated) builds only those targets (scripts/test.sh --sanitize-subset).
TARGETS=()
for t in ${BUILD_TARGETS:-}; do TARGETS+=(--target "$t"); done
cmake --build "$BUILD_DIR" -j "$(nproc)" "${TARGETS[@]}"
