#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   scripts/test.sh              the Release build in build/ (what CI runs first)
#   scripts/test.sh --sanitize   the same suite built with ASan+UBSan in build-asan/; known
#                                third-party reports are suppressed by scripts/sanitizers/*.supp
#                                (each entry with its reason) — everything else fails its test
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=0
for a in "$@"; do
  case "$a" in
    --sanitize) SANITIZE=1 ;;
    *) echo "usage: scripts/test.sh [--sanitize]" >&2; exit 2 ;;
  esac
done
scripts/setup.sh
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
if [ "$SANITIZE" = 1 ]; then
  export BUILD_DIR="${BUILD_DIR:-build-asan}" PRUNESIM_SANITIZE=1
  SUP="$(pwd)/scripts/sanitizers"
  # detect_leaks=0: libtorch, protobuf and SystemC keep process-lifetime allocations that
  # LeakSanitizer reports at exit (not ours, and not bugs); memory errors are still all caught.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:suppressions=$SUP/asan.supp"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$SUP/ubsan.supp"
  export PRUNESIM_SANITIZE
fi
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
