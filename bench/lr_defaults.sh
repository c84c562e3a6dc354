#!/bin/sh
# lr_defaults.sh DATA [EPOCHS] [INPUT] - trains every zoo model (and style) at batch 32
# with clnet train's default learning rate for each optimizer and prints the last
# epoch's figures, or the error when a run diverges. What the defaults were chosen by.
# OPTS="sgd" limits the optimizers (default: sgd adam).
clnet=${CLNET:-build/clnet}
data=$1 epochs=${2:-5} input=${3:-96x96x3}
out=$(mktemp -d)
for opt in ${OPTS:-sgd adam}; do
    for cfg in "resnet18 torch" "resnet34 torch" "resnet50 torch" "resnet50 keras" \
        "resnet101 torch" "resnet152 torch" "mobilenetv2 torch" "mobilenetv2 keras" \
        "mnasnet torch"; do
        set -- $cfg
        log="$out/$1-$2-$opt.log"
        "$clnet" train --model "$1" --style "$2" --input "$input" --data "$data" --optimizer "$opt" \
            --epochs "$epochs" --batch 32 --out "$out/m.safetensors" >"$log" 2>&1
        code=$?
        last=$(grep -E "^ *[0-9]+/[0-9]+ \[=+\] - [0-9]+s" "$log" | tail -1 | sed 's/.*s - //')
        val=$(grep "val_loss" "$log" | tail -1 | sed 's/ - [0-9.]* img.*//; s/^ *//')
        printf '%-18s %-5s exit %d  %s  %s\n' "$1 $2" "$opt" "$code" "$last" "$val"
        [ $code -ne 0 ] && grep "clnet train" "$log" | tail -2
    done
done
rm -rf "$out"
