/* webp.c - WebP by libwebp: lossy, lossless and with alpha (RGBA then, else RGB); an
 * animation gives its first frame composited on the canvas (libwebpdemux); EXIF
 * orientation from the EXIF chunk. Tests: tests/unit/test_decode.c. */
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

#include "data/data.h"
#include "data/decode.h"

static const char *status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY:
        return "out of memory";
    case VP8_STATUS_BITSTREAM_ERROR:
        return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return "the file ends early";
    default:
        return "cannot decode";
    }
}

static clnet_status corrupt(const char *name, const char *why, char *err, size_t err_len)
{
    return clnet__data_fail(err, err_len, CLNET_ERR_PARSE, "%s: truncated or corrupt WebP (%s)",
                            name, why);
}

/* The first frame of an animation, composited on the canvas, as RGBA. */
static clnet_status first_frame(const WebPData *data, const char *name, clnet__image *out,
                                char *err, size_t err_len)
{
    WebPAnimDecoderOptions o;
    if (!WebPAnimDecoderOptionsInit(&o))
        return corrupt(name, "libwebp version mismatch", err, err_len);
    o.color_mode = MODE_RGBA;
    o.use_threads = 0;
    WebPAnimDecoder *dec = WebPAnimDecoderNew(data, &o);
    if (!dec)
        return corrupt(name, "bad animation", err, err_len);
    WebPAnimInfo info;
    uint8_t *frame = NULL;
    int timestamp = 0;
    clnet_status st = CLNET_OK;
    if (!WebPAnimDecoderGetInfo(dec, &info) || !WebPAnimDecoderGetNext(dec, &frame, &timestamp))
        st = corrupt(name, "bad first frame", err, err_len);
    else if ((int)info.canvas_width != out->w || (int)info.canvas_height != out->h)
        st = corrupt(name, "the canvas size changed", err, err_len);
    else
        memcpy(out->pixels, frame, (size_t)out->w * out->h * 4);
    WebPAnimDecoderDelete(dec);
    return st;
}

/* The EXIF orientation in the EXIF chunk, 1 without one. */
static int orientation(const WebPData *data)
{
    WebPDemuxer *demux = WebPDemux(data);
    if (!demux)
        return 1;
    int turn = 1;
    WebPChunkIterator chunk;
    if ((WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG) &&
        WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
        turn = clnet__exif_orientation(chunk.chunk.bytes, chunk.chunk.size);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    WebPDemuxDelete(demux);
    return turn;
}

clnet_status clnet__webp_decode(const uint8_t *bytes, size_t len, const char *name,
                                uint64_t max_pixels, clnet__image *out, char *err, size_t err_len)
{
    WebPBitstreamFeatures f;
    const VP8StatusCode s = WebPGetFeatures(bytes, len, &f);
    if (s != VP8_STATUS_OK)
        return corrupt(name, status_text(s), err, err_len);
    clnet_status st =
        clnet__image_check_size(name, "WebP", f.width > 0 ? (uint64_t)f.width : 0,
                                f.height > 0 ? (uint64_t)f.height : 0, max_pixels, err, err_len);
    const int c = f.has_alpha || f.has_animation ? 4 : 3;
    if (st == CLNET_OK)
        st = clnet__image_alloc(out, f.width, f.height, c, name, err, err_len);
    if (st != CLNET_OK)
        return st;
    const WebPData data = {bytes, len};
    if (f.has_animation) {
        st = first_frame(&data, name, out, err, err_len);
    } else {
        WebPDecoderConfig config;
        if (!WebPInitDecoderConfig(&config))
            return corrupt(name, "libwebp version mismatch", err, err_len);
        config.output.colorspace = c == 4 ? MODE_RGBA : MODE_RGB;
        config.output.is_external_memory = 1;
        config.output.u.RGBA.rgba = out->pixels;
        config.output.u.RGBA.stride = f.width * c;
        config.output.u.RGBA.size = (size_t)f.width * f.height * c;
        const VP8StatusCode d = WebPDecode(bytes, len, &config);
        WebPFreeDecBuffer(&config.output);
        if (d != VP8_STATUS_OK)
            st = corrupt(name, status_text(d), err, err_len);
    }
    if (st == CLNET_OK && clnet__image_orient(out, orientation(&data)) != CLNET_OK)
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
    return st;
}
