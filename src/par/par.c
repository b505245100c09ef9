/* The MPI context and reductions (tribe/par.h). The only file that includes
 * <mpi.h> besides src/io's HDF5 store, which needs the communicator. */
#include "tribe/par.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

struct tribe_par {
    int rank, size;
    int serial;        /* no MPI at all: rank 0 of 1 */
    int owns_mpi;      /* we called MPI_Init_thread */
    MPI_Comm comm;
    MPI_Datatype xsum_type;
    MPI_Op xsum_op;
    int pairwise_max;  /* tribe_par_sum_scatter_i64: pairwise up to this many ranks */
};

static tribe_status mpi_fail(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", rc);
    return tribe_fail(TRIBE_ERR_ENV, "MPI %s failed: %s", what, msg);
}

#define MPI_CHECK(call, what)                      \
    do {                                           \
        int rc_ = (call);                          \
        if (rc_ != MPI_SUCCESS)                    \
            return mpi_fail(rc_, what);            \
    } while (0)

/* 128-bit integer addition: exact, so associative and commutative, which
 * makes the reduction independent of how MPI orders or splits it. */
static void xsum_add(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const tribe_xsum *a = in;
    tribe_xsum *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] += a[i];
}

tribe_status tribe_par_init(int *argc, char ***argv, tribe_par **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = NULL;
    int inited = 0, provided = 0;
    TRIBE_TRY(tribe_calloc((void **)&par, 1, sizeof *par));
    MPI_Initialized(&inited);
    if (!inited) {
        /* Open MPI's "lockedfile" shared-file-pointer component aborts the
         * process ("buffer overflow detected") in MPI_File_open when the file's
         * path passes about 256 characters; tribe never uses shared file
         * pointers, so the component is left out unless the user chose the
         * components (OMPI_MCA_sharedfp set). */
        setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            st = mpi_fail(rc, "initialisation");
            goto cleanup;
        }
        par->owns_mpi = 1;
    }
    par->comm = MPI_COMM_WORLD;
    par->pairwise_max = TRIBE_PAR_PAIRWISE_MAX;
    /* Errors come back as codes; the caller agrees on them and exits cleanly. */
    MPI_Comm_set_errhandler(par->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(par->comm, &par->rank);
    MPI_Comm_size(par->comm, &par->size);
    if (MPI_Type_contiguous((int)sizeof(tribe_xsum), MPI_BYTE, &par->xsum_type) != MPI_SUCCESS ||
        MPI_Type_commit(&par->xsum_type) != MPI_SUCCESS ||
        MPI_Op_create(xsum_add, 1, &par->xsum_op) != MPI_SUCCESS) {
        st = tribe_fail(TRIBE_ERR_ENV, "MPI: cannot create the exact-sum reduction");
        goto cleanup;
    }
    *out = par;
    par = NULL;
cleanup:
    if (par && par->owns_mpi)
        MPI_Finalize();
    free(par);
    return st;
}

tribe_status tribe_par_serial(tribe_par **out)
{
    tribe_par *par = NULL;
    tribe_status st = tribe_calloc((void **)&par, 1, sizeof *par);
    if (st != TRIBE_OK)
        return st;
    par->serial = 1;
    par->size = 1;
    *out = par;
    return TRIBE_OK;
}

void tribe_par_finalize(tribe_par **pp)
{
    if (!pp || !*pp)
        return;
    tribe_par *par = *pp;
    if (!par->serial) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) {
            MPI_Op_free(&par->xsum_op);
            MPI_Type_free(&par->xsum_type);
            if (par->owns_mpi)
                MPI_Finalize();
        }
    }
    free(par);
    *pp = NULL;
}

int tribe_par_rank(const tribe_par *par) { return par->rank; }
int tribe_par_size(const tribe_par *par) { return par->size; }
void *tribe_par_comm(tribe_par *par) { return par->serial ? NULL : &par->comm; }

void tribe_par_block(int64_t n, int size, int rank, int64_t *lo, int64_t *hi)
{
    int64_t base = n / size, extra = n % size;
    *lo = rank * base + (rank < extra ? rank : extra);
    *hi = *lo + base + (rank < extra ? 1 : 0);
}

tribe_status tribe_par_agree(tribe_par *par, tribe_status st)
{
    if (par->serial)
        return st;
    /* Encode (status, lowest failing rank) so one reduction finds both:
     * larger status wins, and among equals the lower rank. */
    int64_t key = (int64_t)st * 1000000 + (st != TRIBE_OK ? (999999 - par->rank) : 0);
    int64_t worst = key;
    MPI_CHECK(MPI_Allreduce(&key, &worst, 1, MPI_INT64_T, MPI_MAX, par->comm), "status agreement");
    tribe_status all = (tribe_status)(worst / 1000000);
    if (all == TRIBE_OK)
        return TRIBE_OK;
    int root = 999999 - (int)(worst % 1000000);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", tribe_errmsg());
    MPI_CHECK(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, root, par->comm), "error broadcast");
    msg[sizeof msg - 1] = '\0';
    tribe_set_errmsg(msg);
    return all;
}

tribe_status tribe_par_barrier(tribe_par *par)
{
    if (!par->serial)
        MPI_CHECK(MPI_Barrier(par->comm), "barrier");
    return TRIBE_OK;
}

/* MPI counts are int; split large reductions into chunks. */
#define CHUNK (1 << 26)

static tribe_status allreduce(tribe_par *par, void *v, int64_t n, MPI_Datatype type, size_t esize, MPI_Op op)
{
    if (par->serial)
        return TRIBE_OK;
    char *p = v;
    for (int64_t off = 0; off < n; off += CHUNK) {
        int cnt = (int)(n - off < CHUNK ? n - off : CHUNK);
        MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, p + (size_t)off * esize, cnt, type, op, par->comm), "allreduce");
    }
    return TRIBE_OK;
}

tribe_status tribe_par_sum_i64(tribe_par *par, int64_t *v, int64_t n)
{
    return allreduce(par, v, n, MPI_INT64_T, sizeof *v, MPI_SUM);
}
tribe_status tribe_par_sum_f64(tribe_par *par, double *v, int64_t n)
{
    return allreduce(par, v, n, MPI_DOUBLE, sizeof *v, MPI_SUM);
}
tribe_status tribe_par_sum_xsum(tribe_par *par, tribe_xsum *v, int64_t n)
{
    if (par->serial)
        return TRIBE_OK;
    return allreduce(par, v, n, par->xsum_type, sizeof *v, par->xsum_op);
}
tribe_status tribe_par_max_f64(tribe_par *par, double *v, int64_t n)
{
    return allreduce(par, v, n, MPI_DOUBLE, sizeof *v, MPI_MAX);
}
tribe_status tribe_par_min_f64(tribe_par *par, double *v, int64_t n)
{
    return allreduce(par, v, n, MPI_DOUBLE, sizeof *v, MPI_MIN);
}
tribe_status tribe_par_max_i64(tribe_par *par, int64_t *v, int64_t n)
{
    return allreduce(par, v, n, MPI_INT64_T, sizeof *v, MPI_MAX);
}
tribe_status tribe_par_min_i64(tribe_par *par, int64_t *v, int64_t n)
{
    return allreduce(par, v, n, MPI_INT64_T, sizeof *v, MPI_MIN);
}

/* Pairwise exchange: in round s = 1 .. size - 1 a rank sends block
 * (rank + s) mod size of its vector to that rank and receives its own block
 * from rank (rank - s) mod size, adding it. Each rank sends and receives
 * (size - 1) / size of the vector, the least any algorithm can; the rounds
 * cost size - 1 latencies, hence MPI's own algorithms above pairwise_max
 * ranks. (Open MPI 4.1's MPI_Reduce_scatter took 33-44 us where this took
 * 5-7 us, for 80-96 KB on 2 ranks of one node: docs/benchmarks.md.) */
tribe_status tribe_par_sum_scatter_i64(tribe_par *par, const int64_t *send, const int *counts, int64_t *recv,
                                       int64_t *tmp)
{
    int64_t off = 0, m = counts[par->rank];
    for (int r = 0; r < par->rank; r++)
        off += counts[r];
    memcpy(recv, send + off, (size_t)m * sizeof *recv);
    if (par->serial || par->size == 1)
        return TRIBE_OK;
    if (par->size > par->pairwise_max) {
        MPI_CHECK(MPI_Reduce_scatter(send, recv, counts, MPI_INT64_T, MPI_SUM, par->comm), "reduce-scatter");
        return TRIBE_OK;
    }
    for (int s = 1; s < par->size; s++) {
        int to = (par->rank + s) % par->size, from = (par->rank - s + par->size) % par->size;
        int64_t to_off = 0;
        for (int r = 0; r < to; r++)
            to_off += counts[r];
        MPI_CHECK(MPI_Sendrecv(send + to_off, counts[to], MPI_INT64_T, to, 7101, tmp, (int)m, MPI_INT64_T, from,
                               7101, par->comm, MPI_STATUS_IGNORE),
                  "reduce-scatter exchange");
        for (int64_t i = 0; i < m; i++)
            recv[i] += tmp[i];
    }
    return TRIBE_OK;
}

void tribe_par_set_pairwise_max(tribe_par *par, int n) { par->pairwise_max = n; }

tribe_status tribe_par_allgather(tribe_par *par, const void *send, size_t bytes, void *recv)
{
    if (par->serial) {
        memcpy(recv, send, bytes);
        return TRIBE_OK;
    }
    MPI_CHECK(MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, par->comm), "allgather");
    return TRIBE_OK;
}

tribe_status tribe_par_exscan_i64(tribe_par *par, int64_t v, int64_t *before, int64_t *total)
{
    if (par->serial) {
        *before = 0;
        *total = v;
        return TRIBE_OK;
    }
    int64_t b = 0, t = 0;
    MPI_CHECK(MPI_Exscan(&v, &b, 1, MPI_INT64_T, MPI_SUM, par->comm), "exscan");
    if (par->rank == 0)
        b = 0; /* MPI leaves rank 0's result undefined */
    MPI_CHECK(MPI_Allreduce(&v, &t, 1, MPI_INT64_T, MPI_SUM, par->comm), "allreduce");
    *before = b;
    *total = t;
    return TRIBE_OK;
}

tribe_status tribe_par_bcast(tribe_par *par, void *buf, size_t bytes, int root)
{
    if (par->serial)
        return TRIBE_OK;
    char *p = buf;
    for (size_t off = 0; off < bytes; off += CHUNK) {
        int cnt = (int)(bytes - off < CHUNK ? bytes - off : CHUNK);
        MPI_CHECK(MPI_Bcast(p + off, cnt, MPI_BYTE, root, par->comm), "broadcast");
    }
    return TRIBE_OK;
}

tribe_status tribe_par_bcast_str(tribe_par *par, char **s, int root)
{
    tribe_status st = TRIBE_OK;
    if (par->serial)
        return TRIBE_OK;
    int64_t len = (par->rank == root && *s) ? (int64_t)strlen(*s) : -1;
    TRIBE_TRY(tribe_par_bcast(par, &len, sizeof len, root));
    if (par->rank != root) {
        free(*s);
        *s = NULL;
        if (len >= 0 && (st = tribe_alloc((void **)s, (size_t)len + 1)) == TRIBE_OK)
            (*s)[len] = '\0';
    }
    /* A rank whose allocation failed must not skip the broadcast alone. */
    TRIBE_TRY(tribe_par_agree(par, st));
    if (len > 0)
        TRIBE_TRY(tribe_par_bcast(par, *s, (size_t)len, root));
cleanup:
    return st;
}

/* Byte counts travel as int64 and data in chunks below 2^31 per message, via
 * point-to-point rounds, so blocks larger than MPI's int counts work. */
static tribe_status exchange_counts(tribe_par *par, size_t bytes, int64_t *all)
{
    int64_t mine = (int64_t)bytes;
    MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, all, 1, MPI_INT64_T, par->comm), "allgather");
    return TRIBE_OK;
}

static tribe_status gather_impl(tribe_par *par, const void *send, size_t bytes, int root, void **out,
                                size_t *total, size_t *counts, size_t *displs)
{
    tribe_status st = TRIBE_OK;
    int64_t *all = NULL;
    int *ic = NULL, *id = NULL; /* before the first TRIBE_TRY: cleanup frees ic */
    char *buf = NULL;
    size_t sum = 0;
    int everyone = root < 0;
    if (par->serial) {
        TRIBE_TRY(tribe_alloc((void **)&buf, bytes));
        if (bytes)
            memcpy(buf, send, bytes);
        if (counts) counts[0] = bytes;
        if (displs) displs[0] = 0;
        *out = buf;
        *total = bytes;
        return TRIBE_OK;
    }
    /* Local allocations are agreed on before the collective that follows
     * them: a rank that failed one must not leave the others waiting. */
    TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&all, (size_t)par->size * sizeof *all)));
    TRIBE_TRY(exchange_counts(par, bytes, all));
    for (int r = 0; r < par->size; r++) {
        if (counts) counts[r] = (size_t)all[r];
        if (displs) displs[r] = sum;
        sum += (size_t)all[r];
    }
    int receives = everyone || par->rank == root;
    if (receives)
        st = tribe_alloc((void **)&buf, sum);
    if (st == TRIBE_OK && sum < (size_t)INT32_MAX)
        st = tribe_alloc((void **)&ic, 2 * (size_t)par->size * sizeof *ic);
    TRIBE_TRY(tribe_par_agree(par, st));
    if (sum < (size_t)INT32_MAX) {
        id = ic + par->size;
        size_t acc = 0;
        for (int r = 0; r < par->size; r++) {
            ic[r] = (int)all[r];
            id[r] = (int)acc;
            acc += (size_t)all[r];
        }
        int rc = everyone ? MPI_Allgatherv(send, (int)bytes, MPI_BYTE, buf, ic, id, MPI_BYTE, par->comm)
                          : MPI_Gatherv(send, (int)bytes, MPI_BYTE, buf, ic, id, MPI_BYTE, root, par->comm);
        if (rc != MPI_SUCCESS) {
            st = mpi_fail(rc, "gather");
            goto cleanup;
        }
    } else {
        /* Large: every rank broadcasts its block in turn (rooted: sends it). */
        size_t off = 0;
        for (int r = 0; r < par->size; r++) {
            if (everyone) {
                if (r == par->rank && all[r])
                    memcpy(buf + off, send, (size_t)all[r]);
                TRIBE_TRY(tribe_par_bcast(par, buf + off, (size_t)all[r], r));
            } else if (r == root && par->rank == root) {
                memcpy(buf + off, send, (size_t)all[r]);
            } else if (par->rank == root || par->rank == r) {
                for (size_t c = 0; c < (size_t)all[r]; c += CHUNK) {
                    int cnt = (int)((size_t)all[r] - c < CHUNK ? (size_t)all[r] - c : CHUNK);
                    int rc = par->rank == root
                                 ? MPI_Recv(buf + off + c, cnt, MPI_BYTE, r, 7, par->comm, MPI_STATUS_IGNORE)
                                 : MPI_Send((const char *)send + c, cnt, MPI_BYTE, root, 7, par->comm);
                    if (rc != MPI_SUCCESS) {
                        st = mpi_fail(rc, "gather");
                        goto cleanup;
                    }
                }
            }
            off += (size_t)all[r];
        }
    }
    *out = buf;
    *total = receives ? sum : 0;
    buf = NULL;
cleanup:
    free(all);
    free(ic);
    free(buf);
    return st;
}

tribe_status tribe_par_allgatherv(tribe_par *par, const void *send, size_t bytes, void **out, size_t *total,
                                  size_t *counts, size_t *displs)
{
    return gather_impl(par, send, bytes, -1, out, total, counts, displs);
}

tribe_status tribe_par_gatherv(tribe_par *par, const void *send, size_t bytes, int root, void **out,
                               size_t *total, size_t *counts, size_t *displs)
{
    *out = NULL;
    return gather_impl(par, send, bytes, root, out, total, counts, displs);
}

tribe_status tribe_par_alltoallv(tribe_par *par, const void *send, const size_t *sendcounts, const size_t *sdispls,
                                 void **out, size_t *total, size_t *recvcounts, size_t *rdispls)
{
    tribe_status st = TRIBE_OK;
    int64_t *sc = NULL, *rc64 = NULL;
    char *buf = NULL;
    MPI_Request *req = NULL;
    int p = par->size;
    if (par->serial) {
        TRIBE_TRY(tribe_alloc((void **)&buf, sendcounts[0]));
        if (sendcounts[0])
            memcpy(buf, (const char *)send + sdispls[0], sendcounts[0]);
        recvcounts[0] = sendcounts[0];
        rdispls[0] = 0;
        *out = buf;
        *total = sendcounts[0];
        return TRIBE_OK;
    }
    TRIBE_TRY(tribe_par_agree(par, tribe_alloc((void **)&sc, 2 * (size_t)p * sizeof *sc)));
    rc64 = sc + p;
    for (int r = 0; r < p; r++)
        sc[r] = (int64_t)sendcounts[r];
    {
        int rc = MPI_Alltoall(sc, 1, MPI_INT64_T, rc64, 1, MPI_INT64_T, par->comm);
        if (rc != MPI_SUCCESS) {
            st = mpi_fail(rc, "alltoall");
            goto cleanup;
        }
    }
    size_t sum = 0;
    size_t nmsg = 0;
    for (int r = 0; r < p; r++) {
        recvcounts[r] = (size_t)rc64[r];
        rdispls[r] = sum;
        sum += (size_t)rc64[r];
        nmsg += ((size_t)rc64[r] + CHUNK - 1) / CHUNK + ((size_t)sc[r] + CHUNK - 1) / CHUNK;
    }
    st = tribe_alloc((void **)&buf, sum);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&req, (nmsg ? nmsg : 1) * sizeof *req);
    /* The point-to-point exchange pairs every rank with every other. */
    TRIBE_TRY(tribe_par_agree(par, st));
    /* Non-blocking point-to-point in chunks below 2^31 bytes. */
    size_t m = 0;
    int rcode = MPI_SUCCESS;
    for (int r = 0; r < p && rcode == MPI_SUCCESS; r++)
        for (size_t c = 0; c < recvcounts[r] && rcode == MPI_SUCCESS; c += CHUNK) {
            int cnt = (int)(recvcounts[r] - c < CHUNK ? recvcounts[r] - c : CHUNK);
            rcode = MPI_Irecv(buf + rdispls[r] + c, cnt, MPI_BYTE, r, 11, par->comm, &req[m++]);
        }
    for (int r = 0; r < p && rcode == MPI_SUCCESS; r++)
        for (size_t c = 0; c < sendcounts[r] && rcode == MPI_SUCCESS; c += CHUNK) {
            int cnt = (int)(sendcounts[r] - c < CHUNK ? sendcounts[r] - c : CHUNK);
            rcode = MPI_Isend((const char *)send + sdispls[r] + c, cnt, MPI_BYTE, r, 11, par->comm, &req[m++]);
        }
    if (rcode == MPI_SUCCESS)
        rcode = MPI_Waitall((int)m, req, MPI_STATUSES_IGNORE);
    if (rcode != MPI_SUCCESS) {
        st = mpi_fail(rcode, "all-to-all exchange");
        goto cleanup;
    }
    *out = buf;
    *total = sum;
    buf = NULL;
cleanup:
    free(sc);
    free(buf);
    free(req);
    return st;
}

tribe_status tribe_rows_init(tribe_par *par, int64_t n_local, int64_t offset, int64_t n_global, tribe_rows *out)
{
    int64_t before = 0, total = 0;
    tribe_status st = tribe_par_exscan_i64(par, n_local, &before, &total);
    if (st != TRIBE_OK)
        return st;
    if (before != offset || total != n_global || n_local < 0)
        st = tribe_fail(TRIBE_ERR_INTERNAL,
                        "rows: rank %d holds rows [%lld, +%lld) of %lld, but the ranks' blocks give offset %lld of %lld",
                        tribe_par_rank(par), (long long)offset, (long long)n_local, (long long)n_global,
                        (long long)before, (long long)total);
    st = tribe_par_agree(par, st);
    if (st == TRIBE_OK)
        *out = (tribe_rows){par, n_local, offset, n_global};
    return st;
}

tribe_status tribe_rows_stack(tribe_par *par, int64_t n_local, tribe_rows *out)
{
    int64_t before = 0, total = 0;
    tribe_status st = n_local < 0 ? tribe_fail(TRIBE_ERR_INTERNAL, "rows: rank %d holds %lld rows",
                                                tribe_par_rank(par), (long long)n_local)
                                  : TRIBE_OK;
    st = tribe_par_agree(par, st);
    if (st == TRIBE_OK)
        st = tribe_par_exscan_i64(par, n_local, &before, &total);
    if (st == TRIBE_OK)
        *out = (tribe_rows){par, n_local, before, total};
    return st;
}
