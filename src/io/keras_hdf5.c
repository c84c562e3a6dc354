/* keras_hdf5.c - an HDF5 file's groups, string attributes and float datasets (keras_hdf5.h),
 * read by libhdf5 in a child process (keras_hdf5_walk.c) and kept here in memory: a
 * damaged file that crashes libhdf5 kills the child, and the caller gets an error naming
 * the file instead of a crash. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/keras_hdf5.h"
#include "io/safetensors.h"

int clnet__hdf5_cpu_seconds = 60;

typedef struct h5_object {
    const char *path; /* into the stream */
    int dataset;
    int rank;    /* -1: not numeric */
    int outside; /* its data is in other files (external storage, virtual) */
    int64_t dims[CLNET_HDF5_MAX_RANK];
    const char *values; /* the floats in the stream, unaligned; NULL when unreadable */
    int first_attr, n_attr;
} h5_object;

typedef struct h5_attr {
    const char *name;
    int first, n; /* its strings: strings[first .. first + n) */
} h5_attr;

struct clnet__hdf5 {
    char name[256];
    char *stream; /* what the child sent; its strings end in NULs */
    size_t size;
    h5_object *o;
    int n_o, cap_o;
    h5_attr *a;
    int n_a, cap_a;
    const char **strings;
    int n_s, cap_s;
};

/* Runs the walk in a child; the whole stream into *out. The child's end: its exit status
 * (or signal) in *status. */
static int run_child(const char *path, const void *image, size_t size, char **out, size_t *n,
                     int *status, int *stuck)
{
    *stuck = 0;
    int p[2];
    if (pipe(p))
        return -1;
    const pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        /* A crash in libhdf5 ends the child alone: no sanitizer or fuzzer report. */
        static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU};
        for (size_t i = 0; i < sizeof fatal / sizeof *fatal; ++i)
            signal(fatal[i], SIG_DFL);
        /* libhdf5 also loops on some damaged files: a limit on the child's CPU time ends
         * it (reading a 2 GB file takes a few seconds). */
        const struct rlimit cpu = {(rlim_t)clnet__hdf5_cpu_seconds,
                                   (rlim_t)clnet__hdf5_cpu_seconds + 1};
        setrlimit(RLIMIT_CPU, &cpu);
#ifdef __linux__
        /* Nor does it outlive a parent that is killed meanwhile (a fuzzer's timeout). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
#else
        (void)parent;
#endif
        struct stat st;
        const int64_t bytes = path ? (stat(path, &st) ? 0 : (int64_t)st.st_size) : (int64_t)size;
        clnet__hdf5_walk(p[1], path, image, size,
                         bytes * 256 > (64 << 20) ? bytes * 256 : 64 << 20);
        close(p[1]);
        _exit(0);
    }
    close(p[1]);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (ssize_t r = 1; buf && r > 0;) {
        if (len + 1 == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        /* A child that sends nothing for two minutes is stuck in libhdf5: stopped. */
        struct pollfd wait = {p[0], POLLIN, 0};
        const int ready = poll(&wait, 1, 120 * 1000);
        if (ready == 0) {
            kill(pid, SIGKILL);
            *stuck = 1;
            break;
        }
        r = ready < 0 ? -1 : read(p[0], buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            r = 1;
        else if (r > 0)
            len += (size_t)r;
    }
    close(p[0]);
    if (!buf)
        kill(pid, SIGKILL);
    *status = 0;
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    *out = buf;
    *n = len;
    return buf ? 0 : -1;
}

/* A reader of the stream; failed when it ran past the end. */
typedef struct cursor {
    char *at, *end;
    int failed;
} cursor;

static char *take(cursor *c, size_t n)
{
    if (c->failed || (size_t)(c->end - c->at) < n) {
        c->failed = 1;
        return NULL;
    }
    char *p = c->at;
    c->at += n;
    return p;
}

static unsigned take_u8(cursor *c)
{
    const char *p = take(c, 1);
    return p ? (unsigned char)*p : 0;
}

static uint32_t take_u32(cursor *c)
{
    uint32_t v = 0;
    const char *p = take(c, sizeof v);
    if (p)
        memcpy(&v, p, sizeof v);
    return v;
}

/* A string of the stream: its length, its bytes and the NUL the writer put after them. */
static const char *take_str(cursor *c)
{
    const uint32_t n = take_u32(c);
    const char *s = take(c, (size_t)n + 1);
    if (s && s[n] != '\0')
        c->failed = 1;
    return c->failed ? "" : s;
}

/* Room for one more element of *p (n used of *cap, size bytes each). */
static int room(void **p, int n, int *cap, size_t size)
{
    if (n < *cap)
        return 0;
    const int grown = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, (size_t)grown * size);
    if (!q)
        return -1;
    *p = q;
    *cap = grown;
    return 0;
}

static int take_object(clnet__hdf5 *f, cursor *c)
{
    if (room((void **)&f->o, f->n_o, &f->cap_o, sizeof *f->o))
        return -1;
    h5_object *o = &f->o[f->n_o++];
    memset(o, 0, sizeof *o);
    o->path = take_str(c);
    o->first_attr = f->n_a;
    o->dataset = take_u8(c) != 0;
    o->rank = -1;
    if (!o->dataset)
        return 0;
    const unsigned rank = take_u8(c);
    o->outside = rank == 254;
    if (rank == 255 || rank == 254)
        return 0;
    if (rank > CLNET_HDF5_MAX_RANK)
        return -1;
    int64_t count = 1;
    for (unsigned i = 0; i < rank; ++i) {
        uint64_t d = 0;
        const char *p = take(c, sizeof d);
        if (p)
            memcpy(&d, p, sizeof d);
        if (d > ((uint64_t)1 << 31))
            return -1;
        o->dims[i] = (int64_t)d;
        count *= (int64_t)d;
        if (count > ((int64_t)1 << 31))
            return -1;
    }
    o->rank = (int)rank;
    if (take_u8(c))
        o->values = take(c, (size_t)count * sizeof(float));
    return 0;
}

static int take_attr(clnet__hdf5 *f, cursor *c)
{
    if (!f->n_o || room((void **)&f->a, f->n_a, &f->cap_a, sizeof *f->a))
        return -1;
    h5_attr *a = &f->a[f->n_a++];
    a->name = take_str(c);
    a->n = (int)take_u32(c);
    a->first = f->n_s;
    if (a->n < 0 || a->n > (1 << 20))
        return -1;
    for (int i = 0; i < a->n && !c->failed; ++i) {
        if (room((void **)&f->strings, f->n_s, &f->cap_s, sizeof *f->strings))
            return -1;
        f->strings[f->n_s++] = take_str(c);
    }
    f->o[f->n_o - 1].n_attr++;
    return 0;
}

/* Parses the stream; 1 when it ends with 'E', 0 when libhdf5 could not open the file
 * ('X'), -1 when it stops short (the child died) or is malformed. */
static int parse(clnet__hdf5 *f)
{
    cursor c = {f->stream, f->stream + f->size, 0};
    while (!c.failed) {
        const unsigned kind = take_u8(&c);
        if (c.failed)
            break;
        if (kind == 'E' || kind == 'X')
            return kind == 'E';
        if ((kind == 'O' ? take_object(f, &c) : kind == 'A' ? take_attr(f, &c) : -1) < 0)
            return -1;
    }
    return -1;
}

clnet_status clnet__hdf5_open(const char *path, const void *image, size_t size, const char *name,
                              clnet__hdf5 **out, char *err, size_t len)
{
    *out = NULL;
    clnet__hdf5 *f = calloc(1, sizeof *f);
    if (!f)
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    snprintf(f->name, sizeof f->name, "%s", path ? path : name ? name : "(memory)");
    int status = 0, stuck = 0;
    if (run_child(path, image, size, &f->stream, &f->size, &status, &stuck)) {
        clnet__hdf5_close(f);
        return clnet__st_fail(err, len, CLNET_ERR_OUT_OF_MEMORY,
                              "reading '%s': cannot start the reader process (%s)",
                              name ? name : path, strerror(errno));
    }
    const int got = parse(f);
    clnet_status st = CLNET_OK;
    if (got == 0)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s' is not an HDF5 file libhdf5 can open (not HDF5, or damaged or "
                            "truncated)",
                            f->name);
    else if (got < 0 && stuck)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s' is damaged: libhdf5 stopped responding reading it", f->name);
    else if (got < 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s' is damaged: libhdf5 was still reading it after %d s of CPU time",
                            f->name, clnet__hdf5_cpu_seconds);
    else if (got < 0 && WIFSIGNALED(status))
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s' is damaged: libhdf5 crashed reading it (signal %d)", f->name,
                            WTERMSIG(status));
    else if (got < 0)
        st = clnet__st_fail(err, len, CLNET_ERR_PARSE,
                            "'%s' is damaged: libhdf5 could not read it through", f->name);
    if (st != CLNET_OK) {
        clnet__hdf5_close(f);
        return st;
    }
    *out = f;
    return CLNET_OK;
}

void clnet__hdf5_close(clnet__hdf5 *f)
{
    if (!f)
        return;
    free(f->stream);
    free(f->o);
    free(f->a);
    free(f->strings);
    free(f);
}

/* The object at path ("/a/b" or "a/b"), or NULL. */
static const h5_object *find(const clnet__hdf5 *f, const char *path)
{
    while (path[0] == '/' && path[1] == '/')
        ++path;
    for (int i = 0; i < f->n_o; ++i) {
        const char *p = f->o[i].path;
        if (!strcmp(p + (p[0] == '/'), path + (path[0] == '/')) ||
            (!strcmp(path, "") && !strcmp(p, "/")))
            return &f->o[i];
    }
    return NULL;
}

int clnet__hdf5_exists(clnet__hdf5 *f, const char *path)
{
    return find(f, path) != NULL;
}

void clnet__hdf5_strings_free(char **s, int n)
{
    for (int i = 0; s && i < n; ++i)
        free(s[i]);
    free(s);
}

static const h5_attr *find_attr(const clnet__hdf5 *f, const char *path, const char *attr)
{
    const h5_object *o = find(f, path);
    for (int i = 0; o && i < o->n_attr; ++i)
        if (!strcmp(f->a[o->first_attr + i].name, attr))
            return &f->a[o->first_attr + i];
    return NULL;
}

/* Appends the strings of a to *out (*n of them so far); -1 when memory runs out. */
static int append(const clnet__hdf5 *f, const h5_attr *a, char ***out, int *n)
{
    char **grown = realloc(*out, (size_t)(*n + a->n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *out = grown;
    for (int i = 0; i < a->n; ++i)
        if (!((*out)[(*n)++] = strdup(f->strings[a->first + i])))
            return --*n, -1;
    return 0;
}

char *clnet__hdf5_attr_string(clnet__hdf5 *f, const char *path, const char *attr)
{
    const h5_attr *a = find_attr(f, path, attr);
    return a && a->n == 1 ? strdup(f->strings[a->first]) : NULL;
}

int clnet__hdf5_attr_strings(clnet__hdf5 *f, const char *path, const char *attr, char ***out)
{
    *out = NULL;
    int n = 0;
    const h5_attr *a = find_attr(f, path, attr);
    if (a)
        return append(f, a, out, &n) ? (clnet__hdf5_strings_free(*out, n), *out = NULL, -1) : n;
    /* Keras splits an attribute over HDF5's 64 KB header limit into attr0, attr1, ...
     * (save_attributes_to_hdf5_group): the parts in order, joined. */
    int part = 0;
    for (;; ++part) {
        char name[256];
        snprintf(name, sizeof name, "%s%d", attr, part);
        if (!(a = find_attr(f, path, name)))
            break;
        if (append(f, a, out, &n)) {
            clnet__hdf5_strings_free(*out, n);
            *out = NULL;
            return -1;
        }
    }
    return part ? n : -1;
}

int clnet__hdf5_members(clnet__hdf5 *f, const char *path, char ***out)
{
    *out = NULL;
    const h5_object *g = find(f, path);
    if (!g || g->dataset)
        return -1;
    const char *base = g->path;
    const size_t k = strcmp(base, "/") ? strlen(base) : 0;
    int n = 0;
    for (int i = 0; i < f->n_o; ++i) {
        const char *p = f->o[i].path;
        if (p == base || strncmp(p, base, k) || p[k] != '/' || strchr(p + k + 1, '/'))
            continue;
        char **grown = realloc(*out, (size_t)(n + 1) * sizeof *grown);
        if (!grown || !(grown[n] = strdup(p + k + 1))) {
            clnet__hdf5_strings_free(grown ? grown : *out, n);
            *out = NULL;
            return -1;
        }
        *out = grown;
        ++n;
    }
    return n;
}

int clnet__hdf5_shape(clnet__hdf5 *f, const char *path, int64_t *dims)
{
    const h5_object *o = find(f, path);
    if (o && o->outside)
        return -2;
    if (!o || !o->dataset || o->rank < 0)
        return -1;
    memcpy(dims, o->dims, (size_t)o->rank * sizeof *dims);
    return o->rank;
}

clnet_status clnet__hdf5_read(clnet__hdf5 *f, const char *path, float *out, int64_t count,
                              char *err, size_t len)
{
    const h5_object *o = find(f, path);
    int64_t have = o && o->dataset && o->rank >= 0 ? 1 : -1;
    for (int i = 0; have > 0 && i < o->rank; ++i)
        have *= o->dims[i];
    if (have < 0)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE, "'%s' has no numeric dataset %s", f->name,
                              path);
    if (have != count)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': dataset %s holds %lld values, not %lld", f->name, path,
                              (long long)have, (long long)count);
    if (count && !o->values)
        return clnet__st_fail(err, len, CLNET_ERR_PARSE,
                              "'%s': libhdf5 cannot read dataset %s (damaged or truncated file)",
                              f->name, path);
    memcpy(out, o->values, (size_t)count * sizeof *out);
    return CLNET_OK;
}
