#!/usr/bin/env bash
# onnx_export_check.sh - clnet_model_export_onnx against ONNX Runtime: each zoo model with
# seeded random weights is exported and run by clnet (build/bench/bench_onnx_export_logits),
# then ONNX Runtime runs the file on the same input (onnx_export_check.js); prints max
# |ORT - clnet| / max |clnet logit| per model and exits 1 when any is above 1e-4 or fails.
# A check tool, not a test: ONNX Runtime (npm onnxruntime-node, `cd bench/compare && npm ci
# --ignore-scripts`) is not a clnet dependency.
#
#   bench/compare/onnx_export_check.sh [--input HxWxC] [--classes N] [--batch N] [--nhwc]
#                                      [--style S] [--shortcut-a] [--build DIR] [--dir DIR]
#                                      [MODEL ...]
#
# Models: the zoo's names (default: all of them, bench_onnx_export_logits --list), or text
# spec files (FILE.spec, at --input; onnx_export_ops.spec exercises the rarer ops). Defaults:
# 224x224x3, 1000 classes, batch 2, build directory build, files in DIR (default a new
# temporary directory, removed afterwards). --style keras and --shortcut-a are the zoo's
# ResNet options (zero_pad, channel_pad).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

input=224x224x3 classes=1000 batch=2 nhwc="" build="$root/build" dir="" zoo=()
while [ $# -gt 0 ]; do
    case "$1" in
    --input) input=${2:?--input needs HxWxC}; shift ;;
    --classes) classes=${2:?--classes needs a number}; shift ;;
    --batch) batch=${2:?--batch needs a number}; shift ;;
    --nhwc) nhwc=--nhwc ;;
    --style) zoo+=(--style "${2:?--style needs torch or keras}"); shift ;;
    --shortcut-a) zoo+=(--shortcut-a) ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    --dir) dir=${2:?--dir needs a directory}; shift ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "onnx_export_check: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done

tool="$build/bench/bench_onnx_export_logits"
[ -x "$tool" ] || { echo "onnx_export_check: no $tool (build the benches first)" >&2; exit 1; }
[ -d "$here/node_modules/onnxruntime-node" ] ||
    { echo "onnx_export_check: cd bench/compare && npm ci --ignore-scripts" >&2; exit 1; }
models=("$@")
[ ${#models[@]} -gt 0 ] || mapfile -t models < <("$tool" --list)
keep=1
if [ -z "$dir" ]; then
    dir=$(mktemp -d) keep=0
fi
mkdir -p "$dir"
export CLNET_CACHE_DIR=${CLNET_CACHE_DIR:-$build/program-cache}

echo "input $input, $classes classes, batch $batch${nhwc:+, NHWC input}${zoo[*]:+, ${zoo[*]}}"
printf '%-22s %10s %10s %10s\n' model "max|diff|" "max|logit|" ratio
failed=0
for m in "${models[@]}"; do
    n=$(basename "$m" .spec) # a spec's files are named after it
    if ! "$tool" "$m" "$input" "$classes" "$dir" --batch "$batch" $nhwc "${zoo[@]}" >"$dir/$n.log" 2>&1; then
        printf '%-22s FAIL: %s\n' "$n" "$(tail -n 1 "$dir/$n.log")"
        failed=1
        continue
    fi
    node "$here/onnx_export_check.js" --dir "$dir" --models "$n" --input "$input" \
        --batch "$batch" $nhwc || failed=1
    [ "$keep" = 1 ] || rm -f "$dir/$n".*
done
[ "$keep" = 1 ] || rm -rf "$dir"
exit $failed
