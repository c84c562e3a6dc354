#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/fuzz_<loader>.c) for a while over its corpus and
# fails when any of them finds a crash, a sanitizer report, a leak, a hang (an input
# taking over 20 s) or an allocation above 512 MB (fuzz/<loader>.options may change flags).
#   fuzz/run.sh [seconds]   seconds per harness (default 20); builds first (fuzz/build.sh)
#   FUZZ_JOBS=1 fuzz/run.sh  one harness at a time (default: one per core)
#   FUZZ_ONLY="spec idx" fuzz/run.sh 600    only these loaders
# New inputs that reach new code collect in build-fuzz/corpus/<loader> (so longer runs
# build on shorter ones); the seeds in fuzz/corpus/<loader> are read, never written.
# A crash leaves its input in build-fuzz/artifacts/; to replay it:
#   build-fuzz/fuzz/fuzz_<loader> build-fuzz/artifacts/<loader>-crash-...
# and, once fixed, keep it as a regression seed: fuzz/corpus/<loader>/regress-<what>.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
mkdir -p build-fuzz
if ! fuzz/build.sh >build-fuzz/build.log 2>&1; then
    tail -30 build-fuzz/build.log
    echo "fuzz/run.sh: the fuzz build failed (build-fuzz/build.log)"
    exit 2
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}"
mkdir -p build-fuzz/artifacts build-fuzz/logs
# One harness: its summary line (and the first report on failure) in build-fuzz/logs/<loader>.out,
# and exit 1 on failure.
run_one() {
    local loader=$1 work=build-fuzz/corpus/$1 log=build-fuzz/logs/$1.log out=build-fuzz/logs/$1.out
    mkdir -p "$work" "fuzz/corpus/$loader"
    local args=(-max_total_time="$seconds" -timeout=20 -malloc_limit_mb=512 -rss_limit_mb=2048
                -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$loader-")
    [ -f "fuzz/$loader.dict" ] && args+=(-dict="fuzz/$loader.dict")
    # fuzz/<loader>.options: extra flags, one a line, '#' comments (later flags win).
    if [ -f "fuzz/$loader.options" ]; then
        while read -r flag; do args+=("$flag"); done < <(sed -e 's/#.*//' -e '/^\s*$/d' "fuzz/$loader.options")
    fi
    build-fuzz/fuzz/fuzz_"$loader" "${args[@]}" "$work" "fuzz/corpus/$loader" >"$log" 2>&1
    local rc=$?
    local runs corpus
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(find "$work" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        printf '%-14s ok      %10s runs in %ss, %s inputs in its corpus\n' "$loader" "${runs:-?}" \
            "$seconds" "$corpus" >"$out"
        return 0
    fi
    {
        printf '%-14s FAILED  (exit %d) after %s runs; log: %s\n' "$loader" $rc "${runs:-?}" "$log"
        grep -m1 -E 'ERROR: |runtime error:|harness check failed|out-of-memory|timeout' "$log" | sed 's/^/    /'
        grep -E '^artifact_prefix|Test unit written to' "$log" | sed 's/^/    /'
    } >"$out"
    return 1
}

# Each harness is one single-threaded process: FUZZ_JOBS of them at a time (default: one
# per core), the summaries printed in the harnesses' order.
jobs=${FUZZ_JOBS:-$(nproc)}
loaders=()
for harness in fuzz/fuzz_*.c; do
    loader=$(basename "$harness" .c)
    loader=${loader#fuzz_}
    if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $loader "* ]]; then
        continue
    fi
    loaders+=("$loader")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    rm -f "build-fuzz/logs/$loader.out"
    run_one "$loader" &
done
wait
failed=()
for loader in "${loaders[@]}"; do
    out=build-fuzz/logs/$loader.out
    [ -f "$out" ] && cat "$out"
    [ -f "$out" ] && [ "$(awk 'NR == 1 { print $2 }' "$out")" = ok ] || failed+=("$loader")
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}"
    exit 1
fi
