#!/usr/bin/env bash
# Installs the Debian 12 packages clnet builds, tests and runs with, when any is
# missing. Run as root (or with sudo available). Safe to run again: installs nothing
# when everything is present.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    ocl-icd-opencl-dev opencl-headers ocl-icd-libopencl1 pocl-opencl-icd clinfo
    libclblast-dev libstb-dev libcriterion-dev libmd-dev
    oclgrind graphviz libcjson-dev zlib1g-dev dataset-fashion-mnist
    libjpeg62-turbo-dev libpng-dev libwebp-dev libheif-dev
    clang libclang-rt-14-dev
    libonnx-dev protobuf-c-compiler libprotobuf-c-dev libonnx-testdata python3-onnx
    libhdf5-dev libzip-dev python3-h5py
    libopenmpi-dev openmpi-bin
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
