#!/usr/bin/env bash
# Builds and runs the test suite (Criterion tests through ctest).
#   ./test.sh              the normal build, in ./build
#   ./test.sh --sanitize   an AddressSanitizer + UndefinedBehaviorSanitizer build, in ./build-asan
#   ./test.sh --tsan       the threaded data path (the batcher's workers over an image
#                          folder, tests/threads/) under ThreadSanitizer, in ./build-tsan
# Extra arguments go to ctest (e.g. -R max_pool).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh

dir=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
    shift
    dir=build-asan
    # -O1: what the sanitizers' authors advise for speed; it keeps every check.
    flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" -DCLNET_SANITIZE=ON
           -DCLNET_BUILD_BENCH=OFF)
    # POCL compiles kernels with LLVM inside the process; its allocations (and the
    # ICD loader's and CLBlast's process-lifetime caches) are not ours to report.
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
    # intercept_tls_get_addr=0: up to GCC 13 the runtime's __tls_get_addr interceptor can
    # take a malloc'd dynamic TLS block (POCL's LLVM has many) for an old glibc header and
    # read a bogus range from it; LeakSanitizer's tracer then dies at exit ("Tracer caught
    # signal 11", exit 1, no report). Mudlet/Mudlet#9809 traced it.
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:intercept_tls_get_addr=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    # Tests that repeat one host path over many models or shapes take a few under the
    # sanitizers (CLNET_GEMM_SMALL: the small-m GEMM cases with k <= 7, n <= 17, as for
    # oclgrind).
    export CLNET_TEST_SANITIZE=1 CLNET_GEMM_SMALL=1
fi
if [ "${1:-}" = "--tsan" ]; then
    shift
    # The batcher's workers are the library's own threads (POCL's are not ours to
    # check): tests/threads/, plain programs, since Criterion cannot start under
    # ThreadSanitizer.
    tests=(test_batcher_threads)
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" \
        -DCLNET_TSAN=ON -DCLNET_BUILD_BENCH=OFF >/dev/null
    cmake --build build-tsan -j"$(nproc)" --target "${tests[@]}"
    cd build-tsan
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
    ctest --output-on-failure -j"$(nproc)" -R "^($(IFS='|'; echo "${tests[*]}"))\$" "$@"
    exit
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
if [ "$dir" = build-asan ]; then
    # Criterion runs each test in a child process and records the result before the
    # child's exit-time leak check, so a leak must be found in the output.
    # Two tests at a time: under the sanitizers the host side dominates and one process
    # leaves a core idle (the tests use their own files, and the program cache renames).
    ctest --output-on-failure -V -j"$(nproc)" "$@" 2>&1 | tee sanitizer.log | grep -vE '^\S+: \[(RUN|PASS)' || true
    if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' sanitizer.log; then
        echo "sanitizer reports in $dir/sanitizer.log:"
        grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' sanitizer.log | head -80
        exit 1
    fi
    grep -qE '^[0-9]+% tests passed, 0 tests failed' sanitizer.log
else
    # Two tests at a time: one alone leaves a core idle while it compiles kernels, reads
    # files or runs host references (the tests use their own files).
    ctest --output-on-failure -j"$(nproc)" "$@"
fi
