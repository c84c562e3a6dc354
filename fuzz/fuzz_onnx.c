/* fuzz_onnx.c - ONNX files as the importer reads them (src/io/onnx_*.c), with no device:
 * clnet__onnx_import_memory (the protobuf, the model's checks, constant folding, the
 * subgraph matches and the walk onto the graph builder), then clnet__onnx_fold_memory
 * (the same file as a graph of constants). The input is the file. Seeds:
 * fuzz/corpus/onnx/ (fuzz/make_corpus.c). */
#include "common.h"
#include "io/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[8192] = "";
    clnet__import im;
    if (clnet__onnx_import_memory(data, size, NULL, &im, err, sizeof err) == CLNET_OK) {
        /* A graph with a layer after its input, each weight on one of its layers. */
        const int layers = clnet_graph_layer_count(im.g);
        FUZZ_CHECK(im.g != NULL && layers > 1);
        for (int i = 0; i < im.n_w; ++i)
            FUZZ_CHECK(im.w[i].layer > 0 && im.w[i].layer < layers && im.w[i].data != NULL &&
                       im.w[i].count > 0);
        fuzz_note("accepted");
    } else {
        FUZZ_CHECK(im.g == NULL && im.w == NULL && err[0] != '\0');
        fuzz_note(err);
    }
    clnet__import_free(&im);
    clnet__onnx_tensor t = {0};
    err[0] = '\0';
    if (clnet__onnx_fold_memory(data, size, &t, err, sizeof err) == CLNET_OK) {
        int64_t count = 1;
        for (int d = 0; d < t.rank; ++d)
            count *= t.dims[d];
        FUZZ_CHECK(t.data != NULL && t.rank >= 0 && t.rank <= CLNET_ONNX_MAX_RANK &&
                   count == t.count);
        fuzz_note("folded");
    } else {
        FUZZ_CHECK(err[0] != '\0');
        fuzz_note(err);
    }
    clnet__onnx_tensor_free(&t);
    return 0;
}
