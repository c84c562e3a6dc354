/* comm.c - clnet_comm: the MPI communicator of a data-parallel run, and waiting on it
 * without hanging. A rank that dies is usually noticed by the launcher (mpirun then
 * stops the others and names it); one that hangs, or dies where nothing notices, is
 * found here: every wait gives up after the timeout, naming the ranks whose heartbeat
 * (one small message to every other rank as each collective starts) has not reached
 * this collective.
 * Built without MPI, clnet_comm_create says so. Tests: tests/mpi/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/dist.h"

#define DEFAULT_TIMEOUT_S 300.0
#define BEAT_TAG 7301 /* the heartbeats' tag, apart from anything a caller sends */

struct clnet_comm {
    int rank, size, local_rank;
    double timeout_s;
    int broken; /* a wait timed out: requests are left pending, MPI is not finalized */
#ifdef CLNET_HAVE_MPI
    MPI_Comm comm;
    int finalize; /* MPI was initialized by clnet_comm_create */
    /* Heartbeats: beat counts this rank's exchanges (collectives); per other rank, the
     * exchange last heard of, the receive posted for its next one, and this rank's send
     * to it. */
    int64_t beat, *heard, *inbox, *outbox;
    MPI_Request *recv, *send;
#endif
};

static clnet_status fail(char *err, size_t len, clnet_status st, const char *msg)
{
    if (err && len)
        snprintf(err, len, "%s", msg);
    return st;
}

int clnet_comm_rank(const clnet_comm *c)
{
    return c ? c->rank : 0;
}

int clnet_comm_size(const clnet_comm *c)
{
    return c ? c->size : 1;
}

int clnet_comm_local_rank(const clnet_comm *c)
{
    return c ? c->local_rank : 0;
}

int clnet__comm_broken(const clnet_comm *c)
{
    return c && c->broken;
}

int clnet_comm_launched(void)
{
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                        "MPI_LOCALNRANKS"};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; ++k) {
        const char *v = getenv(sizes[k]);
        if (v && atoi(v) > 1)
            return 1;
    }
    return 0;
}

#ifndef CLNET_HAVE_MPI

clnet_status clnet_comm_create(const void *mpi_comm, double timeout_s, clnet_comm **out, char *err,
                               size_t err_len)
{
    (void)mpi_comm;
    (void)timeout_s;
    if (out)
        *out = NULL;
    return fail(err, err_len, CLNET_ERR_UNSUPPORTED,
                "this clnet was built without MPI (install libopenmpi-dev and rebuild; "
                "CMake option CLNET_MPI)");
}

void clnet_comm_destroy(clnet_comm *c)
{
    free(c);
}

#else

MPI_Comm clnet__comm_mpi(const clnet_comm *c)
{
    return c->comm;
}

static void post_receive(clnet_comm *c, int p)
{
    MPI_Irecv(&c->inbox[p], 1, MPI_INT64_T, p, BEAT_TAG, c->comm, &c->recv[p]);
}

clnet_status clnet_comm_create(const void *mpi_comm, double timeout_s, clnet_comm **out, char *err,
                               size_t err_len)
{
    if (!out)
        return fail(err, err_len, CLNET_ERR_INVALID_ARG, "clnet_comm_create: no out");
    *out = NULL;
    if (!(timeout_s >= 0.0))
        return fail(err, err_len, CLNET_ERR_INVALID_ARG,
                    "clnet_comm_create: the timeout must not be negative");
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (finalized)
        return fail(err, err_len, CLNET_ERR_INVALID_ARG, "MPI was finalized already");
    if (!initialized) {
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return fail(err, err_len, CLNET_ERR_UNSUPPORTED, "MPI_Init_thread failed");
    }
    clnet_comm *c = calloc(1, sizeof *c);
    if (!c)
        return fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    c->finalize = !initialized;
    c->timeout_s = timeout_s > 0.0 ? timeout_s : DEFAULT_TIMEOUT_S;
    const MPI_Comm base = mpi_comm ? *(const MPI_Comm *)mpi_comm : MPI_COMM_WORLD;
    MPI_Comm local = MPI_COMM_NULL;
    /* Errors come back as codes: MPI's default handler would abort the process. */
    if (MPI_Comm_dup(base, &c->comm) != MPI_SUCCESS ||
        MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
        MPI_Comm_rank(c->comm, &c->rank) != MPI_SUCCESS ||
        MPI_Comm_size(c->comm, &c->size) != MPI_SUCCESS ||
        MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &local) !=
            MPI_SUCCESS ||
        MPI_Comm_rank(local, &c->local_rank) != MPI_SUCCESS) {
        if (local != MPI_COMM_NULL)
            MPI_Comm_free(&local);
        clnet_comm_destroy(c);
        return fail(err, err_len, CLNET_ERR_UNSUPPORTED,
                    "cannot set up the MPI communicator (MPI_Comm_dup / split_type failed)");
    }
    MPI_Comm_free(&local);
    const size_t n = (size_t)c->size;
    c->heard = calloc(n, sizeof *c->heard);
    c->inbox = calloc(n, sizeof *c->inbox);
    c->outbox = calloc(n, sizeof *c->outbox);
    c->recv = malloc(n * sizeof *c->recv);
    c->send = malloc(n * sizeof *c->send);
    if (!c->heard || !c->inbox || !c->outbox || !c->recv || !c->send) {
        clnet_comm_destroy(c);
        return fail(err, err_len, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    for (int p = 0; p < c->size; ++p) {
        c->recv[p] = c->send[p] = MPI_REQUEST_NULL;
        if (p != c->rank)
            post_receive(c, p);
    }
    *out = c;
    return CLNET_OK;
}

void clnet_comm_destroy(clnet_comm *c)
{
    if (!c)
        return;
    /* A broken run leaves requests no one will answer: freeing the communicator or
     * finalizing MPI could wait for them forever. The process ends without. */
    if (!c->broken && c->comm) {
        for (int p = 0; c->recv && p < c->size; ++p) {
            if (c->recv[p] != MPI_REQUEST_NULL) {
                MPI_Cancel(&c->recv[p]);
                MPI_Request_free(&c->recv[p]);
            }
            if (c->send && c->send[p] != MPI_REQUEST_NULL)
                MPI_Wait(&c->send[p], MPI_STATUS_IGNORE); /* small: sent eagerly */
        }
        MPI_Comm_free(&c->comm);
        if (c->finalize)
            MPI_Finalize();
    }
    free(c->heard);
    free(c->inbox);
    free(c->outbox);
    free(c->recv);
    free(c->send);
    free(c);
}

/* Takes in the heartbeats that have arrived. */
static void hear(clnet_comm *c)
{
    for (int p = 0; p < c->size; ++p) {
        int got = 0;
        while (p != c->rank && c->recv[p] != MPI_REQUEST_NULL &&
               MPI_Test(&c->recv[p], &got, MPI_STATUS_IGNORE) == MPI_SUCCESS && got) {
            c->heard[p] = c->inbox[p];
            post_receive(c, p);
            got = 0;
        }
    }
}

void clnet__comm_beat(clnet_comm *c)
{
    ++c->beat;
    for (int p = 0; p < c->size; ++p) {
        if (p == c->rank)
            continue;
        int done = 1;
        if (c->send[p] != MPI_REQUEST_NULL)
            MPI_Test(&c->send[p], &done, MPI_STATUS_IGNORE);
        if (!done)
            continue; /* the last beat to p is still on its way: p is behind anyway */
        c->outbox[p] = c->beat;
        MPI_Isend(&c->outbox[p], 1, MPI_INT64_T, p, BEAT_TAG, c->comm, &c->send[p]);
    }
    hear(c);
}

clnet_status clnet__comm_fail(clnet_comm *c, clnet_context *ctx, int code, const char *call)
{
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(code, text, &len);
    c->broken = 1;
    return clnet__fail(ctx, CLNET_ERR_RANK_LOST, "rank %d of %d: %s failed: %s", c->rank, c->size,
                       call, text);
}

void clnet__comm_nap(long *nap_ns)
{
    const struct timespec nap = {0, *nap_ns};
    nanosleep(&nap, NULL);
    *nap_ns = *nap_ns < CLNET__NAP_MAX_NS ? 2 * *nap_ns : *nap_ns;
}

clnet_status clnet__comm_wait(clnet_comm *c, clnet_context *ctx, MPI_Request *reqs, int n,
                              const char *what)
{
    clnet__comm_beat(c); /* one beat per collective: every rank calls them in one order */
    const double deadline = clnet__now() + c->timeout_s;
    long nap_ns = CLNET__NAP_MIN_NS; /* MPI progresses only when called: polled */
    for (int spins = 0;; ++spins) {
        int done = 0;
        const int e = MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE);
        if (e != MPI_SUCCESS)
            return clnet__comm_fail(c, ctx, e, what);
        if (done)
            return CLNET_OK;
        hear(c);
        if (clnet__now() > deadline)
            break;
        if (spins > 100)
            clnet__comm_nap(&nap_ns);
    }
    c->broken = 1;
    char lost[512] = "";
    size_t at = 0;
    for (int p = 0; p < c->size && at + 48 < sizeof lost; ++p)
        if (p != c->rank && c->heard[p] < c->beat)
            at += (size_t)snprintf(lost + at, sizeof lost - at, "%s%d (at exchange %lld)",
                                   at ? ", " : "", p, (long long)c->heard[p]);
    return clnet__fail(ctx, CLNET_ERR_RANK_LOST,
                       "rank %d of %d waited %.0f s for %s (exchange %lld of the run): no answer "
                       "from rank%s %s: it died or hangs; the run stops here and the last "
                       "checkpoint is kept",
                       c->rank, c->size, c->timeout_s, what, (long long)c->beat,
                       strchr(lost, ',') ? "s" : "", at ? lost : "(all of them reached it)");
}

#endif
