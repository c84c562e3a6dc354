#!/bin/sh
# fashion_folder.sh - the "your own images" path with the clnet command: part of
# Fashion-MNIST written as an image folder (one sub-folder per class), then
# clnet train / eval / predict on it. POSIX sh and coreutils only.
#
#   samples/fashion_folder.sh [OUT]      (default OUT: a new temporary directory)
#
# Environment: CLNET (the clnet binary, default build/clnet), TRAIN_PER_CLASS
# (default 200), TEST_PER_CLASS (default 20), EPOCHS (default 3).
#
# The images are 8-bit grayscale TGA files: of the formats the folder reader takes
# (JPEG, PNG, WebP, HEIC, BMP, GIF, TGA, PNM), TGA and binary PNM are a short header
# plus raw pixels, so printf and dd write them (PNG needs deflate and CRC-32, which
# coreutils lack).
set -eu

clnet=${CLNET:-build/clnet}
train_per_class=${TRAIN_PER_CLASS:-200}
test_per_class=${TEST_PER_CLASS:-20}
epochs=${EPOCHS:-3}
fm=/usr/share/datasets/fashion-mnist
spec=$(dirname "$0")/models/fashion_resnet.spec

if [ ! -f "$fm/train-images-idx3-ubyte.gz" ]; then
    echo "fashion_folder.sh: $fm is missing; install it with" >&2
    echo "    sudo apt-get install dataset-fashion-mnist" >&2
    exit 1
fi
if [ ! -x "$clnet" ]; then
    echo "fashion_folder.sh: no clnet binary at $clnet (build it, or set CLNET)" >&2
    exit 1
fi
out=${1:-$(mktemp -d "${TMPDIR:-/tmp}/fashion_folder.XXXXXX")}
mkdir -p "$out"

# Folder names in label order (0..9); "/" and spaces of the official names replaced.
classes="T-shirt_top Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Ankle_boot"

# Writes the first $4 images of each class of one idx pair ($1 images, $2 labels, both
# .gz) into $3/<class>/<index>.tga. The data is decompressed once without its header
# (16 bytes for images, 8 for labels); then one dd per image reads its 784 bytes. The
# TGA header (octal escapes): no id, no colour map, type 3 (uncompressed grayscale),
# origin 0,0, 28 x 28 (little-endian), 8 bits per pixel, descriptor 0x20 (first row at
# the top, as in idx files).
extract() {
    zcat "$fm/$1" | tail -c +17 >"$out/images.raw"
    i=0
    for name in $classes; do
        mkdir -p "$3/$name"
        eval "count_$i=0 name_$i=$name"
        i=$((i + 1))
    done
    zcat "$fm/$2" | tail -c +9 | od -An -tu1 -v | tr -s ' ' '\n' | {
        index=0
        full=0
        n=0
        while read -r label; do
            [ -n "$label" ] || continue
            eval "n=\$count_$label"
            if [ "$n" -lt "$4" ]; then
                eval "name=\$name_$label"
                {
                    printf '\0\0\3\0\0\0\0\0\0\0\0\0\34\0\34\0\10\40'
                    dd if="$out/images.raw" bs=784 skip=$index count=1 2>/dev/null
                } >"$3/$name/$(printf '%05d' $index).tga"
                eval "count_$label=$((n + 1))"
                if [ $((n + 1)) -eq "$4" ]; then
                    full=$((full + 1))
                    [ $full -lt 10 ] || break
                fi
            fi
            index=$((index + 1))
        done
    }
    rm -f "$out/images.raw"
}

start=$(date +%s)
echo "Writing $train_per_class training and $test_per_class test images per class to $out"
extract train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz "$out/train" "$train_per_class"
extract t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz "$out/test" "$test_per_class"
echo "  $(find "$out/train" "$out/test" -name '*.tga' | wc -l) images in $(($(date +%s) - start)) s"

run() {
    echo
    echo "\$ $*"
    t=$(date +%s)
    "$@"
    echo "  ($(($(date +%s) - t)) s)"
}

run "$clnet" train --model "$spec" --data "$out/train" --epochs "$epochs" \
    --out "$out/model.safetensors"
run "$clnet" eval "$out/model.safetensors" --data "$out/test"
# The first test image of each class: its folder says what the answer should be.
set --
for dir in "$out"/test/*/; do
    for image in "$dir"*.tga; do
        set -- "$@" "$image"
        break
    done
done
run "$clnet" predict "$out/model.safetensors" "$@" --top 2
echo
echo "Done in $(($(date +%s) - start)) s; the image folders and model are in $out"
