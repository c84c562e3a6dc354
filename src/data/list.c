/* list.c - the files of a folder and all folders below it, in the order Keras's
 * image_dataset_from_directory lists a class's images: sorted by folder path, then by
 * name (strcmp, which for UTF-8 is code point order, as Python sorts). Symbolic links are
 * followed, each folder visited once (by device and inode), so a link back to a parent
 * ends instead of looping. Hidden entries (".name") are left out. Used by folder.c and
 * `clnet predict DIR` (clnet_folder_list). Tests: tests/unit/test_folder.c. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"

/* A link chain deeper than this is surely a mistake; paths stay short of PATH_MAX. */
#define MAX_DEPTH 64

typedef struct visited {
    dev_t *dev;
    ino_t *ino;
    int n, cap;
} visited;

typedef struct walk {
    clnet__files *out;
    visited seen;
    char *err;
    size_t err_len;
} walk;

void clnet__files_free(clnet__files *f)
{
    for (int i = 0; i < f->n; ++i)
        free(f->items[i].path);
    free(f->items);
    memset(f, 0, sizeof *f);
}

static int push(clnet__files *f, char *path, size_t dir_len)
{
    if (f->n == f->cap) {
        const int cap = f->cap ? 2 * f->cap : 64;
        clnet__file *items = realloc(f->items, (size_t)cap * sizeof *items);
        if (!items)
            return 0;
        f->items = items;
        f->cap = cap;
    }
    f->items[f->n].path = path;
    f->items[f->n++].dir_len = dir_len;
    return 1;
}

/* Marks a folder seen; 0 when it was already (a loop or a second link to it), -1 when
 * out of memory. */
static int first_visit(visited *v, dev_t dev, ino_t ino)
{
    for (int i = 0; i < v->n; ++i)
        if (v->dev[i] == dev && v->ino[i] == ino)
            return 0;
    if (v->n == v->cap) {
        const int cap = v->cap ? 2 * v->cap : 16;
        dev_t *d = realloc(v->dev, (size_t)cap * sizeof *d);
        if (d)
            v->dev = d;
        ino_t *i = realloc(v->ino, (size_t)cap * sizeof *i);
        if (i)
            v->ino = i;
        if (!d || !i)
            return -1;
        v->cap = cap;
    }
    v->dev[v->n] = dev;
    v->ino[v->n++] = ino;
    return 1;
}

clnet_status clnet__dir_each(const char *dir, clnet__entry_fn fn, void *user, char *err,
                             size_t err_len)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: cannot open the folder: %s", dir,
                                strerror(errno));
    clnet_status st = CLNET_OK;
    for (struct dirent *e; st == CLNET_OK && (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char *path = clnet__path_join(dir, e->d_name);
        struct stat sb;
        st = path ? fn(user, e->d_name, path, stat(path, &sb) == 0 ? &sb : NULL)
                  : clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY,
                                     "%s: out of memory listing the folder", dir);
        free(path);
    }
    closedir(dp);
    return st;
}

/* One folder of a walk: its path and depth. */
typedef struct level {
    walk *w;
    const char *dir;
    int depth;
} level;

static clnet_status visit(walk *w, const char *dir, int depth);

static clnet_status visit_entry(void *user, const char *name, const char *path,
                                const struct stat *sb)
{
    (void)name;
    const level *at = user;
    walk *w = at->w;
    if (!sb || !(S_ISREG(sb->st_mode) || S_ISDIR(sb->st_mode))) {
        ++w->out->others; /* a broken link, a pipe, a device: never opened */
        return CLNET_OK;
    }
    if (S_ISDIR(sb->st_mode)) {
        const int first = first_visit(&w->seen, sb->st_dev, sb->st_ino);
        return first < 0 ? clnet__data_fail(w->err, w->err_len, CLNET_ERR_OUT_OF_MEMORY,
                                            "%s: out of memory", path)
               : first   ? visit(w, path, at->depth + 1)
                         : CLNET_OK;
    }
    const size_t len = strlen(path) + 1;
    char *copy = malloc(len);
    if (copy)
        memcpy(copy, path, len);
    if (!copy || !push(w->out, copy, strlen(at->dir))) {
        free(copy);
        return clnet__data_fail(w->err, w->err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory",
                                at->dir);
    }
    return CLNET_OK;
}

static clnet_status visit(walk *w, const char *dir, int depth)
{
    if (depth > MAX_DEPTH)
        return clnet__data_fail(w->err, w->err_len, CLNET_ERR_IO,
                                "%s: folders nested more than %d deep", dir, MAX_DEPTH);
    level at = {w, dir, depth};
    return clnet__dir_each(dir, visit_entry, &at, w->err, w->err_len);
}

/* Folder path, then name: Keras sorts (root, name) pairs. */
static int compare_files(const void *a, const void *b)
{
    const clnet__file *x = a, *y = b;
    const int c = memcmp(x->path, y->path, x->dir_len < y->dir_len ? x->dir_len : y->dir_len);
    if (c != 0 || x->dir_len == y->dir_len)
        return c != 0 ? c : strcmp(x->path + x->dir_len + 1, y->path + y->dir_len + 1);
    return x->dir_len < y->dir_len ? -1 : 1; /* a folder sorts before its sub-folders */
}

clnet_status clnet__files_list(const char *dir, clnet__files *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    walk w = {out, {NULL, NULL, 0, 0}, err, err_len};
    struct stat sb;
    clnet_status st = CLNET_OK;
    if (stat(dir, &sb) != 0)
        st = clnet__data_fail(err, err_len, CLNET_ERR_IO, "%s: cannot open the folder: %s", dir,
                              strerror(errno));
    else if (first_visit(&w.seen, sb.st_dev, sb.st_ino) < 0)
        st = clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
    else
        st = visit(&w, dir, 0);
    free(w.seen.dev);
    free(w.seen.ino);
    if (st != CLNET_OK)
        clnet__files_free(out);
    else if (out->n > 1)
        qsort(out->items, (size_t)out->n, sizeof *out->items, compare_files);
    return st;
}

clnet_status clnet_folder_list(const char *dir, char ***paths, int *n, char *err, size_t err_len)
{
    if (paths)
        *paths = NULL;
    if (n)
        *n = 0;
    if (!dir || !paths || !n)
        return clnet__data_fail(err, err_len, CLNET_ERR_INVALID_ARG,
                                "clnet_folder_list: a folder and places for the paths are needed");
    clnet__files f;
    clnet_status st = clnet__files_list(dir, &f, err, err_len);
    if (st != CLNET_OK)
        return st;
    char **p = malloc((size_t)(f.n ? f.n : 1) * sizeof *p);
    if (!p) {
        clnet__files_free(&f);
        return clnet__data_fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
    }
    for (int i = 0; i < f.n; ++i)
        p[i] = f.items[i].path; /* moved, not copied */
    free(f.items);
    *paths = p;
    *n = f.n;
    return CLNET_OK;
}

void clnet_folder_list_free(char **paths, int n)
{
    for (int i = 0; paths && i < n; ++i)
        free(paths[i]);
    free(paths);
}
