/* tribe gen --effect: post-send transactions with a planted lift per segment
 * (tribe/experiment.h, docs/gen.md "Planted campaign effect"), so that
 * tribe campaign measure can be checked against a known truth. */
#include "tribe/date.h"
#include "tribe/experiment.h"
#include "tribe/sbuf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Random streams (tribe_rng_*: a pure function of seed, stream and the
 * customer's key, so the rows do not depend on the outbox's order). */
enum {
    S_CONV = 101, S_SPEND, S_DAY, S_BEFORE, S_AFTER, S_NOISE, S_BEFORE_DAY, S_AFTER_DAY, S_BEFORE_SPEND, S_AFTER_SPEND
};

void tribe_effect_defaults(tribe_effect_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 42;
    cfg->window_days = 30;
    cfg->base_conversion = 0.08;
    cfg->conversion_lift = 0.03;
    cfg->mean_spend = 40;
    cfg->spend_lift = 0.2;
    cfg->sigma = 0.8;
}

/* The planted parameters of segment s (tribe/experiment.h). */
typedef struct {
    double p0, p1, mu0, mu1;
} planted;

static planted plant(const tribe_effect_cfg *cfg, int64_t s)
{
    int64_t m = s < 0 ? -s : s;
    double w = 0.5 + 0.5 * (double)(m % 3);
    planted p;
    p.p0 = cfg->base_conversion * (1 + 0.25 * (double)(m % 4));
    p.p1 = p.p0 + cfg->conversion_lift * w;
    p.mu0 = cfg->mean_spend * (1 + 0.5 * (double)(m % 2));
    p.mu1 = p.mu0 * (1 + cfg->spend_lift * w);
    return p;
}

static tribe_status check(const tribe_effect_cfg *cfg, const tribe_exp_assign *a)
{
    if (cfg->window_days < 1 || !(cfg->base_conversion > 0) || !(cfg->mean_spend > 0) || !(cfg->sigma >= 0) ||
        !(cfg->sigma <= 3) || !(cfg->spend_lift > -1) || !isfinite(cfg->spend_lift) ||
        !isfinite(cfg->conversion_lift))
        return tribe_fail(TRIBE_ERR_USAGE, "gen --effect: window >= 1 day, base conversion > 0, mean spend > 0, "
                                           "sigma in [0, 3] and spend lift > -1 are required");
    for (int64_t i = 0; i < a->n; i++) {
        planted p = plant(cfg, a->u[i].segment);
        if (p.p1 > 1 || p.p1 < 0 || p.p0 > 1)
            return tribe_fail(TRIBE_ERR_USAGE,
                              "gen --effect: segment %lld's planted conversion %.4g -> %.4g is outside [0, 1] "
                              "(lower --base-conversion or --conversion-lift)",
                              (long long)a->u[i].segment, p.p0, p.p1);
    }
    return TRIBE_OK;
}

/* One row: a purchase of one item at `amount` on `day`. */
static tribe_status row(tribe_sbuf *b, int64_t *invoice, const tribe_exp_unit *u, int64_t day, double amount)
{
    char iso[11];
    tribe_format_day(day, iso);
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "%lld,E1,planted purchase,1,%s 10:00:00,%.2f,", (long long)(*invoice)++, iso,
                                amount));
    if (u->text)
        TRIBE_TRY(tribe_sbuf_csv_cell(b, u->text));
    else
        TRIBE_TRY(tribe_sbuf_printf(b, "%lld", (long long)u->id));
    TRIBE_TRY(tribe_sbuf_add(b, ",United Kingdom\n"));
cleanup:
    return st;
}

/* A lognormal spend of mean mu (before the clip at one cent). */
static double spend_draw(const tribe_effect_cfg *cfg, double mu, uint64_t stream, uint64_t key)
{
    double v = mu * exp(cfg->sigma * tribe_rng_normal(cfg->seed, stream, key) - cfg->sigma * cfg->sigma / 2);
    return v < 0.01 ? 0.01 : v;
}

/* The customers' rows: a converter buys once in its window, at its arm's
 * mean; besides, with probability 0.3 each, a purchase 1-30 days before the
 * send day and one 1-30 days after the window (outside it: measure must not
 * count them). */
static tribe_status customers(const tribe_effect_cfg *cfg, const tribe_exp_assign *a, tribe_sbuf *b,
                              int64_t *invoice)
{
    tribe_status st = TRIBE_OK;
    for (int64_t i = 0; i < a->n; i++) {
        const tribe_exp_unit *u = &a->u[i];
        uint64_t key = (uint64_t)u->id;
        planted p = plant(cfg, u->segment);
        int t = u->arm == TRIBE_EXP_TREATMENT;
        if (tribe_rng_unif(cfg->seed, S_BEFORE, key) < 0.3)
            TRIBE_TRY(row(b, invoice, u, u->day - 1 - (int64_t)tribe_rng_below(cfg->seed, S_BEFORE_DAY, key, 30),
                          spend_draw(cfg, p.mu0, S_BEFORE_SPEND, key)));
        if (tribe_rng_unif(cfg->seed, S_CONV, key) < (t ? p.p1 : p.p0))
            TRIBE_TRY(row(b, invoice, u,
                          u->day + (int64_t)tribe_rng_below(cfg->seed, S_DAY, key, (uint64_t)cfg->window_days),
                          spend_draw(cfg, t ? p.mu1 : p.mu0, S_SPEND, key)));
        if (tribe_rng_unif(cfg->seed, S_AFTER, key) < 0.3)
            TRIBE_TRY(row(b, invoice, u,
                          u->day + cfg->window_days + (int64_t)tribe_rng_below(cfg->seed, S_AFTER_DAY, key, 30),
                          spend_draw(cfg, p.mu0, S_AFTER_SPEND, key)));
    }
cleanup:
    return st;
}

/* One truth row: the planted lifts of arms of nt and nc customers whose
 * planted parameters are summed in sum[4] (p0, p1, p0 mu0, p1 mu1, each
 * over the arm it belongs to): the expectation of the pooled estimates. */
static tribe_status truth_row(tribe_sbuf *b, const char *seg, double nt, double nc, const double sum[4])
{
    double p0 = sum[0] / nc, p1 = sum[1] / nt, m0 = sum[2] / nc, m1 = sum[3] / nt;
    return tribe_sbuf_printf(b, "%s,%.0f,%.0f,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\r\n", seg, nt, nc, p0,
                             p1, p1 - p0, p1 / p0 - 1, m0, m1, m1 - m0, m1 / m0 - 1);
}

static tribe_status truth(const tribe_effect_cfg *cfg, const tribe_exp_assign *a, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    double all[4] = {0}, nt_all = 0, nc_all = 0;
    TRIBE_TRY(tribe_sbuf_add(b, "segment,n_treatment,n_control,conversion_control,conversion_treatment,"
                                "conversion_lift,conversion_rel_lift,spend_control,spend_treatment,spend_lift,"
                                "spend_rel_lift\r\n"));
    /* a->u is sorted by id; walk the segments in id order by repeated scans
     * (few segments) */
    int64_t seg = INT64_MIN;
    for (;;) {
        int64_t next = INT64_MAX;
        for (int64_t i = 0; i < a->n; i++)
            if (a->u[i].segment > seg && a->u[i].segment < next)
                next = a->u[i].segment;
        if (next == INT64_MAX)
            break;
        seg = next;
        double s[4] = {0}, nt = 0, nc = 0;
        for (int64_t i = 0; i < a->n; i++) {
            if (a->u[i].segment != seg)
                continue;
            planted p = plant(cfg, seg);
            if (a->u[i].arm == TRIBE_EXP_TREATMENT) {
                nt++, s[1] += p.p1, s[3] += p.p1 * p.mu1;
            } else {
                nc++, s[0] += p.p0, s[2] += p.p0 * p.mu0;
            }
        }
        char name[32];
        snprintf(name, sizeof name, "%lld", (long long)seg);
        TRIBE_TRY(truth_row(b, name, nt, nc, s));
        for (int j = 0; j < 4; j++)
            all[j] += s[j];
        nt_all += nt;
        nc_all += nc;
    }
    TRIBE_TRY(truth_row(b, "all", nt_all, nc_all, all));
cleanup:
    return st;
}

tribe_status tribe_effect_write(const tribe_effect_cfg *cfg, const tribe_exp_assign *a, const char *dir)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf tx = {0}, tr = {0};
    char path[4200];
    int64_t invoice = 900000;
    TRIBE_TRY(check(cfg, a));
    TRIBE_TRY(tribe_mkdirs(dir));
    TRIBE_TRY(
        tribe_sbuf_add(&tx, "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"));
    TRIBE_TRY(customers(cfg, a, &tx, &invoice));
    /* customers outside the experiment buy in the window too: not counted */
    if (!a->string_ids && a->n > 0)
        for (int64_t j = 1; j <= 50; j++) {
            tribe_exp_unit other = {.id = a->u[a->n - 1].id + j, .day = a->u[0].day};
            if (tribe_rng_unif(cfg->seed, S_NOISE, (uint64_t)j) < 0.5)
                TRIBE_TRY(row(&tx, &invoice, &other, other.day + 1, 25));
        }
    TRIBE_TRY(truth(cfg, a, &tr));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/transactions.csv", dir));
    TRIBE_TRY(tribe_write_file_atomic(path, tx.p, tx.len));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/effect_truth.csv", dir));
    TRIBE_TRY(tribe_write_file_atomic(path, tr.p, tr.len));
cleanup:
    tribe_sbuf_free(&tx);
    tribe_sbuf_free(&tr);
    return st;
}
