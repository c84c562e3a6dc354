/* fuzz_image_folder.c - an image folder (src/data/folder.c: listing, decoding with
 * stb_image, conversion to the target size) through clnet_dataset_open and a training
 * epoch's use of the dataset (src/data/batcher.c: shuffled, augmented crops). The input is
 * [options byte] then up to 12 files, each [class byte][extension byte][u16 LE n][n bytes],
 * written as <class % 3>/<i>.<extension> into a scratch folder. The options byte picks the
 * target size: bit 0 gray, bit 1 RGB, bits 2-3 a side of 0 (the first image's), 1, 7 or 33.
 * Seeds: fuzz/corpus/image_folder/ (fuzz/make_corpus.c). */
#include <stdio.h>

#include "clnet.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ext[] = {"png", "jpg", "bmp", "gif", "tga", "pgm", "ppm", "txt"};
    static const int sides[] = {0, 1, 7, 33};
    fuzz_input in = {data, size};
    const unsigned options = fuzz_u8(&in);
    for (int i = 0; i < 12 && in.left; ++i) {
        const unsigned cls = fuzz_u8(&in) % 3, kind = fuzz_u8(&in) % 8;
        size_t n = 0;
        const uint8_t *bytes = fuzz_bytes(&in, fuzz_u16(&in), &n);
        char name[64];
        snprintf(name, sizeof name, "class%u/%02d.%s", cls, i, ext[kind]);
        fuzz_write(name, bytes, n);
    }
    const int side = sides[(options >> 2) & 3];
    const clnet_dataset_options opt = {.h = side,
                                       .w = side,
                                       .c = options & 1   ? 1
                                            : options & 2 ? 3
                                                          : 0,
                                       .log = ignore,
                                       .max_pixels = 1u << 20};
    fuzz_use_dataset(fuzz_dir(), "train", &opt);
    fuzz_clear();
    return 0;
}
