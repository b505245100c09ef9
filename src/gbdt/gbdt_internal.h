/* Helpers shared by src/gbdt files (not installed). */
#ifndef TRIBE_GBDT_INTERNAL_H
#define TRIBE_GBDT_INTERNAL_H

#include "tribe/gbdt.h"

#include <math.h>
#include <string.h>

/* Leaf reached by a row of raw floats. */
static inline int gbdt_leaf_of_x(const tribe_gbdt_tree *t, const float *xr)
{
    int k = 0;
    while (t->nodes[k].feature >= 0) {
        const tribe_gbdt_node *nd = &t->nodes[k];
        float v = xr[nd->feature];
        int left = isnan(v) ? nd->default_left : v <= nd->threshold;
        k = left ? nd->left : nd->right;
    }
    return k;
}

/* Same test on bin codes (0 = missing). */
static inline int gbdt_leaf_of_codes(const tribe_gbdt_tree *t, const uint8_t *cr)
{
    int k = 0;
    while (t->nodes[k].feature >= 0) {
        const tribe_gbdt_node *nd = &t->nodes[k];
        uint8_t c = cr[nd->feature];
        int left = c == 0 ? nd->default_left : c <= nd->bin;
        k = left ? nd->left : nd->right;
    }
    return k;
}

/* ---- row records --------------------------------------------------------------
 * The training rows of a tree live in record buffers (train.c, "Row
 * records"): per row, rs bytes (a multiple of 8) holding its fixed-point
 * gradient (int64 at byte 0), its hessian unless constant (int64 at byte
 * 8), its local row index when the records carry it (int32 at byte
 * coff - 4) and its d bin codes (at byte coff). A split moves whole
 * records; a histogram streams them. */
static inline int64_t gbdt_rec_g(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline int64_t gbdt_rec_h(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p + 8, sizeof v);
    return v;
}

/* ---- exact histograms (hist.c) ----------------------------------------------
 * A histogram is 3 tribe_xsum per bin (gradient, hessian, row count) over
 * every feature's bins: feature f's bin b is at 3 * (hoff[f] + b), b = 0 is
 * the missing bin. Gradients and hessians are 2^-32 fixed point (int64,
 * |value| <= gmax < 2^62). */
typedef struct {
    int64_t chunk, since; /* rows a chunk; rows in the cells since the last flush */
    int flushed;          /* the accumulators hold earlier chunks */
    char pad[64 - 2 * sizeof(int64_t) - sizeof(int)]; /* one cache line a thread */
} gbdt_hist_thread;

typedef struct {
    int d, hb;          /* features, total bins (hoff[d]) */
    const int *hoff;    /* [d + 1] first bin of each feature */
    int coff, rs;       /* records: codes at byte coff, rs bytes a record */
    uint64_t gmax;      /* >= every |g| and h of the rows built */
    int hconst;         /* every hessian is hval (squared error): not summed, not stored */
    int64_t hval;
    int nthreads;       /* omp_get_max_threads() at init */
    int ref;            /* tests: 1 = every build by gbdt_hist_add_ref; 2 = that, and train.c
                         * checks each root it derives against one built from the rows */
    int64_t max_chunk;  /* tests: > 0 caps the rows of a chunk (more flushes) */
    void *tbuf;         /* [nthreads][hb] int64 cells of 2 or 4 lanes */
    tribe_xsum *tacc;   /* [nthreads][hb][3] 128-bit accumulators */
    gbdt_hist_thread *th; /* [nthreads] */
} gbdt_hist;

/* Not collective. The buffers for d features of hoff[d] bins; sets the
 * record layout (coff, rs): with the hessian unless hconst, with the row
 * index when with_row. Errors: NOMEM (free with gbdt_hist_free either
 * way). */
tribe_status gbdt_hist_init(gbdt_hist *hc, int d, const int *hoff, int hconst, int64_t hval, int with_row);
void gbdt_hist_free(gbdt_hist *hc);

/* Rows per chunk: floor((2^62 - 1) / gmax), so that a chunk's int64 partial
 * sums stay below 2^62. */
int64_t gbdt_hist_chunk(uint64_t gmax);

/* The pieces of a threaded build, for callers that build while they do
 * something else with the rows (train.c's split): thread t zeroes its cells
 * (gbdt_hist_zero, after hc->gmax is set), adds any records to them
 * (gbdt_hist_add), and after a barrier the bins [k0, k1) of out[3 * hb] are
 * the sums over the nth threads' cells (gbdt_hist_reduce). */
void gbdt_hist_zero(const gbdt_hist *hc, int t);
void gbdt_hist_add(const gbdt_hist *hc, int t, const uint8_t *rec, int64_t m);
void gbdt_hist_reduce(const gbdt_hist *hc, int nth, int k0, int k1, tribe_xsum *out);

/* Kernel: the histogram of the records in ranges [rg[2u], rg[2u + 1]) of
 * rec, u < nr (positions in records), into out[3 * hb]: exact, the same
 * integers as gbdt_hist_build_ref for any thread count. OpenMP inside. */
void gbdt_hist_build_ranges(const gbdt_hist *hc, const uint8_t *rec, int nr, const int64_t *rg, tribe_xsum *out);

/* Kernel: the reference, one thread summing every record straight into 128
 * bits (build: out zeroed first; add: onto out). */
void gbdt_hist_build_ref(const gbdt_hist *hc, const uint8_t *rec, int64_t m, tribe_xsum *out);
void gbdt_hist_add_ref(const gbdt_hist *hc, const uint8_t *rec, int64_t m, tribe_xsum *out);

/* Collective: tribe_gbdt_fit with the histograms of gbdt_hist_build_ref
 * when ref128 is 1 (tests compare the two models); when 2, also every root
 * histogram squared error derives from the last tree's leaves is checked
 * against one built from the rows (INTERNAL if they differ). */
tribe_status gbdt_fit(const tribe_dmat *x, const double *y, const uint8_t *valid, const tribe_gbdt_cfg *cfg,
                      int ref128, tribe_gbdt_model **out);

#endif
