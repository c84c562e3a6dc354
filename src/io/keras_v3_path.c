/* keras_v3_path.c - where a .keras file keeps a layer's variables (keras_v3.h). Keras's
 * saving_lib.py walks the model: a Functional or Sequential model's `layers` come first, a
 * layer at <model>/layers/<its class in snake case>[_N] (N counting the earlier layers of
 * that class in the same list), its variables in <that>/vars/0, /vars/1, ... Every layer gets
 * a vars group, empty without variables. tf.keras 2.13 and 2.14 reached the layers through
 * _layer_checkpoint_dependencies instead, and 2.13 counted a layer with weights twice there
 * (its two entries in that dict), which only the walk by rank below finds.
 * Keras 3.6 and later also label each vars group with the layer's name, a variable-length
 * string: it is not read, for libhdf5 1.10 reads such strings of a damaged file out of
 * bounds or loops forever in its global heap (fuzz_keras_v3). Tests: tests/io/test_keras_v3.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras_v3.h"

#define SNAKE_MAX 256

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

/* Python's re.sub runs each pattern left to right without overlap; the loops do the same. */
void clnet__keras_snake_case(const char *name, char *out, size_t len)
{
    char word[SNAKE_MAX], split[2 * SNAKE_MAX];
    size_t n = 0, m = 0, k = 0;
    /* re.sub(r"\W+", "", name); bytes of UTF-8 sequences stay, as Unicode letters do. */
    for (const char *p = name; *p && n + 1 < sizeof word; ++p)
        if (is_upper(*p) || is_lower(*p) || (*p >= '0' && *p <= '9') || *p == '_' ||
            (unsigned char)*p >= 0x80)
            word[n++] = *p;
    /* re.sub("(.)([A-Z][a-z]+)", r"\1_\2"): "_" before a capitalized word after anything. */
    for (size_t i = 0; i < n;) {
        split[m++] = word[i++];
        if (i + 1 < n && is_upper(word[i]) && is_lower(word[i + 1])) {
            split[m++] = '_';
            split[m++] = word[i++];
            while (i < n && is_lower(word[i]))
                split[m++] = word[i++];
        }
    }
    /* re.sub("([a-z])([A-Z])", r"\1_\2").lower(): every such pair matches, none overlap. */
    for (size_t i = 0; i < m; ++i) {
        if (i > 0 && is_lower(split[i - 1]) && is_upper(split[i]) && k + 1 < len)
            out[k++] = '_';
        if (k + 1 < len)
            out[k++] = is_upper(split[i]) ? (char)(split[i] - 'A' + 'a') : split[i];
    }
    if (len)
        out[k] = '\0';
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A layer's name: at the top of Functional's entries, in "config" of Sequential's. */
static const char *name_of(const cJSON *layer)
{
    const char *n = str(layer, "name");
    return n ? n : str(cJSON_GetObjectItemCaseSensitive(layer, "config"), "name");
}

/* The layer list of a model's config, or NULL. */
static const cJSON *layers_of(const cJSON *model)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(model, "config"), "layers");
    return cJSON_IsArray(l) ? l : NULL;
}

/* Is "<at>/vars" a group; its path into group. */
static int take(clnet__hdf5 *h5, const char *at, char *group, size_t len)
{
    char path[CLNET_KERAS_V3_GROUP_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/vars", at) >= sizeof path)
        return 0;
    char **members;
    const int n = clnet__hdf5_members(h5, path, &members);
    clnet__hdf5_strings_free(members, n);
    return n >= 0 && (size_t)snprintf(group, len, "%s", path) < len;
}

/* The rank of layer `name` among the layers of its class (snake) in list, and its entry;
 * -1 when the list has no such layer. */
static int rank_in(const cJSON *list, const char *name, const char *snake, const cJSON **layer)
{
    int k = 0;
    for (const cJSON *l = list ? list->child : NULL; l; l = l->next) {
        const char *n = name_of(l), *c = str(l, "class_name");
        if (n && !strcmp(n, name)) {
            *layer = l;
            return k;
        }
        char s[SNAKE_MAX];
        clnet__keras_snake_case(c ? c : "", s, sizeof s);
        k += !strcmp(s, snake);
    }
    return -1;
}

/* N of a member "<snake>_N" (0 for "<snake>" itself), or -1 when it is another class's. */
static long suffix(const char *member, const char *snake)
{
    const size_t n = strlen(snake);
    if (strncmp(member, snake, n) != 0)
        return -1;
    if (!member[n])
        return 0;
    const char *d = member + n + 1;
    if (member[n] != '_' || *d < '1' || *d > '9' || strlen(d) > 9)
        return -1;
    for (const char *p = d; *p; ++p)
        if (*p < '0' || *p > '9')
            return -1;
    return strtol(d, NULL, 10);
}

/* The member of the container at `at` holding the k-th layer of class snake, appended to at
 * (len bytes): the one with the k-th smallest N of that class, for what the file holds is in
 * the order of the layers (2.13's extra numbers make no group). */
static int pick(clnet__hdf5 *h5, char *at, size_t len, const char *snake, int k)
{
    char **m;
    const int n = clnet__hdf5_members(h5, at, &m);
    int found = -1;
    long kth = -1;
    /* The smallest N above the one before, k + 1 times. */
    for (int r = 0; r <= k && n > 0; ++r) {
        long next = -1;
        for (int i = 0; i < n; ++i) {
            const long s = suffix(m[i], snake);
            if (s > kth && (next < 0 || s < next))
                next = s, found = i;
        }
        if (next < 0) {
            found = -1;
            break;
        }
        kth = next;
    }
    char path[CLNET_KERAS_V3_GROUP_MAX], group[CLNET_KERAS_V3_GROUP_MAX];
    const int ok = found >= 0 &&
                   (size_t)snprintf(path, sizeof path, "%s/%s", at, m[found]) < sizeof path &&
                   take(h5, path, group, sizeof group) && strlen(path) < len;
    if (ok)
        memcpy(at, path, strlen(path) + 1);
    clnet__hdf5_strings_free(m, n);
    return ok;
}

/* Follows ref level by level through the config and the file (see keras_v3.h). */
static int walk(clnet__hdf5 *h5, const cJSON *model, const clnet__keras_layer_ref *ref, char *group,
                size_t len)
{
    static const char *const containers[] = {"layers", "_layer_checkpoint_dependencies"};
    char at[CLNET_KERAS_V3_GROUP_MAX] = "";
    const cJSON *list = layers_of(model);
    for (int d = 0; d < ref->depth; ++d) {
        const char *name = ref->names[d];
        char snake[SNAKE_MAX];
        clnet__keras_snake_case(ref->classes[d] ? ref->classes[d] : "", snake, sizeof snake);
        const cJSON *layer = NULL;
        const int k = name ? rank_in(list, name, snake, &layer) : -1;
        int found = 0;
        for (size_t c = 0; k >= 0 && !found && c < sizeof containers / sizeof *containers; ++c) {
            char in[CLNET_KERAS_V3_GROUP_MAX];
            if ((size_t)snprintf(in, sizeof in, "%s/%s", at, containers[c]) < sizeof in &&
                pick(h5, in, sizeof in, snake, k)) {
                memcpy(at, in, sizeof at);
                found = 1;
            }
        }
        if (!found)
            return 0;
        list = layers_of(layer);
    }
    return take(h5, at, group, len);
}

/* path ("/layers/conv2d") with each component "layers" spelt
 * "_layer_checkpoint_dependencies" (tf.keras 2.14's files, which Keras 3 also tries); 0 when
 * it has no such component or the result does not fit. */
static int checkpoint_spelling(const char *path, char *out, size_t len)
{
    size_t k = 0;
    int changed = 0;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        const int swap = n == 6 && !strncmp(p, "layers", 6);
        changed |= swap;
        if (n)
            k += (size_t)snprintf(out + k, k < len ? len - k : 0, "/%.*s", swap ? 30 : (int)n,
                                  swap ? "_layer_checkpoint_dependencies" : p);
        if (k >= len)
            return 0;
        p = end ? end + 1 : p + n;
    }
    return changed;
}

int clnet__keras_v3_group(clnet__hdf5 *h5, const cJSON *model, const clnet__keras_layer_ref *ref,
                          char *group, size_t len)
{
    if (ref->depth < 1 || ref->depth > CLNET_KERAS_MAX_DEPTH)
        return 0;
    char given[CLNET_KERAS_V3_GROUP_MAX], renamed[CLNET_KERAS_V3_GROUP_MAX];
    /* v3_path is relative ("layers/conv2d"); the file's paths start at its root. */
    const char *path = ref->v3_path[0] == '/' ? ref->v3_path + 1 : ref->v3_path;
    snprintf(given, sizeof given, "/%s", path);
    if (path[0] && take(h5, given, group, len))
        return 1;
    if (checkpoint_spelling(given, renamed, sizeof renamed) && take(h5, renamed, group, len))
        return 1;
    return walk(h5, model, ref, group, len);
}
