/* Helpers shared by src/gbdt files (not installed). */
#ifndef TRIBE_GBDT_INTERNAL_H
#define TRIBE_GBDT_INTERNAL_H

#include "tribe/gbdt.h"

#include <math.h>

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

/* ---- exact histograms (hist.c) ----------------------------------------------
 * A histogram is 3 tribe_xsum per bin (gradient, hessian, row count) over
 * every feature's bins: feature f's bin b is at 3 * (hoff[f] + b), b = 0 is
 * the missing bin. Gradients and hessians are 2^-32 fixed point (int64,
 * |value| <= gmax < 2^62). */
typedef struct {
    int d, hb;          /* features, total bins (hoff[d]) */
    const int *hoff;    /* [d + 1] first bin of each feature */
    uint64_t gmax;      /* >= every |g| and h of the rows built */
    int hconst;         /* every hessian is hval (squared error): not summed, no h[] */
    int64_t hval;
    int nthreads;       /* omp_get_max_threads() at init */
    int ref;            /* tests: 1 = always gbdt_hist_build_ref */
    int64_t max_chunk;  /* tests: > 0 caps the rows of a chunk (more flushes) */
    void *tbuf;         /* [nthreads][hb] int64 cells of 2 or 4 lanes */
    tribe_xsum *tacc;   /* [nthreads][hb][3] 128-bit accumulators */
} gbdt_hist;

/* Not collective. The buffers for d features of hoff[d] bins. Errors: NOMEM
 * (free with gbdt_hist_free either way). */
tribe_status gbdt_hist_init(gbdt_hist *hc, int d, const int *hoff, int hconst, int64_t hval);
void gbdt_hist_free(gbdt_hist *hc);

/* Rows per chunk: floor((2^62 - 1) / gmax), so that a chunk's int64 partial
 * sums stay below 2^62. */
int64_t gbdt_hist_chunk(uint64_t gmax);

/* Kernel: the histogram of m rows (codes[m][d], g[m], h[m] or NULL when
 * hconst) into out[3 * hb]: exact, the same integers as
 * gbdt_hist_build_ref for any thread count. OpenMP inside. */
void gbdt_hist_build(const gbdt_hist *hc, const uint8_t *codes, const int64_t *g, const int64_t *h, int64_t m,
                     tribe_xsum *out);

/* Kernel: the reference, one thread summing every row straight into 128 bits. */
void gbdt_hist_build_ref(const gbdt_hist *hc, const uint8_t *codes, const int64_t *g, const int64_t *h, int64_t m,
                         tribe_xsum *out);

/* Collective: tribe_gbdt_fit with the histograms of gbdt_hist_build_ref
 * when ref128 (tests compare the two models). */
tribe_status gbdt_fit(const tribe_dmat *x, const double *y, const uint8_t *valid, const tribe_gbdt_cfg *cfg,
                      int ref128, tribe_gbdt_model **out);

#endif
