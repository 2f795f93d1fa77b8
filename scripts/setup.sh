#!/usr/bin/env bash
# Installs every Debian package prunesim needs to build, test and regenerate its zoo.
# Idempotent and quick when everything is present (one dpkg query, no apt-get call).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-format
  # C++ libraries (all from Debian: nothing downloads during the build)
  libsystemc-dev verilator libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev libcadical-dev zlib1g-dev
  # ONNX conformance data for the float reference executor
  libonnx-testdata
  # open-source synthesis for the area cross-check
  yosys
  # zoo generation and plots (through /usr/bin/python3 only)
  python3-numpy python3-torch python3-onnx python3-sklearn python3-matplotlib
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
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
