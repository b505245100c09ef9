/* K selection (tribe_ksweep_run in tribe/cluster.h): one K-Means fit per K
 * of a range, each scored by inertia, the sampled silhouette with its
 * interval, the exact squared-Euclidean silhouette, Calinski-Harabasz and
 * Davies-Bouldin; when asked, the split-half stability (ARI) of every K; an
 * elbow by the chord rule; and a recommended K by the rule of
 * tribe_ksweep_recommend. The K values are fitted in batches of
 * TRIBE_LABELINGS_MAX and each batch is scored in shared passes
 * (tribe_silhouette_multi, tribe_quality_multi): the same values as scoring
 * each K alone, with the distance work of one. Rules and their reasons are
 * in docs/clustering.md ("Choosing K"). */
#include "tribe/cluster.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "silhouette_internal.h"
#include "tribe/streams.h"

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
    return tribe_ksweep_recommend_at(row, n, elbow_k, TRIBE_KSWEEP_STABLE_ARI, reason, cap);
}

int tribe_ksweep_recommend_at(const tribe_ksweep_row *row, int n, int elbow_k, double stability_min, char *reason,
                              size_t cap)
{
    int cand[TRIBE_KSWEEP_MAX] = {0};
    if (n < 1 || n > TRIBE_KSWEEP_MAX) {
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
        cand[i] = !(row[i].stability < stability_min); /* NaN (skipped) counts as stable */
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
        len += snprintf(reason + len, cap - (size_t)len, "; unstable (split-half ARI < %.2g):", stability_min);
        for (int i = 0; i < n && len >= 0 && (size_t)len < cap; i++)
            if (!cand[i])
                len += snprintf(reason + len, cap - (size_t)len, " K=%d (%.2f)", row[i].k, row[i].stability);
    }
    return k;
}

/* The split-half stability: rows fall in half A (u < p), half B
 * (p <= u < 2p) or neither by the counter RNG on their global index; K-Means
 * is refitted on each half (as a table of its own, rows in global order),
 * every row is assigned with both sets of centres, and the ARI of the two
 * labelings over ALL rows is the stability of K. The halves are drawn once
 * per sweep and serve every K. */
typedef struct {
    float *h[2];             /* [rows[half].n_local][d] this rank's rows of each half, in global order */
    tribe_rows rows[2];      /* each half as a table of its own */
    int64_t m[2];
    int32_t *lb;             /* [n_local] the second labeling */
} ksweep_halves;

static void halves_free(ksweep_halves *hv)
{
    free(hv->h[0]);
    free(hv->h[1]);
    free(hv->lb);
    memset(hv, 0, sizeof *hv);
}

static tribe_status halves_draw(const tribe_dmat *z, uint64_t seed, int64_t half_cap, ksweep_halves *hv)
{
    tribe_status st = TRIBE_OK;
    const tribe_rows *rows = z->rows;
    int64_t n = rows->n_local;
    int d = z->d;
    int8_t *in = NULL;
    memset(hv, 0, sizeof *hv);
    double p = rows->n_global > 2 * half_cap ? (double)half_cap / (double)rows->n_global : 0.5;
    st = tribe_alloc((void **)&in, (size_t)n + 1);
    TRIBE_TRY(tribe_par_agree(rows->par, st));
    uint64_t key = tribe_rng_key(seed, TRIBE_STREAM_KSELECT_SPLIT); /* tribe_rng_unif's bits, keyed once */
    for (int64_t i = 0; i < n; i++) {
        double u = tribe_rng_unif_keyed(key, (uint64_t)(rows->offset + i));
        in[i] = u < p ? 0 : u < 2 * p ? 1 : -1;
        if (in[i] >= 0)
            hv->m[in[i]]++;
    }
    for (int half = 0; st == TRIBE_OK && half < 2; half++)
        st = tribe_alloc((void **)&hv->h[half], ((size_t)hv->m[half] + 1) * (size_t)d * sizeof *hv->h[half]);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&hv->lb, ((size_t)n + 1) * sizeof *hv->lb);
    TRIBE_TRY(tribe_par_agree(rows->par, st));
    int64_t at[2] = {0, 0};
    for (int64_t i = 0; i < n; i++)
        if (in[i] >= 0)
            memcpy(hv->h[in[i]] + (at[in[i]]++) * d, z->x + i * d, (size_t)d * sizeof(float));
    for (int half = 0; half < 2; half++)
        TRIBE_TRY(tribe_rows_stack(rows->par, hv->m[half], &hv->rows[half]));
cleanup:
    free(in);
    if (st != TRIBE_OK)
        halves_free(hv);
    return st;
}

/* The split-half ARI of K into *ari (NaN when a half cannot be fitted);
 * la is scratch [n_local]. */
static tribe_status split_half(const tribe_dmat *z, const ksweep_halves *hv, int k, const tribe_kmeans_cfg *base,
                               int32_t *la, double *ari)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = z->rows->par;
    double *ca = NULL;
    int d = z->d;
    *ari = NAN;
    st = tribe_alloc((void **)&ca, 2 * (size_t)k * (size_t)d * sizeof *ca);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int half = 0; half < 2; half++) {
        if (hv->rows[half].n_global < k) {
            TRIBE_INFO("stability of K=%d skipped: a half holds only %lld rows", k, (long long)hv->rows[half].n_global);
            goto cleanup;
        }
        tribe_kmeans_cfg cfg = *base;
        cfg.k = k;
        /* A half's fit draws its own samples from its own rows: a distinct
         * seed keeps them from echoing the full fit's draws. */
        cfg.seed = base->seed + 1 + (uint64_t)half;
        st = tribe_kmeans_fit(&(tribe_dmat){&hv->rows[half], hv->h[half], d}, &cfg, ca + (size_t)half * k * d, NULL);
        if (st == TRIBE_ERR_INPUT) {
            /* e.g. fewer distinct rows than K in a half: no stability, not an error */
            TRIBE_INFO("stability of K=%d skipped: %s", k, tribe_errmsg());
            st = TRIBE_OK;
            goto cleanup;
        }
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    tribe_kmeans_assign(z->x, z->rows->n_local, d, ca, k, la, NULL);
    tribe_kmeans_assign(z->x, z->rows->n_local, d, ca + (size_t)k * d, k, hv->lb, NULL);
    TRIBE_TRY(tribe_ari(par, la, k, hv->lb, k, z->rows->n_local, ari));
cleanup:
    free(ca);
    return st;
}

/* Row r of the sweep: K's fit into cent, or the caller's saved one
 * (cfg->hook.saved); after a new fit, cfg->hook.fitted may set *stop. */
static tribe_status fit_one(const tribe_dmat *z, const tribe_ksweep_cfg *cfg, tribe_ksweep_row *r, double *cent,
                            int *stop)
{
    tribe_status st = TRIBE_OK;
    const tribe_ksweep_hook *hk = &cfg->hook;
    tribe_kmeans_cfg kc = cfg->kmeans;
    tribe_kmeans_info info;
    tribe_ksweep_row held = {.k = r->k};
    if (hk->saved && hk->saved(hk->ctx, r->k, cent, &held)) {
        r->steps = held.steps;
        r->passes = held.passes;
        r->inertia = held.inertia;
        TRIBE_INFO("K=%d: fit restored from a checkpoint", r->k);
        return TRIBE_OK;
    }
    kc.k = r->k;
    TRIBE_TRY(tribe_par_agree(z->rows->par, tribe_kmeans_fit(z, &kc, cent, &info)));
    r->inertia = info.inertia;
    r->steps = info.steps;
    r->passes = info.passes;
    if (hk->fitted)
        TRIBE_TRY(tribe_par_agree(z->rows->par, hk->fitted(hk->ctx, r->k, cent, r, stop)));
cleanup:
    return st;
}

/* Rows [i0, i0 + nb) of the sweep: fits each K, keeping its labels (the
 * caller's label[] for a single K, else lab16[nb][n_local]) in ls; returns
 * early with *stop set when the hook asks. */
static tribe_status fit_batch(const tribe_dmat *z, const tribe_ksweep_cfg *cfg, tribe_ksweep *s, int i0, int nb,
                              int32_t *label, uint16_t *lab16, tribe_labelings *ls, int *stop)
{
    tribe_status st = TRIBE_OK;
    const tribe_rows *rows = z->rows;
    int d = z->d;
    memset(ls, 0, sizeof *ls);
    ls->n = nb;
    ls->n_local = rows->n_local;
    if (nb == 1)
        ls->lab32 = label;
    else
        ls->lab16 = lab16;
    for (int b = 0; b < nb; b++) {
        tribe_ksweep_row *r = &s->row[i0 + b];
        double *cent = s->centroids + (size_t)(i0 + b) * s->k_max * d;
        TRIBE_TRY(fit_one(z, cfg, r, cent, stop));
        if (*stop)
            goto cleanup;
        tribe_kmeans_assign(z->x, rows->n_local, d, cent, r->k, label, NULL);
        if (nb > 1)
            for (int64_t i = 0; i < rows->n_local; i++)
                lab16[(size_t)b * rows->n_local + i] = (uint16_t)label[i];
        ls->k[b] = r->k;
        ls->coff[b + 1] = ls->coff[b] + r->k;
        tribe_progress_step(2 * (int64_t)i0 + b + 1); /* units: a fit and a scoring per K */
    }
cleanup:
    return st;
}

/* Scores the batch's labelings ls (rows i0.. of s): sampled silhouette, CH,
 * DB, squared silhouette, and the stability when asked; adds the seconds of
 * each to s. */
static tribe_status score_batch(const tribe_dmat *z, const tribe_ksweep_cfg *cfg, const tribe_labelings *ls,
                                const ksweep_halves *hv, int32_t *label, tribe_ksweep *s, int i0)
{
    tribe_status st = TRIBE_OK;
    double mean[TRIBE_LABELINGS_MAX], ci[TRIBE_LABELINGS_MAX];
    tribe_cluster_quality q[TRIBE_LABELINGS_MAX];
    for (int b = 0; b < ls->n; b++)
        mean[b] = ci[b] = NAN;
    double t0 = tribe_now();
    if (cfg->sil_sample > 0)
        TRIBE_TRY(tribe_silhouette_multi(z, ls, cfg->sil_sample, cfg->kmeans.seed, mean, ci));
    double t1 = tribe_now();
    TRIBE_TRY(tribe_quality_multi(z, ls, q));
    double t2 = tribe_now();
    s->silhouette_seconds += t1 - t0;
    s->quality_seconds += t2 - t1;
    for (int b = 0; b < ls->n; b++) {
        tribe_ksweep_row *r = &s->row[i0 + b];
        r->silhouette = mean[b];
        r->silhouette_ci = ci[b];
        r->silhouette_sq = q[b].silhouette_sq;
        r->ch = q[b].ch;
        r->db = q[b].db;
        r->stability = NAN;
        t2 = tribe_now();
        if (cfg->stability)
            TRIBE_TRY(split_half(z, hv, r->k, &cfg->kmeans, label, &r->stability));
        s->stability_seconds += tribe_now() - t2;
        TRIBE_INFO("K=%d: inertia %.6g, silhouette %.4f +/- %.4f, squared %.4f, CH %.6g, DB %.4f, ARI %.4f (%d steps)",
                   r->k, r->inertia, r->silhouette, r->silhouette_ci, r->silhouette_sq, r->ch, r->db, r->stability,
                   r->steps);
    }
cleanup:
    return st;
}

/* Not collective. Whether the recommended K holds (k_stable) and, when it
 * does not, a note a marketer can read: the recommendation is the best of
 * unstable choices, with the most stable K tried and what to change. */
static void judge_stability(tribe_ksweep *s)
{
    s->stability_note[0] = '\0';
    s->k_stable = isnan(s->stability_ari) ? 0 : s->stability_ari >= s->stability_min ? 1 : -1;
    if (s->k_stable >= 0)
        return;
    int most = 0;
    for (int i = 1; i < s->n; i++)
        if (s->row[i].stability > s->row[most].stability || isnan(s->row[most].stability))
            most = i;
    if (s->n == 1)
        snprintf(s->stability_note, sizeof s->stability_note,
                 "K=%d is not reliable: refitted on two halves of the customers, the two segmentations agree only "
                 "%.2f (%.2f needed, 1 = identically), so the segments may come out differently in another run. "
                 "Try more restarts (kmeans.n_init), another K or other features.",
                 s->recommended_k, s->stability_ari, s->stability_min);
    else
        snprintf(s->stability_note, sizeof s->stability_note,
                 "No number of segments from %d to %d is reliable: refitted on two halves of the customers, the two "
                 "segmentations agree at best %.2f (K=%d; %.2f needed, 1 = identically). K=%d (agreement %.2f) is "
                 "only the best of unreliable choices: its segments may come out differently in another run. Try "
                 "more restarts (kmeans.n_init), other features or another K range.",
                 s->row[0].k, s->row[s->n - 1].k, s->row[most].stability, s->row[most].k, s->stability_min,
                 s->recommended_k, s->stability_ari);
}

tribe_status tribe_ksweep_run(const tribe_dmat *z, const tribe_ksweep_cfg *cfg, int32_t *label, tribe_ksweep **out)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = z->rows->par;
    tribe_ksweep *s = NULL;
    uint16_t *lab16 = NULL;
    ksweep_halves hv = {0};
    int k_lo = cfg->k_lo, k_hi = cfg->k_hi, d = z->d, stop = 0;
    *out = NULL;
    if (k_lo < 1 || k_hi < k_lo || k_hi - k_lo >= TRIBE_KSWEEP_MAX || (k_hi > k_lo && k_hi > UINT16_MAX) || d < 1 ||
        d > TRIBE_MAX_FEATURES)
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
    /* Labels of a batch of K: 2 bytes a row per K (a single K keeps label[]). */
    int nb = s && s->n < TRIBE_LABELINGS_MAX ? s->n : TRIBE_LABELINGS_MAX;
    if (st == TRIBE_OK && nb > 1)
        st = tribe_alloc((void **)&lab16, (size_t)nb * ((size_t)z->rows->n_local + 1) * sizeof *lab16);
    TRIBE_TRY(tribe_par_agree(par, st));
    if (cfg->stability) {
        double t0 = tribe_now();
        TRIBE_TRY(halves_draw(z, cfg->kmeans.seed, 100000, &hv));
        s->stability_seconds = s->score_seconds = tribe_now() - t0;
    }
    for (int i = 0; i < s->n; i++)
        s->row[i].k = k_lo + i;
    tribe_progress_begin("K sweep", "K fits+scores", 2 * (int64_t)s->n);
    for (int i0 = 0; i0 < s->n; i0 += nb) {
        int m = s->n - i0 < nb ? s->n - i0 : nb;
        tribe_labelings ls;
        double t0 = tribe_now();
        TRIBE_TRY(fit_batch(z, cfg, s, i0, m, label, lab16, &ls, &stop));
        if (stop)
            goto cleanup; /* *out stays NULL: the caller saved what was fitted */
        double t1 = tribe_now();
        TRIBE_TRY(score_batch(z, cfg, &ls, &hv, label, s, i0));
        s->fit_seconds += t1 - t0;
        s->score_seconds += tribe_now() - t1;
        tribe_progress_step(2 * (int64_t)(i0 + m));
    }
    tribe_progress_end();
    s->elbow_k = s->n >= 3 ? tribe_ksweep_elbow(s->row, s->n) : 0;
    s->stability_min = cfg->stability_min > 0 ? cfg->stability_min : TRIBE_KSWEEP_STABLE_ARI;
    s->recommended_k =
        tribe_ksweep_recommend_at(s->row, s->n, s->elbow_k, s->stability_min, s->reason, sizeof s->reason);
    for (int i = 0; i < s->n; i++)
        if (s->row[i].k == s->recommended_k)
            s->stability_ari = s->row[i].stability;
    TRIBE_INFO("chose %s", s->reason);
    judge_stability(s);
    if (s->k_stable < 0)
        TRIBE_WARN("%s", s->stability_note);
    *out = s;
    s = NULL;
cleanup:
    tribe_ksweep_destroy(&s);
    halves_free(&hv);
    free(lab16);
    return st;
}

const char *const TRIBE_KSWEEP_COLUMNS[TRIBE_KSWEEP_COLS] = {
    "k", "inertia", "silhouette", "silhouette_ci95", "silhouette_sq", "calinski_harabasz", "davies_bouldin",
    "stability_ari"};

void tribe_ksweep_row_values(const tribe_ksweep_row *r, double v[TRIBE_KSWEEP_COLS])
{
    const double row[TRIBE_KSWEEP_COLS] = {r->k,  r->inertia, r->silhouette, r->silhouette_ci, r->silhouette_sq,
                                           r->ch, r->db,      r->stability};
    memcpy(v, row, sizeof row);
}

const double *tribe_ksweep_centroids(const tribe_ksweep *s, int k)
{
    for (int i = 0; s && i < s->n; i++)
        if (s->row[i].k == k)
            return s->centroids + (size_t)i * s->k_max * s->d;
    return NULL;
}
