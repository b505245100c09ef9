/* Churn metrics (tribe/churn.h, docs/churn.md): AUC, Brier score and the
 * calibration table, every figure an integer count or an exact sum, so the
 * same on any rank count. */
#include "tribe/churn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A row for the AUC: its risk as an order-preserving key, and its label. */
typedef struct {
    uint64_t key;
    uint64_t y;
} churn_item;

/* Risks are in [0, 1]: the bits of a non-negative double (+0 for -0) order
 * as the values do. */
static uint64_t risk_key(double v)
{
    uint64_t u;
    v += 0.0; /* -0 -> +0 */
    memcpy(&u, &v, sizeof u);
    return u;
}

static int item_cmp(const void *pa, const void *pb)
{
    const churn_item *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

/* First index in it[0..n) (sorted) with key >= k. */
static int64_t lower_bound(const churn_item *it, int64_t n, uint64_t k)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (it[mid].key < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Collective. Moves the sorted items so that rank j holds the keys in
 * [s_j, s_{j+1}) (s_0 = 0, s_p = inf): splitters from p - 1 evenly spaced
 * local keys of every rank. They only balance the work: equal keys always
 * land on one rank, which is all the count needs. *out is sorted. */
static tribe_status auc_exchange(tribe_par *par, const churn_item *it, int64_t n, churn_item **out, int64_t *n_out)
{
    tribe_status st = TRIBE_OK;
    int p = tribe_par_size(par);
    uint64_t *mine = NULL, *all = NULL, *split = NULL;
    size_t *sc = NULL, *sd = NULL, *rc = NULL, *rd = NULL, total = 0;
    void *recv = NULL;
    TRIBE_TRY(tribe_alloc((void **)&mine, (size_t)p * sizeof *mine));
    TRIBE_TRY(tribe_alloc((void **)&split, (size_t)p * sizeof *split));
    TRIBE_TRY(tribe_alloc((void **)&sc, 4 * (size_t)p * sizeof *sc));
    sd = sc + p, rc = sc + 2 * p, rd = sc + 3 * p;
    int nm = 0;
    for (int j = 1; j < p && n > 0; j++)
        mine[nm++] = it[(int64_t)((__int128)j * n / p)].key;
    TRIBE_TRY(tribe_par_allgatherv(par, mine, (size_t)nm * sizeof *mine, (void **)&all, &total, NULL, NULL));
    size_t na = total / sizeof *all;
    qsort(all, na, sizeof *all, u64_cmp);
    for (int j = 1; j < p; j++)
        split[j] = na ? all[(size_t)j * na / (size_t)p] : UINT64_MAX;
    int64_t prev = 0;
    for (int j = 0; j < p; j++) {
        int64_t end = j + 1 < p ? lower_bound(it, n, split[j + 1]) : n;
        if (end < prev)
            end = prev;
        sd[j] = (size_t)prev * sizeof *it;
        sc[j] = (size_t)(end - prev) * sizeof *it;
        prev = end;
    }
    TRIBE_TRY(tribe_par_alltoallv(par, it, sc, sd, &recv, &total, rc, rd));
    *n_out = (int64_t)(total / sizeof(churn_item));
    qsort(recv, (size_t)*n_out, sizeof(churn_item), item_cmp);
    *out = recv;
    recv = NULL;
cleanup:
    free(mine);
    free(all);
    free(split);
    free(sc);
    free(recv);
    return st;
}

/* Collective. Twice the Mann-Whitney count over all ranks: for every
 * (churner, stayer) pair 2 when the churner's risk is higher, 1 when equal;
 * *num2 is that count (exact, 128-bit), *npos and *nneg the classes. */
static tribe_status auc_count(const tribe_rows *rows, const double *risk, const uint8_t *y, tribe_xsum *num2,
                              int64_t *npos, int64_t *nneg)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int64_t n = rows->n_local, m = 0, cnt[2] = {0, 0}, before = 0, total = 0;
    churn_item *it = NULL, *got = NULL;
    TRIBE_TRY(tribe_alloc((void **)&it, ((size_t)n + 1) * sizeof *it));
    for (int64_t i = 0; i < n; i++)
        it[i] = (churn_item){risk_key(risk[i]), y[i]};
    qsort(it, (size_t)n, sizeof *it, item_cmp);
    TRIBE_TRY(auc_exchange(par, it, n, &got, &m));
    for (int64_t i = 0; i < m; i++)
        cnt[got[i].y]++;
    TRIBE_TRY(tribe_par_exscan_i64(par, cnt[0], &before, &total));
    tribe_xsum s = 0;
    int64_t below = before; /* stayers with a lower risk, over all ranks */
    for (int64_t i = 0; i < m;) {
        int64_t j = i, gp = 0, gn = 0;
        for (; j < m && got[j].key == got[i].key; j++)
            got[j].y ? gp++ : gn++;
        s += (tribe_xsum)gp * (2 * (tribe_xsum)below + gn);
        below += gn;
        i = j;
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, &s, 1));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, 2));
    *num2 = s;
    *nneg = cnt[0];
    *npos = cnt[1];
cleanup:
    free(it);
    free(got);
    return st;
}

/* Not collective. The first bad row (global index) or -1. */
static int64_t first_bad(const tribe_rows *rows, const double *risk, const uint8_t *y)
{
    for (int64_t i = 0; i < rows->n_local; i++)
        if (!(risk[i] >= 0 && risk[i] <= 1) || y[i] > 1)
            return rows->offset + i;
    return -1;
}

tribe_status tribe_churn_metrics_compute(const tribe_rows *rows, const double *risk, const uint8_t *churned,
                                         tribe_churn_metrics *out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int64_t n = rows->n_local;
    /* the lowest bad global row over all ranks, named on every rank */
    int64_t bad = first_bad(rows, risk, churned);
    int64_t badmin = bad < 0 ? INT64_MAX : bad;
    TRIBE_TRY(tribe_par_min_i64(par, &badmin, 1));
    if (badmin != INT64_MAX)
        return tribe_fail(TRIBE_ERR_INPUT, "churn metrics: row %lld has a risk outside [0, 1] or a label not 0/1",
                          (long long)badmin);
    if (rows->n_global == 0)
        return tribe_fail(TRIBE_ERR_INPUT, "churn metrics: no row");
    /* counts[b] = rows, counts[B + b] = churners; sums[b] = risk, sums[B] = squared error */
    int64_t counts[2 * TRIBE_CHURN_BINS] = {0};
    tribe_xsum sums[TRIBE_CHURN_BINS + 1] = {0};
    for (int64_t i = 0; i < n; i++) {
        int b = (int)(risk[i] * TRIBE_CHURN_BINS);
        b = b < TRIBE_CHURN_BINS ? b : TRIBE_CHURN_BINS - 1;
        double e = risk[i] - churned[i];
        counts[b]++;
        counts[TRIBE_CHURN_BINS + b] += churned[i];
        sums[b] += tribe_xsum_of(risk[i]);
        sums[TRIBE_CHURN_BINS] += tribe_xsum_of(e * e);
    }
    TRIBE_TRY(tribe_par_sum_i64(par, counts, 2 * TRIBE_CHURN_BINS));
    TRIBE_TRY(tribe_par_sum_xsum(par, sums, TRIBE_CHURN_BINS + 1));
    tribe_xsum num2 = 0;
    int64_t npos = 0, nneg = 0;
    TRIBE_TRY(auc_count(rows, risk, churned, &num2, &npos, &nneg));
    tribe_churn_metrics m = {.n = rows->n_global, .n_churned = npos};
    m.auc = npos && nneg ? (double)num2 / 2.0 / (double)npos / (double)nneg : NAN;
    m.brier = tribe_xsum_value(sums[TRIBE_CHURN_BINS]) / (double)m.n;
    m.ece = 0;
    for (int b = 0; b < TRIBE_CHURN_BINS; b++) {
        int64_t c = counts[b];
        m.bin_count[b] = c;
        m.bin_risk[b] = c ? tribe_xsum_value(sums[b]) / (double)c : NAN;
        m.bin_churned[b] = c ? (double)counts[TRIBE_CHURN_BINS + b] / (double)c : NAN;
        if (c)
            m.ece += (double)c / (double)m.n * fabs(m.bin_risk[b] - m.bin_churned[b]);
    }
    *out = m;
cleanup:
    return st;
}
