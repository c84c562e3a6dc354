/* test_safetensors.c - the safetensors reader and writer (src/io/safetensors.c): a round
 * trip keeps every bit, and every corrupt file (truncated anywhere, bad header length,
 * header not JSON, wrong dtype, shape/offset mismatch, overlaps, gaps) is refused with
 * a message saying what is wrong. No device needed. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/runtime.h"
#include "io/safetensors.h"
#include "support/tempdir.h"

TestSuite(safetensors, .init = clnet_test_make_dir, .fini = clnet_test_remove_dir);

/* A file of header length hlen (written as given), then header, then data_len bytes. */
static void write_raw_len(const char *path, uint64_t hlen, const char *header, size_t data_len)
{
    const size_t n = strlen(header);
    unsigned char *b = calloc(8 + n + data_len + 1, 1);
    for (int i = 0; i < 8; ++i)
        b[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + 8, header, n);
    clnet_test_write_file(path, b, 8 + n + data_len);
    free(b);
}

static void write_raw(const char *path, const char *header, size_t data_len)
{
    write_raw_len(path, strlen(header), header, data_len);
}

/* Opening path fails with want, *out NULL, the message holding needle. */
static void expect_refused(const char *path, clnet_status want, const char *needle)
{
    clnet__st_file *f = (clnet__st_file *)&f;
    char err[512] = "";
    clnet_status st = clnet__st_open(path, &f, err, sizeof err);
    cr_expect_eq(st, want, "%s: got %s, want %s (%s)", path, clnet_status_string(st),
                 clnet_status_string(want), err);
    cr_expect_null(f);
    cr_expect(strstr(err, needle) != NULL, "message \"%s\" should say \"%s\"", err, needle);
    if (st == CLNET_OK)
        clnet__st_close(f);
    /* The same bytes in memory are refused the same way (the fuzz harnesses' path). */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    size_t n = 0;
    unsigned char *b = clnet_test_read_file(path, &n);
    char err2[512] = "";
    f = (clnet__st_file *)&f;
    cr_expect_eq(clnet__st_open_memory(b, n, &f, err2, sizeof err2), st, "%s in memory", path);
    cr_expect_null(f);
    cr_expect_str_eq(err2, err);
    free(b);
}

/* Tensor data of the round trip: values that must survive bit for bit. */
static float value(int tensor, size_t i)
{
    static const float special[] = {-0.0f, INFINITY, -INFINITY, FLT_MIN / 8, FLT_MAX};
    if (tensor == 3)
        return special[i];
    return (float)(tensor * 100 + (int)i) * 0.37f - 5.0f;
}

static clnet_status fill_values(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    int *calls = user;
    ++*calls;
    (void)err;
    (void)len;
    for (size_t k = 0; k < count; ++k)
        dst[k] = value(i, k);
    return CLNET_OK;
}

static const clnet__st_entry entries[] = {{"conv1/kernel", 4, {2, 3, 1, 2}},
                                          {"scalar", 0, {0}},
                                          {"empty", 2, {0, 7}},
                                          {"bn/gamma", 1, {5}}};
static const char *const meta[][2] = {
    {"format", "test"}, {"spec", "[a]\nop = \"x\"\n"}, {"unicode", "\xc3\xbcn\xc3\xaf"}};

static void save_small(const char *path)
{
    int calls = 0;
    char err[256] = "";
    clnet_status st =
        clnet__st_save(path, entries, 4, meta, 3, fill_values, &calls, err, sizeof err);
    cr_assert_eq(st, CLNET_OK, "%s", err);
    cr_assert_eq(calls, 4);
}

Test(safetensors, round_trip_keeps_every_bit)
{
    const char *path = clnet_test_path("small.safetensors");
    save_small(path);
    clnet__st_file *f = NULL;
    char err[256] = "";
    cr_assert_eq(clnet__st_open(path, &f, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_eq(f->n, 4);
    for (int i = 0; i < 4; ++i) {
        const int t = clnet__st_find(f, entries[i].name);
        cr_assert_eq(t, i, "%s: in header order", entries[i].name);
        cr_expect_eq(f->tensors[t].rank, entries[i].rank);
        size_t count = 1;
        for (int d = 0; d < entries[i].rank; ++d) {
            cr_expect_eq(f->tensors[t].shape[d], entries[i].shape[d]);
            count *= (size_t)entries[i].shape[d];
        }
        cr_assert_eq(f->tensors[t].count, count);
        float got[16], want[16];
        cr_assert_eq(clnet__st_read(f, t, got, count, err, sizeof err), CLNET_OK, "%s", err);
        for (size_t k = 0; k < count; ++k)
            want[k] = value(i, k);
        cr_expect_eq(memcmp(got, want, count * sizeof *got), 0, "%s", entries[i].name);
    }
    cr_expect_eq(clnet__st_find(f, "missing"), -1);
    float one;
    cr_expect_eq(clnet__st_read(f, 0, &one, 1, err, sizeof err), CLNET_ERR_SHAPE);
    cr_expect_str_eq(clnet__st_meta(f, "format"), "test");
    cr_expect_str_eq(clnet__st_meta(f, "spec"), "[a]\nop = \"x\"\n");
    cr_expect_str_eq(clnet__st_meta(f, "unicode"), "\xc3\xbcn\xc3\xaf");
    cr_expect_null(clnet__st_meta(f, "absent"));
    const char *v = NULL;
    cr_expect_eq(clnet__st_meta_require(f, "absent", &v, err, sizeof err), CLNET_ERR_PARSE);
    cr_expect(strstr(err, "__metadata__ has no \"absent\"") != NULL, "%s", err);
    clnet__st_close(f);

    /* The layout of the spec: u64 LE header length, the JSON padded with spaces to a
     * multiple of 8, then the tensors back to back in header order, little-endian. */
    size_t n = 0;
    unsigned char *b = clnet_test_read_file(path, &n);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; ++i)
        hlen |= (uint64_t)b[i] << (8 * i);
    cr_expect_eq((8 + hlen) % 8, 0);
    cr_expect_eq(b[8], '{');
    const uint64_t data = (12 + 1 + 0 + 5) * 4;
    cr_expect_eq(n, 8 + hlen + data);
    const unsigned char first[4] = {b[8 + hlen], b[9 + hlen], b[10 + hlen], b[11 + hlen]};
    const float want = value(0, 0);
    uint32_t bits;
    memcpy(&bits, &want, 4);
    for (int i = 0; i < 4; ++i)
        cr_expect_eq(first[i], (unsigned char)(bits >> (8 * i)), "little-endian byte %d", i);
    const char *header = (const char *)b + 8;
    cr_expect(strstr(header, "\"__metadata__\":{\"format\":\"test\"") == header + 1,
              "metadata first: %.80s", header);
    cr_expect(strstr(header, "\"conv1/kernel\":{\"dtype\":\"F32\",\"shape\":[2,3,1,2],"
                             "\"data_offsets\":[0,48]}") != NULL,
              "%.*s", (int)hlen, header);
    cr_expect(strstr(header, "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],"
                             "\"data_offsets\":[48,52]}") != NULL);
    free(b);
}

/* The whole file from memory reads the same tensors and metadata. */
Test(safetensors, a_file_in_memory_reads_the_same)
{
    const char *path = clnet_test_path("small.safetensors");
    save_small(path);
    size_t n = 0;
    unsigned char *b = clnet_test_read_file(path, &n);
    clnet__st_file *f = NULL;
    char err[256] = "";
    cr_assert_eq(clnet__st_open_memory(b, n, &f, err, sizeof err), CLNET_OK, "%s", err);
    cr_assert_eq(f->n, 4);
    for (int i = 0; i < 4; ++i) {
        const int t = clnet__st_find(f, entries[i].name);
        cr_assert_eq(t, i);
        float got[16];
        const size_t count = (size_t)f->tensors[t].count;
        cr_assert_eq(clnet__st_read(f, t, got, count, err, sizeof err), CLNET_OK, "%s", err);
        for (size_t k = 0; k < count; ++k)
            cr_expect_eq(memcmp(&got[k], &(float){value(i, k)}, sizeof(float)), 0);
    }
    cr_expect_str_eq(clnet__st_meta(f, "unicode"), "\xc3\xbcn\xc3\xaf");
    clnet__st_close(f);
    cr_expect_eq(clnet__st_open_memory(NULL, 0, &f, err, sizeof err), CLNET_ERR_PARSE);
    cr_expect(strstr(err, "too few") != NULL, "%s", err);
    free(b);
}

Test(safetensors, a_file_truncated_anywhere_is_refused)
{
    const char *path = clnet_test_path("small.safetensors"),
               *cut = clnet_test_path("cut.safetensors");
    save_small(path);
    size_t n = 0;
    unsigned char *b = clnet_test_read_file(path, &n);
    for (size_t len = 0; len < n; ++len) {
        clnet_test_write_file(cut, b, len);
        clnet__st_file *f = (clnet__st_file *)&f;
        char err[512] = "";
        clnet_status st = clnet__st_open(cut, &f, err, sizeof err);
        cr_expect_neq(st, CLNET_OK, "truncated to %zu of %zu bytes yet opened", len, n);
        cr_expect_null(f);
        cr_expect(strlen(err) > 10, "truncated to %zu: no message", len);
        if (len >= 8)
            cr_expect(strstr(err, "truncated") != NULL, "truncated to %zu: %s", len, err);
        char err2[512] = "";
        cr_expect_eq(clnet__st_open_memory(b, len, &f, err2, sizeof err2), st);
        cr_expect_str_eq(err2, err, "truncated to %zu in memory", len);
    }
    /* A byte too many belongs to no tensor. */
    b[n] = 0;
    clnet_test_write_file(cut, b, n + 1);
    expect_refused(cut, CLNET_ERR_PARSE, "belong to no tensor");
    free(b);
}

/* A header entry of an F32 tensor: name, shape "[...]" and offsets "[begin,end]". */
#define F32(name, shape, offsets)                                                                  \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

typedef struct bad_header {
    const char *header;
    size_t data; /* bytes of data section */
    clnet_status want;
    const char *needle; /* in the message */
} bad_header;

static void expect_all_refused(const bad_header *cases, size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        write_raw(clnet_test_path("bad.safetensors"), cases[i].header, cases[i].data);
        expect_refused(clnet_test_path("bad.safetensors"), cases[i].want, cases[i].needle);
    }
}

/* Opens a file of this header and data length (asserting success); close it. */
static clnet__st_file *expect_opens(const char *header, size_t data)
{
    write_raw(clnet_test_path("good.safetensors"), header, data);
    clnet__st_file *f = NULL;
    char err[256] = "";
    cr_assert_eq(clnet__st_open(clnet_test_path("good.safetensors"), &f, err, sizeof err), CLNET_OK,
                 "%s: %s", header, err);
    return f;
}

Test(safetensors, a_bad_header_length_is_refused)
{
    const char *path = clnet_test_path("bad.safetensors"),
               *header = "{" F32("x", "[1]", "[0,4]") "}";
    const struct {
        uint64_t hlen;
        const char *needle;
    } cases[] = {{UINT64_MAX, "above the limit of 100 MB"},
                 {200u * 1000u * 1000u, "above the limit"},
                 {strlen(header) + 5, "beyond the end of the file"},
                 {0, "too short"}};
    for (size_t i = 0; i < CLNET_COUNTOF(cases); ++i) {
        write_raw_len(path, cases[i].hlen, header, 4);
        expect_refused(path, CLNET_ERR_PARSE, cases[i].needle);
    }
    clnet_test_write_file(path, "\x10\0\0", 3);
    expect_refused(path, CLNET_ERR_PARSE, "too few");
    clnet__st_close(expect_opens(header, 4)); /* with its right length it opens */
}

Test(safetensors, a_header_that_is_not_json_is_refused)
{
    static const bad_header cases[] = {
        {"{\"x\": {\"dtype\": \"F32\", \"shape\": [1] \"data_offsets\": [0, 4]}}", 4,
         CLNET_ERR_PARSE, "not JSON (at byte"},
        {"{not json at all}", 0, CLNET_ERR_PARSE, "not JSON"},
        {"[1, 2, 3]", 0, CLNET_ERR_PARSE, "does not start with '{'"},
        {"{} trailing", 0, CLNET_ERR_PARSE, "text after its JSON object"},
        {"{\"\xff\": 1}", 0, CLNET_ERR_PARSE, "not valid UTF-8"},
        {"{\"x\": 5}", 0, CLNET_ERR_PARSE, "tensor 'x' is not a JSON object"},
    };
    expect_all_refused(cases, CLNET_COUNTOF(cases));
    clnet_test_write_file(clnet_test_path("nul.safetensors"), "\4\0\0\0\0\0\0\0{}\0}", 12);
    expect_refused(clnet_test_path("nul.safetensors"), CLNET_ERR_PARSE, "NUL byte");
    clnet__st_file *f = expect_opens("{}      ", 0); /* padding spaces, no tensors: valid */
    cr_expect_eq(f->n, 0);
    clnet__st_close(f);
}

Test(safetensors, a_dtype_other_than_f32_is_refused)
{
    static const bad_header cases[] = {
        {"{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
         CLNET_ERR_UNSUPPORTED, "tensor 'w' has dtype \"F16\": clnet reads F32 tensors only"},
        {"{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, CLNET_ERR_PARSE,
         "tensor 'w' has no dtype"},
        {"{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, CLNET_ERR_PARSE,
         "tensor 'w' has no dtype"},
    };
    expect_all_refused(cases, CLNET_COUNTOF(cases));
}

Test(safetensors, shapes_and_offsets_must_agree)
{
    static const bad_header cases[] = {
        {"{" F32("w", "[2,3]", "[0,20]") "}", 20, CLNET_ERR_PARSE,
         "tensor 'w': data_offsets [0, 20) hold 20 bytes but shape [2,3] of F32 needs 24"},
        {"{" F32("w", "[2,-3]", "[0,24]") "}", 24, CLNET_ERR_PARSE, "non-negative integer"},
        {"{" F32("w", "[2.5]", "[0,10]") "}", 10, CLNET_ERR_PARSE, "non-negative integer"},
        {"{" F32("w", "4", "[0,16]") "}", 16, CLNET_ERR_PARSE, "shape is not an array"},
        {"{" F32("w", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, CLNET_ERR_PARSE,
         "at most 8 dimensions"},
        {"{" F32("w", "[4294967296,4294967296,4294967296]", "[0,4]") "}", 4, CLNET_ERR_PARSE,
         "needs more than the 4 bytes"},
        {"{" F32("w", "[1]", "[0]") "}", 4, CLNET_ERR_PARSE, "data_offsets is not [begin, end]"},
        {"{" F32("w", "[1]", "[-4,0]") "}", 4, CLNET_ERR_PARSE, "data_offsets is not [begin, end]"},
        {"{" F32("w", "[0]", "[4,0]") "}", 4, CLNET_ERR_PARSE, "end first"},
    };
    expect_all_refused(cases, CLNET_COUNTOF(cases));
}

Test(safetensors, overlaps_gaps_and_offsets_out_of_range_are_refused)
{
    static const bad_header cases[] = {
        {"{" F32("a", "[2]", "[0,8]") "," F32("b", "[2]", "[4,12]") "}", 12, CLNET_ERR_PARSE,
         "tensors 'a' and 'b' overlap"},
        {"{" F32("a", "[4]", "[0,16]") "}", 8, CLNET_ERR_PARSE,
         "run past the end of the data section (8 bytes)"},
        {"{" F32("a", "[1]", "[0,4]") "," F32("b", "[1]", "[8,12]") "}", 12, CLNET_ERR_PARSE,
         "bytes [4, 8) of the data section belong to no tensor"},
        {"{" F32("a", "[1]", "[0,4]") "}", 12, CLNET_ERR_PARSE, "bytes [4, 12) at the end"},
        {"{" F32("a", "[1]", "[0,4]") "," F32("a", "[1]", "[4,8]") "}", 8, CLNET_ERR_PARSE,
         "two tensors are called 'a'"},
    };
    expect_all_refused(cases, CLNET_COUNTOF(cases));
    /* Tensors may come in any order in the header. */
    clnet__st_file *f =
        expect_opens("{" F32("b", "[1]", "[4,8]") "," F32("a", "[1]", "[0,4]") "}", 8);
    cr_expect_eq(clnet__st_find(f, "a"), 1);
    cr_expect_eq(clnet__st_find(f, "b"), 0);
    clnet__st_close(f);
}

Test(safetensors, metadata_values_are_strings_and_may_be_required)
{
    static const bad_header cases[] = {
        {"{\"__metadata__\":{\"format\":\"clnet\",\"epoch\":3}}", 0, CLNET_ERR_PARSE,
         "__metadata__ \"epoch\" is not a string"},
        {"{\"__metadata__\":[\"a\"]}", 0, CLNET_ERR_PARSE, "__metadata__ is not an object"},
        {"{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0, CLNET_ERR_PARSE,
         "__metadata__ has \"a\" twice"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, CLNET_ERR_PARSE, "__metadata__ twice"},
    };
    expect_all_refused(cases, CLNET_COUNTOF(cases));
    clnet__st_file *f = expect_opens("{" F32("a", "[1]", "[0,4]") "}", 4);
    const char *v = "x";
    char err[256];
    cr_expect_eq(clnet__st_meta_require(f, "spec", &v, err, sizeof err), CLNET_ERR_PARSE);
    cr_expect_null(v);
    cr_expect(strstr(err, "the header has no __metadata__ (needed: \"spec\")") != NULL, "%s", err);
    clnet__st_close(f);
}

Test(safetensors, paths_that_are_not_files_are_refused)
{
    expect_refused(clnet_test_path("nonexistent.safetensors"), CLNET_ERR_IO, "No such file");
    expect_refused(clnet_test_dir, CLNET_ERR_IO, "a directory");
    cr_assert_eq(mkfifo(clnet_test_path("fifo"), 0600), 0);
    expect_refused(clnet_test_path("fifo"), CLNET_ERR_IO,
                   "not a regular file"); /* without blocking */
}

static clnet_status fail_second(void *user, int i, float *dst, size_t count, char *err, size_t len)
{
    if (i == 1) {
        snprintf(err, len, "the device went away");
        return CLNET_ERR_OPENCL;
    }
    return fill_values(user, i, dst, count, err, len);
}

/* An existing file survives every failed save byte for byte, and no temporary is left. */
Test(safetensors, a_failed_save_leaves_the_existing_file)
{
    const char *path = clnet_test_path("model.safetensors");
    save_small(path);
    size_t n0 = 0, n1 = 0;
    unsigned char *before = clnet_test_read_file(path, &n0);
    char tmp[300], err[512] = "";
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int calls = 0;

    clnet_status st =
        clnet__st_save(path, entries, 4, meta, 3, fail_second, &calls, err, sizeof err);
    cr_expect_eq(st, CLNET_ERR_OPENCL);
    cr_expect_str_eq(err, "the device went away");
    cr_expect_neq(access(tmp, F_OK), 0, "the temporary file was left behind");

    cr_assert_eq(mkdir(tmp, 0755), 0); /* the temporary file cannot be created */
    st = clnet__st_save(path, entries, 4, meta, 3, fill_values, &calls, err, sizeof err);
    cr_expect_eq(st, CLNET_ERR_IO);
    cr_expect(strstr(err, "cannot create the temporary file") && strstr(err, tmp), "%s", err);
    cr_assert_eq(rmdir(tmp), 0);

    unsigned char *after = clnet_test_read_file(path, &n1);
    cr_expect(n0 == n1 && memcmp(before, after, n0) == 0, "the existing file changed");
    free(before);
    free(after);

    st = clnet__st_save(clnet_test_path("no/such/dir/x.safetensors"), entries, 4, meta, 3,
                        fill_values, &calls, err, sizeof err);
    cr_expect_eq(st, CLNET_ERR_IO);
    cr_expect(strstr(err, "no/such/dir/x.safetensors.tmp.") && strstr(err, "No such file"), "%s",
              err);

    /* Renaming over a directory fails after the data is written: the temporary goes. */
    st = clnet__st_save(clnet_test_dir, entries, 4, meta, 3, fill_values, &calls, err, sizeof err);
    cr_expect_eq(st, CLNET_ERR_IO);
    cr_expect(strstr(err, "cannot rename") != NULL, "%s", err);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", clnet_test_dir, (long)getpid());
    cr_expect_neq(access(tmp, F_OK), 0, "the temporary file was left behind");
}

Test(safetensors, bad_entries_are_refused_before_writing)
{
    const char *path = clnet_test_path("x.safetensors");
    char err[256];
    int calls = 0;
    const clnet__st_entry twice[] = {{"a", 1, {1}}, {"b", 1, {1}}, {"a", 1, {2}}};
    cr_expect_eq(clnet__st_save(path, twice, 3, NULL, 0, fill_values, &calls, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(err, "two tensors are called 'a'") != NULL, "%s", err);
    const clnet__st_entry reserved[] = {{"__metadata__", 1, {1}}};
    cr_expect_eq(clnet__st_save(path, reserved, 1, NULL, 0, fill_values, &calls, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);
    const clnet__st_entry bad_utf8[] = {{"\xc3(", 1, {1}}};
    cr_expect_eq(clnet__st_save(path, bad_utf8, 1, NULL, 0, fill_values, &calls, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);
    const clnet__st_entry negative[] = {{"a", 2, {3, -1}}};
    cr_expect_eq(clnet__st_save(path, negative, 1, NULL, 0, fill_values, &calls, err, sizeof err),
                 CLNET_ERR_INVALID_ARG);
    const char *const dup_meta[][2] = {{"k", "1"}, {"k", "2"}};
    cr_expect_eq(
        clnet__st_save(path, entries, 1, dup_meta, 2, fill_values, &calls, err, sizeof err),
        CLNET_ERR_INVALID_ARG);
    cr_expect(strstr(err, "two metadata entries are called 'k'") != NULL, "%s", err);
    cr_expect_eq(calls, 0);
    cr_expect_neq(access(path, F_OK), 0);
}

Test(safetensors, utf8_validation)
{
    cr_expect(clnet__utf8_valid("plain", 5));
    cr_expect(clnet__utf8_valid("\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    cr_expect_not(clnet__utf8_valid("\xc0\xaf", 2));         /* overlong */
    cr_expect_not(clnet__utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    cr_expect_not(clnet__utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    cr_expect_not(clnet__utf8_valid("\xe2\x82", 2));         /* cut short */
}
