#!/usr/bin/env bash
# fmnist_race.sh - time to accuracy on Fashion-MNIST, clnet and PyTorch in the same window:
# clnet's recipe (`clnet train` on idx:/usr/share/datasets/fashion-mnist, then `clnet eval`
# on the 10,000 test images) and PyTorch's ResNet-18 with a one-cycle schedule
# (fmnist_torch.py, test accuracy after every epoch). A benchmark, never a test.
#
#   bench/compare/fmnist_race.sh [--clnet-only | --torch-only] [--out DIR]
#       [--clnet "TRAIN OPTIONS"] [--torch "fmnist_torch.py OPTIONS"]
#
# clnet's time is the wall time of the whole `clnet train` process (start-up, data, the
# epochs, the closing batch-norm statistics; no validation, --val 0), so it is the
# pessimistic one; PyTorch's is its training loops alone (fmnist_torch.py's train_s).
# Needs build/clnet (or CLNET_BIN) and, for PyTorch, /usr/bin/python3 with python3-torch
# and python3-torchvision.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
clnet="${CLNET_BIN:-$root/build/clnet}"
fm=/usr/share/datasets/fashion-mnist
out="" run_clnet=1 run_torch=1
clnet_args="--model $root/samples/models/fashion_resnet.spec --epochs 3 --batch 128 --schedule onecycle --lr 0.2"
torch_args="--epochs 10"
while [ $# -gt 0 ]; do
    case "$1" in
    --clnet-only) run_torch=0; shift ;;
    --torch-only) run_clnet=0; shift ;;
    --out) out="$2"; shift 2 ;;
    --clnet) clnet_args="$2"; shift 2 ;;
    --torch) torch_args="$2"; shift 2 ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "fmnist_race.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -d "$fm" ] || { echo "fmnist_race.sh: $fm is missing (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
if [ -z "$out" ]; then
    out="$(mktemp -d)"
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

if [ $run_clnet = 1 ]; then
    echo "== clnet train $clnet_args"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086 # the options are words on purpose
    "$clnet" train --data "idx:$fm" --val 0 $clnet_args --out "$out/fmnist.safetensors" \
        --log "$out/clnet.csv" </dev/null | grep -E '^(Epoch|Optimizer|Model)' | tail -3
    t1=$(date +%s.%N)
    acc=$("$clnet" eval "$out/fmnist.safetensors" --data "idx:$fm" |
        sed -n 's/.* top-1 \([0-9.]*\) .*/\1/p' | head -1)
    printf 'clnet: %.1f s of training (the whole process), test accuracy %s\n' \
        "$(echo "$t1 - $t0" | bc)" "$acc"
fi
if [ $run_torch = 1 ]; then
    echo "== PyTorch: fmnist_torch.py $torch_args"
    # shellcheck disable=SC2086
    /usr/bin/python3 "$here/fmnist_torch.py" $torch_args | tee "$out/torch.jsonl" | tail -1
fi
