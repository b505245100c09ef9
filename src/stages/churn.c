/* Stage "churn": churn risk on the LTV stage's temporal split (tribe/churn.h,
 * docs/churn.md). On whenever the job has an "ltv" object (the windows'
 * paths and horizon are ltv.*), unless churn.enabled is false. Writes
 * /segments/churn_risk* and /model/churn; adds the per-segment risk to r->segs
 * for the personas and the campaign plan. */
#include "tribe/churn.h"
#include "tribe/ltv.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHURN_FEATURE_SETS[2] = {"model_columns", "with_ltv"};

typedef struct {
    tribe_churn_cfg cfg; /* the job's churn.* keys, same names; paths and horizon from ltv.* */
    tribe_ltv_paths p;    /* the windows' files */
    tribe_churn *ch;
} churn_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    churn_stage *s = state;
    tribe_churn_cfg *c = &s->cfg;
    tribe_spec *l = NULL, *o = NULL;
    tribe_status st = TRIBE_OK;
    tribe_churn_cfg_default(c);
    c->seed = job->seed;
    TRIBE_TRY(tribe_spec_object(spec, "churn", &o));
    TRIBE_TRY(tribe_spec_bool(o, "enabled", enabled));
    TRIBE_TRY(tribe_spec_int(o, "n_rounds", 1, 10000, &c->n_rounds));
    TRIBE_TRY(tribe_spec_num(o, "learning_rate", 1e-6, 1, &c->learning_rate));
    TRIBE_TRY(tribe_spec_int(o, "max_leaves", 2, 4096, &c->max_leaves));
    TRIBE_TRY(tribe_spec_num(o, "valid_fraction", 0, 0.9, &c->valid_fraction));
    TRIBE_TRY(tribe_spec_int(o, "early_stopping_rounds", 0, 10000, &c->early_stopping_rounds));
    TRIBE_TRY(tribe_spec_num(o, "high_risk", 0, 1, &c->high_risk));
    TRIBE_TRY(tribe_spec_choice(o, "features", CHURN_FEATURE_SETS, 2, &c->features));
    TRIBE_TRY(tribe_spec_check(o));
    if (!tribe_spec_has(spec, "ltv")) {
        if (*enabled && tribe_spec_has(spec, "churn") && tribe_spec_has(o, "enabled"))
            TRIBE_TRY(tribe_spec_fail(o, "'churn.enabled' needs an 'ltv' object (its windows and horizon)"));
        *enabled = 0;
        goto cleanup;
    }
    TRIBE_TRY(tribe_spec_object(spec, "ltv", &l));
    /* The LTV stage reads these keys too and records the targets it
     * defaults; asking for an absent key here would record it as null. */
    TRIBE_TRY(tribe_spec_path(l, "train", &s->p.train));
    TRIBE_TRY(tribe_spec_path(l, "test", &s->p.test));
    if (tribe_spec_has(l, "train_target"))
        TRIBE_TRY(tribe_spec_path(l, "train_target", &s->p.train_target));
    if (tribe_spec_has(l, "test_target"))
        TRIBE_TRY(tribe_spec_path(l, "test_target", &s->p.test_target));
    if (tribe_spec_has(l, "input_target"))
        TRIBE_TRY(tribe_spec_path(l, "input_target", &s->p.input_target));
    TRIBE_TRY(tribe_spec_num(l, "horizon_days", 1, 36500, &c->horizon_days));
    if (!*enabled || !s->p.train || !s->p.test || !(c->horizon_days > 0))
        goto cleanup; /* the LTV stage names what its object lacks */
    if (c->early_stopping_rounds > 0 && !(c->valid_fraction > 0))
        TRIBE_TRY(tribe_spec_fail(o, "'churn.early_stopping_rounds' = %d needs held-out rows, but "
                                     "'churn.valid_fraction' = 0 (set 'churn.early_stopping_rounds' to 0)",
                                  c->early_stopping_rounds));
    /* as the ltv stage: each target beside its window unless named */
    TRIBE_TRY(tribe_ltv_paths_default(&s->p, job->input));
    c->input_target = s->p.input_target;
    c->train = s->p.train;
    c->train_target = s->p.train_target;
    c->test = s->p.test;
    c->test_target = s->p.test_target;
cleanup:
    return st;
}

/* The ltv stage's BG/NBD + Gamma-Gamma of the train window when it ran in
 * this run on the same target file and horizon (its fit is then the one
 * churn would make: the same inputs, the same deterministic optimiser), else
 * NULL: churn fits its own. */
static const tribe_ltv_classic *ltv_train_fit(const churn_stage *s, const tribe_run *r)
{
    const tribe_ltv *lv = r->ltv;
    const char *on = lv ? lv->classic_on[TRIBE_LTV_W_TRAIN] : NULL;
    if (!on || strcmp(on, s->cfg.train_target) != 0 || lv->horizon_days != s->cfg.horizon_days)
        return NULL;
    return &lv->classic[TRIBE_LTV_W_TRAIN];
}

static tribe_status run(void *state, tribe_run *r)
{
    churn_stage *s = state;
    tribe_status st = TRIBE_OK;
    s->cfg.train_fit = ltv_train_fit(s, r);
    if (s->cfg.train_fit)
        TRIBE_INFO("churn: BG/NBD from the ltv stage (its fit on %s)", s->cfg.train_target);
    else
        TRIBE_INFO("churn: BG/NBD fitted here on %s (no ltv fit of that file in this run)", s->cfg.train_target);
    TRIBE_DEBUG("churn: train %s, test %s, horizon %g days, %d rounds, learning_rate %g, max_leaves %d, "
                "early stopping %d, high_risk %g", s->cfg.train, s->cfg.test, s->cfg.horizon_days, s->cfg.n_rounds,
                s->cfg.learning_rate, s->cfg.max_leaves, s->cfg.early_stopping_rounds, s->cfg.high_risk);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_churn_fit(r->par, &s->cfg, r->t, r->model_col, r->model_name, r->m,
                                                      r->label, r->k, &s->ch)));
    r->segs->churn_horizon_days = s->cfg.horizon_days;
    r->segs->churn_high_risk = s->cfg.high_risk;
    for (int c = 0; c < r->k; c++) {
        r->segs->seg[c].churn_mean = s->ch->seg_mean[c];
        r->segs->seg[c].churn_high = s->ch->seg_high[c];
    }
cleanup:
    return st;
}

/* The metrics as rows of numbers, TRIBE_CHURN_MODELS x CHURN_MCOLS. */
static const char *const CHURN_MCOLS[] = {"auc", "brier", "ece", "n", "n_churned"};
enum { CHURN_MCOLS_N = 5 };

static void metric_row(const tribe_churn_metrics *m, double *row)
{
    row[0] = m->auc, row[1] = m->brier, row[2] = m->ece, row[3] = (double)m->n, row[4] = (double)m->n_churned;
}

/* [TRIBE_CHURN_MODELS][TRIBE_CHURN_BINS][3]: count, mean risk, churn rate */
static void calib_rows(const tribe_churn *ch, double *out)
{
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        for (int b = 0; b < TRIBE_CHURN_BINS; b++) {
            double *o = out + ((size_t)i * TRIBE_CHURN_BINS + (size_t)b) * 3;
            o[0] = (double)ch->metrics[i].bin_count[b];
            o[1] = ch->metrics[i].bin_risk[b];
            o[2] = ch->metrics[i].bin_churned[b];
        }
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    static const char *const CCOLS[] = {"count", "mean_risk", "churn_rate"};
    static const char *const BG[] = {"r", "alpha", "a", "b"};
    churn_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_churn *ch = s->ch;
    const tribe_rows *rw = &r->rows;
    double met[TRIBE_CHURN_MODELS][CHURN_MCOLS_N], cal[TRIBE_CHURN_MODELS * TRIBE_CHURN_BINS * 3];
    double bg[4] = {ch->bgnbd.r, ch->bgnbd.alpha, ch->bgnbd.a, ch->bgnbd.b};
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        metric_row(&ch->metrics[i], met[i]);
    calib_rows(ch, cal);
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/churn_risk", TRIBE_H5_F32, rw->n_global, rw->offset, rw->n_local, 1,
                                  ch->risk));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/churn_risk", "horizon_days", ch->horizon_days));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/churn_risk_mean", TRIBE_H5_F64, r->k, 1, ch->seg_mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/segments/churn_high_share", TRIBE_H5_F64, r->k, 1, ch->seg_high));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/segments/churn_high_share", "high_risk", ch->high_risk));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/churn/metrics", TRIBE_H5_F64, TRIBE_CHURN_MODELS, CHURN_MCOLS_N, met));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/metrics", "models", TRIBE_CHURN_MODELS, TRIBE_CHURN_MODEL_NAMES));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/metrics", "columns", CHURN_MCOLS_N, CHURN_MCOLS));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/churn/calibration", TRIBE_H5_F64,
                                   TRIBE_CHURN_MODELS * TRIBE_CHURN_BINS, 3, cal));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/calibration", "models", TRIBE_CHURN_MODELS, TRIBE_CHURN_MODEL_NAMES));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/calibration", "columns", 3, CCOLS));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/churn/bgnbd", TRIBE_H5_F64, 1, 4, bg));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/bgnbd", "columns", 4, BG));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/churn/gbdt_json", TRIBE_H5_U8, (int64_t)strlen(ch->model_json), 1,
                                   ch->model_json));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/churn/gbdt_json", "extra_features", TRIBE_CHURN_EXTRA,
                                 TRIBE_CHURN_EXTRA_NAMES));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    churn_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_churn *ch = s->ch;
    tribe_rec *met = NULL, *cal = NULL, *bg = NULL;
    double row[CHURN_MCOLS_N], cr[TRIBE_CHURN_MODELS * TRIBE_CHURN_BINS * 3];
    TRIBE_TRY(tribe_rec_num(obj, "horizon_days", ch->horizon_days));
    TRIBE_TRY(tribe_rec_num(obj, "high_risk", ch->high_risk));
    TRIBE_TRY(tribe_rec_int(obj, "n_train", ch->n_train));
    TRIBE_TRY(tribe_rec_int(obj, "n_test", ch->n_test));
    TRIBE_TRY(tribe_rec_num(obj, "churn_rate_train", ch->churn_train));
    TRIBE_TRY(tribe_rec_num(obj, "churn_rate_test", ch->churn_test));
    TRIBE_TRY(tribe_rec_obj(obj, "bgnbd", &bg));
    TRIBE_TRY(tribe_rec_num(bg, "r", ch->bgnbd.r));
    TRIBE_TRY(tribe_rec_num(bg, "alpha", ch->bgnbd.alpha));
    TRIBE_TRY(tribe_rec_num(bg, "a", ch->bgnbd.a));
    TRIBE_TRY(tribe_rec_num(bg, "b", ch->bgnbd.b));
    TRIBE_TRY(tribe_rec_str(bg, "fitted_by", ch->bgnbd_reused ? "ltv" : "churn"));
    TRIBE_TRY(tribe_rec_bool(obj, "input_bgnbd_exact", ch->input_exact));
    TRIBE_TRY(tribe_rec_strs(obj, "models", TRIBE_CHURN_MODEL_NAMES, TRIBE_CHURN_MODELS));
    TRIBE_TRY(tribe_rec_strs(obj, "metric_columns", CHURN_MCOLS, CHURN_MCOLS_N));
    TRIBE_TRY(tribe_rec_arr(obj, "metrics", &met));
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++) {
        metric_row(&ch->metrics[i], row);
        TRIBE_TRY(tribe_rec_nums(met, NULL, row, CHURN_MCOLS_N));
    }
    /* per model: TRIBE_CHURN_BINS rows of (count, mean risk, churn rate), flattened */
    calib_rows(ch, cr);
    TRIBE_TRY(tribe_rec_arr(obj, "calibration", &cal));
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        TRIBE_TRY(tribe_rec_nums(cal, NULL, cr + (size_t)i * TRIBE_CHURN_BINS * 3, TRIBE_CHURN_BINS * 3));
    TRIBE_TRY(tribe_rec_int(obj, "n_trees", ch->n_trees));
    TRIBE_TRY(tribe_rec_int(obj, "n_trees_holdout", ch->n_trees_holdout));
    TRIBE_TRY(tribe_rec_strs(obj, "extra_features", TRIBE_CHURN_EXTRA_NAMES, TRIBE_CHURN_EXTRA));
    TRIBE_TRY(tribe_rec_json(obj, "gbdt", ch->model_json));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_mean_risk", ch->seg_mean, r->k));
    TRIBE_TRY(tribe_rec_nums(obj, "segment_high_share", ch->seg_high, r->k));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    churn_stage *s = state;
    return tribe_report_churn(b, r->segs, s->ch);
}

static void destroy(void *state)
{
    churn_stage *s = state;
    tribe_ltv_paths_free(&s->p);
    tribe_churn_destroy(&s->ch);
}

const tribe_stage_def tribe_stage_churn = {
    .name = "churn", .state_size = sizeof(churn_stage), .report_order = 31, .configure = configure, .run = run,
    .write = write, .record = record, .report = report, .destroy = destroy};
