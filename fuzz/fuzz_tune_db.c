/* fuzz_tune_db.c - the tuning database reader (src/device/tune_db.c) on a host-only context
 * posing as a device ("fuzz device", driver "1.0", class cpu, kernel digest
 * 0123456789abcdef): the entries of that device are kept only with values their launchers
 * accept, and every kept entry is found by its problem. The input is the JSON text.
 * Seeds: fuzz/corpus/tune_db/. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "device/runtime.h"

#define DIGEST "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static clnet_context *fake_device(void)
{
    static clnet_context *ctx;
    if (!ctx) {
        FUZZ_CHECK(clnet__context_create_host(&ctx) == CLNET_OK);
        snprintf(ctx->info.name, sizeof ctx->info.name, "fuzz device");
        snprintf(ctx->info.driver_version, sizeof ctx->info.driver_version, "1.0");
        ctx->cls = CLNET_CLASS_CPU;
        ctx->info.max_work_group_size = 256;
    }
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clnet_context *ctx = fake_device();
    clnet__tune_load_text(ctx, "fuzz.json", (const char *)data, size, DIGEST);
    for (int i = 0; i < ctx->n_tuned; ++i) {
        const clnet__tuned *t = &ctx->tuned[i];
        FUZZ_CHECK(memchr(t->key, '\0', sizeof t->key) &&
                   memchr(t->choice, '\0', sizeof t->choice));
        FUZZ_CHECK(clnet__tune_find(ctx, t->key) != NULL);
        FUZZ_CHECK(t->n_params >= 0 && t->n_params <= CLNET_TUNE_MAX_PARAMS);
        for (int k = 0; k < t->n_params; ++k) {
            char why[256];
            FUZZ_CHECK(
                clnet__param_tunable(ctx, t->param_keys[k], t->param_values[k], why, sizeof why));
            int v = 0;
            FUZZ_CHECK(clnet__tuned_param(t, t->param_keys[k], &v));
        }
    }
    char note[64];
    snprintf(note, sizeof note, "%d entries of this device kept", ctx->n_tuned);
    fuzz_note(note);
    clnet__tune_unload(ctx);
    return 0;
}
