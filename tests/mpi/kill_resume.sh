#!/bin/sh
# kill_resume.sh CLNET MPIEXEC - `mpirun -np 2 clnet train` with one rank killed (SIGKILL)
# mid-run: the other must stop within 60 s with the lost rank named, the checkpoint of
# the finished epochs must stay loadable, and --resume from it must complete the run, on
# another number of ranks (3). The model has a batch norm, synchronized (--sync-bn, kept by
# the checkpoint for the resumed run).
set -u
clnet=$1
mpiexec=$2
. "$(dirname "$0")/env.sh"
# Two classes of 12x9 gray images, dark and light, with some noise.
for c in dark light; do
    mkdir -p "$dir/data/$c"
    for i in $(seq 1 40); do
        { printf 'P5 12 9 255\n'; head -c 108 /dev/urandom | tr '\000-\377' "$([ $c = dark ] && echo '\020-\217\020-\217' || echo '\160-\357\160-\357')"; } \
            >"$dir/data/$c/$i.pgm"
    done
done
cat >"$dir/m.spec" <<'SPEC'
[image]
op = input
shape = 9, 12, 1
[c1]
op = conv2d
filters = 8
kernel_size = 3
padding = same
use_bias = false
[bn]
op = batch_norm
activation = relu
[pool]
op = global_avg_pool
[logits]
op = dense
units = 2
SPEC
"$mpiexec" -np 2 --oversubscribe "$clnet" train --model "$dir/m.spec" --data "$dir/data" --epochs 100000 \
    --batch 8 --sync-bn --out "$dir/k.safetensors" >"$dir/log" 2>&1 &
launcher=$!
for i in $(seq 1 240); do [ -e "$dir/k.safetensors.ckpt" ] && break; sleep 0.5; done
rank1=$(pgrep -f "train --model $dir/m.spec" | tail -1)
if [ ! -e "$dir/k.safetensors.ckpt" ] || [ -z "$rank1" ]; then
    cat "$dir/log"; echo "FAIL no checkpoint after 120 s"; kill "$launcher"; exit 1
fi
start=$(date +%s)
kill -9 "$rank1"
wait "$launcher"
took=$(( $(date +%s) - start ))
if [ "$took" -lt 60 ] && grep -q "rank 1 .*exited on signal 9" "$dir/log" &&
    grep -q "rank 0: stopped by the MPI launcher" "$dir/log"; then
    echo "PASS a killed rank stops the run in $took s, named"
else
    tr '\r' '\n' <"$dir/log" | tail -20; echo "FAIL the run did not stop naming rank 1 ($took s)"; failed=1
fi
# The epoch it was in when killed; the resumed run trains two more.
last=$(tr '\r' '\n' <"$dir/log" | sed -n 's|^Epoch \([0-9]*\)/.*|\1|p' | tail -1)
more=$(( ${last:-1} + 1 ))
if "$mpiexec" -np 3 --oversubscribe "$clnet" train --resume "$dir/k.safetensors.ckpt" --epochs "$more" \
    >"$dir/resumed" 2>&1 && tr '\r' '\n' <"$dir/resumed" | grep -q "^Epoch $more/$more" &&
    grep -q "^Saved " "$dir/resumed" && [ -s "$dir/k.safetensors" ] &&
    grep -q "^Data-parallel on 3 ranks (MPI): .*batch norms over the whole batch (--sync-bn)" "$dir/resumed" &&
    grep -q "^    3 ranks: after their backward, steps waited [0-9.]*s for the gradient exchange" "$dir/resumed"; then
    echo "PASS --resume after the kill trains on to epoch $more on 3 ranks"
else
    tr '\r' '\n' <"$dir/resumed" | tail -20; echo "FAIL --resume after the kill"; failed=1
fi
exit $failed
