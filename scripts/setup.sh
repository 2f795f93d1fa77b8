#!/usr/bin/env bash
# Installs every Debian package prunesim needs to build, test and regenerate its zoo, then writes
# the zoo's training splits (scripts/zoo/make_train_splits.py) when they are missing.
# Idempotent and quick when everything is present (one dpkg query, no apt-get call, one Python
# run of about a second that reads the .npy headers).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  # libFuzzer targets (scripts/fuzz.sh): clang and its fuzzer/sanitizer runtimes
  clang libclang-rt-14-dev
  # C++ libraries (all from Debian: nothing downloads during the build)
  libsystemc-dev verilator libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the search engine: NSGA-II and hypervolume (pagmo2), evaluations farmed over MPI
  libpagmo-dev libboost-mpi-dev openmpi-bin
  libonnx-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev libcadical-dev zlib1g-dev
  # training engine (prune/train/, CPU libtorch; linked only by the commands that train)
  libtorch-dev
  # ONNX conformance data for the float reference executor
  libonnx-testdata
  # open-source synthesis for the area cross-check
  yosys
  # ABC, the independent referee of the logic-network SAT sweep (cec, fraig)
  berkeley-abc
  # zoo generation and plots (through /usr/bin/python3 only)
  python3-numpy python3-torch python3-onnx python3-sklearn python3-matplotlib python3-torchvision
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Training splits of the zoo models (zoo/*/train.npy, train_labels.npy; generated, not committed,
# see .gitignore): seeded, about 10 s the first time, one line per file written; files already
# present with the right shape are kept (a shape read per file).
/usr/bin/python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zoo/make_train_splits.py"
