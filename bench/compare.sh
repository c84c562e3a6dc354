#!/usr/bin/env bash
# compare.sh - clnet against the CPU frameworks on the same models, batch sizes and
# inputs, in one run (issue 5, item 7): PyTorch CPU, ONNX Runtime CPU, OpenCV DNN on the
# CPU and on its OpenCL target, each when present. Prints a table per scenario with the
# ratios peer/clnet (> 1: clnet faster). Peers: bench/compare/ (README.md there).
# A benchmark: exits 0 whatever the numbers; 1 only if clnet itself cannot be run, 2 on
# a bad option. Never part of clnet's build or tests.
#
#   bench/compare.sh [--quick] [--models a,b] [--repeats R] [--json FILE] [--train]
#                    [--no-train] [--no-opencl] [--install] [--cache DIR] [--timeout S]
#                    [--gemm] [--trans NN|NT|TN|TT]
#
# Scenarios (models as clnet's zoo names them):
#   inference 224x224x3, batch 1 and 8: resnet18 resnet50 mobilenetv2 mnasnet, or any
#             of --models from the zoo's torchvision families (the list below)
#   training  64x64x3, batch 32: resnet18 resnet50 mobilenetv2 (clnet and torch only)
#   training  28x28x1, batch 128: resnet18 (clnet and torch only)
# --quick: inference at batch 1 only, resnet18 and mobilenetv2, 3 repeats (add --train
# for the training scenarios). --gemm: instead of models, bench_gemm's packed kernel
# against OpenBLAS SGEMM (numpy, openblas_gemm.py) per shape, GFLOP/s and their ratio
# (op(A), op(B) as --trans). Every framework gets 2 threads (the CPU the device has).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
here=bench/compare

usage() { sed -n '2,21s/^# \{0,1\}//p' "$0"; }

quick=0 models="" repeats="" json="" train="" opencl=1 install=0
cache=build/compare-cache timeout_s=1800 gemm=0 trans=NN
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --models) models=${2:?--models needs a list}; shift ;;
    --repeats) repeats=${2:?--repeats needs a number}; shift ;;
    --json) json=${2:?--json needs a file}; shift ;;
    --train) train=1 ;;
    --no-train) train=0 ;;
    --no-opencl) opencl=0 ;;
    --install) install=1 ;;
    --cache) cache=${2:?--cache needs a directory}; shift ;;
    --timeout) timeout_s=${2:?--timeout needs seconds}; shift ;;
    --gemm) gemm=1 ;;
    --trans) trans=${2:?--trans needs NN, NT, TN or TT}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if [ "$quick" = 1 ]; then
    : "${models:=resnet18,mobilenetv2}" "${repeats:=3}" "${train:=0}"
    batches=1
else
    : "${models:=resnet18,resnet50,mobilenetv2,mnasnet}" "${repeats:=10}" "${train:=1}"
    batches=1,8
fi
case "$repeats" in '' | *[!0-9]* | 0) echo "compare.sh: --repeats must be a positive number" >&2; exit 2 ;; esac
# OpenCV's OpenCL target takes about a second per ResNet-18 image on POCL: fewer repeats.
ocl_repeats=$((repeats < 3 ? repeats : 3))
models=$(echo "$models" | tr ' ' ',' | sed 's/mobilenet_v2/mobilenetv2/g; s/mnasnet1_0/mnasnet/g')
mkdir -p "$cache" || exit 1
cache=$(cd "$cache" && pwd)

say() { echo "[compare] $*" >&2; }
# The models of the list $1 that are also in the comma list $2, comma-joined.
pick() { local out="" m; for m in ${1//,/ }; do case ",$2," in *",$m,"*) out+="${out:+,}$m" ;; esac; done; echo "$out"; }
# Runs a command under the timeout with its stderr kept in $err_file.
err_file=$(mktemp) out_file=$(mktemp) times_file=$(mktemp)
trap 'rm -f "$err_file" "$out_file" "$times_file" "${tmp_json:-}"' EXIT
# The machine is shared: how much of the CPU other processes took while a framework ran
# (the machine's busy time from /proc/stat, steal included, less this script's children's
# CPU time) goes into its records, so the table can say which numbers are inflated.
busy_s() { awk '/^cpu /{printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit}' /proc/stat; }
# The children's CPU seconds from `times`, which must run in this shell (not in $(...)).
child_s() {
    awk 'function s(t) { split(t, a, "m"); return a[1] * 60 + a[2] }
         NR == 2 { sub(/s$/, "", $1); sub(/s$/, "", $2); printf "%.2f", s($1) + s($2) }' "$times_file"
}
ncpu=$(nproc)
other_pct=0  # the highest share since the last collect
run() {
    local b0 c0 t0 rc pct
    times >"$times_file"
    b0=$(busy_s) c0=$(child_s) t0=$(date +%s.%N)
    timeout --kill-after=10 "$timeout_s" "$@" 2>"$err_file"
    rc=$?
    times >"$times_file"
    pct=$(awk -v b0="$b0" -v b1="$(busy_s)" -v c0="$c0" -v c1="$(child_s)" -v t0="$t0" \
        -v t1="$(date +%s.%N)" -v n="$ncpu" -v prev="$other_pct" 'BEGIN {
            p = (t1 > t0) ? 100 * ((b1 - b0) - (c1 - c0)) / ((t1 - t0) * n) : 0
            if (p < 0) p = 0
            printf "%.0f", (p > prev) ? p : prev }')
    other_pct=$pct
    return $rc
}
# Why the last run failed: its exit code and the last line it wrote to stderr.
why() {
    local rc=$1 last
    last=$(grep -v '^\s*$' "$err_file" | grep -v 'WARN' | tail -n 1 | cut -c1-240)
    [ "$rc" = 124 ] && echo "timed out after ${timeout_s}s" && return
    echo "exit $rc${last:+: $last}"
}

# Debian's python has torch and cv2; the `python3` first on PATH may be another one.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -z "$py" ]; then
    echo "compare.sh: no python3 to write the report with" >&2
    exit 1
fi

if [ "$install" = 1 ]; then
    say "installing peers: Debian python3-torch python3-torchvision python3-opencv, npm onnxruntime-node"
    if command -v apt-get >/dev/null; then
        apt-get install -y python3-torch python3-torchvision python3-opencv >&2 ||
            say "apt-get install failed (run apt-get update first?)"
    fi
    if command -v npm >/dev/null; then
        (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund >&2) || say "npm ci failed"
    fi
fi

if [ "$gemm" = 1 ]; then
    case "$trans" in NN | NT | TN | TT) ;; *) echo "compare.sh: --trans must be NN, NT, TN or TT" >&2; exit 2 ;; esac
    bench_gemm=${CLNET_BENCH_GEMM:-build/bench/bench_gemm}
    if [ ! -x "$bench_gemm" ]; then
        echo "compare.sh: no $bench_gemm: build it first (cmake --build build)" >&2
        exit 1
    fi
    gemm_json=$(mktemp)
    trap 'rm -f "$err_file" "$out_file" "$times_file" "$gemm_json"' EXIT
    say "clnet: $bench_gemm --impl packed --trans $trans"
    run "$bench_gemm" --impl packed --trans "$trans" --repeats "$repeats" >>"$gemm_json" ||
        say "bench_gemm: $(why $?)"
    grep -v '^\s*$' "$err_file" | head -n 1 | sed 's/^/[compare] /' >&2
    clnet_other=$other_pct other_pct=0
    run "$py" "$here/openblas_gemm.py" --trans "$trans" --repeats "$repeats" >>"$gemm_json" ||
        say "openblas_gemm.py: $(why $?)"
    sed 's/^/[compare] /' "$err_file" >&2
    "$py" "$here/report.py" gemm "$gemm_json"
    echo "  CPU taken by other processes while each ran: clnet ${clnet_other}%, OpenBLAS ${other_pct}%" \
        "(over 20%: those figures are low)"
    exit 0
fi

# clnet: the CLI's `bench model`.
clnet=${CLNET_BIN:-}
[ -z "$clnet" ] && [ -x build/clnet ] && clnet=build/clnet
[ -z "$clnet" ] && clnet=$(command -v clnet || true)
if [ -z "$clnet" ] || ! "$clnet" bench model --help >/dev/null 2>&1; then
    echo "compare.sh: no clnet with 'bench model': build it first" \
        "(cmake -S . -B build && cmake --build build)" >&2
    exit 1
fi
say "clnet: $clnet bench model"

# Peers, each only when present.
have_torch=0 have_ort=0 have_cv=0 have_ocl=0
if v=$("$py" -c 'import torch, torchvision; print(torch.__version__, torchvision.__version__)' 2>/dev/null); then
    have_torch=1
    say "torch: $v ($py, 2 threads)"
else
    say "torch: not found ($py cannot import torch and torchvision; Debian python3-torch python3-torchvision)"
fi
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
    say "ORT: not found (cd $here && npm ci --ignore-scripts, or compare.sh --install)"
elif ! command -v node >/dev/null; then
    say "ORT: not found (no node)"
elif [ "$have_torch" = 0 ]; then
    say "ORT: skipped: the ONNX files are exported with torch"
else
    have_ort=1
    say "ORT: onnxruntime-node $(node -p "require('./$here/node_modules/onnxruntime-node/package.json').version") (node $(node --version), 2 intra-op threads)"
fi
if ! v=$("$py" -c 'import cv2; print(cv2.__version__)' 2>/dev/null); then
    say "OpenCV: not found ($py cannot import cv2; Debian python3-opencv)"
elif [ "$have_torch" = 0 ]; then
    say "OpenCV: skipped: the ONNX files are exported with torch"
else
    have_cv=1
    say "OpenCV: $v (DNN, CPU target, 2 threads)"
    if [ "$opencl" = 0 ]; then
        say "OpenCV-OpenCL: skipped (--no-opencl)"
    elif d=$(OPENCV_OPENCL_DEVICE=:: "$py" -c 'import cv2; cv2.ocl.setUseOpenCL(True); assert cv2.ocl.useOpenCL(); print(cv2.ocl.Device_getDefault().name())' 2>/dev/null); then
        have_ocl=1
        say "OpenCV-OpenCL: DNN_TARGET_OPENCL on '$d' ($ocl_repeats repeats)"
    else
        say "OpenCV-OpenCL: no OpenCL device that OpenCV can use"
    fi
fi

if [ -n "$json" ]; then
    raw=$json
    : >"$raw" || exit 1
else
    tmp_json=$(mktemp)
    raw=$tmp_json
fi

# collect FRAMEWORK INPUT MODE MODELS BATCHES ERROR [SOURCE]: $out_file to records in $raw.
collect() {
    "$py" "$here/report.py" collect --framework "$1" --input "$2" --mode "$3" --models "$4" \
        --batch "$5" --error "$6" --source "${7:-}" --other-cpu "$other_pct" <"$out_file" >>"$raw"
    other_pct=0
}

# clnet_run INPUT MODE MODELS BATCHES
clnet_run() {
    local inp=$1 mode=$2 ms=$3 bs=$4 m rc err=""
    local extra=()
    : >"$out_file"
    [ "$mode" = training ] && extra=(--train)
    for m in ${ms//,/ }; do
        say "clnet $mode $inp $m batch $bs"
        err=""
        run "$clnet" bench model "$m" --input "$inp" --batch "$bs" --repeats "$repeats" \
            "${extra[@]}" --json >"$out_file"
        rc=$?
        [ $rc != 0 ] && err=$(why $rc) && say "clnet $m: $err"
        collect clnet "$inp" "$mode" "$m" "$bs" "$err" "clnet bench model"
    done
}

# peer_run FRAMEWORK INPUT MODE MODELS BATCHES COMMAND...
peer_run() {
    local fw=$1 inp=$2 mode=$3 ms=$4 bs=$5 rc err=""
    shift 5
    say "$fw $mode $inp $ms batch $bs"
    run "$@" >"$out_file"
    rc=$?
    [ $rc != 0 ] && err=$(why $rc) && say "$fw: $err"
    collect "$fw" "$inp" "$mode" "$ms" "$bs" "$err"
}

# export_onnx MODELS: the opset-13 files that ORT and OpenCV read, cached in $cache.
export_onnx() {
    say "exporting ONNX (opset 13, random weights) to $cache"
    run "$py" "$here/torch_bench.py" export --models "$1" --input 224x224x3 --opset 13 \
        --dir "$cache" >/dev/null || say "ONNX export: $(why $?)"
}

# The zoo models the peers build too (torch_bench.py's TORCHVISION names them).
known=resnet18,resnet34,resnet50,mobilenetv2,mnasnet,mobilenetv3_large,mobilenetv3_small
known+=,efficientnet_b0,efficientnet_b1,efficientnet_b2,efficientnet_b3,squeezenet1_1
known+=,densenet121,resnext50_32x4d,resnext101_32x8d,resnext101_64x4d,regnet_y_400mf
known+=,regnet_y_800mf,regnet_y_1_6gf,regnet_y_3_2gf,regnet_y_8gf,regnet_y_16gf,regnet_y_32gf
known+=,shufflenet_v2_x1_0,shufflenet_v2_x0_5,convnext_tiny,convnext_small,convnext_base,convnext_large
infer_models=$(pick "$models" "$known")
unknown=$(for m in ${models//,/ }; do case ,$known, in *",$m,"*) ;; *) echo -n "$m " ;; esac; done)
[ -n "$unknown" ] && say "not compared (not in the peers' list): $unknown"

start=$(date +%s)
if [ -n "$infer_models" ]; then
    inp=224x224x3
    clnet_run $inp inference "$infer_models" "$batches"
    [ "$have_torch" = 1 ] && peer_run torch $inp inference "$infer_models" "$batches" \
        "$py" "$here/torch_bench.py" infer --models "$infer_models" --input $inp \
        --batch "$batches" --repeats "$repeats"
    [ $((have_ort + have_cv)) -gt 0 ] && export_onnx "$infer_models"
    [ "$have_ort" = 1 ] && peer_run ort $inp inference "$infer_models" "$batches" \
        node "$here/ort_bench.js" --dir "$cache" --models "$infer_models" --input $inp \
        --batch "$batches" --repeats "$repeats"
    [ "$have_cv" = 1 ] && peer_run opencv $inp inference "$infer_models" "$batches" \
        "$py" "$here/opencv_bench.py" --target cpu --dir "$cache" --models "$infer_models" \
        --input $inp --batch "$batches" --repeats "$repeats"
    [ "$have_ocl" = 1 ] && peer_run opencv-ocl $inp inference "$infer_models" "$batches" \
        "$py" "$here/opencv_bench.py" --target opencl --dir "$cache" --models "$infer_models" \
        --input $inp --batch "$batches" --repeats "$ocl_repeats"
fi
if [ "$train" = 1 ]; then
    # ORT and OpenCV DNN only infer: training is clnet against torch.
    for scenario in "64x64x3 32 resnet18,resnet50,mobilenetv2" "28x28x1 128 resnet18"; do
        read -r inp b list <<<"$scenario"
        ms=$(pick "$models" "$list")
        [ -z "$ms" ] && continue
        clnet_run "$inp" training "$ms" "$b"
        [ "$have_torch" = 1 ] && peer_run torch "$inp" training "$ms" "$b" \
            "$py" "$here/torch_bench.py" train --models "$ms" --input "$inp" --batch "$b" \
            --repeats "$repeats"
    done
fi

echo
echo "clnet vs CPU frameworks, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$repeats repeats (OpenCV-OpenCL $ocl_repeats), $(($(date +%s) - start)) s"
if [ "$train" = 1 ]; then
    echo "training step: clnet = clnet bench model --train (forward, loss, backward, SGD update);" \
        "torch = zero_grad, forward, loss, backward, SGD update"
fi
"$py" "$here/report.py" table "$raw"
[ -n "$json" ] && echo && echo "raw records: $json"
exit 0
