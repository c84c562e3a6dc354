#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 and runs the main job: installs the
# Debian packages, builds clnet in ./build, lists the OpenCL devices, checks every
# op and kernel variant on this machine's device against the reference, then trains
# a small ResNet on Fashion-MNIST, evaluates it and predicts test images
# (scripts/quickstart.sh).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
build/clnet devices
build/clnet selftest --class all
scripts/quickstart.sh
