/* tribe/par.h: the MPI context and the reductions tribe needs. This header and
 * src/par/ are the only places that know MPI; everything else sees a
 * tribe_par handle and plain arrays.
 *
 * Usage:
 *     tribe_par *par = NULL;
 *     tribe_par_init(&argc, &argv, &par);           // once, in the CLI
 *     ... tribe_par_sum_xsum(par, sums, n) ...       // collective
 *     st = tribe_par_agree(par, st);                 // before the next collective
 *     tribe_par_finalize(&par);
 *
 * For tests that only need a single-process context without MPI:
 *     tribe_par_serial(&par);   // rank 0 of 1, every collective is a local no-op
 *
 * Rank r owns global rows [lo_r, hi_r) of a table; see tribe_par_block().
 * Every function below is Collective over the context's communicator unless
 * it says Not collective; each returns TRIBE_ERR_ENV with a message on an MPI
 * failure.
 */
#ifndef TRIBE_PAR_H
#define TRIBE_PAR_H

#include "tribe/core.h"

typedef struct tribe_par tribe_par;

/* Initialises MPI (MPI_THREAD_FUNNELED) unless already initialised. */
tribe_status tribe_par_init(int *argc, char ***argv, tribe_par **out);
/* A context without MPI: rank 0 of 1. Not collective. */
tribe_status tribe_par_serial(tribe_par **out);
/* Finalises MPI if tribe_par_init initialised it. Accepts NULL; sets *p = NULL. */
void tribe_par_finalize(tribe_par **p);

int tribe_par_rank(const tribe_par *par); /* Not collective */
int tribe_par_size(const tribe_par *par); /* Not collective */

/* Not collective: the block of rows [*lo, *hi) rank `rank` owns out of n,
 * sizes differing by at most one, lower ranks larger. */
void tribe_par_block(int64_t n, int size, int rank, int64_t *lo, int64_t *hi);

/* Worst (highest) status over all ranks. When the result is not TRIBE_OK,
 * the message of the lowest rank that failed with that status is copied to
 * every rank's tribe_errmsg(), so every rank can report the same error. */
tribe_status tribe_par_agree(tribe_par *par, tribe_status st);

tribe_status tribe_par_barrier(tribe_par *par);
/* In-place element-wise reductions over all ranks (result on every rank). */
tribe_status tribe_par_sum_i64(tribe_par *par, int64_t *v, int64_t n);
tribe_status tribe_par_sum_f64(tribe_par *par, double *v, int64_t n); /* NOT split-independent: prefer xsum */
tribe_status tribe_par_sum_xsum(tribe_par *par, tribe_xsum *v, int64_t n); /* exact */
tribe_status tribe_par_max_f64(tribe_par *par, double *v, int64_t n);
tribe_status tribe_par_min_f64(tribe_par *par, double *v, int64_t n);
tribe_status tribe_par_max_i64(tribe_par *par, int64_t *v, int64_t n);
tribe_status tribe_par_min_i64(tribe_par *par, int64_t *v, int64_t n);
/* Reduce-scatter of exact int64 sums: send holds one block per rank in rank
 * order (counts[r] values for rank r, each < 2^31); recv[counts[rank]]
 * receives the sum over ranks of this rank's block. tmp[counts[rank]] is
 * scratch (recv, tmp and send must not overlap). Pairwise exchange up to
 * TRIBE_PAR_PAIRWISE_MAX ranks, MPI_Reduce_scatter above: the same integers
 * either way. */
#define TRIBE_PAR_PAIRWISE_MAX 8
tribe_status tribe_par_sum_scatter_i64(tribe_par *par, const int64_t *send, const int *counts, int64_t *recv,
                                       int64_t *tmp);
/* Not collective. Tests: the rank count above which tribe_par_sum_scatter_i64
 * uses MPI_Reduce_scatter (default TRIBE_PAR_PAIRWISE_MAX). */
void tribe_par_set_pairwise_max(tribe_par *par, int n);
/* `bytes` bytes (< 2^31) from every rank into recv[size][bytes], in rank order. */
tribe_status tribe_par_allgather(tribe_par *par, const void *send, size_t bytes, void *recv);
/* Exclusive prefix sum of one value (rank 0 gets 0) and the total. */
tribe_status tribe_par_exscan_i64(tribe_par *par, int64_t v, int64_t *before, int64_t *total);
/* Broadcast `bytes` bytes from `root`. */
tribe_status tribe_par_bcast(tribe_par *par, void *buf, size_t bytes, int root);
/* Broadcast a heap string from root: on non-roots *s is replaced (freed first). */
tribe_status tribe_par_bcast_str(tribe_par *par, char **s, int root);
/* Gathers variable-length byte blocks from every rank to every rank, in rank
 * order. *out (caller frees) receives the concatenation; counts[size] and
 * displs[size] (caller-provided, may be NULL) receive each rank's part. */
tribe_status tribe_par_allgatherv(tribe_par *par, const void *send, size_t bytes,
                                  void **out, size_t *total, size_t *counts, size_t *displs);
/* Same, but only `root` receives (*out is NULL elsewhere). */
tribe_status tribe_par_gatherv(tribe_par *par, const void *send, size_t bytes, int root,
                               void **out, size_t *total, size_t *counts, size_t *displs);
/* All-to-all of byte blocks: sendcounts[r] bytes starting at sdispls[r] of
 * `send` go to rank r. *out (caller frees) gets what every rank sent here, in
 * rank order; recvcounts[size] / rdispls[size] (caller-provided) say where. */
tribe_status tribe_par_alltoallv(tribe_par *par, const void *send, const size_t *sendcounts,
                                 const size_t *sdispls, void **out, size_t *total,
                                 size_t *recvcounts, size_t *rdispls);

/* ---- rows distributed over ranks -------------------------------------------
 * The customers' layout: this rank holds global rows [offset, offset + n_local)
 * of n_global, the ranks' blocks tiling [0, n_global) in rank order. Created
 * (and checked) once, collectively; every collective kernel then takes it by
 * pointer instead of loose integers. The RNG keys rows by global index, so a
 * wrong offset would silently change every sample: hence the one check. */
typedef struct {
    tribe_par *par;
    int64_t n_local, offset, n_global;
} tribe_rows;

/* Collective. out describes this rank's block [offset, offset + n_local) of
 * n_global after checking (one exclusive scan) that the ranks' blocks tile
 * [0, n_global) in rank order. Errors: TRIBE_ERR_INTERNAL naming the rank and
 * the inconsistent numbers (on every rank), ENV. */
tribe_status tribe_rows_init(tribe_par *par, int64_t n_local, int64_t offset, int64_t n_global, tribe_rows *out);
/* Collective. The layout of n_local rows on each rank, stacked in rank order
 * (offset and n_global by an exclusive scan). Errors: INTERNAL for
 * n_local < 0, ENV. */
tribe_status tribe_rows_stack(tribe_par *par, int64_t n_local, tribe_rows *out);

/* A dense row-major matrix on distributed rows: x[rows->n_local][d] (leading
 * dimension d). A view: it owns nothing. */
typedef struct {
    const tribe_rows *rows;
    const float *x;
    int d;
} tribe_dmat;

/* The underlying communicator, as an opaque pointer to an MPI_Comm (NULL for
 * a serial context). Only src/io uses it, to open parallel HDF5 files. */
void *tribe_par_comm(tribe_par *par);

#endif
