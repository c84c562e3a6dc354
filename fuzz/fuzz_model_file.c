/* fuzz_model_file.c - model files as clnet_model_load reads them, up to the point where a
 * model would be created on a device: the safetensors header (src/io/safetensors.c), the
 * spec and the check of the file's tensors against its weights, labels, input size and
 * normalization (src/io/model_check.c), then every tensor read. The input is the file.
 * Seeds: fuzz/corpus/model_file/ (fuzz/make_corpus.c). */
#include "common.h"
#include "io/model_file.h"

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
    /* Tensors tile the data section: none can claim more than the input holds. */
    uint64_t total = 0;
    for (int t = 0; t < f->n; ++t)
        total += f->tensors[t].count * 4;
    FUZZ_CHECK(total == f->size - f->data_start);
    clnet__model_file mf;
    if (clnet__model_file_check(f, &mf, err, sizeof err) == CLNET_OK) {
        FUZZ_CHECK(mf.g != NULL && (mf.n_labels == 0 || mf.labels != NULL));
        fuzz_read_tensors(f);
        clnet__model_file_free(&mf);
        fuzz_note("accepted");
    } else {
        FUZZ_CHECK(mf.g == NULL && err[0] != '\0');
        fuzz_note(err);
    }
    clnet__st_close(f);
    return 0;
}
