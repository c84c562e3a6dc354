/* bench_startup.c - `clnet bench model --startup`: the wall time of a user's first and
 * second `clnet predict` of MODEL on one image, each a new process of this executable.
 * The first runs with empty program caches (ours and the OpenCL driver's, in a
 * temporary directory); the second finds them warm and must compile nothing: the
 * files the caches gained during each run are counted and reported. */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Calls leaf(path, name) for every non-directory under dir and dir_done(path) for
 * each directory after its contents, recursively (the caches nest by hash). */
static void walk(const char *dir, void (*leaf)(void *, const char *, const char *),
                 void (*dir_done)(const char *), void *user)
{
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[1024];
            struct stat st;
            if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
                continue; /* not ours: our caches have short names */
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                walk(path, leaf, dir_done, user);
            else if (leaf)
                leaf(user, path, e->d_name);
        }
        closedir(d);
    }
    if (dir_done)
        dir_done(dir);
}

/* A compiled artifact: every file but the empty temporaries and access stamps POCL
 * leaves on each run. */
static void count_one(void *user, const char *path, const char *name)
{
    (void)path;
    *(int *)user += strcmp(name, "last_accessed") != 0 && strncmp(name, "tempfile_", 9) != 0;
}

static int count_files(const char *dir)
{
    int n = 0;
    walk(dir, count_one, NULL, &n);
    return n;
}

static void remove_one(void *user, const char *path, const char *name)
{
    (void)user;
    (void)name;
    remove(path);
}

static void remove_dir(const char *path)
{
    rmdir(path);
}

/* A binary PGM/PPM of the model's input size with random pixels. */
static int write_image(const char *path, clnet_shape in)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P%c\n%d %d\n255\n", in.c == 1 ? '5' : '6', in.w, in.h);
    unsigned x = 12345u;
    const int c = in.c == 1 ? 1 : 3;
    for (long i = 0; i < (long)in.h * in.w * c; ++i) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 24), f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* Runs `exe predict model image [--device D] [--class C]` with the caches in dir;
 * returns its exit status (-1 when it could not start) and its wall time. */
static int run_predict(const char *exe, const char *dir, const char *device, const char *cls,
                       double *seconds)
{
    char model[600], image[600], ours[600], driver[600];
    snprintf(model, sizeof model, "%s/model.safetensors", dir);
    snprintf(image, sizeof image, "%s/image.pnm", dir);
    snprintf(ours, sizeof ours, "%s/clnet-cache", dir);
    snprintf(driver, sizeof driver, "%s/pocl-cache", dir);
    char *argv[12];
    int n = 0;
    argv[n++] = (char *)exe;
    argv[n++] = "predict";
    argv[n++] = model;
    argv[n++] = image;
    if (device) {
        argv[n++] = "--device";
        argv[n++] = (char *)device;
    }
    if (cls) {
        argv[n++] = "--class";
        argv[n++] = (char *)cls;
    }
    argv[n] = NULL;
    /* The child's environment: ours with its caches moved to dir (and no tuning
     * database of the user's, which predict would read). */
    size_t count = 0;
    while (environ[count])
        count++;
    char **env = calloc(count + 4, sizeof *env);
    char e_ours[620], e_driver[620];
    snprintf(e_ours, sizeof e_ours, "CLNET_CACHE_DIR=%s", ours);
    snprintf(e_driver, sizeof e_driver, "POCL_CACHE_DIR=%s", driver);
    if (!env)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < count; ++i)
        if (strncmp(environ[i], "CLNET_CACHE_DIR=", 16) &&
            strncmp(environ[i], "POCL_CACHE_DIR=", 15))
            env[k++] = environ[i];
    env[k++] = e_ours;
    env[k++] = e_driver;
    env[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    const double t0 = now_s();
    const int err = posix_spawn(&pid, exe, &fa, NULL, argv, env);
    int status = -1;
    if (err == 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *seconds = now_s() - t0;
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    return err == 0 ? status : -1;
}

int clnet_cli_bench_startup(clnet_context *ctx, clnet_model *m, const char *device, const char *cls,
                            int json)
{
    char exe[512];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return clnet_cli_error("bench", "--startup: cannot find this executable's path");
    exe[len] = '\0';
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/clnet-startup-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return clnet_cli_error("bench", "--startup: cannot create a directory in %s",
                               tmp && *tmp ? tmp : "/tmp");
    char path[600], caches[2][600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(caches[0], sizeof caches[0], "%s/clnet-cache", dir);
    snprintf(caches[1], sizeof caches[1], "%s/pocl-cache", dir);
    int rc = 0;
    if (clnet_model_save(m, path) != CLNET_OK)
        rc = clnet_cli_error("bench", "--startup: %s", clnet_context_error(ctx));
    snprintf(path, sizeof path, "%s/image.pnm", dir);
    if (rc == 0 && write_image(path, clnet_graph_layer_shape(clnet_model_graph(m), 0)) != 0)
        rc = clnet_cli_error("bench", "--startup: cannot write %s", path);
    double s[2] = {0.0, 0.0};
    int added[2][2] = {{0, 0}, {0, 0}};
    for (int run = 0; rc == 0 && run < 2; ++run) {
        const int before[2] = {count_files(caches[0]), count_files(caches[1])};
        const int status = run_predict(exe, dir, device, cls, &s[run]);
        if (status != 0)
            rc = clnet_cli_error("bench", "--startup: `clnet predict` exited with status %d",
                                 status);
        added[run][0] = count_files(caches[0]) - before[0];
        added[run][1] = count_files(caches[1]) - before[1];
    }
    if (rc == 0 && json)
        printf("{\"startup\":{\"cold_s\":%.3f,\"warm_s\":%.3f,\"cold_cache_files\":[%d,%d],"
               "\"warm_cache_files\":[%d,%d]}}\n",
               s[0], s[1], added[0][0], added[0][1], added[1][0], added[1][1]);
    else if (rc == 0)
        printf("start-up of `clnet predict` on one image, whole process: cold %.2f s (empty "
               "caches; %d program binaries of ours and %d driver cache files written), warm "
               "%.2f s (%d and %d written%s)\n",
               s[0], added[0][0], added[0][1], s[1], added[1][0], added[1][1],
               added[1][0] || added[1][1] ? ": something compiled again" : ": nothing compiled");
    walk(dir, remove_one, remove_dir, NULL);
    return rc;
}
