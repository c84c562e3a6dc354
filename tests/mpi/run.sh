#!/bin/sh
# run.sh DIST_STEP MPIEXEC - data-parallel training against one process (dist_step.c):
# one epoch alone, through a communicator of one rank, then as 2 and as 5 ranks under
# mpirun, the weights compared, without and with synchronized batch norms; then a rank that stops answering, which the others must
# name within their timeout.
set -u
step=$1
mpiexec=$2
. "$(dirname "$0")/env.sh"
"$step" train "$dir/one.safetensors" --init "$dir/init.safetensors" || failed=1
# One rank through a communicator (MPI started without mpirun) trains as without one.
if "$step" single "$dir/single.safetensors" &&
    "$step" compare "$dir/one.safetensors" "$dir/single.safetensors" "$dir/init.safetensors"; then
    echo "PASS a communicator of one rank changes nothing"
else
    echo "FAIL a communicator of one rank"; failed=1
fi
for n in 2 5; do
    "$mpiexec" -np "$n" --oversubscribe "$step" train "$dir/n$n.safetensors" >"$dir/out$n" 2>&1 || {
        cat "$dir/out$n"; echo "FAIL $n ranks: the run failed"; failed=1; continue; }
    if "$step" compare "$dir/one.safetensors" "$dir/n$n.safetensors" "$dir/init.safetensors"; then
        echo "PASS $n ranks equal one process"
    else
        echo "FAIL $n ranks differ from one process"; failed=1
    fi
done
# Batch norms: synchronized (--sync-bn), 2 and 5 ranks (empty shards in the last batch)
# train as one process, moving statistics included; per shard they must not.
"$step" train "$dir/one-bn.safetensors" --init "$dir/init-bn.safetensors" --bn || failed=1
for n in 2 5; do
    "$mpiexec" -np "$n" --oversubscribe "$step" train "$dir/n$n-bn.safetensors" --bn \
        >"$dir/out$n-bn" 2>&1 || {
        cat "$dir/out$n-bn"; echo "FAIL $n ranks, --sync-bn: the run failed"; failed=1; continue; }
    if "$step" compare "$dir/one-bn.safetensors" "$dir/n$n-bn.safetensors" \
        "$dir/init-bn.safetensors"; then
        echo "PASS $n ranks with --sync-bn equal one process"
    else
        echo "FAIL $n ranks with --sync-bn differ from one process"; failed=1
    fi
done
if "$mpiexec" -np 2 --oversubscribe "$step" train "$dir/n2-local.safetensors" --local-bn \
    >"$dir/out2-local" 2>&1; then
    if "$step" compare "$dir/one-bn.safetensors" "$dir/n2-local.safetensors" \
        "$dir/init-bn.safetensors" 2>"$dir/cmp-local"; then
        echo "FAIL 2 ranks with per-shard batch norms equal one process: the check cannot fail"
        failed=1
    else
        echo "PASS 2 ranks with per-shard batch norms differ from one process: $(head -1 "$dir/cmp-local")"
    fi
else
    cat "$dir/out2-local"; echo "FAIL 2 ranks, per-shard batch norms: the run failed"; failed=1
fi
# Ranks that see different data refuse at once instead of falling out of step.
"$mpiexec" -np 2 --oversubscribe "$step" mismatch >"$dir/mismatch" 2>&1
if grep -q "rank 0: the ranks disagree on the training images: from 15 to 16" "$dir/mismatch" &&
    grep -q "rank 1: the ranks disagree on the training images" "$dir/mismatch"; then
    echo "PASS ranks with different data refuse, saying what differs"
else
    cat "$dir/mismatch"; echo "FAIL ranks with different data"; failed=1
fi
# Ranks given different --sync-bn would make different exchanges: refused at the start.
"$mpiexec" --oversubscribe -np 1 "$step" train "$dir/x.safetensors" --bn : -np 1 "$step" train \
    "$dir/x.safetensors" --local-bn >"$dir/sync-mismatch" 2>&1
if grep -q "rank 0: the ranks disagree on --sync-bn (1: on): from 0 to 1" "$dir/sync-mismatch" &&
    grep -q "rank 1: the ranks disagree on --sync-bn" "$dir/sync-mismatch"; then
    echo "PASS ranks given different --sync-bn refuse, naming it"
else
    cat "$dir/sync-mismatch"; echo "FAIL ranks given different --sync-bn"; failed=1
fi
# A rank that hangs: rank 0 gives up after its 8 s timeout, naming rank 1.
start=$(date +%s)
"$mpiexec" -np 2 --oversubscribe "$step" hang >"$dir/hang" 2>&1
took=$(( $(date +%s) - start ))
if grep -q "no answer from rank 1" "$dir/hang" && [ "$took" -lt 60 ]; then
    echo "PASS a hung rank is named within $took s"
else
    cat "$dir/hang"; echo "FAIL a hung rank was not named within 60 s ($took s)"; failed=1
fi
exit $failed
