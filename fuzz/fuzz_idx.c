/* fuzz_idx.c - MNIST-style idx files (src/data/idx.c), raw or gzipped, through
 * clnet_dataset_open and a training epoch's use of the dataset. The input is
 * [u16 LE n][n bytes: train-images-idx3-ubyte][the rest: train-labels-idx1-ubyte],
 * written into a scratch folder (gzip data in either file is read as such).
 * Seeds: fuzz/corpus/idx/ (fuzz/make_corpus.c). */
#include <stdio.h>

#include "clnet.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t n = 0, rest = 0;
    const uint8_t *images = fuzz_bytes(&in, fuzz_u16(&in), &n);
    const uint8_t *labels = fuzz_bytes(&in, in.left, &rest);
    fuzz_write("train-images-idx3-ubyte", images, n);
    fuzz_write("train-labels-idx1-ubyte", labels, rest);
    char source[600];
    snprintf(source, sizeof source, "idx:%s", fuzz_dir());
    fuzz_use_dataset(source, "train", NULL);
    fuzz_clear();
    return 0;
}
