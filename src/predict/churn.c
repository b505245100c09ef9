/* Churn on the temporal split (tribe/churn.h, docs/churn.md). */
#include "tribe/churn.h"
#include "tribe/gbdt.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/ltv.h"
#include "tribe/ltv_features.h"
#include "tribe/streams.h"
#include "tribe/xstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const TRIBE_CHURN_MODEL_NAMES[TRIBE_CHURN_MODELS] = {"gbdt", "bgnbd_p_alive", "bgnbd_p_none"};
const char *const TRIBE_CHURN_EXTRA_NAMES[TRIBE_CHURN_EXTRA] = {"bgnbd_p_alive", "bgnbd_expected", "bgnbd_p_none",
                                                                "recency_over_cadence"};
/* The target file's columns churn reads: the label, then BG/NBD's x, t_x, T. */
static const char *const CHURN_TARGET_COLS[4] = {"future_spend", "bgnbd_x", "bgnbd_t_x", "bgnbd_T"};

void tribe_churn_cfg_default(tribe_churn_cfg *cfg)
{
    *cfg = (tribe_churn_cfg){.n_rounds = 300, .learning_rate = 0.05, .max_leaves = 4, .valid_fraction = 0.2,
                             .early_stopping_rounds = 20, .high_risk = 0.5};
}

void tribe_churn_destroy(tribe_churn **cp)
{
    if (!cp || !*cp)
        return;
    tribe_churn *c = *cp;
    free(c->risk);
    free(c->model_json);
    free(c->seg_mean);
    free(c->seg_high);
    free(c);
    *cp = NULL;
}

double tribe_churn_bgnbd_p_none(const tribe_bgnbd *m, double x, double tx, double T, double h)
{
    double pa = tribe_bgnbd_p_alive(m, x, tx, T);
    double stay = exp((m->r + x) * (log(m->alpha + T) - log(m->alpha + T + h)));
    return 1.0 - pa + pa * stay;
}

static float finite_or_nan(double v)
{
    return isfinite(v) ? (float)v : NAN;
}

void tribe_churn_extra(const tribe_bgnbd *m, double x, double tx, double T, double h, float *out)
{
    out[0] = finite_or_nan(tribe_bgnbd_p_alive(m, x, tx, T));
    out[1] = finite_or_nan(tribe_bgnbd_expected(m, x, tx, T, h));
    out[2] = finite_or_nan(tribe_churn_bgnbd_p_none(m, x, tx, T, h));
    out[3] = x > 0 && tx > 0 ? finite_or_nan((T - tx) / (tx / x)) : NAN;
}

/* One table churn learns from or predicts: the GBDT's inputs x[n][m + 4]
 * (model columns, then the TRIBE_CHURN_EXTRA columns), BG/NBD's inputs and,
 * for a window, the label. */
typedef struct {
    const char *path;
    tribe_rows rows;
    int ld;            /* the GBDT's inputs a row: m + TRIBE_CHURN_EXTRA (+ TRIBE_LTV_NFEAT, churn.features) */
    float *x;          /* [n][ld] */
    double *bg[3];     /* x, t_x, T */
    double *aux[4];    /* monetary, frequency, distinct_products, mbar (NaN when absent): the LTV features' inputs */
    double *y;         /* churned 0/1 as doubles (the GBDT's target), NULL for the input */
    uint8_t *yb;       /* the same as bytes (the metrics) */
} churn_table;

static void churn_table_free(churn_table *w)
{
    free(w->x);
    for (int c = 0; c < 3; c++)
        free(w->bg[c]);
    for (int c = 0; c < 4; c++)
        free(w->aux[c]);
    free(w->y);
    free(w->yb);
    *w = (churn_table){0};
}

/* Not collective. w->aux[0..2] from f's monetary, frequency and
 * distinct_products (NaN when f lacks one); aux[3] (mbar) NaN for now. */
static tribe_status churn_aux(const tribe_table *f, churn_table *w)
{
    static const char *const AUX[3] = {"monetary", "frequency", "distinct_products"};
    int64_t n = f->n_local;
    for (int c = 0; c < 4; c++) {
        tribe_status st = tribe_alloc((void **)&w->aux[c], ((size_t)n + 1) * sizeof *w->aux[c]);
        if (st != TRIBE_OK)
            return st;
        int fc = c < 3 ? tribe_table_feature(f, AUX[c]) : -1;
        for (int64_t i = 0; i < n; i++)
            w->aux[c][i] = fc >= 0 ? f->x[(size_t)i * f->d + fc] : NAN;
    }
    return TRIBE_OK;
}

/* Not collective. Copies the model columns of f (matched by name) into w->x,
 * leaving the extra columns for later. */
static tribe_status copy_model_cols(const tribe_table *f, const char *path, const char *const *names, int m,
                                    churn_table *w)
{
    int64_t n = f->n_local, ld = w->ld;
    tribe_status st = tribe_alloc((void **)&w->x, ((size_t)n * (size_t)ld + 1) * sizeof *w->x);
    for (int j = 0; j < m && st == TRIBE_OK; j++) {
        int c = tribe_table_feature(f, names[j]);
        if (c < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (a model column of the job)", path, names[j]);
        for (int64_t i = 0; i < n; i++)
            w->x[(size_t)i * ld + j] = f->x[(size_t)i * f->d + c];
    }
    for (int c = 0; c < 3 && st == TRIBE_OK; c++)
        st = tribe_alloc((void **)&w->bg[c], ((size_t)n + 1) * sizeof *w->bg[c]);
    return st == TRIBE_OK ? churn_aux(f, w) : st;
}

/* Collective (the reads). A window of the split: the features file's model
 * columns, the target's label (future_spend == 0) and BG/NBD inputs. The
 * files' agreement (same customers, cutoff, horizon) is the LTV stage's
 * check, which runs first (docs/ltv.md); here only what churn itself needs:
 * the same customer count and every column. */
static tribe_status churn_window_read(tribe_par *par, const char *feat, const char *target,
                                      const char *const *names, int m, churn_table *w)
{
    tribe_status st = TRIBE_OK;
    tribe_table *f = NULL, *tg = NULL;
    w->path = feat;
    TRIBE_TRY(tribe_store_read_customers(par, feat, &f, NULL));
    TRIBE_TRY(tribe_store_read_customers(par, target, &tg, NULL));
    if (tg->n_global != f->n_global || tg->n_local != f->n_local)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: its %lld customers are not the %lld of %s", target,
                             (long long)tg->n_global, (long long)f->n_global, feat));
    int64_t n = f->n_local;
    TRIBE_TRY(tribe_rows_init(par, n, f->offset, f->n_global, &w->rows));
    TRIBE_TRY(copy_model_cols(f, feat, names, m, w));
    TRIBE_TRY(tribe_alloc((void **)&w->y, ((size_t)n + 1) * sizeof *w->y));
    TRIBE_TRY(tribe_alloc((void **)&w->yb, (size_t)n + 1));
    for (int c = 0; c < 4; c++) {
        int tc = tribe_table_feature(tg, CHURN_TARGET_COLS[c]);
        if (tc < 0)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (not a tribe ingest --cutoff target file?)",
                                 target, CHURN_TARGET_COLS[c]));
        for (int64_t i = 0; i < n; i++) {
            double v = tg->x[(size_t)i * tg->d + tc];
            if (!isfinite(v) || v < 0) {
                char idb[TRIBE_ID_BUF];
                TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: %s of customer %s is %g (a target file made without --cutoff?)",
                                     target, CHURN_TARGET_COLS[c], tribe_table_id(tg, i, idb), v));
            }
            if (c == 0) {
                w->yb[i] = v == 0;
                w->y[i] = w->yb[i];
            } else {
                w->bg[c - 1][i] = v;
            }
        }
    }
    {
        int mc = tribe_table_feature(tg, "repeat_mean_spend");
        for (int64_t i = 0; i < n && mc >= 0; i++)
            w->aux[3][i] = w->bg[0][i] > 0 ? tg->x[(size_t)i * tg->d + mc] : NAN;
    }
cleanup:
    tribe_table_destroy(&f);
    tribe_table_destroy(&tg);
    return st;
}

/* Collective. The job's input: model columns, and BG/NBD's inputs from
 * cfg->input_target or derived from t's columns, as the ltv stage takes
 * them (tribe_ltv_input_bgnbd: one derivation); *exact says which. */
static tribe_status churn_input(tribe_par *par, const tribe_churn_cfg *cfg, const tribe_table *t, const int *cols,
                                int m, churn_table *w, int *exact)
{
    static const char *const BG[4] = {"bgnbd_x", "bgnbd_t_x", "bgnbd_T", "repeat_mean_spend"};
    tribe_status st = TRIBE_OK;
    tribe_table *tg = NULL;
    int c[4];
    int64_t n = t->n_local, ld = w->ld;
    TRIBE_TRY(tribe_ltv_input_bgnbd(par, "churn", cfg->input_target, t, &tg, exact));
    for (int j = 0; j < 4; j++) /* the same names on every rank: no agreement needed */
        if ((c[j] = tribe_table_feature(tg, BG[j])) < 0)
            TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "%s: has no column '%s' (not made by tribe ingest --target?)",
                                 cfg->input_target, BG[j]));
    st = tribe_alloc((void **)&w->x, ((size_t)n * (size_t)ld + 1) * sizeof *w->x);
    for (int k = 0; k < 3 && st == TRIBE_OK; k++)
        st = tribe_alloc((void **)&w->bg[k], ((size_t)n + 1) * sizeof *w->bg[k]);
    if (st == TRIBE_OK)
        st = churn_aux(t, w);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < n; i++) {
        const float *r = t->x + (size_t)i * t->d, *g = tg->x + (size_t)i * tg->d;
        for (int j = 0; j < m; j++)
            w->x[(size_t)i * ld + j] = r[cols[j]];
        for (int k = 0; k < 3; k++)
            w->bg[k][i] = g[c[k]];
        w->aux[3][i] = w->bg[0][i] > 0 ? g[c[3]] : NAN;
    }
cleanup:
    tribe_table_destroy(&tg);
    return st;
}

/* st unchanged, its message prefixed with "churn: <what> on <file>[ + <file2>]: ". */
static tribe_status churn_blame(tribe_status st, const char *what, const char *file, const char *file2)
{
    if (st == TRIBE_OK)
        return st;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", tribe_errmsg());
    return tribe_fail(st, "churn: %s on %s%s%s: %s", what, file, file2 ? " + " : "", file2 ? file2 : "", msg);
}

/* Collective. BG/NBD fitted on the table's x, t_x, T. */
static tribe_status churn_bgnbd(const churn_table *w, tribe_bgnbd *bg)
{
    tribe_clv_fit_info info;
    return churn_blame(tribe_bgnbd_fit(&w->rows, w->bg[0], w->bg[1], w->bg[2], NULL, bg, &info), "BG/NBD", w->path,
                       NULL);
}

/* Not collective. The table's extra columns from the BG/NBD model bg. */
static void churn_extras(const churn_table *w, int m, double h, const tribe_bgnbd *bg,
                         const tribe_ltv_classic *cl)
{
    int ld = w->ld;
    for (int64_t i = 0; i < w->rows.n_local; i++) {
        float *row = w->x + (size_t)i * ld;
        tribe_churn_extra(bg, w->bg[0][i], w->bg[1][i], w->bg[2][i], h, row + m);
        if (cl) {
            tribe_ltv_inputs in = {w->bg[0][i], w->bg[1][i], w->bg[2][i], w->aux[3][i],
                                   w->aux[0][i], w->aux[1][i], w->aux[2][i]};
            tribe_ltv_features1(cl, &in, row + m + TRIBE_CHURN_EXTRA);
        }
    }
}

/* Collective. The GBDT classifier on nw windows stacked (as ltv.c's
 * ltv_gbdt: tribe_gbdt_fit_blocks, hold-out rows drawn by the stacked global
 * index, stream TRIBE_STREAM_CHURN_VALID). */
static tribe_status churn_gbdt(const tribe_churn_cfg *cc, const churn_table *const *w, int nw, int d,
                               tribe_gbdt_model **out)
{
    tribe_status st = TRIBE_OK;
    uint8_t *valid[2] = {NULL, NULL};
    tribe_gbdt_block blk[2];
    int64_t before = 0;
    for (int k = 0; k < nw; k++) {
        int64_t n = w[k]->rows.n_local, off = w[k]->rows.offset;
        TRIBE_TRY(tribe_par_agree(w[k]->rows.par, tribe_alloc((void **)&valid[k], (size_t)n + 1)));
        for (int64_t i = 0; i < n; i++)
            valid[k][i] = tribe_rng_unif(cc->seed, TRIBE_STREAM_CHURN_VALID, (uint64_t)(before + off + i)) <
                          cc->valid_fraction;
        blk[k] = (tribe_gbdt_block){{&w[k]->rows, w[k]->x, d}, w[k]->y, valid[k]};
        before += w[k]->rows.n_global;
    }
    tribe_gbdt_cfg cfg;
    tribe_gbdt_cfg_default(&cfg);
    cfg.objective = TRIBE_GBDT_LOGISTIC;
    cfg.n_rounds = cc->n_rounds;
    cfg.learning_rate = cc->learning_rate;
    cfg.max_leaves = cc->max_leaves;
    cfg.early_stopping_rounds = cc->early_stopping_rounds;
    cfg.seed = cc->seed;
    st = churn_blame(tribe_gbdt_fit_blocks(blk, nw, &cfg, out), "the GBDT", w[0]->path,
                     nw > 1 ? w[1]->path : NULL);
cleanup:
    free(valid[0]);
    free(valid[1]);
    return st;
}

/* Collective. The three models scored on the test window: the GBDT fitted
 * on train, 1 - P(alive) and P(no purchase in h) of the train window's
 * BG/NBD applied to each test customer's own x, t_x, T. */
static tribe_status churn_score(const tribe_churn_cfg *cfg, const churn_table *tr, const churn_table *te, int d,
                                tribe_churn *ch)
{
    tribe_status st = TRIBE_OK;
    tribe_gbdt_model *gm = NULL;
    double *risk = NULL;
    int64_t n = te->rows.n_local;
    const churn_table *one[1] = {tr};
    TRIBE_TRY(tribe_par_agree(te->rows.par, tribe_alloc((void **)&risk, ((size_t)n + 1) * sizeof *risk)));
    TRIBE_TRY(churn_gbdt(cfg, one, 1, d, &gm));
    ch->n_trees_holdout = gm->n_trees;
    tribe_gbdt_predict(gm, te->x, n, risk);
    TRIBE_TRY(tribe_churn_metrics_compute(&te->rows, risk, te->yb, &ch->metrics[0]));
    for (int64_t i = 0; i < n; i++)
        risk[i] = 1.0 - tribe_bgnbd_p_alive(&ch->bgnbd, te->bg[0][i], te->bg[1][i], te->bg[2][i]);
    TRIBE_TRY(tribe_churn_metrics_compute(&te->rows, risk, te->yb, &ch->metrics[1]));
    for (int64_t i = 0; i < n; i++)
        risk[i] = tribe_churn_bgnbd_p_none(&ch->bgnbd, te->bg[0][i], te->bg[1][i], te->bg[2][i], cfg->horizon_days);
    TRIBE_TRY(tribe_churn_metrics_compute(&te->rows, risk, te->yb, &ch->metrics[2]));
cleanup:
    tribe_gbdt_model_destroy(&gm);
    free(risk);
    return st;
}

/* Collective. The refit model's risk for the input's customers, and per
 * segment its mean and the share at or above cfg->high_risk. */
static tribe_status churn_predict(tribe_par *par, const tribe_gbdt_model *gm, const churn_table *in,
                                  const int32_t *label, int k, tribe_churn *ch)
{
    tribe_status st = TRIBE_OK;
    int64_t n = in->rows.n_local;
    double *p = NULL;
    float *hi = NULL;
    st = tribe_alloc((void **)&p, ((size_t)n + 1) * sizeof *p);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&hi, ((size_t)n + 1) * sizeof *hi);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&ch->risk, ((size_t)n + 1) * sizeof *ch->risk);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&ch->seg_mean, (size_t)k + 1, sizeof *ch->seg_mean);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&ch->seg_high, (size_t)k + 1, sizeof *ch->seg_high);
    TRIBE_TRY(tribe_par_agree(par, st));
    tribe_gbdt_predict(gm, in->x, n, p);
    for (int64_t i = 0; i < n; i++) {
        ch->risk[i] = (float)p[i];
        hi[i] = ch->risk[i] >= ch->high_risk;
    }
    TRIBE_TRY(tribe_par_agree(par, tribe_xstats_means(par, ch->risk, n, 1, 1, label, k, 0, NULL, NULL, ch->seg_mean)));
    TRIBE_TRY(tribe_par_agree(par, tribe_xstats_means(par, hi, n, 1, 1, label, k, 0, NULL, NULL, ch->seg_high)));
cleanup:
    free(p);
    free(hi);
    return st;
}

tribe_status tribe_churn_fit(tribe_par *par, const tribe_churn_cfg *cfg, const tribe_table *t, const int *cols,
                             const char *const *names, int m, const int32_t *label, int k, tribe_churn **out)
{
    tribe_status st = TRIBE_OK;
    tribe_churn *ch = NULL;
    churn_table tr = {0}, te = {0}, in = {0};
    tribe_gbdt_model *gm = NULL;
    double h = cfg->horizon_days;
    int d = m + TRIBE_CHURN_EXTRA + (cfg->features ? TRIBE_LTV_NFEAT : 0);
    tribe_ltv_classic cl = {0};
    *out = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&ch, 1, sizeof *ch)));
    ch->k = k;
    ch->horizon_days = h;
    ch->high_risk = cfg->high_risk;
    tr.ld = te.ld = in.ld = d;
    TRIBE_TRY(tribe_par_agree(par, churn_window_read(par, cfg->train, cfg->train_target, names, m, &tr)));
    TRIBE_TRY(tribe_par_agree(par, churn_window_read(par, cfg->test, cfg->test_target, names, m, &te)));
    TRIBE_TRY(churn_input(par, cfg, t, cols, m, &in, &ch->input_exact));
    TRIBE_TRY(tribe_rows_init(par, t->n_local, t->offset, t->n_global, &in.rows));
    in.path = "the job's input";
    /* BG/NBD fitted on the train window is the baseline and, the same
     * function of (x, t_x, T) for every table, gives the extra columns. The
     * ltv stage's fit on the same file is the same bits: taken as is. */
    if (cfg->train_fit) {
        cl = *cfg->train_fit;
        ch->bgnbd_reused = 1;
    } else {
        TRIBE_TRY(churn_bgnbd(&tr, &cl.bg));
        if (cfg->features) { /* with the LTV features: Gamma-Gamma on the train window's repeat buyers too */
            tribe_clv_fit_info info;
            TRIBE_TRY(churn_blame(tribe_gammagamma_fit(&tr.rows, tr.bg[0], tr.aux[3], NULL, &cl.gg, &info),
                                  "Gamma-Gamma", tr.path, NULL));
        }
    }
    cl.horizon = h;
    ch->bgnbd = cl.bg;
    churn_extras(&tr, m, h, &ch->bgnbd, cfg->features ? &cl : NULL);
    churn_extras(&te, m, h, &ch->bgnbd, cfg->features ? &cl : NULL);
    churn_extras(&in, m, h, &ch->bgnbd, cfg->features ? &cl : NULL);
    TRIBE_TRY(churn_score(cfg, &tr, &te, d, ch));
    ch->n_train = tr.rows.n_global;
    ch->n_test = te.rows.n_global;
    {
        int64_t churned = 0; /* the train window's churn rate */
        for (int64_t i = 0; i < tr.rows.n_local; i++)
            churned += tr.yb[i];
        TRIBE_TRY(tribe_par_sum_i64(par, &churned, 1));
        ch->churn_train = (double)churned / (double)(tr.rows.n_global ? tr.rows.n_global : 1);
        ch->churn_test = (double)ch->metrics[0].n_churned / (double)ch->metrics[0].n;
    }
    for (int i = 0; i < TRIBE_CHURN_MODELS; i++)
        TRIBE_INFO("churn %-14s AUC %.4f Brier %.4f ECE %.4f", TRIBE_CHURN_MODEL_NAMES[i], ch->metrics[i].auc,
                   ch->metrics[i].brier, ch->metrics[i].ece);
    const churn_table *both[2] = {&tr, &te};
    TRIBE_TRY(churn_gbdt(cfg, both, 2, d, &gm));
    TRIBE_TRY(tribe_par_agree(par, tribe_gbdt_to_json(gm, &ch->model_json)));
    ch->n_trees = gm->n_trees;
    TRIBE_TRY(churn_predict(par, gm, &in, label, k, ch));
    TRIBE_INFO("churn: GBDT refit on %s + %s (%lld rows, %d trees) scored %lld customers", cfg->train, cfg->test,
               (long long)(tr.rows.n_global + te.rows.n_global), gm->n_trees, (long long)t->n_global);
    *out = ch;
    ch = NULL;
cleanup:
    tribe_churn_destroy(&ch);
    churn_table_free(&tr);
    churn_table_free(&te);
    churn_table_free(&in);
    tribe_gbdt_model_destroy(&gm);
    return st;
}
