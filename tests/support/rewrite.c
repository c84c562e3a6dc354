/* rewrite.c - see rewrite.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "support/rewrite.h"

typedef struct rewrite_src {
    clnet__st_file *f;
    int *from; /* per entry: tensor of f, -1 for the extra */
} rewrite_src;

static clnet_status copy_tensor(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    rewrite_src *s = user;
    if (s->from[i] < 0) {
        for (size_t k = 0; k < count; ++k)
            dst[k] = 0.5f;
        return CLNET_OK;
    }
    return clnet__st_read(s->f, s->from[i], dst, count, err, len);
}

void clnet_test_rewrite_file(const char *src, const char *dst, const clnet_test_edit *r)
{
    char err[512] = "";
    rewrite_src s = {NULL, NULL};
    cr_assert_eq(clnet__st_open(src, &s.f, err, sizeof err), CLNET_OK, "%s", err);
    clnet__st_entry *e = calloc((size_t)s.f->n + 1, sizeof *e);
    s.from = calloc((size_t)s.f->n + 1, sizeof *s.from);
    int n = 0;
    for (int t = 0; t < s.f->n; ++t) {
        const clnet__st_tensor *ft = &s.f->tensors[t];
        if (r->drop && strcmp(ft->name, r->drop) == 0)
            continue;
        e[n].name = ft->name;
        e[n].rank = ft->rank;
        memcpy(e[n].shape, ft->shape, sizeof ft->shape);
        if (r->reshape && strcmp(ft->name, r->reshape) == 0) {
            e[n].rank = r->rank;
            memcpy(e[n].shape, r->shape, sizeof r->shape);
        }
        s.from[n++] = t;
    }
    if (r->extra) {
        e[n] = (clnet__st_entry){r->extra, 1, {2}};
        s.from[n++] = -1;
    }
    const char *(*meta)[2] = calloc((size_t)s.f->n_meta + 1, sizeof *meta);
    int n_meta = 0, set = 0;
    for (int k = 0; k < s.f->n_meta; ++k) {
        const char *key = s.f->meta[k][0], *value = s.f->meta[k][1];
        if (r->meta_key && strcmp(key, r->meta_key) == 0) {
            set = 1;
            if (!r->meta_value)
                continue;
            value = r->meta_value;
        }
        meta[n_meta][0] = key;
        meta[n_meta++][1] = value;
    }
    cr_assert(!r->meta_key || set, "no metadata %s", r->meta_key);
    clnet_status st = clnet__st_save(dst, e, n, (const char *const(*)[2])meta, n_meta, copy_tensor,
                                     &s, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s", err);
    free(meta);
    free(e);
    free(s.from);
    clnet__st_close(s.f);
}
