#!/bin/sh
# test_cli.sh CLNET - the clnet command's exit codes and messages for the error
# paths of `devices` and `selftest`, and a passing selftest of the device's class.
clnet="$1"
fails=0 passes=0
check() { # name, expected exit ("0" or "nonzero"), pattern, command... ($out keeps the output)
    name=$1 want=$2 pat=$3
    shift 3
    out=$("$@" 2>&1)
    code=$?
    # LeakSanitizer's stop-the-world tracer itself crashes now and then at exit (a known
    # sanitizer flake, google/sanitizers#1353): not a leak report, so run once more.
    if printf '%s' "$out" | grep -q "Tracer caught signal"; then
        echo "note: $name: LeakSanitizer's tracer crashed at exit; running it again"
        out=$("$@" 2>&1)
        code=$?
    fi
    ok=1
    if [ "$want" = 0 ] && [ $code -ne 0 ]; then ok=0; fi
    if [ "$want" = nonzero ] && [ $code -eq 0 ]; then ok=0; fi
    printf '%s' "$out" | grep -q -- "$pat" || ok=0
    if [ $ok = 1 ]; then passes=$((passes + 1)); echo "PASS $name"
    else fails=$((fails + 1)); echo "FAIL $name (exit $code): $out"; fi
}
check devices-lists-a-class 0 "class " "$clnet" devices
check no-platform nonzero "no OpenCL platform" env OCL_ICD_VENDORS=/nonexistent "$clnet" devices
check index-out-of-range nonzero "out of range" "$clnet" selftest --device 99
check unknown-device-name nonzero "no-such-name" "$clnet" selftest --device no-such-name
check bad-class nonzero "expected dgpu, igpu, cpu or all" "$clnet" selftest --class tpu
check bad-env-class nonzero "CLNET_DEVICE_CLASS=tpu" env CLNET_DEVICE_CLASS=tpu "$clnet" selftest
check unknown-command nonzero "unknown command" "$clnet" frobnicate
check selftest-passes 0 "selftest passed" "$clnet" selftest --verbose
# Our program cache, which POCL's quirk bypasses (CLNET_QUIRKS=none uses it there too).
check selftest-fills-our-cache 0 "selftest passed" env CLNET_QUIRKS=none "$clnet" selftest --verbose
check selftest-second-run-compiles-nothing 0 "programs: 0 built from source" env CLNET_QUIRKS=none "$clnet" selftest --verbose
spec=$(mktemp)
printf '[image]\nop = input\nshape = 28, 28, 1\n[conv]\nop = conv2d\nfilters = 8\nkernel_size = 3\n[pool]\nop = global_avg_pool\n[logits]\nop = dense\nunits = 10\n' >"$spec"
check summary-counts 0 "Total params: 170" "$clnet" summary "$spec"
printf '[image]\nop = input\nshape = 28, 28, 1\n[conv]\nop = conv2d\nkernel_size = 3\n' >"$spec"
check summary-bad-spec nonzero "line 4 \[conv\]: key 'filters'" "$clnet" summary "$spec"
check summary-missing-file nonzero "cannot read" "$clnet" summary /nonexistent/net.spec
rm -f "$spec"
dir=$(mktemp -d)
printf '[image]\nop = input\nshape = 28, 28, 1\n[conv <a&b>]\nop = conv2d\nfilters = 8\nkernel_size = 3\n[pool]\nop = global_avg_pool\n[logits]\nop = dense\nunits = 10\n' >"$dir/tiny.spec"
check graph-dot-writes-digraph 0 "^digraph" "$clnet" graph "$dir/tiny.spec" --dot
check graph-dot-escapes-names 0 "<b>conv &lt;a&amp;b&gt;</b>" "$clnet" graph "$dir/tiny.spec" --dot
check graph-dot-output-file 0 "^3$" sh -c '"$1" graph "$2" --dot --output "$3" && grep -c -- "->" "$3"' \
    sh "$clnet" "$dir/tiny.spec" "$dir/tiny.dot"
if command -v dot >/dev/null 2>&1; then
    check graph-dot-renders 0 "<svg" dot -Tsvg "$dir/tiny.dot"
else
    echo "SKIP graph-dot-renders (no Graphviz dot on PATH)"
fi
check graph-writes-dot-by-default 0 "^digraph" "$clnet" graph "$dir/tiny.spec"
# Images through Graphviz's dot (the library never runs it; the command does).
if command -v dot >/dev/null 2>&1; then
    check graph-output-svg 0 "^<svg" sh -c '"$1" graph "$2" --output "$3/t.svg" && grep "^<svg" "$3/t.svg"' \
        sh "$clnet" "$dir/tiny.spec" "$dir"
    check graph-output-png 0 "211 *P *N *G" sh -c '"$1" graph "$2" --output "$3/t.png" && od -An -c -N4 "$3/t.png"' \
        sh "$clnet" "$dir/tiny.spec" "$dir"
    check graph-plan-pdf 0 "%PDF" sh -c '"$1" graph "$2" --plan --output "$3/p.pdf" && head -c 5 "$3/p.pdf"' \
        sh "$clnet" "$dir/tiny.spec" "$dir"
    check graph-dot-flag-keeps-text 0 "^digraph" sh -c '"$1" graph "$2" --dot --output "$3/t2.svg" && head -1 "$3/t2.svg"' \
        sh "$clnet" "$dir/tiny.spec" "$dir"
else
    echo "SKIP graph-output-svg/png/pdf (no Graphviz dot on PATH)"
fi
check graph-image-without-dot nonzero "cannot run Graphviz's dot to draw .*install graphviz" \
    env PATH=/nonexistent "$clnet" graph "$dir/tiny.spec" --output "$dir/none.svg"
check graph-unknown-format nonzero "which format? name the file .svg, .png or .pdf" "$clnet" graph "$dir/tiny.spec" --output "$dir/t.jpeg"
check graph-plan-dot 0 "label=\"conv <a&b>.n.*implicit gemm" "$clnet" graph "$dir/tiny.spec" --dot --plan
check plan-fuses-conv-bn-relu 0 "layer1_0_conv3 + layer1_0_bn3 + layer1_0_add + layer1_0_relu" "$clnet" plan resnet50 --input 64x64x3 --classes 6
check plan-peak-memory 0 "Peak activation memory: .* MiB in [0-9]* buffers, scratch included" "$clnet" plan resnet50 --input 64x64x3 --classes 6
check plan-shows-scratch 0 "^Scratch: at most [0-9.]* MiB in one step" "$clnet" plan resnet50 --input 64x64x3 --classes 6
check plan-concat-in-place 0 "features_3_cat  *none: in place" "$clnet" plan squeezenet1_1 --input 64x64x3 --classes 6
check plan-concat-count 0 "^Concatenations in place: 8 " "$clnet" plan squeezenet1_1 --input 64x64x3 --classes 6
check plan-concat-producer 0 "features_3_expand3x3 .* -> features_3_cat\[64:128\]" "$clnet" plan squeezenet1_1 --input 64x64x3 --classes 6
check plan-training-records 0 "layer1_0_conv2 .*winograd F(2x2,3x3) + gemm .*dx: winograd + gemm [a-z]*; dw: im2col + gemm" env CLNET_DEVICE_CLASS=dgpu "$clnet" plan resnet50 --input 64x64x3 --classes 6 --training --batch 4
check plan-training 0 "Training plan, batch 4" "$clnet" plan mobilenetv2 --input 32x32x3 --training --batch 4
check plan-bad-batch nonzero "expected a positive number" "$clnet" plan resnet18 --batch 0
check graph-needs-a-model nonzero "which model?" "$clnet" graph --dot
# A path under a regular file: no one can create it, root included (CI runs as root, and its
# /nonexistent exists).
check graph-output-unwritable nonzero "cannot create .*tiny.spec/net.dot" "$clnet" graph "$dir/tiny.spec" --dot --output "$dir/tiny.spec/net.dot"
check graph-zoo-dot 0 "layer4_1_add" "$clnet" graph resnet18 --dot --input 64x64x3 --classes 10
rm -rf "$dir"
# The version, the ops and their keys, and what mistyped names suggest.
version=$(sed -n 's/^project(clnet VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
check version-is-cmakes 0 "^clnet $version\$" "$clnet" --version
check version-command 0 "^clnet $version\$" "$clnet" version
check help-lists-ops 0 "^  ops  *the ops a spec can use" "$clnet" --help
check ops-lists-keys 0 "kernel_size  *int or h, w, required" "$clnet" ops
check ops-lists-input 0 "^input  (Keras InputLayer)" "$clnet" ops
check ops-dense-softmax 0 "activation  *none|linear|relu|relu6|leaky_relu|.*|softmax (default none)" "$clnet" ops dense
check ops-by-keras-name 0 "^batch_norm  (Keras BatchNormalization)" "$clnet" ops BatchNormalization
check ops-json 0 '"name": "padding", "type": "valid|same' "$clnet" ops conv2d --json
check ops-unknown nonzero "no op is called 'softmx' (did you mean softmax?)" "$clnet" ops softmx
spec=$(mktemp)
printf '[image]\nop = input\nshape = 28, 28, 1\n\n[c1]\nop = Conv2D\nfilters = 8\nkernel_size = 3\n' >"$spec"
check spec-unknown-op-suggests nonzero "line 5 \[c1\]: unknown op 'Conv2D' (did you mean conv2d? \`clnet ops\` lists them: activation, add, avg_pool, " \
    "$clnet" summary "$spec"
printf '[image]\nop = input\nshape = 28, 28, 1\n\n[c1]\nop = conv2d\nfilters = 8\nkernel_size = 3\nstride = 2\n' >"$spec"
check spec-unknown-key-suggests nonzero "line 9 \[c1\]: key 'stride': unknown key for op conv2d (did you mean strides?" \
    "$clnet" summary "$spec"
rm -f "$spec"
check unknown-option-alias nonzero "unexpected argument '--batch-size' (did you mean --batch?)" "$clnet" graph resnet18 --batch-size 4
check unknown-option-typo nonzero "unexpected argument '--clases' (did you mean --classes?)" "$clnet" summary resnet18 --clases 10
check unknown-option-plan nonzero "unexpected argument '--train' (did you mean --training?)" "$clnet" plan resnet18 --train
check unknown-option-bench nonzero "unexpected argument '--training' (did you mean --train?)" "$clnet" bench model resnet18 --training
check unknown-option-selftest nonzero "unexpected argument '--devcie' (did you mean --device?)" "$clnet" selftest --devcie 0
check unknown-option-missing-value nonzero "selftest: --class needs a value" "$clnet" selftest --class
check unknown-option-none-close nonzero "unexpected argument '--frobnicate' (see --help)" "$clnet" devices --frobnicate
check unknown-command-suggests nonzero "unknown command 'trian' (did you mean train?)" "$clnet" trian
check unknown-bench-suggests nonzero "unknown bench 'modle' (did you mean model?)" "$clnet" bench modle
check zoo-name-any-case 0 "Total params: 11,191,242" "$clnet" summary ResNet-18 --input 32x32x3 --classes 10
check zoo-name-mobilenet-v2 0 "^Model: \"mobilenetv2\"" "$clnet" summary MobileNet_V2 --input 32x32x3
check summary-zoo-keras-resnet50 0 "Total params: 23,600,006" "$clnet" summary resnet50 --style keras --input 64x64x3 --classes 6
check summary-zoo-keras-resnet50-bn 0 "Non-trainable params: 53,120" "$clnet" summary resnet50 --style keras --input 64x64x3 --classes 6
check summary-zoo-keras-mobilenetv2 0 "Total params: 3,538,984" "$clnet" summary mobilenetv2 --style keras
check summary-zoo-torch-mnasnet 0 "Trainable params: 4,383,312" "$clnet" summary mnasnet --input=224x224
check summary-zoo-torch-squeezenet 0 "Trainable params: 1,235,496" "$clnet" summary SqueezeNet1_1
check summary-zoo-torch-resnext 0 "Trainable params: 25,028,904" "$clnet" summary ResNeXt-50_32x4d
check summary-zoo-torch-regnet 0 "Trainable params: 11,202,430" "$clnet" summary RegNetY-1.6GF
check summary-zoo-torch-convnext 0 "Trainable params: 28,589,128" "$clnet" summary ConvNeXt_Tiny
check summary-zoo-keras-refused nonzero "convnext_tiny has only the torch style" "$clnet" summary convnext_tiny --style keras
check summary-zoo-unknown nonzero "the zoo has resnet18, resnet34, resnet50, resnet101, resnet152, mobilenetv2, mnasnet" "$clnet" summary nosuchnet
check summary-zoo-bad-alpha nonzero "alpha 0.6 is not one of" "$clnet" summary mobilenetv2 --alpha 0.6
check summary-zoo-bad-input nonzero "expected HxWxC or HxW" "$clnet" summary resnet18 --input 64by64
check summary-zoo-small-input nonzero "pool1_pool.*too small" "$clnet" summary resnet18 --input 4x4x3 --style keras
check summary-zoo-fashion-mnist-size 0 "Trainable params: 11,175,370" "$clnet" summary resnet18 --input 28x28x1 --classes 10
check summary-zoo-missing-value nonzero "classes needs a value" "$clnet" summary resnet18 --classes
check summary-spec-takes-no-zoo-options nonzero "apply to zoo models only" "$clnet" summary "$(dirname "$0")/../../samples/models/resnet18.spec" --classes 10
spec=$(mktemp)
check spec-reads-back 0 "Total params: 25,610,152" sh -c '"$1" spec resnet50 >"$2" && "$1" summary "$2"' sh "$clnet" "$spec"
rm -f "$spec"
# Profiles: inference groups conv1 + bn1 + relu; training times the backward too.
check bench-model-profile-inference 0 '"mode":"inference".*"layers":\[{"layers":"conv1 + bn1 + relu"' \
    "$clnet" bench model resnet18 --input 32x32x3 --classes 10 --batch 2 --repeats 2 --profile --json
check bench-model-profile-training 0 '"mode":"training".*"layers":"bn1 + relu".*"backward_ms":0\.0*[1-9]' "$clnet" bench model resnet18 \
    --input 32x32x3 --classes 10 --batch 1,2 --train --repeats 2 --profile --json
# Frozen layers do no backward work: the stem's backward time is zero.
check bench-model-freeze 0 '"mode":"training","fused":true,"freeze":1.*"layers":"bn1 + relu","kernels":"[^"]*","forward_ms":[0-9.]*,"backward_ms":0\.0000,' \
    "$clnet" bench model resnet18 --input 32x32x3 --classes 10 --batch 2 --train --freeze 1 --repeats 1 --profile --json
check bench-model-bad-freeze nonzero "expected a number of layers" "$clnet" bench model resnet18 --freeze x
check bench-model-table 0 "inference     2" "$clnet" bench model mobilenetv2 --input 32x32x3 --batch 1,2 --repeats 2
check bench-model-bad-batch nonzero "expected sizes like 1,8,32" "$clnet" bench model resnet18 --batch 1,x
runs=$(mktemp -d)
"$clnet" bench model mobilenetv2 --input 32x32x3 --batch 2 --repeats 2 --json >"$runs/a.json" 2>&1
"$clnet" bench model mobilenetv2 --input 32x32x3 --batch 2 --repeats 2 --json --class dgpu >"$runs/b.json" 2>&1
check bench-compare-matches-runs 0 "mobilenetv2    32x32x3        2 inference" "$clnet" bench compare "$runs/a.json" "$runs/b.json"
printf '{"model":"other"}\n' >"$runs/c.json"
check bench-compare-no-match nonzero "no run of" "$clnet" bench compare "$runs/a.json" "$runs/c.json"
check bench-compare-missing nonzero "cannot read" "$clnet" bench compare "$runs/a.json" "$runs/none.json"
check bench-model-startup-warm-compiles-nothing 0 "warm .*(0 and 0 written: nothing compiled)" \
    "$clnet" bench model resnet18 --input 32x32x3 --classes 4 --repeats 1 --startup
db="$runs/tune.json"
check tune-stores-winners 0 "database $db: [1-9][0-9]* entries" "$clnet" tune resnet18 --input 32x32x3 \
    --classes 4 --batch 2 --repeats 2 --quiet --db "$db"
# The tuned column counts the GEMMs and convolution algorithms that came from an entry.
# Which algorithm wins each convolution, and so which GEMMs exist, is timing, but every
# convolution geometry with a choice gets an entry whatever won (11 here), and all 20 of
# resnet18's convolutions read theirs: at least 20.
check bench-model-uses-tuned 0 "inference     2 .* \([2-9]\|[1-9][0-9]\)[0-9]$" \
    env CLNET_TUNE_DB="$db" "$clnet" bench model resnet18 --input 32x32x3 --classes 4 \
    --batch 2 --repeats 2
printf 'not a database' >"$runs/bad.json"
check tune-broken-db-named nonzero "$runs/bad.json is not valid" "$clnet" tune resnet18 --input 32x32x3 --db "$runs/bad.json"
check tune-broken-db-kept 0 "^not a database$" cat "$runs/bad.json"
rm -rf "$runs"
# End to end on reduced Fashion-MNIST (Debian's dataset-fashion-mnist): train the
# small ResNet of samples/, evaluate it far above chance (10 classes), predict, and
# resume a run killed with SIGKILL.
fm=/usr/share/datasets/fashion-mnist
models=$(dirname "$0")/../../samples/models
if [ -f "$fm/train-images-idx3-ubyte.gz" ]; then
    data=$(mktemp -d /tmp/fashion-mnist.XXXXXX) # "fashion" in the name: the class names
    # idx headers (big-endian) with the reduced counts, then the first images / labels.
    # $1 file, $2 magic, $3 count (4 octal bytes), $4 bytes of data after the header.
    cut_idx() {
        if [ "$2" = 3 ]; then
            printf "\000\000\010\003$3\000\000\000\034\000\000\000\034"; skip=17
        else
            printf "\000\000\010\001$3"; skip=9
        fi
        zcat "$fm/$1" | tail -c +$skip | head -c "$4"
    }
    # 3000 training images; 1000 under the sanitizers (test.sh --sanitize), where the host
    # code is what is checked and how well the model learns is the normal run's to show.
    n=3000 count='\000\000\013\270'
    [ -n "${CLNET_TEST_SANITIZE:-}" ] && n=1000 count='\000\000\003\350'
    cut_idx train-images-idx3-ubyte.gz 3 "$count" $((n * 784)) >"$data/train-images-idx3-ubyte"
    cut_idx train-labels-idx1-ubyte.gz 1 "$count" "$n" >"$data/train-labels-idx1-ubyte"
    cut_idx t10k-images-idx3-ubyte.gz 3 '\000\000\003\350' $((1000 * 784)) >"$data/t10k-images-idx3-ubyte"
    cut_idx t10k-labels-idx1-ubyte.gz 1 '\000\000\003\350' 1000 >"$data/t10k-labels-idx1-ubyte"
    check train-small-resnet 0 "Saved $data/m.safetensors" "$clnet" train --model "$models/fashion_resnet.spec" \
        --data "idx:$data" --epochs 2 --batch 64 --lr 0.1 --out "$data/m.safetensors"
    # Far above chance (0.1): top-1 of at least 0.60 on the 1000 test images (0.40 after
    # the sanitizers' 1000 training images, which give about 0.66).
    above='top-1 0\.[6-9]'
    [ -n "${CLNET_TEST_SANITIZE:-}" ] && above='top-1 0\.[4-9]'
    check eval-far-above-chance 0 "$above" "$clnet" eval "$data/m.safetensors" --data "idx:$data"
    printf 'P5 28 28 255\n' >"$data/shoe.pgm"
    zcat "$fm/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c 784 >>"$data/shoe.pgm"
    check predict-names-a-class 0 "Ankle boot\|Sneaker\|Sandal" "$clnet" predict "$data/m.safetensors" "$data/shoe.pgm"
    check predict-json 0 '"class":' "$clnet" predict "$data/m.safetensors" "$data/shoe.pgm" --json --top 1
    head -c 3000 "$data/m.safetensors" >"$data/cut.safetensors"
    check predict-truncated-model nonzero "cut.safetensors" "$clnet" predict "$data/cut.safetensors" "$data/shoe.pgm"
    printf 'not an image' >"$data/bad.png"
    check predict-corrupt-image nonzero "bad.png" "$clnet" predict "$data/m.safetensors" "$data/bad.png"
    # A folder: every image below it, sorted; non-images skipped with a note. A JPEG
    # (a fuzzing seed) and the same cut short; a missing file; the issue's 11-byte PGM.
    jpeg=$(dirname "$0")/../../fuzz/corpus/image/orient6.jpg
    mkdir -p "$data/pf/sub"
    cp "$data/shoe.pgm" "$data/pf/a,b.pgm"
    cp "$jpeg" "$data/pf/sub/c.jpg"
    printf 'notes' >"$data/pf/notes.txt"
    check predict-folder 0 "pf/sub/c.jpg" "$clnet" predict "$data/m.safetensors" "$data/pf" --top 1
    check predict-folder-skips-non-images 0 "skipped $data/pf/notes.txt: not an image" printf '%s' "$out"
    check predict-csv-header 0 "^image,class_1,probability_1,class_2,probability_2$" "$clnet" predict \
        "$data/m.safetensors" "$data/pf" --csv --top 2
    check predict-csv-quotes-a-comma 0 "^\"$data/pf/a,b.pgm\",[^,]*,0\.[0-9]*,[^,]*,0\.[0-9]*$" \
        printf '%s' "$out"
    head -c 300 "$jpeg" >"$data/cut.jpg"
    printf 'P5\n0 4\n255\n' >"$data/zero.pgm"
    check predict-missing-file nonzero "$data/missing.jpg: no such file" "$clnet" predict "$data/m.safetensors" \
        "$data/missing.jpg" "$data/cut.jpg" "$data/zero.pgm" "$data/shoe.pgm"
    check predict-truncated-jpeg 0 "$data/cut.jpg: truncated or corrupt JPEG (" printf '%s' "$out"
    check predict-zero-side 0 "$data/zero.pgm: .*a side of 0" printf '%s' "$out"
    check predict-others-still-predicted 0 "^$data/shoe.pgm$" printf '%s' "$out"
    # Fine-tuning on a two-class folder: the head is replaced, only it trains.
    mkdir -p "$data/two/boots" "$data/two/bags"
    zcat "$fm/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((40 * 784)) >"$data/test40"
    for i in $(seq 0 39); do
        printf 'P5 28 28 255\n' >"$data/two/$([ $((i % 2)) = 0 ] && echo boots || echo bags)/$i.pgm"
        dd if="$data/test40" bs=784 skip="$i" count=1 2>/dev/null \
            >>"$data/two/$([ $((i % 2)) = 0 ] && echo boots || echo bags)/$i.pgm"
    done
    cp "$data/zero.pgm" "$data/two/bags/zero.pgm" # skipped, not an abort
    check finetune-replaces-head 0 "Replacing the 10-class head" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --freeze 1 --epochs 1 --batch 8 --val 0 --out "$data/ft.safetensors" --workers 2
    check train-skips-zero-side 0 "skipped $data/two/bags/zero.pgm: .*a side of 0" printf '%s' "$out"
    check train-data-line 0 "data: [0-9.]*s on 2 workers, the device waited [0-9.]*s - 40 images, 1 skipped (unreadable)" printf '%s' "$out"
    check finetune-saves 0 "bags\|boots" "$clnet" predict "$data/ft.safetensors" "$data/shoe.pgm"
    # torchvision's augmentations by name, on two workers; out of range: refused.
    check train-augmentations 0 "data: [0-9.]*s on 2 workers" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --freeze 1 --epochs 1 --batch 8 --val 0 --out "$data/aug.safetensors" \
        --random-resized-crop 0.3 --flip --color-jitter 0.4 --rotation 10 --translation 0.1 --workers 2
    # The evaluation transform: kept in the model file, used by eval and predict.
    check train-center-crop 0 "^Images resized from their centre 0.875 (aspect kept); random crops" \
        "$clnet" train --from "$data/m.safetensors" --data "$data/two" --freeze 1 --epochs 1 \
        --batch 8 --val 0.2 --out "$data/cc.safetensors" --random-resized-crop 0.3 --center-crop 0.875
    check center-crop-in-file 0 '"center_crop":"0.875"' grep -ao '"center_crop":"[0-9.]*"' "$data/cc.safetensors"
    check predict-center-crop 0 "boots" "$clnet" predict "$data/cc.safetensors" "$data/two/boots/0.pgm" --center-crop 1
    check predict-center-crop-range nonzero "expected a fraction in \[0, 1\]" "$clnet" predict \
        "$data/cc.safetensors" "$data/two/boots/0.pgm" --center-crop 1.5
    check eval-center-crop-range nonzero "--center-crop: expected a fraction" "$clnet" eval \
        "$data/cc.safetensors" --data "$data/two" --center-crop -1
    check train-mpi-timeout-range nonzero "mpi-timeout" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --epochs 1 --val 0 --out "$data/aug.safetensors" --mpi-timeout 0
    check train-sync-bn-alone 0 "--sync-bn: one process, not under mpirun" "$clnet" train \
        --from "$data/m.safetensors" --data "$data/two" --freeze 1 --epochs 1 --batch 8 --val 0 \
        --out "$data/sync.safetensors" --sync-bn
    check train-rotation-range nonzero "rotation" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --epochs 1 --val 0 --out "$data/aug.safetensors" --rotation 200
    # The decoded cache: made by one run, the next reads it (and still skips the bad file).
    check train-cache-decoded 0 "data: [0-9.]*s on 1 worker" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --freeze 1 --epochs 1 --batch 8 --val 0 --out "$data/dc.safetensors" \
        --cache-decoded "$data/dc" --workers 1
    check cache-decoded-file 0 "clnet-[0-9a-f]*\.u8" ls "$data/dc"
    check bench-data-cached 0 "^40 images (1 skipped)" "$clnet" bench data "$data/two" --input 28x28x1 \
        --cache-decoded "$data/dc"
    # The data path alone: 41 files, the unreadable one counted, every image made.
    check bench-data 0 "^40 images (1 skipped) in [0-9.]* s on 2 workers: [0-9.]* images/s" \
        "$clnet" bench data "$data/two" --input 28x28x1 --batch 8 --workers 2 --random-resized-crop 0.5 --flip
    check bench-data-json 0 '"images": 40, "skipped": 1,' "$clnet" bench data "$data/two" --input 28x28x1 --json
    check bench-data-bad-input nonzero "expected HxWxC" "$clnet" bench data "$data/two" --input 28x28
    # Data holding one of the model's two classes: labels by class name.
    mkdir -p "$data/onlyboots/boots"
    cp "$data/two/boots/"[0-9].pgm "$data/onlyboots/boots/"
    check eval-subset-of-classes 0 "^5 images: loss" "$clnet" eval "$data/ft.safetensors" --data "$data/onlyboots"
    check eval-subset-says-so 0 "images of 1 of the model's 2 classes" "$clnet" eval "$data/ft.safetensors" --data "$data/onlyboots"
    check eval-confusion-names-rows 0 "^ 1 boots  *[0-5]  *[0-5]$" "$clnet" eval "$data/ft.safetensors" --data "$data/onlyboots"
    # A huge loss is printed with an exponent: the first class's bias of the head set to
    # 2^100 (float bytes 00 00 80 71) in a copy of the model file.
    cp "$data/ft.safetensors" "$data/huge.safetensors"
    hl=$(od -An -tu8 -N8 "$data/huge.safetensors" | tr -d ' ')
    at=$(head -c $((8 + hl)) "$data/huge.safetensors" | grep -ao '"logits/bias":{[^}]*}' |
        sed 's/.*data_offsets":\[\([0-9]*\),.*/\1/')
    printf '\000\000\200\161' | dd of="$data/huge.safetensors" bs=1 seek=$((8 + hl + at)) conv=notrunc 2>/dev/null
    check eval-huge-loss-exponent 0 "images: loss 1.268e+30" "$clnet" eval "$data/huge.safetensors" --data "$data/onlyboots"
    check eval-did-you-mean nonzero "did you mean --batch?" "$clnet" eval "$data/ft.safetensors" --data "$data/two" --batch-size 4
    # Train's options: errors a user meets, and "did you mean".
    check train-from-and-model nonzero "give one of them" "$clnet" train --from "$data/m.safetensors" \
        --model resnet18 --data "$data/two" --out "$data/x.safetensors"
    check train-freeze-zero nonzero "would train no layer" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/two" --freeze 0 --out "$data/x.safetensors"
    check train-resume-nothing nonzero "no checkpoint $data/none.ckpt to resume" "$clnet" train \
        --resume "$data/none.ckpt"
    check train-did-you-mean nonzero "did you mean --batch?" "$clnet" train --batch-size 8
    # --from with --input runs the base at another size (its weights do not depend on it).
    check train-from-at-another-input 0 "Running .*m.safetensors at 32x32x1 (trained at 28x28x1)" \
        "$clnet" train --from "$data/m.safetensors" --input 32x32x1 --data "$data/two" --freeze 1 \
        --epochs 1 --batch 8 --val 0 --out "$data/x32.safetensors"
    # A zoo model takes --input or 224x224x3, never the first image's size (here 20x30 and
    # 28x28 gray images): they are resized.
    mkdir -p "$data/tiny/a" "$data/tiny/b"
    printf 'P5 20 30 255\n' >"$data/tiny/a/0.pgm"; head -c 600 "$data/test40" >>"$data/tiny/a/0.pgm"
    cp "$data/two/boots/0.pgm" "$data/tiny/a/1.pgm"
    cp "$data/two/bags/1.pgm" "$data/tiny/b/0.pgm"
    cp "$data/two/bags/3.pgm" "$data/tiny/b/1.pgm"
    check train-zoo-default-input 0 "on 4 images of 224x224x3" "$clnet" train --model mobilenetv2 \
        --data "$data/tiny" --epochs 1 --batch 4 --val 0 --out "$data/tiny.safetensors"
    check train-rmsprop-class-weight 0 "Class weights: a 1, b 1" "$clnet" train --from "$data/m.safetensors" \
        --data "$data/tiny" --optimizer rmsprop --class-weight auto --epochs 1 --batch 4 --val 0 \
        --out "$data/rms.safetensors"
    check train-onecycle 0 "learning rate 0.3, onecycle schedule, 0 warm-up steps" "$clnet" train \
        --from "$data/m.safetensors" --data "$data/tiny" --schedule onecycle --lr 0.3 --epochs 1 \
        --batch 4 --val 0 --out "$data/cycle.safetensors"
    # Ctrl-C stops at the end of a step: exit 130, the finished epochs kept in the
    # checkpoint, the log and the chart; `--resume CKPT` alone goes on with the history.
    interrupted_run() {
        rm -f "$data/int.safetensors.ckpt" "$data/int.csv" "$data/int.png"
        "$clnet" train --from "$data/m.safetensors" --data "$data/two" --freeze 1 --epochs 300 --batch 8 \
            --val 0.25 --out "$data/int.safetensors" --log "$data/int.csv" --plot "$data/int.png" \
            >"$data/int.log" 2>&1 &
        pid=$!
        # However busy the machine: wait as long as the first epoch takes (up to 10 minutes).
        for _ in $(seq 3000); do [ -f "$data/int.safetensors.ckpt" ] && break; sleep 0.2; done
        kill -INT $pid 2>/dev/null
        wait $pid
        code=$?
    }
    interrupted_run
    # LeakSanitizer's tracer crash (see check) lands in the log here: run it once more.
    if grep -q "Tracer caught signal" "$data/int.log"; then
        echo "note: train-ctrl-c: LeakSanitizer's tracer crashed at exit; running it again"
        interrupted_run
    fi
    check train-ctrl-c-exits-130 0 "^130 Interrupted" sh -c 'echo "$1 $(grep -o "^Interrupted" "$2")"' \
        sh "$code" "$data/int.log"
    check train-progress-fits-80-columns 0 "^0$" sh -c 'awk "/\\[[=>.]+\\]|val_loss/ && length > 80" "$1" |
        wc -l' sh "$data/int.log"
    check train-ctrl-c-keeps-log 0 "^1,[0-9.]*,[0-9.]*,[0-9.]*," cat "$data/int.csv"
    check train-ctrl-c-keeps-chart 0 "PNG" sh -c 'head -c 4 "$1"' sh "$data/int.png"
    # Epochs may end between the checkpoint appearing and the signal arriving: resume
    # from however many the log holds, for one more.
    done_epochs=$(grep -c "^[0-9][0-9]*," "$data/int.csv" || true)
    more=$((done_epochs + 1))
    check train-resume-alone 0 "^Restored epoch $done_epochs/$more" sh -c '"$1" train --resume "$2" \
        --epochs "$3"' sh "$clnet" "$data/int.safetensors.ckpt" "$more"
    check train-resume-alone-log 0 "^$more\$" grep -c "^[0-9][0-9]*," "$data/int.csv"
    # Killed with SIGKILL after its first checkpoint, then resumed to the end.
    "$clnet" train --model "$models/fashion_resnet.spec" --data "idx:$data" --epochs 4 --batch 64 \
        --out "$data/k.safetensors" >"$data/killed.log" 2>&1 &
    pid=$!
    for _ in $(seq 3000); do [ -f "$data/k.safetensors.ckpt" ] && break; sleep 0.2; done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    # The resumed run starts after the checkpoint's epoch (its first epoch line is not
    # "Epoch 1/4") and finishes with the model file. Its whole output is check's, so that
    # check sees a sanitizer's words, and each try starts from the killed run's checkpoint.
    cp "$data/k.safetensors.ckpt" "$data/killed.ckpt" 2>/dev/null
    check resume-after-kill 0 "^Epoch [2-4]/4" sh -c 'cp "$2/killed.ckpt" "$2/k.safetensors.ckpt" &&
        rm -f "$2/k.safetensors" && "$1" train --resume "$2/k.safetensors.ckpt" && test -f "$2/k.safetensors"' \
        sh "$clnet" "$data"
    check resume-after-kill-skips-done 0 "^0$" sh -c 'printf "%s\n" "$1" | grep -c "^Epoch 1/4" || true' sh "$out"
    rm -rf "$data"
else
    echo "SKIP end-to-end training (no $fm: install dataset-fashion-mnist)"
fi
# ONNX: convert in with labels and preprocessing, summary/predict of the .onnx, convert out,
# and the errors of bad arguments and unsupported models.
onnx=$(dirname "$0")/../onnx
od=$(mktemp -d)
seq 0 9 | sed 's/^/class_/' >"$od/labels.txt"
check convert-onnx-in 0 "34 layers, 11494 parameters, input 36x36x3 -> $od/r.safetensors" \
    "$clnet" convert "$onnx/fixtures/resnet_op13/model.onnx" "$od/r.safetensors" \
    --labels "$od/labels.txt" --preprocess torch
check convert-onnx-out 0 "ONNX opset 13, input NHWC" "$clnet" convert "$od/r.safetensors" "$od/r.onnx" --nhwc
check summary-onnx 0 "Total params: " "$clnet" summary "$onnx/fixtures/mobilenet_v2_op17/model.onnx"
check summary-onnx-input 0 "(None, 64, 48, 3)" "$clnet" summary "$onnx/fixtures/resnet_op13/model.onnx" --input 64x48x3
check plan-onnx 0 "Concatenations in place: 6" "$clnet" plan "$onnx/fixtures/shufflenet_v2_op13/model.onnx"
check convert-labels-count nonzero "labels" sh -c 'head -3 "$2" >"$3" && "$1" convert "$4" "$5" --labels "$3"' \
    sh "$clnet" "$od/labels.txt" "$od/three.txt" "$onnx/fixtures/resnet_op13/model.onnx" "$od/bad.safetensors"
check convert-unsupported-lists-nodes nonzero "'nms' (NonMaxSuppression" "$clnet" convert \
    "$onnx/hostile/unsupported_ops/model.onnx" "$od/u.safetensors"
check convert-both-onnx nonzero "is neither" "$clnet" convert a.onnx b.onnx
check convert-preprocess-and-mean nonzero "not both" "$clnet" convert a.onnx b.safetensors --preprocess tf --mean 0.5
check convert-bad-preprocess nonzero "expected torch, tf, caffe or none" "$clnet" convert a.onnx b.safetensors --preprocess imagenet
check convert-leaves-no-file 0 "^none$" sh -c 'test -e "$1/u.safetensors" && echo some || echo none' sh "$od"
rm -rf "$od"
# Keras: convert in with labels, summary and predict of .h5 and TF.js files directly, a
# weights-only file onto a zoo model, fine-tuning from a .h5, and the errors.
keras=$(dirname "$0")/../keras/fixtures
kd=$(mktemp -d)
seq 0 4 | sed 's/^/k/' >"$kd/labels.txt"
mkdir -p "$kd/two/dark" "$kd/two/light"
for i in 1 2 3 4; do
    for c in dark light; do
        { printf 'P6 12 9 255\n'; head -c 324 /dev/zero | tr '\0' "$([ $c = dark ] && echo '\100' || echo '\300')"; } \
            >"$kd/two/$c/$i.ppm"
    done
done
check convert-keras-in 0 "9 layers, 1125 parameters, input 12x9x3 -> $kd/s.safetensors" \
    "$clnet" convert "$keras/sequential_basic/model.h5" "$kd/s.safetensors" --labels "$kd/labels.txt" --preprocess tf
check convert-center-crop 0 '"center_crop":"0.875"' sh -c '"$1" convert "$2" "$3" --center-crop 0.875 \
    >/dev/null && grep -ao "\"center_crop\":\"[0-9.]*\"" "$3"' sh "$clnet" "$keras/sequential_basic/model.h5" "$kd/cc.safetensors"
check predict-keras-labels 0 "%  k[0-4]$" "$clnet" predict "$kd/s.safetensors" "$kd/two/dark/1.ppm"
check predict-keras-h5 0 "%  [0-4]$" "$clnet" predict "$keras/sequential_basic/model.h5" "$kd/two/dark/1.ppm"
check predict-keras-tfjs 0 "%  [0-4]$" "$clnet" predict "$keras/mobilenet_block/tfjs_uint8/model.json" "$kd/two/dark/1.ppm"
check summary-keras-applications 0 "Total params: 25,636,712" "$clnet" summary "$keras/resnet50_app/model.h5"
check summary-keras-nested 0 "fn_excite (Multiply)" "$clnet" summary "$keras/rescaling_nested/model.h5"
check summary-keras3 0 "Total params: 3,538,984" "$clnet" summary "$keras/mobilenetv2_app/model.keras"
check predict-keras3 0 "%  [0-4]$" "$clnet" predict "$keras/separable_concat/model.keras" "$kd/two/dark/1.ppm"
check convert-keras-weights-onto-zoo 0 "loaded the weights of 105 of 105 layers" \
    "$clnet" convert "$keras/mobilenetv2_app/weights.h5" "$kd/m.safetensors" --model mobilenetv2
check convert-keras-weights-only nonzero "holds weights only" \
    "$clnet" convert "$keras/sequential_basic/weights.h5" "$kd/w.safetensors"
check convert-keras-unsupported nonzero "'deconv' (Conv2DTranspose)" \
    "$clnet" convert "$keras/unsupported/model.h5" "$kd/u.safetensors"
check convert-keras-normalizes-itself nonzero "normalizes its input itself" \
    "$clnet" convert "$keras/rescaling_nested/model.h5" "$kd/r.safetensors" --preprocess tf
check convert-keras-model-needs-h5 nonzero "no .h5 file" \
    "$clnet" convert "$keras/sequential_basic/tfjs/model.json" "$kd/z.safetensors" --model resnet50
check convert-keras-damaged nonzero "truncated.h5' is not an HDF5 file" \
    "$clnet" convert "$keras/hostile/truncated.h5" "$kd/t.safetensors"
check train-from-keras 0 "Replacing the 5-class head" "$clnet" train --from "$keras/sequential_basic/model.h5" \
    --data "$kd/two" --epochs 1 --batch 4 --val 0 --out "$kd/ft.safetensors"
check train-from-keras-saves 0 "dark\|light" "$clnet" predict "$kd/ft.safetensors" "$kd/two/light/1.ppm"
rm -rf "$kd"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
