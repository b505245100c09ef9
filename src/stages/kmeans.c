/* Stage "kmeans" (job keys "kmeans" and "silhouette"): K-Means with K fixed
 * or chosen by a sweep (tribe/cluster.h, docs/clustering.md), the final
 * assignment, and segment ids by descending mean monetary. Fills r->k,
 * r->centroids, r->label, r->distance, r->inertia, r->silhouette(_ci). */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const INITS[] = {"kmeans++", "kmeans||", "kmeans++-lloyd"}; /* TRIBE_KMEANS_INIT_* order */
static const char *const ALGORITHMS[] = {"minibatch", "lloyd"};                 /* TRIBE_KMEANS_* order */

/* The K values fitted so far by the stage's sweep, with those read from a
 * partial checkpoint: what a stop inside the sweep saves, and what the sweep
 * of a resumed run reuses (docs/cli.md, "Interrupted runs"). */
typedef struct {
    tribe_run *r;
    int n, cap, width;     /* fits held, room, doubles per fit (k_hi * m) */
    tribe_ksweep_row *row; /* [cap] k and the fit fields */
    double *cen;           /* [cap][width] each fit's centroids in its first k * m */
    int stop_after_k;      /* TRIBE_TEST_STOP_AFTER_K (a test hook): stop after that K's fit */
    int stopped;           /* the sweep stopped: run returns at once */
} sweep_fits;

typedef struct {
    tribe_kmeans_cfg cfg; /* the job's kmeans.* keys, same names */
    int k_lo, k_hi;       /* K, or the swept range */
    int64_t silhouette_sample; /* silhouette.sample_size; 0 = skip (2000 still choose K in a sweep) */
    int stability;        /* kmeans.stability: split-half stability of every K; default: with a K range */
    double stability_min; /* kmeans.stability_min: the split-half ARI a K needs to compete and to count as reliable */
    int stability_asked;  /* the job set kmeans.stability */
    tribe_ksweep *ks;
    sweep_fits fits;
} kmeans_stage;

static void fits_free(sweep_fits *f)
{
    free(f->row);
    free(f->cen);
    f->row = NULL;
    f->cen = NULL;
    f->n = f->cap = 0;
}

/* Not collective (the hook's saved): K's fit when held. */
static int fits_saved(void *ctx, int k, double *centroids, tribe_ksweep_row *row)
{
    const sweep_fits *f = ctx;
    for (int i = 0; i < f->n; i++)
        if (f->row[i].k == k) {
            *row = f->row[i];
            memcpy(centroids, f->cen + (size_t)i * f->width, (size_t)k * (size_t)f->r->m * sizeof *centroids);
            return 1;
        }
    return 0;
}

static tribe_status fits_write(void *ctx, tribe_h5 *h)
{
    const sweep_fits *f = ctx;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_h5_write_small(h, "/kmeans/partial/rows", TRIBE_H5_U8, f->n, (int64_t)sizeof *f->row, f->row));
    TRIBE_TRY(tribe_h5_write_small(h, "/kmeans/partial/centroids", TRIBE_H5_F64, f->n, f->width, f->cen));
cleanup:
    return st;
}

/* Collective (the hook's fitted): K's fit is kept; when the run is to stop
 * (or the test hook says so), every fit held goes into the stage's partial
 * checkpoint and the sweep ends. */
static tribe_status fits_fitted(void *ctx, int k, const double *centroids, const tribe_ksweep_row *row, int *stop)
{
    sweep_fits *f = ctx;
    tribe_status st = TRIBE_OK;
    if (f->n < f->cap) { /* always: one fit per K of the range */
        f->row[f->n] = *row;
        memcpy(f->cen + (size_t)f->n * f->width, centroids, (size_t)k * (size_t)f->r->m * sizeof *centroids);
        f->n++;
    }
    TRIBE_TRY(tribe_run_stop_point(f->r, k == f->stop_after_k, stop));
    if (*stop) {
        TRIBE_TRY(tribe_run_save_partial(f->r, fits_write, f));
        f->stopped = 1;
        TRIBE_INFO("K sweep stopped after the fit of K=%d (%d K values fitted kept)", k, f->n);
    }
cleanup:
    return st;
}

/* Collective. Room for the fits of n K values of width doubles, and those of
 * the stage's partial checkpoint when the run resumes one. */
static tribe_status fits_start(sweep_fits *f, tribe_run *r, int n, int width)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    tribe_ksweep_row *row = NULL;
    double *cen = NULL;
    int64_t n1 = 0, w1 = 0, n2 = 0, w2 = 0;
    const char *e = getenv("TRIBE_TEST_STOP_AFTER_K");
    fits_free(f);
    f->r = r;
    f->width = width;
    f->stop_after_k = e ? atoi(e) : 0;
    st = tribe_calloc((void **)&f->row, (size_t)n, sizeof *f->row);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&f->cen, (size_t)n * (size_t)width, sizeof *f->cen);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    f->cap = n;
    TRIBE_TRY(tribe_run_open_partial(r, &h));
    if (!h)
        goto cleanup;
    st = tribe_h5_read_small(h, "/kmeans/partial/rows", TRIBE_H5_U8, &n1, &w1, (void **)&row);
    if (st == TRIBE_OK)
        st = tribe_h5_read_small(h, "/kmeans/partial/centroids", TRIBE_H5_F64, &n2, &w2, (void **)&cen);
    if (st == TRIBE_OK && (n1 < 1 || n1 > n || w1 != (int64_t)sizeof *row || n2 != n1 || w2 != width))
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: the K sweep's partial checkpoint does not fit this run",
                        tribe_h5_path(h));
    TRIBE_TRY(tribe_par_agree(r->par, st));
    memcpy(f->row, row, (size_t)n1 * sizeof *row);
    memcpy(f->cen, cen, (size_t)n1 * (size_t)width * sizeof *cen);
    f->n = (int)n1;
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(row);
    free(cen);
    return tribe_par_agree(r->par, st);
}

/* Collective. tribe_ksweep_run with the stage's checkpoint hook: fits held
 * in a partial checkpoint are reused, and a stop asked after a K's fit saves
 * those made; s->ks stays NULL then (s->fits.stopped). */
static tribe_status sweep(kmeans_stage *s, tribe_run *r, tribe_ksweep_cfg *sc)
{
    tribe_status st = TRIBE_OK;
    const tribe_dmat zm = tribe_run_z(r);
    TRIBE_TRY(fits_start(&s->fits, r, sc->k_hi - sc->k_lo + 1, sc->k_hi * r->m));
    sc->hook = (tribe_ksweep_hook){.ctx = &s->fits, .fitted = fits_fitted, .saved = fits_saved};
    TRIBE_TRY(tribe_ksweep_run(&zm, sc, r->label, &s->ks));
cleanup:
    if (!s->fits.stopped)
        fits_free(&s->fits);
    return st;
}

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    kmeans_stage *s = state;
    tribe_kmeans_cfg *c = &s->cfg;
    tribe_spec *km = NULL, *sil = NULL;
    tribe_status st = TRIBE_OK;
    int k = 0, range[2] = {0, 0};
    tribe_kmeans_cfg_default(c);
    c->seed = job->seed;
    c->batch_size = 2048;
    c->max_steps = 200;
    c->init_sample = 20000;
    c->tol = 1e-4;
    /* k-means++ then Lloyd on the init_sample rows for each of 10 restarts,
     * the best on the sample going on to full Lloyd passes: on planted data
     * the restarts cost little beside the passes, and fewer of them (or
     * mini-batch from one k-means++ draw) land in a merged-and-split
     * partition (docs/clustering.md, "The job's defaults";
     * bench/bench_kdefaults.sh). */
    c->init = TRIBE_KMEANS_INIT_PP_LLOYD;
    c->algorithm = TRIBE_KMEANS_LLOYD;
    c->n_init = 10;
    s->stability_min = TRIBE_KSWEEP_STABLE_ARI;
    s->silhouette_sample = 2000;
    TRIBE_TRY(tribe_spec_object(spec, "kmeans", &km));
    if (!tribe_spec_has(km, "k") && !tribe_spec_has(km, "k_min") && !tribe_spec_has(km, "k_max"))
        range[0] = 3, range[1] = 8; /* the default: a sweep */
    if (tribe_spec_is_array(km, "k")) /* "k": [3, 8] is shorthand for k_min = 3, k_max = 8 */
        TRIBE_TRY(tribe_spec_ints(km, "k", 1, 1000, 2, range));
    else
        TRIBE_TRY(tribe_spec_int(km, "k", 1, 1000, &k));
    TRIBE_TRY(tribe_spec_int(km, "k_min", 1, 1000, &range[0]));
    TRIBE_TRY(tribe_spec_int(km, "k_max", 1, 1000, &range[1]));
    s->stability = k == 0; /* it serves to choose K: a fixed K pays for it only when asked */
    s->stability_asked = tribe_spec_has(km, "stability");
    TRIBE_TRY(tribe_spec_bool(km, "stability", &s->stability));
    TRIBE_TRY(tribe_spec_num(km, "stability_min", 0.01, 1, &s->stability_min));
    TRIBE_TRY(tribe_spec_i64(km, "batch_size", 1, 1e9, &c->batch_size));
    TRIBE_TRY(tribe_spec_int(km, "max_steps", 1, 1e7, &c->max_steps));
    TRIBE_TRY(tribe_spec_i64(km, "init_sample", 1, 1e9, &c->init_sample));
    TRIBE_TRY(tribe_spec_num(km, "tol", 0, 1e9, &c->tol));
    TRIBE_TRY(tribe_spec_choice(km, "init", INITS, 3, &c->init));
    TRIBE_TRY(tribe_spec_choice(km, "algorithm", ALGORITHMS, 2, &c->algorithm));
    TRIBE_TRY(tribe_spec_int(km, "n_init", 1, 1000, &c->n_init));
    TRIBE_TRY(tribe_spec_int(km, "lloyd_passes", 0, 1e6, &c->lloyd_passes));
    TRIBE_TRY(tribe_spec_num(km, "inertia_tol", 0, 1, &c->inertia_tol));
    TRIBE_TRY(tribe_spec_object(spec, "silhouette", &sil));
    TRIBE_TRY(tribe_spec_i64(sil, "sample_size", 0, 1e8, &s->silhouette_sample));
    TRIBE_TRY(tribe_spec_check(km));
    if (k && (range[0] || range[1]))
        TRIBE_TRY(tribe_spec_fail(km, "give either 'kmeans.k' or 'kmeans.k_min'/'kmeans.k_max', not both"));
    if (!k && (!range[0] || !range[1] || range[0] > range[1] || range[0] < 2))
        TRIBE_TRY(tribe_spec_fail(km, "'kmeans.k_min' and 'kmeans.k_max' need 2 <= k_min <= k_max"));
    s->k_lo = k ? k : range[0];
    s->k_hi = k ? k : range[1];
cleanup:
    return st;
}

/* Collective. The K of the sweep's recommendation, its centroids into
 * r->centroids, the labels and squared distances left in r->label and
 * r->distance. */
static tribe_status choose_k(kmeans_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_table *t = r->t;
    int k_hi = s->k_hi;
    if (s->k_lo > t->n_global)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: K=%d but %s holds only %lld customers", r->job->path, s->k_lo,
                          r->job->input, (long long)t->n_global);
    if (k_hi > t->n_global) {
        TRIBE_INFO("kmeans: K range %d..%d cut to %d..%lld: %s holds only %lld customers, and K cannot exceed the "
                   "number of customers", s->k_lo, k_hi, s->k_lo, (long long)t->n_global, r->job->input,
                   (long long)t->n_global);
        k_hi = (int)t->n_global;
    }
    int64_t sil = s->silhouette_sample > 0 ? s->silhouette_sample : s->k_lo != k_hi ? 2000 : 0;
    TRIBE_TRY(tribe_alloc((void **)&r->label, (size_t)(t->n_local + 1) * sizeof *r->label));
    TRIBE_TRY(tribe_alloc((void **)&r->distance, (size_t)(t->n_local + 1) * sizeof *r->distance));
    tribe_ksweep_cfg sc = {.k_lo = s->k_lo, .k_hi = k_hi, .kmeans = s->cfg, .sil_sample = sil,
                           .stability = s->stability, .stability_min = s->stability_min};
    if (!s->ks) /* else restored from a checkpoint (load) */
        TRIBE_TRY(sweep(s, r, &sc));
    if (s->fits.stopped)
        goto cleanup;
    r->k = s->ks->recommended_k;
    TRIBE_TRY(tribe_calloc((void **)&r->centroids, (size_t)r->k * (size_t)r->m, sizeof *r->centroids));
    memcpy(r->centroids, tribe_ksweep_centroids(s->ks, r->k), (size_t)r->k * (size_t)r->m * sizeof *r->centroids);
    for (int i = 0; i < s->ks->n; i++)
        if (s->ks->row[i].k == r->k) {
            r->silhouette = s->ks->row[i].silhouette;
            r->silhouette_ci = s->ks->row[i].silhouette_ci;
            r->passes = s->ks->row[i].passes;
        }
cleanup:
    return st;
}

/* Not collective. A refit that follows a previous run must sweep the same K
 * range (or fix the same K) as it did. */
static tribe_status same_k_range(const kmeans_stage *s, const tribe_run *r)
{
    const tribe_prev *p = r->prev;
    if (p->k_lo == s->k_lo && p->k_hi == s->k_hi)
        return TRIBE_OK;
    return tribe_fail(TRIBE_ERR_INPUT,
                      "%s: this job's K (%d..%d) is not the previous run's (%d..%d, %s); a rerun that fits anew "
                      "must choose K as before (or set continuity.mode \"warm\" or \"score\" to keep K=%d)",
                      r->job->path ? r->job->path : "job spec", s->k_lo, s->k_hi, p->k_lo, p->k_hi, p->path, p->k);
}

/* Collective. Rerun modes that keep the previous K: "score" assigns with the
 * previous centres as they are (the transform stage used the previous model
 * space); "warm" moves them into this run's model space (the same columns and
 * log1p: an affine map per column) and polishes them with full Lloyd passes. */
static tribe_status follow_previous(kmeans_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    const tribe_prev *p = r->prev;
    double *start = NULL;
    int k = p->k, m = r->m;
    TRIBE_TRY(tribe_alloc((void **)&r->label, (size_t)(r->rows.n_local + 1) * sizeof *r->label));
    TRIBE_TRY(tribe_alloc((void **)&r->distance, (size_t)(r->rows.n_local + 1) * sizeof *r->distance));
    TRIBE_TRY(tribe_calloc((void **)&r->centroids, (size_t)k * (size_t)m, sizeof *r->centroids));
    r->k = k;
    if (r->rerun == TRIBE_RERUN_SCORE) {
        memcpy(r->centroids, p->centroids, (size_t)k * m * sizeof *r->centroids);
        TRIBE_TRY(tribe_calloc((void **)&r->from_prev, (size_t)k, sizeof *r->from_prev));
        for (int c = 0; c < k; c++)
            r->from_prev[c] = c;
        goto cleanup;
    }
    TRIBE_TRY(tribe_alloc((void **)&start, (size_t)k * m * sizeof *start));
    tribe_scaler_remap(m, p->mean, p->std, r->scaler->mean, r->scaler->std, k, p->centroids, start);
    tribe_ksweep_cfg sc = {.k_lo = k, .k_hi = k, .kmeans = s->cfg, .sil_sample = s->silhouette_sample,
                           .stability = s->stability && s->stability_asked, .stability_min = s->stability_min};
    sc.kmeans.start = start;
    sc.kmeans.n_init = 1;
    sc.kmeans.algorithm = TRIBE_KMEANS_LLOYD;
    if (!s->ks) /* else restored from a checkpoint (load) */
        TRIBE_TRY(sweep(s, r, &sc));
    if (s->fits.stopped)
        goto cleanup;
    memcpy(r->centroids, tribe_ksweep_centroids(s->ks, k), (size_t)k * m * sizeof *r->centroids);
    r->silhouette = s->ks->row[0].silhouette;
    r->silhouette_ci = s->ks->row[0].silhouette_ci;
    r->passes = s->ks->row[0].passes;
cleanup:
    free(start);
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    kmeans_stage *s = state;
    tribe_status st = TRIBE_OK;
    int *perm = NULL;
    const tribe_table *t = r->t;
    TRIBE_DEBUG("kmeans: K %d..%d, %s with %s init, batch %lld, max_steps %d, n_init %d, silhouette sample %lld, "
                "stability %d", s->k_lo, s->k_hi, ALGORITHMS[s->cfg.algorithm], INITS[s->cfg.init],
                (long long)s->cfg.batch_size, s->cfg.max_steps, s->cfg.n_init, (long long)s->silhouette_sample,
                s->stability);
    if (r->prev && r->rerun != TRIBE_RERUN_REFIT) {
        TRIBE_TRY(tribe_par_agree(r->par, follow_previous(s, r)));
    } else {
        if (r->prev)
            TRIBE_TRY(tribe_par_agree(r->par, same_k_range(s, r)));
        TRIBE_TRY(tribe_par_agree(r->par, choose_k(s, r)));
    }
    if (s->fits.stopped)
        goto cleanup; /* inside the sweep, its partial checkpoint saved */
    /* Final assignment with the chosen centroids; ids by descending monetary. */
    tribe_kmeans_assign(r->z, t->n_local, r->m, r->centroids, r->k, r->label, r->distance);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_alloc((void **)&perm, (size_t)r->k * sizeof *perm)));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_kmeans_relabel(r->par, t, tribe_table_feature(t, "monetary"), r->k, r->m,
                                                           r->centroids, r->label, perm)));
    if (r->from_prev) /* perm[old] = new: the previous segment of each new position */
        for (int c = 0; c < r->k; c++)
            r->from_prev[perm[c]] = c;
    tribe_xsum acc = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        acc += tribe_xsum_of((double)r->distance[i]);
        r->distance[i] = sqrtf(r->distance[i]);
    }
    TRIBE_TRY(tribe_par_sum_xsum(r->par, &acc, 1));
    r->inertia = tribe_xsum_value(acc);
cleanup:
    free(perm);
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    kmeans_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ksweep *ks = s->ks;
    const tribe_rows *rw = &r->rows;
    double *sweep = NULL;
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/label", TRIBE_H5_I32, rw->n_global, rw->offset, rw->n_local, 1,
                                  r->label));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/distance", TRIBE_H5_F32, rw->n_global, rw->offset, rw->n_local, 1,
                                  r->distance));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/centroids", TRIBE_H5_F64, r->k, r->m, r->centroids));
    /* The K range the job chose from: a rerun that keeps K keeps the previous run's. */
    int64_t range[2] = {s->k_lo, s->k_hi};
    if (r->prev && r->rerun != TRIBE_RERUN_REFIT)
        range[0] = r->prev->k_lo, range[1] = r->prev->k_hi;
    TRIBE_TRY(tribe_h5_write_small(h, "/model/k_range", TRIBE_H5_I64, 2, 1, range));
    if (!ks || ks->n <= 0)
        goto cleanup;
    TRIBE_TRY(tribe_calloc((void **)&sweep, (size_t)ks->n * TRIBE_KSWEEP_COLS, sizeof *sweep));
    for (int i = 0; i < ks->n; i++)
        tribe_ksweep_row_values(&ks->row[i], sweep + (size_t)i * TRIBE_KSWEEP_COLS);
    TRIBE_TRY(tribe_h5_write_small(h, "/model/k_sweep", TRIBE_H5_F64, ks->n, TRIBE_KSWEEP_COLS, sweep));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/k_sweep", "columns", TRIBE_KSWEEP_COLS, TRIBE_KSWEEP_COLUMNS));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/k_sweep", "recommended_k", ks->recommended_k));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/k_sweep", "elbow_k", ks->elbow_k));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/k_sweep", "stability_ari", ks->stability_ari));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/k_sweep", "stability_min", ks->stability_min));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/k_sweep", "k_stable", ks->k_stable));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/k_sweep", "stability_note", ks->stability_note));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/k_sweep", "reason", ks->reason));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/k_sweep", "fit_seconds", ks->fit_seconds));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/k_sweep", "score_seconds", ks->score_seconds));
    TRIBE_TRY(tribe_h5_attr_str(h, r->run_group, "k_reason", ks->reason));
    TRIBE_TRY(tribe_h5_attr_f64(h, r->run_group, "k_stability_ari", ks->stability_ari));
cleanup:
    free(sweep);
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    kmeans_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ksweep *ks = s->ks;
    tribe_rec *sw = NULL, *rows = NULL, *row = NULL;
    TRIBE_TRY(tribe_rec_int(obj, "k", r->k));
    TRIBE_TRY(tribe_rec_str(obj, "algorithm", ALGORITHMS[s->cfg.algorithm]));
    TRIBE_TRY(tribe_rec_str(obj, "init", INITS[s->cfg.init]));
    TRIBE_TRY(tribe_rec_num(obj, "inertia", r->inertia));
    TRIBE_TRY(tribe_rec_num(obj, "silhouette", r->silhouette));
    TRIBE_TRY(tribe_rec_num(obj, "silhouette_ci95", r->silhouette_ci));
    TRIBE_TRY(tribe_rec_int(obj, "passes", r->passes));
    int64_t all = 0; /* every K's fit: what choosing K again costs */
    for (int i = 0; ks && i < ks->n; i++)
        all += ks->row[i].passes;
    TRIBE_TRY(tribe_rec_int(obj, "fit_passes_total", all));
    if (!ks)
        goto cleanup; /* score-only rerun: the previous centres, no fit */
    TRIBE_TRY(tribe_rec_num(obj, "fit_seconds", ks->fit_seconds));
    TRIBE_TRY(tribe_rec_num(obj, "score_seconds", ks->score_seconds));
    /* Whether the K holds: true, false (no K was stable; k_warning says so
     * in words) or null (its stability was not measured). */
    if (ks->k_stable)
        TRIBE_TRY(tribe_rec_bool(obj, "k_reliable", ks->k_stable > 0));
    else
        TRIBE_TRY(tribe_rec_str(obj, "k_reliable", NULL));
    TRIBE_TRY(tribe_rec_str(obj, "k_warning", ks->k_stable < 0 ? ks->stability_note : NULL));
    TRIBE_TRY(tribe_rec_obj(obj, "k_sweep", &sw));
    TRIBE_TRY(tribe_rec_int(sw, "recommended_k", ks->recommended_k));
    TRIBE_TRY(tribe_rec_int(sw, "elbow_k", ks->elbow_k));
    TRIBE_TRY(tribe_rec_num(sw, "stability_ari", ks->stability_ari));
    TRIBE_TRY(tribe_rec_num(sw, "stability_min", ks->stability_min));
    TRIBE_TRY(tribe_rec_str(sw, "reason", ks->reason));
    TRIBE_TRY(tribe_rec_strs(sw, "columns", TRIBE_KSWEEP_COLUMNS, TRIBE_KSWEEP_COLS));
    TRIBE_TRY(tribe_rec_arr(sw, "rows", &rows));
    for (int i = 0; i < ks->n; i++) {
        double v[TRIBE_KSWEEP_COLS];
        tribe_ksweep_row_values(&ks->row[i], v);
        TRIBE_TRY(tribe_rec_arr(rows, NULL, &row));
        for (int c = 0; c < TRIBE_KSWEEP_COLS; c++)
            TRIBE_TRY(tribe_rec_num(row, NULL, v[c]));
    }
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    kmeans_stage *s = state;
    return s->ks ? tribe_report_ksweep(b, s->ks) : TRIBE_OK;
}

static void destroy(void *state)
{
    kmeans_stage *s = state;
    tribe_ksweep_destroy(&s->ks);
    fits_free(&s->fits);
}

/* The checkpoint is the sweep: its rows, figures and every K's centroids
 * (the expensive part). load puts it back and runs the rest of run (the
 * final assignment, ids, inertia) on the same centroids: the same code on
 * the same numbers, so labels and distances are those of the first run. */
static tribe_status save(void *state, const tribe_run *r, tribe_h5 *h)
{
    const kmeans_stage *s = state;
    const tribe_ksweep *ks = s->ks;
    tribe_status st = TRIBE_OK;
    (void)r;
    if (!ks) { /* a score-only rerun fits nothing: its run is one assignment */
        int32_t none = 1;
        return tribe_h5_write_small(h, "/kmeans/no_sweep", TRIBE_H5_I32, 1, 1, &none);
    }
    TRIBE_TRY(tribe_h5_write_small(h, "/kmeans/sweep", TRIBE_H5_U8, 1, (int64_t)sizeof *ks, ks));
    TRIBE_TRY(tribe_h5_write_small(h, "/kmeans/rows", TRIBE_H5_U8, ks->n, (int64_t)sizeof *ks->row, ks->row));
    TRIBE_TRY(tribe_h5_write_small(h, "/kmeans/centroids", TRIBE_H5_F64, ks->n, (int64_t)ks->k_max * ks->d,
                                   ks->centroids));
cleanup:
    return st;
}

static tribe_status load(void *state, tribe_run *r, tribe_h5 *h)
{
    kmeans_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_ksweep *ks = NULL;
    tribe_ksweep_row *row = NULL;
    double *cen = NULL;
    int64_t n = 0, w = 0, n2 = 0, w2 = 0, n3 = 0, w3 = 0;
    if (tribe_h5_exists(h, "/kmeans/no_sweep"))
        return run(state, r);
    TRIBE_TRY(tribe_h5_read_small(h, "/kmeans/sweep", TRIBE_H5_U8, &n, &w, (void **)&ks));
    TRIBE_TRY(tribe_h5_read_small(h, "/kmeans/rows", TRIBE_H5_U8, &n2, &w2, (void **)&row));
    TRIBE_TRY(tribe_h5_read_small(h, "/kmeans/centroids", TRIBE_H5_F64, &n3, &w3, (void **)&cen));
    if (n != 1 || w != (int64_t)sizeof *ks || n2 != ks->n || w2 != (int64_t)sizeof *row || n3 != ks->n ||
        w3 != (int64_t)ks->k_max * ks->d)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: the K sweep saved does not fit this binary", tribe_h5_path(h)));
    ks->row = row;
    ks->centroids = cen;
    row = NULL;
    cen = NULL;
    s->ks = ks;
    ks = NULL;
    TRIBE_TRY(run(state, r));
cleanup:
    free(ks);
    free(row);
    free(cen);
    return st;
}

const tribe_stage_def tribe_stage_kmeans = {
    .name = "kmeans", .state_size = sizeof(kmeans_stage), .uses_z = 1, .report_order = 40, .configure = configure,
    .run = run, .write = write, .record = record, .report = report, .destroy = destroy, .save = save, .load = load};
