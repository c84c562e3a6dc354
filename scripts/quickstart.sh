#!/bin/sh
# quickstart.sh - the main job after set-up (setup.sh runs it): the small ResNet of
# samples/models/fashion_resnet.spec trained on Fashion-MNIST (Debian's
# dataset-fashion-mnist) for a short run, evaluated on its 10,000 test images, and
# asked about three test images written out as files.
#
#   scripts/quickstart.sh [OUT]     (default OUT: build/quickstart; EPOCHS default 1)
set -eu
cd "$(dirname "$0")/.."
clnet=${CLNET:-build/clnet}
out=${1:-build/quickstart}
fm=/usr/share/datasets/fashion-mnist
mkdir -p "$out"
model="$out/fashion_resnet.safetensors"

echo "== clnet train: a small ResNet on the 60,000 Fashion-MNIST training images"
"$clnet" train --model samples/models/fashion_resnet.spec --data "idx:$fm" \
    --epochs "${EPOCHS:-1}" --batch 128 --out "$model" </dev/null
echo
echo "== clnet eval: the 10,000 test images"
"$clnet" eval "$model" --data "idx:$fm" | head -14
echo
echo "== clnet predict: the first three test images, written as netpbm files"
images=""
zcat "$fm/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((3 * 784)) >"$out/first3"
for i in 0 1 2; do
    printf 'P5 28 28 255\n' >"$out/test_$i.pgm"
    dd if="$out/first3" bs=784 skip=$i count=1 2>/dev/null >>"$out/test_$i.pgm"
    images="$images $out/test_$i.pgm"
done
rm -f "$out/first3"
# shellcheck disable=SC2086 # the file names are ours, without spaces
"$clnet" predict "$model" $images --top 2
echo "(the test set's labels of these three: Ankle boot, Pullover, Trouser)"
