#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/fuzz_<loader>.c) and make_corpus with clang, the
# whole library instrumented with -fsanitize=fuzzer-no-link,address,undefined, in
# ./build-fuzz (apart from the normal gcc build in ./build). Needs clang and Debian's
# libclang-rt-14-dev (libFuzzer); scripts/install-deps.sh installs both.
#   fuzz/build.sh            configure and build
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CLNET_FUZZ_CC:-$(command -v clang || command -v clang-14 || true)}
if [ -z "$cc" ]; then
    echo "fuzz/build.sh: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi
# -O1 with line tables, asserts on: what fuzzing builds usually use (quick to build).
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_C_FLAGS="-O1 -gline-tables-only" \
    -DCLNET_BUILD_FUZZ=ON -DCLNET_BUILD_TESTS=OFF -DCLNET_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target clnet_fuzzers -j"${CLNET_FUZZ_JOBS:-$(nproc)}"
