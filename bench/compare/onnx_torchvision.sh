#!/usr/bin/env bash
# onnx_torchvision.sh - the ONNX importer's table: torchvision's models exported by torch
# (bench/compare/onnx_torchvision.py), run by clnet (build/bench/bench_onnx_logits) and by
# ONNX Runtime (onnx_ort_logits.js), each compared with torch's logits. A check and a
# benchmark, never a test: it exits 0 whatever the numbers.
#
#   bench/compare/onnx_torchvision.sh [--out DIR] [--models a,b] [--opsets 13,17] [--repeats N]
#   bench/compare/onnx_torchvision.sh --fixtures tests/onnx/fixtures [--repeats N]
#
# --out DIR keeps the exported models there and reuses those already in it (default: a
# temporary directory, removed at the end); --fixtures DIR runs every <name>_op<k>/ of DIR
# as it is (the small committed fixtures: no Python needed). One row per model and opset:
# clnet's largest logit error relative to the largest logit, in how many rows its argmax
# agrees, its median ms per inference, ONNX Runtime's median ms and relative error (2
# intra-op threads). A model clnet cannot import prints clnet's error line under its row.
# Needs: /usr/bin/python3 with python3-torch and python3-torchvision (unless --fixtures),
# bench_onnx_logits built (CLNET_ONNX_LOGITS or --bin), and for ONNX Runtime
# `cd bench/compare && npm ci --ignore-scripts`.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

out="" fixtures="" models="" opsets="13,17" repeats=10
bin="${CLNET_ONNX_LOGITS:-$root/build/bench/bench_onnx_logits}"
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out="$2"; shift 2 ;;
    --fixtures) fixtures="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --opsets) opsets="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "onnx_torchvision.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -n "$fixtures" ]; then
    dir="$(cd "$fixtures" && pwd)" || exit 1
else
    if [ -z "$out" ]; then
        out="$(mktemp -d)"
        trap 'rm -rf "$out"' EXIT
    fi
    mkdir -p "$out" && dir="$(cd "$out" && pwd)" || exit 1
    all="$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import onnx_torchvision as t; print(",".join(t.MODELS))' "$here")" ||
        { echo "onnx_torchvision.sh: /usr/bin/python3 cannot import torch/torchvision" >&2; exit 1; }
    missing=""
    IFS=, read -ra want <<<"${models:-$all}"
    IFS=, read -ra ops <<<"$opsets"
    for m in "${want[@]}"; do
        for k in "${ops[@]}"; do
            if [ ! -f "$dir/${m}_op$k/test_data_set_0/output_0.pb" ]; then
                missing="$missing,$m"
                break
            fi
        done
    done
    if [ -n "$missing" ]; then
        echo "exporting ${missing#,} (opsets $opsets) into $dir"
        /usr/bin/python3 "$here/onnx_torchvision.py" --out "$dir" --models "${missing#,}" --opsets "$opsets"
    fi
fi

cases=()
if [ -n "$fixtures" ]; then
    for d in "$dir"/*_op*/; do
        [ -f "$d/model.onnx" ] && cases+=("${d%/}")
    done
else
    for m in "${want[@]}"; do
        for k in "${ops[@]}"; do
            cases+=("$dir/${m}_op$k")
        done
    done
fi

ort=1
if ! (cd "$here" && node -e 'require("onnxruntime-node")' 2>/dev/null); then
    ort=0
    echo "ONNX Runtime: not installed (cd bench/compare && npm ci --ignore-scripts)"
fi
[ -x "$bin" ] || echo "clnet: no $bin (build it: cmake --build build --target bench_onnx_logits)"

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2" | tr -d '"'; }
# printf's %e / %f of a number; anything else ("-", "error") as it is.
# shellcheck disable=SC2059 # the format is the argument
num() { if [[ "$2" =~ ^[0-9][0-9.eE+-]*$ ]]; then printf "$1" "$2"; else printf '%s' "$2"; fi; }

printf '%-22s %5s %13s %7s %10s %10s %12s\n' model opset "clnet rel err" argmax "clnet ms" "ORT ms" "ORT rel err"
for c in "${cases[@]}"; do
    name="$(basename "$c")"
    model="${name%_op*}" opset="${name##*_op}"
    cl_err="-" cl_arg="-" cl_ms="-" note=""
    if [ ! -f "$c/model.onnx" ]; then
        note="no model.onnx (export failed: see above)"
        cl_err="error"
    elif [ -x "$bin" ]; then
        line="$("$bin" "$c" --repeats "$repeats" 2>&1 | tail -n 1)"
        if [[ "$line" == *"max_rel_err "* ]]; then
            read -r cl_err cl_arg cl_ms <<<"$(sed -n 's/.*max_rel_err \([^ ]*\) argmax \([^ ]*\) median_ms \([^ ]*\).*/\1 \2 \3/p' <<<"$line")"
        else
            cl_err="error" note="clnet: ${line#"$c: "}"
        fi
    fi
    o_ms="-" o_err="-"
    if [ "$ort" = 1 ] && [ -f "$c/model.onnx" ]; then
        j="$(cd "$here" && node onnx_ort_logits.js "$c" --repeats "$repeats" 2>&1 | tail -n 1)"
        if [[ "$j" == *'"median_ms"'* ]]; then
            o_ms="$(field median_ms "$j")" o_err="$(field max_rel_err "$j")"
        else
            o_ms="error" note="${note:+$note; }ORT: $(sed -n 's/.*"error":"\(.*\)"}$/\1/p' <<<"$j")"
        fi
    fi
    printf '%-22s %5s %13s %7s %10s %10s %12s\n' "$model" "$opset" "$(num %.2e "$cl_err")" \
        "$cl_arg" "$(num %.2f "$cl_ms")" "$(num %.2f "$o_ms")" "$(num %.2e "$o_err")"
    [ -n "$note" ] && echo "    $note"
done
exit 0
