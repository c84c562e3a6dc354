/* fuzz_cifar.c - CIFAR-10 binary batches and their class names (src/data/cifar.c) through
 * clnet_dataset_open and a training epoch's use of the dataset. The input is
 * [u16 LE n][n bytes: batches.meta.txt, absent when n is 0][the rest: test_batch.bin],
 * written into a scratch folder. Seeds: fuzz/corpus/cifar/ (fuzz/make_corpus.c). */
#include <stdio.h>

#include "clnet.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t n = 0, rest = 0;
    const uint8_t *meta = fuzz_bytes(&in, fuzz_u16(&in), &n);
    const uint8_t *batch = fuzz_bytes(&in, in.left, &rest);
    if (n)
        fuzz_write("batches.meta.txt", meta, n);
    fuzz_write("test_batch.bin", batch, rest);
    char source[600];
    snprintf(source, sizeof source, "cifar:%s", fuzz_dir());
    fuzz_use_dataset(source, "test", NULL);
    fuzz_clear();
    return 0;
}
