/* fuzz_checkpoint.c - training checkpoints as clnet_fit's resume reads them, up to the
 * point where a model's tensors would be written: the safetensors header, the metadata's
 * format and numbers (clnet__checkpoint_read_meta, src/train/checkpoint.c), the spec, and
 * every tensor read. The input is the file. Seeds: fuzz/corpus/checkpoint/. */
#include "common.h"
#include "io/safetensors.h"
#include "train/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clnet__st_file *f = NULL;
    char err[1024] = "";
    if (clnet__st_open_memory(data, size, &f, err, sizeof err) != CLNET_OK) {
        FUZZ_CHECK(f == NULL && err[0] != '\0');
        fuzz_note(err);
        return 0;
    }
    clnet__checkpoint_meta meta;
    if (clnet__checkpoint_read_meta(f, &meta, err, sizeof err) == CLNET_OK) {
        FUZZ_CHECK(meta.epochs >= 0 && meta.epochs <= 1000000);
        FUZZ_CHECK(meta.optimizer_steps >= 0 && meta.training_steps >= 0);
        FUZZ_CHECK(meta.optimizer >= CLNET_OPT_SGD && meta.optimizer <= CLNET_OPT_RMSPROP);
        clnet_graph *g = NULL;
        if (clnet_graph_from_spec(meta.spec, "checkpoint", &g, err, sizeof err) == CLNET_OK) {
            fuzz_read_tensors(f);
            fuzz_note("accepted");
        } else {
            fuzz_note(err);
        }
        clnet_graph_destroy(g);
    } else {
        FUZZ_CHECK(err[0] != '\0');
        fuzz_note(err);
    }
    clnet__st_close(f);
    return 0;
}
