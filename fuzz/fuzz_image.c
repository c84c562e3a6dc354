/* fuzz_image.c - libFuzzer harness for clnet__image_decode (src/data/decode.h): the
 * magic-byte dispatch, every format's decoder (libjpeg-turbo, libpng, libwebp, libheif,
 * stb_image), EXIF orientation and the pixel limit, on arbitrary bytes; a decoded image
 * is then converted as datasets do (clnet__image_convert). Seeds: fuzz/corpus/image/,
 * one small file per format, made with the encoders of tests/support/images.c.
 *     clang -fsanitize=fuzzer,address,undefined -I include -I build/include -I src \
 *         fuzz/fuzz_image.c build/libclnet_static.a <the libraries of clnet.pc> */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/data.h"
#include "data/decode.h"

/* Small, so that each input decodes quickly and a header's size claim is what is
 * tested; a decoder that allocates by the header before checking shows as a leak of
 * memory or time. */
#define MAX_PIXELS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clnet__image im;
    char err[256];
    err[0] = '\0';
    if (clnet__image_decode(data, size, "fuzz", MAX_PIXELS, &im, err, sizeof err) != CLNET_OK) {
        if (im.pixels || strlen(err) >= sizeof err || !err[0])
            __builtin_trap(); /* a failure leaves no pixels and says why */
        return 0;
    }
    if (im.w < 1 || im.h < 1 || im.c < 1 || im.c > 4 || (uint64_t)im.w * im.h > MAX_PIXELS)
        __builtin_trap();
    uint8_t small[7 * 5 * 3];
    if (clnet__image_convert(im.pixels, im.h, im.w, im.c, small, 5, 7, 3) != CLNET_OK)
        __builtin_trap();
    clnet__image_free(&im);
    return 0;
}
