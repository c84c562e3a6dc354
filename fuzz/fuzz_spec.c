/* fuzz_spec.c - the text architecture spec (clnet_graph_from_spec, src/graph/spec.c) and
 * the shape inference of every op behind it. The input is the spec text. A spec that
 * builds must come back the same through clnet_graph_to_spec (the round trip the model
 * files rely on), and its summary and DOT drawing must be writable.
 * Seeds: fuzz/corpus/spec/ (fuzz/make_corpus.c). */
#include <stdlib.h>
#include <string.h>

#include "clnet.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    clnet_graph *g = NULL, *again = NULL;
    char err[1024] = "";
    if (clnet_graph_from_spec(text, "fuzz.spec", &g, err, sizeof err) == CLNET_OK) {
        FUZZ_CHECK(g != NULL);
        char *spec = NULL, *spec2 = NULL, *summary = NULL, *dot = NULL;
        FUZZ_CHECK(clnet_graph_to_spec(g, &spec) == CLNET_OK);
        FUZZ_CHECK(clnet_graph_from_spec(spec, "written.spec", &again, err, sizeof err) ==
                   CLNET_OK);
        FUZZ_CHECK(clnet_graph_to_spec(again, &spec2) == CLNET_OK);
        FUZZ_CHECK(strcmp(spec, spec2) == 0);
        const int n = clnet_graph_layer_count(g);
        FUZZ_CHECK(n == clnet_graph_layer_count(again));
        for (int i = 0; i < n; ++i) {
            const clnet_shape a = clnet_graph_layer_shape(g, i),
                              b = clnet_graph_layer_shape(again, i);
            FUZZ_CHECK(a.n == b.n && a.h == b.h && a.w == b.w && a.c == b.c);
            FUZZ_CHECK(a.h > 0 && a.w > 0 && a.c > 0);
            FUZZ_CHECK(strcmp(clnet_graph_layer_name(g, i), clnet_graph_layer_name(again, i)) == 0);
        }
        const clnet_param_counts c = clnet_graph_params(g);
        FUZZ_CHECK(c.total >= 0 && c.total == c.trainable + c.non_trainable);
        FUZZ_CHECK(clnet_graph_flops(g) >= 0.0);
        FUZZ_CHECK(clnet_graph_summary(g, "fuzz", &summary) == CLNET_OK);
        FUZZ_CHECK(clnet_graph_to_dot(g, "fuzz", &dot) == CLNET_OK);
        clnet_free(spec);
        clnet_free(spec2);
        clnet_free(summary);
        clnet_free(dot);
        fuzz_note("accepted");
    } else {
        FUZZ_CHECK(g == NULL && err[0] != '\0');
        fuzz_note(err);
    }
    clnet_graph_destroy(again);
    clnet_graph_destroy(g);
    free(text);
    return 0;
}
