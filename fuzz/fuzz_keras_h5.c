/* fuzz_keras_h5.c - Keras 2 .h5 files as the importer reads them (src/io/keras_h5.c through
 * libhdf5, then keras_import.c and keras_layers.c), with no device: the file is opened
 * from memory, its model_config translated and every weight read. The input is the file.
 * Seeds: fuzz/corpus/keras_h5/ (small models written by tests/keras/make_fixtures.py). */
#include "common.h"
#include "io/keras.h"
#include "io/keras_hdf5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* libhdf5 loops on some damaged files; its reader process is stopped after 2 s of CPU. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    clnet__hdf5_cpu_seconds = 2;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[8192] = "";
    cJSON *model = NULL;
    clnet__keras_source src;
    if (clnet__keras_h5_open(NULL, data, size, &model, &src, err, sizeof err) != CLNET_OK) {
        FUZZ_CHECK(model == NULL && err[0] != '\0');
        fuzz_note(err);
        return 0;
    }
    fuzz_keras_import(model, &src);
    clnet__keras_h5_close(&src);
    cJSON_Delete(model);
    return 0;
}
