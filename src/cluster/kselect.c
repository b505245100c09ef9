/* K selection (tribe_ksweep_run in tribe/cluster.h): one K-Means fit per K
 * of a range, each scored by inertia, the sampled silhouette with its
 * interval, the exact squared-Euclidean silhouette, Calinski-Harabasz and
 * Davies-Bouldin; an elbow by the chord rule; a recommended K by the rule of
 * tribe_ksweep_recommend; and the split-half stability (ARI) of that K.
 * Rules and their reasons are in docs/clustering.md ("Choosing K"). */
#include "tribe/cluster.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans_internal.h"
#include "tribe/sbuf.h"

void tribe_ksweep_destroy(tribe_ksweep **p)
{
    if (!p || !*p)
        return;
    free((*p)->row);
    free((*p)->centroids);
    free(*p);
    *p = NULL;
}

int tribe_ksweep_elbow(const tribe_ksweep_row *row, int n)
{
    if (n < 3)
        return n > 0 ? row[0].k : 0;
    /* Inertia and K both mapped to [0, 1]; the elbow is the K whose point
     * lies furthest below the chord from the first to the last point (on a
     * normalised decreasing curve that is also Kneedle's knee). */
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        lo = fmin(lo, row[i].inertia);
        hi = fmax(hi, row[i].inertia);
    }
    if (!(hi > lo))
        return row[0].k;
    double k0 = row[0].k, k1 = row[n - 1].k;
    double y0 = (row[0].inertia - lo) / (hi - lo), y1 = (row[n - 1].inertia - lo) / (hi - lo);
    int best = row[0].k;
    double gap = 0;
    for (int i = 1; i < n - 1; i++) {
        double x = (row[i].k - k0) / (k1 - k0);
        double y = (row[i].inertia - lo) / (hi - lo);
        double g = (y0 + (y1 - y0) * x) - y;
        if (g > gap) {
            gap = g;
            best = row[i].k;
        }
    }
    return best;
}

/* Index of the best finite value among the candidates (sign +1: highest,
 * -1: lowest), ties to the smaller K; -1 when none is finite. */
static int arg_best(const tribe_ksweep_row *row, int n, const int *cand, size_t off, int sign)
{
    int b = -1;
    for (int i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&row[i] + off);
        if (!cand[i] || !isfinite(v))
            continue;
        double w = b < 0 ? 0 : *(const double *)((const char *)&row[b] + off);
        if (b < 0 || sign * v > sign * w)
            b = i;
    }
    return b;
}

int tribe_ksweep_recommend(const tribe_ksweep_row *row, int n, int elbow_k, char *reason, size_t cap)
{
    int cand[256] = {0};
    if (n < 1 || n > 256) {
        snprintf(reason, cap, "no K tried");
        return 0;
    }
    if (n == 1) {
        snprintf(reason, cap, "K=%d: fixed by the job", row[0].k);
        return row[0].k;
    }
    /* Only K whose partition reproduces on independent halves may win: an
     * under-segmented K (two true groups that could merge in several ways)
     * scores well on the global criteria but is arbitrary, and its two
     * half fits disagree. Without any stable K, every K competes. */
    int nstable = 0;
    for (int i = 0; i < n; i++) {
        cand[i] = !(row[i].stability < TRIBE_KSWEEP_STABLE_ARI); /* NaN (skipped) counts as stable */
        nstable += cand[i];
    }
    if (nstable == 0)
        for (int i = 0; i < n; i++)
            cand[i] = 1;
    /* Five votes among the candidates: best sampled silhouette, best exact
     * squared silhouette, highest Calinski-Harabasz, lowest Davies-Bouldin,
     * and the elbow (of the whole curve) when it is a candidate. */
    int vote[5], kv[5];
    static const char *const what[5] = {"silhouette", "squared-distance silhouette", "Calinski-Harabasz",
                                        "Davies-Bouldin", "elbow"};
    vote[0] = arg_best(row, n, cand, offsetof(tribe_ksweep_row, silhouette), +1);
    vote[1] = arg_best(row, n, cand, offsetof(tribe_ksweep_row, silhouette_sq), +1);
    vote[2] = arg_best(row, n, cand, offsetof(tribe_ksweep_row, ch), +1);
    vote[3] = arg_best(row, n, cand, offsetof(tribe_ksweep_row, db), -1);
    vote[4] = -1;
    for (int i = 0; i < n; i++)
        if (row[i].k == elbow_k && n >= 3 && cand[i])
            vote[4] = i;
    for (int v = 0; v < 5; v++)
        kv[v] = vote[v] >= 0 ? row[vote[v]].k : 0;
    /* Plurality; a tie goes to the K whose sampled silhouette is higher,
     * then to the smaller K. */
    int best = -1, best_votes = 0, voters = 0;
    for (int v = 0; v < 5; v++)
        voters += vote[v] >= 0;
    for (int i = 0; i < n; i++) {
        int c = 0;
        for (int v = 0; v < 5; v++)
            c += vote[v] == i;
        if (c == 0)
            continue;
        double si = isfinite(row[i].silhouette) ? row[i].silhouette : -INFINITY;
        double sb = best >= 0 && isfinite(row[best].silhouette) ? row[best].silhouette : -INFINITY;
        if (c > best_votes || (c == best_votes && si > sb)) {
            best = i;
            best_votes = c;
        }
    }
    if (best < 0) {
        snprintf(reason, cap, "K=%d: no criterion could be computed; smallest K tried", row[0].k);
        return row[0].k;
    }
    int k = row[best].k;
    int len = snprintf(reason, cap, "K=%d: %d of %d criteria agree (", k, best_votes, voters);
    int first = 1;
    for (int v = 0; v < 5 && len >= 0 && (size_t)len < cap; v++)
        if (vote[v] == best) {
            len += snprintf(reason + len, cap - (size_t)len, "%s%s", first ? "" : ", ", what[v]);
            first = 0;
        }
    if (len >= 0 && (size_t)len < cap)
        len += snprintf(reason + len, cap - (size_t)len, ")");
    /* Name the dissenters and the excluded K, so a reader sees how clear
     * the choice was. */
    for (int v = 0; v < 5 && len >= 0 && (size_t)len < cap; v++)
        if (vote[v] >= 0 && vote[v] != best)
            len += snprintf(reason + len, cap - (size_t)len, "; %s prefers K=%d", what[v], kv[v]);
    if (nstable > 0 && nstable < n && len >= 0 && (size_t)len < cap) {
        len += snprintf(reason + len, cap - (size_t)len, "; unstable (split-half ARI < %.2g):",
                        TRIBE_KSWEEP_STABLE_ARI);
        for (int i = 0; i < n && len >= 0 && (size_t)len < cap; i++)
            if (!cand[i])
                len += snprintf(reason + len, cap - (size_t)len, " K=%d (%.2f)", row[i].k, row[i].stability);
    }
    return k;
}

/* The split-half stability of K: rows fall in half A (u < p), half B
 * (p <= u < 2p) or neither by the counter RNG on their global index; K-Means
 * is refitted on each half (as a table of its own, rows in global order),
 * every row is assigned with both sets of centres, and the ARI of the two
 * labelings over ALL rows is returned. */
static tribe_status split_half(tribe_par *par, const float *z, int64_t n_local, int64_t offset, int64_t n_global,
                               int d, int k, const tribe_kmeans_cfg *base, int64_t half_cap, int32_t *la,
                               int32_t *lb, double *ari)
{
    tribe_status st = TRIBE_OK;
    float *h = NULL;
    double *ca = NULL, *cb = NULL;
    *ari = NAN;
    double p = n_global > 2 * half_cap ? (double)half_cap / (double)n_global : 0.5;
    int64_t in[2] = {0, 0};
    for (int64_t i = 0; i < n_local; i++) {
        double u = tribe_rng_unif(base->seed, TRIBE_STREAM_KSELECT_SPLIT, (uint64_t)(offset + i));
        in[0] += u < p;
        in[1] += u >= p && u < 2 * p;
    }
    /* one half at a time in a buffer the size of the larger local half */
    st = tribe_alloc((void **)&h, ((size_t)(in[0] > in[1] ? in[0] : in[1]) + 1) * (size_t)d * sizeof *h);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&ca, 2 * (size_t)k * (size_t)d * sizeof *ca);
    TRIBE_TRY(tribe_par_agree(par, st));
    cb = ca + (size_t)k * d;
    for (int half = 0; half < 2; half++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n_local; i++) {
            double u = tribe_rng_unif(base->seed, TRIBE_STREAM_KSELECT_SPLIT, (uint64_t)(offset + i));
            if (half == 0 ? u < p : (u >= p && u < 2 * p))
                memcpy(h + (m++) * d, z + i * d, (size_t)d * sizeof *h);
        }
        tribe_rows hr;
        TRIBE_TRY(tribe_rows_stack(par, m, &hr));
        if (hr.n_global < k) {
            TRIBE_INFO("stability of K=%d skipped: a half holds only %lld rows", k, (long long)hr.n_global);
            goto cleanup;
        }
        tribe_kmeans_cfg cfg = *base;
        cfg.k = k;
        /* A half's fit draws its own samples from its own rows: a distinct
         * seed keeps them from echoing the full fit's draws. */
        cfg.seed = base->seed + 1 + (uint64_t)half;
        st = tribe_kmeans_fit(&(tribe_dmat){&hr, h, d}, &cfg, half == 0 ? ca : cb, NULL);
        if (st == TRIBE_ERR_INPUT) {
            /* e.g. fewer distinct rows than K in a half: no stability, not an error */
            TRIBE_INFO("stability of K=%d skipped: %s", k, tribe_errmsg());
            st = TRIBE_OK;
            goto cleanup;
        }
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    tribe_kmeans_assign(z, n_local, d, ca, k, la, NULL);
    tribe_kmeans_assign(z, n_local, d, cb, k, lb, NULL);
    TRIBE_TRY(tribe_ari(par, la, k, lb, k, n_local, ari));
cleanup:
    free(h);
    free(ca);
    return st;
}

tribe_status tribe_ksweep_run(tribe_par *par, const float *z, int64_t n_local, int64_t offset, int64_t n_global,
                              int d, int k_lo, int k_hi, const tribe_kmeans_cfg *base, int64_t sil_sample,
                              int32_t *label, float *dist2, tribe_ksweep **out)
{
    tribe_status st = TRIBE_OK;
    tribe_ksweep *s = NULL;
    int32_t *lb = NULL;
    *out = NULL;
    if (k_lo < 1 || k_hi < k_lo || k_hi - k_lo >= 256 || d < 1 || d > TRIBE_MAX_FEATURES)
        st = tribe_fail(TRIBE_ERR_USAGE, "K sweep: K range %d..%d, d=%d", k_lo, k_hi, d);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&s, 1, sizeof *s);
    if (st == TRIBE_OK) {
        s->n = k_hi - k_lo + 1;
        s->k_max = k_hi;
        s->d = d;
        s->stability_ari = NAN;
        st = tribe_calloc((void **)&s->row, (size_t)s->n, sizeof *s->row);
    }
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&s->centroids, (size_t)s->n * (size_t)k_hi * (size_t)d, sizeof *s->centroids);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&lb, ((size_t)n_local + 1) * sizeof *lb);
    TRIBE_TRY(tribe_par_agree(par, st));
    tribe_rows rows;
    TRIBE_TRY(tribe_rows_init(par, n_local, offset, n_global, &rows));
    const tribe_dmat zm = {&rows, z, d};
    for (int i = 0; i < s->n; i++) {
        tribe_ksweep_row *r = &s->row[i];
        double *cent = s->centroids + (size_t)i * k_hi * d;
        tribe_kmeans_cfg cfg = *base;
        tribe_kmeans_info info;
        cfg.k = r->k = k_lo + i;
        double t0 = tribe_now();
        TRIBE_TRY(tribe_par_agree(par, tribe_kmeans_fit(&zm, &cfg, cent, &info)));
        r->inertia = info.inertia;
        r->steps = info.steps;
        double t1 = tribe_now();
        tribe_kmeans_assign(z, n_local, d, cent, r->k, label, dist2);
        r->silhouette = r->silhouette_ci = NAN;
        if (sil_sample > 0)
            TRIBE_TRY(tribe_par_agree(par, tribe_silhouette_sample(par, z, n_local, offset, n_global, d, label, r->k,
                                                                   sil_sample, base->seed, &r->silhouette,
                                                                   &r->silhouette_ci)));
        tribe_cluster_quality q;
        TRIBE_TRY(tribe_cluster_quality_compute(par, z, n_local, offset, n_global, d, label, r->k, &q));
        r->silhouette_sq = q.silhouette_sq;
        r->ch = q.ch;
        r->db = q.db;
        TRIBE_TRY(split_half(par, z, n_local, offset, n_global, d, r->k, base, 100000, label, lb, &r->stability));
        s->fit_seconds += t1 - t0;
        s->score_seconds += tribe_now() - t1;
        TRIBE_INFO("K=%d: inertia %.6g, silhouette %.4f +/- %.4f, squared %.4f, CH %.6g, DB %.4f, ARI %.4f (%d steps)",
                   r->k, r->inertia, r->silhouette, r->silhouette_ci, r->silhouette_sq, r->ch, r->db, r->stability,
                   r->steps);
    }
    s->elbow_k = s->n >= 3 ? tribe_ksweep_elbow(s->row, s->n) : 0;
    s->recommended_k = tribe_ksweep_recommend(s->row, s->n, s->elbow_k, s->reason, sizeof s->reason);
    for (int i = 0; i < s->n; i++)
        if (s->row[i].k == s->recommended_k)
            s->stability_ari = s->row[i].stability;
    TRIBE_INFO("chose %s", s->reason);
    *out = s;
    s = NULL;
cleanup:
    tribe_ksweep_destroy(&s);
    free(lb);
    return st;
}

const double *tribe_ksweep_centroids(const tribe_ksweep *s, int k)
{
    for (int i = 0; s && i < s->n; i++)
        if (s->row[i].k == k)
            return s->centroids + (size_t)i * s->k_max * s->d;
    return NULL;
}

static tribe_status num(tribe_sbuf *b, const char *sep, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, "%s%.9g", sep, v) : tribe_sbuf_printf(b, "%snull", sep);
}

tribe_status tribe_ksweep_json(const tribe_ksweep *s, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    *out = NULL;
    TRIBE_TRY(tribe_sbuf_printf(&b, ", \"k_sweep\": {\"recommended_k\": %d, \"elbow_k\": %d, \"stability_ari\": ",
                                s->recommended_k, s->elbow_k));
    TRIBE_TRY(num(&b, "", s->stability_ari));
    TRIBE_TRY(tribe_sbuf_add(&b, ", \"reason\": \""));
    for (const char *p = s->reason; *p; p++) /* the reason is plain text we wrote: no control characters */
        TRIBE_TRY(tribe_sbuf_printf(&b, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p));
    TRIBE_TRY(tribe_sbuf_add(&b, "\", \"columns\": [\"k\", \"inertia\", \"silhouette\", \"silhouette_ci95\", "
                                 "\"silhouette_sq\", \"calinski_harabasz\", \"davies_bouldin\", \"stability_ari\"], "
                                 "\"rows\": ["));
    for (int i = 0; i < s->n; i++) {
        const tribe_ksweep_row *r = &s->row[i];
        TRIBE_TRY(tribe_sbuf_printf(&b, "%s[%d", i ? ", " : "", r->k));
        TRIBE_TRY(num(&b, ", ", r->inertia));
        TRIBE_TRY(num(&b, ", ", r->silhouette));
        TRIBE_TRY(num(&b, ", ", r->silhouette_ci));
        TRIBE_TRY(num(&b, ", ", r->silhouette_sq));
        TRIBE_TRY(num(&b, ", ", r->ch));
        TRIBE_TRY(num(&b, ", ", r->db));
        TRIBE_TRY(num(&b, ", ", r->stability));
        TRIBE_TRY(tribe_sbuf_add(&b, "]"));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, "]}"));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}
