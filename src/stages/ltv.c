/* Stage "ltv": lifetime value on the temporal split (tribe/ltv.h,
 * docs/ltv.md): off unless the job has an "ltv" object. Writes /segments/ltv*
 * and /model/ltv; adds the per-segment value to r->segs for the personas and
 * the campaign plan. */
#include "tribe/ltv.h"
#include "tribe/date.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    tribe_ltv_cfg cfg; /* the job's ltv.* keys, same names; its paths point at the strings below */
    tribe_ltv_paths p;    /* the windows' files */
    char **stack, **stack_target; /* ltv.train_windows (resolved) and their targets beside them */
    int n_stack;
    tribe_ltv *lv;
} ltv_stage;

/* ltv.train_windows: an array of customers.h5 paths (resolved against the
 * job's directory), each with its target beside it (<name>.target.h5). */
static tribe_status configure_stack(ltv_stage *s, tribe_spec *l)
{
    tribe_status st = TRIBE_OK;
    char **raw = NULL;
    int n = 0;
    TRIBE_TRY(tribe_spec_strs(l, "train_windows", &raw, &n));
    if (n == 0)
        goto cleanup;
    TRIBE_TRY(tribe_calloc((void **)&s->stack, (size_t)n, sizeof *s->stack));
    TRIBE_TRY(tribe_calloc((void **)&s->stack_target, (size_t)n, sizeof *s->stack_target));
    s->n_stack = n;
    for (int k = 0; k < n; k++) {
        TRIBE_TRY(tribe_spec_resolve(l, raw[k], &s->stack[k]));
        TRIBE_TRY(tribe_ltv_target_path(s->stack[k], &s->stack_target[k]));
    }
    s->cfg.stack = (const char *const *)s->stack;
    s->cfg.stack_target = (const char *const *)s->stack_target;
    s->cfg.n_stack = n;
cleanup:
    tribe_free_strs(raw, n);
    return st;
}

/* ltv.select_confidence: a share in [0, 1) (1 would ask every replicate,
 * and a challenger that ties the classic for one customer could never
 * qualify); a usage error naming the key otherwise. */
static tribe_status configure_confidence(tribe_spec *l, double *v)
{
    char k[320];
    tribe_status st = tribe_spec_num(l, "select_confidence", -HUGE_VAL, HUGE_VAL, v);
    if (st == TRIBE_OK && !(*v >= 0 && *v < 1))
        st = tribe_spec_fail(l, "'%s' = %g is outside [0, 1): the share of the bootstrap replicates in which a "
                             "challenger must beat BG/NBD + Gamma-Gamma (0 = no bootstrap requirement)",
                             tribe_spec_key(l, "select_confidence", k, sizeof k), *v);
    return st;
}

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    ltv_stage *s = state;
    tribe_ltv_cfg *c = &s->cfg;
    tribe_spec *l = NULL;
    tribe_status st = TRIBE_OK;
    tribe_ltv_cfg_default(c);
    c->seed = job->seed;
    *enabled = tribe_spec_has(spec, "ltv");
    TRIBE_TRY(tribe_spec_object(spec, "ltv", &l));
    TRIBE_TRY(tribe_spec_path(l, "train", &s->p.train));
    TRIBE_TRY(tribe_spec_path(l, "train_target", &s->p.train_target));
    TRIBE_TRY(tribe_spec_path(l, "test", &s->p.test));
    TRIBE_TRY(tribe_spec_path(l, "test_target", &s->p.test_target));
    TRIBE_TRY(tribe_spec_num(l, "horizon_days", 1, 36500, &c->horizon_days));
    TRIBE_TRY(tribe_spec_choice(l, "objective", TRIBE_LTV_OBJECTIVES, 3, &c->objective));
    TRIBE_TRY(tribe_spec_int(l, "n_rounds", 1, 10000, &c->n_rounds));
    TRIBE_TRY(tribe_spec_num(l, "learning_rate", 1e-6, 1, &c->learning_rate));
    TRIBE_TRY(tribe_spec_int(l, "max_leaves", 2, 4096, &c->max_leaves));
    TRIBE_TRY(tribe_spec_num(l, "valid_fraction", 0, 0.9, &c->valid_fraction));
    TRIBE_TRY(tribe_spec_int(l, "early_stopping_rounds", 0, 10000, &c->early_stopping_rounds));
    TRIBE_TRY(tribe_spec_choice(l, "features", TRIBE_LTV_FEATURE_SETS, 2, &c->features));
    TRIBE_TRY(tribe_spec_int(l, "n_boot", 0, 100000, &c->n_boot));
    TRIBE_TRY(configure_confidence(l, &c->select_confidence));
    TRIBE_TRY(tribe_spec_path(l, "input_target", &s->p.input_target));
    TRIBE_TRY(configure_stack(s, l));
    TRIBE_TRY(tribe_spec_check(l));
    if (!*enabled)
        goto cleanup;
    if (!s->p.train || !s->p.test || !(c->horizon_days > 0))
        TRIBE_TRY(tribe_spec_fail(l, "'ltv' needs 'ltv.train', 'ltv.test' and 'ltv.horizon_days'"));
    if (c->early_stopping_rounds > 0 && !(c->valid_fraction > 0))
        TRIBE_TRY(tribe_spec_fail(l,
                                  "'ltv.early_stopping_rounds' = %d needs held-out rows, but 'ltv.valid_fraction' = 0 "
                                  "(set 'ltv.early_stopping_rounds' to 0 to train on every row)",
                                  c->early_stopping_rounds));
    /* each target beside its window unless named; the input's BG/NBD
     * inputs: tribe ingest --target without --cutoff, beside it */
    TRIBE_TRY(tribe_ltv_paths_default(&s->p, job->input));
    TRIBE_TRY(tribe_spec_note_str(l, "train_target", s->p.train_target));
    TRIBE_TRY(tribe_spec_note_str(l, "test_target", s->p.test_target));
    if (s->p.input_target)
        TRIBE_TRY(tribe_spec_note_str(l, "input_target", s->p.input_target));
    c->input_target = s->p.input_target;
    c->train = s->p.train;
    c->train_target = s->p.train_target;
    c->test = s->p.test;
    c->test_target = s->p.test_target;
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    ltv_stage *s = state;
    tribe_status st = TRIBE_OK;
    TRIBE_DEBUG("ltv: train %s, test %s, horizon %g days, objective %s, features %s, %d rounds, learning_rate %g, "
                "max_leaves %d, early stopping %d", s->cfg.train, s->cfg.test, s->cfg.horizon_days,
                TRIBE_LTV_OBJECTIVES[s->cfg.objective], TRIBE_LTV_FEATURE_SETS[s->cfg.features], s->cfg.n_rounds, s->cfg.learning_rate, s->cfg.max_leaves,
                s->cfg.early_stopping_rounds);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_ltv_fit(r->par, &s->cfg, r->t, r->model_col, r->model_name, r->m,
                                                    r->label, r->k, &s->lv)));
    r->ltv = s->lv; /* the classic fits, for churn */
    /* The profiles behind the personas and the plan carry the predicted value. */
    r->segs->ltv_horizon_days = s->cfg.horizon_days;
    for (int c = 0; c < r->k; c++) {
        r->segs->seg[c].ltv_mean = s->lv->seg_mean[c];
        r->segs->seg[c].ltv_median = s->lv->seg_median[c];
        r->segs->seg[c].ltv_total = s->lv->seg_total[c];
        r->segs->seg[c].ltv_lo = s->lv->seg_lo[c];
        r->segs->seg[c].ltv_hi = s->lv->seg_hi[c];
    }
cleanup:
    return st;
}

/* The selection's evidence on /model/ltv/metrics: select_confidence,
 * select_replicates and, per challenger, select_share_mae_<model> and
 * select_share_r2_<model> (tribe_ltv.select_share). */
static tribe_status write_select(const tribe_ltv *lv, tribe_h5 *h)
{
    static const int CH[3] = {TRIBE_LTV_GBDT, TRIBE_LTV_RESID, TRIBE_LTV_BLEND};
    tribe_status st = TRIBE_OK;
    char name[64];
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/ltv/metrics", "select_confidence", lv->select_confidence));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/ltv/metrics", "select_replicates", TRIBE_LTV_SELECT_BOOT));
    for (int j = 0; j < 3; j++)
        for (int q = 0; q < 2; q++) {
            snprintf(name, sizeof name, "select_share_%s_%s", q ? "r2" : "mae", TRIBE_LTV_MODEL_NAMES[CH[j]]);
            TRIBE_TRY(tribe_h5_attr_f64(h, "/model/ltv/metrics", name, lv->select_share[CH[j]][q]));
        }
cleanup:
    return st;
}

/* The classic fits, the candidates, the choice and the intervals
 * (docs/hdf5-layout.md, /model/ltv and /segments/ltv_*). */
static tribe_status write_choice(const tribe_ltv *lv, const tribe_run *r, tribe_h5 *h)
{
    static const char *const WIN[3] = {"train", "test", "input"};
    static const char *const BG[4] = {"r", "alpha", "a", "b"}, *const GG[3] = {"p", "q", "v"};
    static const char *const LL[2] = {"bgnbd", "gamma_gamma"};
    static const char *const BLEND_OF[3] = {"gbdt", "gbdt_residual", "bgnbd_gamma_gamma"};
    tribe_status st = TRIBE_OK;
    const tribe_rows *rw = &r->rows;
    double bg[3][4], gg[3][3], ll[3][2];
    for (int w = 0; w < 3; w++) {
        const tribe_ltv_classic *c = &lv->classic[w];
        bg[w][0] = c->bg.r, bg[w][1] = c->bg.alpha, bg[w][2] = c->bg.a, bg[w][3] = c->bg.b;
        gg[w][0] = c->gg.p, gg[w][1] = c->gg.q, gg[w][2] = c->gg.v;
        ll[w][0] = c->bg_info.loglik, ll[w][1] = c->gg_info.loglik;
    }
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/bgnbd", TRIBE_H5_F64, 3, 4, bg));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/bgnbd", "windows", 3, WIN));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/bgnbd", "columns", 4, BG));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/gamma_gamma", TRIBE_H5_F64, 3, 3, gg));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/gamma_gamma", "windows", 3, WIN));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/gamma_gamma", "columns", 3, GG));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/loglik", TRIBE_H5_F64, 3, 2, ll));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/loglik", "windows", 3, WIN));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/loglik", "columns", 2, LL));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/ltv/metrics", "chosen", TRIBE_LTV_MODEL_NAMES[lv->chosen]));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/blend_weights", TRIBE_H5_F64, 3, 1, lv->blend_w));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/blend_weights", "models", 3, BLEND_OF));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/ltv/metrics", "why", lv->why));
    TRIBE_TRY(write_select(lv, h));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/ltv/metrics", "features", TRIBE_LTV_FEATURE_SETS[lv->features]));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/ltv_candidates", TRIBE_H5_F32, rw->n_global, rw->offset,
                                  rw->n_local, TRIBE_LTV_CANDIDATES, lv->cand));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/segments/ltv_candidates", "models", TRIBE_LTV_CANDIDATES,
                                 TRIBE_LTV_MODEL_NAMES));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_mean_lo", TRIBE_H5_F64, r->k, 1, lv->seg_lo));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_mean_hi", TRIBE_H5_F64, r->k, 1, lv->seg_hi));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/ltv_mean_lo", "n_boot", lv->n_boot));
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    static const char *const MCOLS[] = {"mae", "rmse", "r2", "lift"};
    ltv_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ltv *lv = s->lv;
    const tribe_rows *rw = &r->rows;
    int k = r->k;
    int64_t len = (int64_t)strlen(lv->model_json);
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/ltv", TRIBE_H5_F32, rw->n_global, rw->offset, rw->n_local, 1,
                                  lv->pred));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/ltv", "horizon_days", lv->horizon_days));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_mean", TRIBE_H5_F64, k, 1, lv->seg_mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_median", TRIBE_H5_F64, k, 1, lv->seg_median));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/ltv_total", TRIBE_H5_F64, k, 1, lv->seg_total));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/metrics", TRIBE_H5_F64, TRIBE_LTV_MODELS, 4, lv->metrics));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/metrics", "models", TRIBE_LTV_MODELS, TRIBE_LTV_MODEL_NAMES));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/ltv/metrics", "columns", 4, MCOLS));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/gbdt_json", TRIBE_H5_U8, len, 1, lv->model_json));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/ltv/gbdt_residual_json", TRIBE_H5_U8, (int64_t)strlen(lv->resid_json), 1,
                                   lv->resid_json));
    TRIBE_TRY(write_choice(lv, r, h));
cleanup:
    return st;
}

/* A fit's log-likelihood, Nelder-Mead iterations and why it stopped
 * ("converged", "stalled" or "max_iter"; tribe_clv_fit_info) into o. */
static tribe_status record_fit_info(const tribe_clv_fit_info *in, tribe_rec *o)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_rec_num(o, "loglik", in->loglik));
    TRIBE_TRY(tribe_rec_int(o, "iterations", in->iterations));
    TRIBE_TRY(tribe_rec_str(o, "stop", in->converged ? "converged" : in->stalled ? "stalled" : "max_iter"));
cleanup:
    return st;
}

/* One window's fits: "bgnbd": {r, alpha, a, b, loglik, iterations, stop},
 * "gamma_gamma": {p, q, v, loglik, iterations, stop} into w. */
static tribe_status record_fit(const tribe_ltv_classic *c, tribe_rec *w)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *o = NULL;
    TRIBE_TRY(tribe_rec_obj(w, "bgnbd", &o));
    TRIBE_TRY(tribe_rec_num(o, "r", c->bg.r));
    TRIBE_TRY(tribe_rec_num(o, "alpha", c->bg.alpha));
    TRIBE_TRY(tribe_rec_num(o, "a", c->bg.a));
    TRIBE_TRY(tribe_rec_num(o, "b", c->bg.b));
    TRIBE_TRY(record_fit_info(&c->bg_info, o));
    TRIBE_TRY(tribe_rec_obj(w, "gamma_gamma", &o));
    TRIBE_TRY(tribe_rec_num(o, "p", c->gg.p));
    TRIBE_TRY(tribe_rec_num(o, "q", c->gg.q));
    TRIBE_TRY(tribe_rec_num(o, "v", c->gg.v));
    TRIBE_TRY(record_fit_info(&c->gg_info, o));
cleanup:
    return st;
}

/* The classic fits per window: {"train": {"bgnbd": {r, alpha, a, b, loglik},
 * "gamma_gamma": {p, q, v, loglik}}, "test": ..., "input": ...}. */
static tribe_status record_classic(const tribe_ltv *lv, tribe_rec *obj)
{
    static const char *const WIN[3] = {"train", "test", "input"};
    tribe_status st = TRIBE_OK;
    tribe_rec *cl = NULL, *w = NULL;
    TRIBE_TRY(tribe_rec_obj(obj, "classic", &cl));
    for (int k = 0; k < 3; k++) {
        TRIBE_TRY(tribe_rec_obj(cl, WIN[k], &w));
        TRIBE_TRY(record_fit(&lv->classic[k], w));
    }
cleanup:
    return st;
}

/* The stacked windows and the GBDTs' row counts: "train_windows": [{file,
 * cutoff, rows, bgnbd, gamma_gamma}], "train_rows" (stacked + train: the
 * candidates), "refit_rows" (+ test: the final models). */
static tribe_status record_stack(const tribe_ltv *lv, tribe_rec *obj)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *arr = NULL, *w = NULL;
    TRIBE_TRY(tribe_rec_arr(obj, "train_windows", &arr));
    for (int k = 0; k < lv->n_stack; k++) {
        const tribe_ltv_stacked *x = &lv->stack[k];
        char day[11];
        tribe_format_day(x->cutoff_day, day);
        TRIBE_TRY(tribe_rec_obj(arr, NULL, &w));
        TRIBE_TRY(tribe_rec_str(w, "file", x->file));
        TRIBE_TRY(tribe_rec_str(w, "cutoff", day));
        TRIBE_TRY(tribe_rec_int(w, "rows", x->rows));
        TRIBE_TRY(record_fit(&x->classic, w));
    }
    TRIBE_TRY(tribe_rec_int(obj, "train_rows", lv->train_rows));
    TRIBE_TRY(tribe_rec_int(obj, "refit_rows", lv->refit_rows));
cleanup:
    return st;
}

/* The selection's evidence: "select_confidence", "select_replicates" and
 * "select_shares": {model: {"mae": share, "r2": share}} per challenger. */
static tribe_status record_select(const tribe_ltv *lv, tribe_rec *obj)
{
    static const int CH[3] = {TRIBE_LTV_GBDT, TRIBE_LTV_RESID, TRIBE_LTV_BLEND};
    tribe_status st = TRIBE_OK;
    tribe_rec *sh = NULL, *o = NULL;
    TRIBE_TRY(tribe_rec_num(obj, "select_confidence", lv->select_confidence));
    TRIBE_TRY(tribe_rec_int(obj, "select_replicates", TRIBE_LTV_SELECT_BOOT));
    TRIBE_TRY(tribe_rec_obj(obj, "select_shares", &sh));
    for (int j = 0; j < 3; j++) {
        TRIBE_TRY(tribe_rec_obj(sh, TRIBE_LTV_MODEL_NAMES[CH[j]], &o));
        TRIBE_TRY(tribe_rec_num(o, "mae", lv->select_share[CH[j]][0]));
        TRIBE_TRY(tribe_rec_num(o, "r2", lv->select_share[CH[j]][1]));
    }
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    ltv_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_ltv *lv = s->lv;
    tribe_rec *met = NULL;
    TRIBE_TRY(tribe_rec_num(obj, "horizon_days", lv->horizon_days));
    TRIBE_TRY(tribe_rec_str(obj, "objective", TRIBE_LTV_OBJECTIVES[lv->objective]));
    TRIBE_TRY(tribe_rec_strs(obj, "models", TRIBE_LTV_MODEL_NAMES, TRIBE_LTV_MODELS));
    TRIBE_TRY(tribe_rec_arr(obj, "metrics", &met));
    for (int i = 0; i < TRIBE_LTV_MODELS; i++)
        TRIBE_TRY(tribe_rec_nums(met, NULL, lv->metrics[i], 4));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_mean", lv->seg_mean, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_median", lv->seg_median, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_total", lv->seg_total, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_mean_lo", lv->seg_lo, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_mean_hi", lv->seg_hi, r->k));
    TRIBE_TRY(tribe_rec_int(obj, "n_boot", lv->n_boot));
    TRIBE_TRY(tribe_rec_str(obj, "features", TRIBE_LTV_FEATURE_SETS[lv->features]));
    TRIBE_TRY(tribe_rec_str(obj, "chosen", TRIBE_LTV_MODEL_NAMES[lv->chosen]));
    TRIBE_TRY(tribe_rec_nums(obj, "blend_weights", lv->blend_w, 3));
    TRIBE_TRY(tribe_rec_str(obj, "why", lv->why));
    TRIBE_TRY(tribe_rec_bool(obj, "input_bgnbd_exact", lv->input_exact));
    TRIBE_TRY(record_classic(lv, obj));
    TRIBE_TRY(record_stack(lv, obj));
    TRIBE_TRY(record_select(lv, obj));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    ltv_stage *s = state;
    return tribe_report_ltv(b, r->segs, s->lv);
}

static void destroy(void *state)
{
    ltv_stage *s = state;
    tribe_ltv_paths_free(&s->p);
    tribe_free_strs(s->stack, s->n_stack);
    tribe_free_strs(s->stack_target, s->n_stack);
    tribe_ltv_destroy(&s->lv);
}

const tribe_stage_def tribe_stage_ltv = {
    .name = "ltv", .state_size = sizeof(ltv_stage), .report_order = 30, .configure = configure, .run = run,
    .write = write, .record = record, .report = report, .destroy = destroy};
