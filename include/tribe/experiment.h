/* tribe/experiment.h: did a campaign work? Treatment (sent) against control
 * (held out) customers of one campaign of the outbox (docs/experiments.md).
 *
 * Usage:
 *     tribe_exp_assign a = {0};
 *     TRIBE_TRY(tribe_exp_outbox_read("out/outbox.jsonl", NULL, &a));      // arms, segments, send days
 *     tribe_exp_outcome *o = NULL;                                          // [a.n]
 *     TRIBE_TRY(tribe_exp_outcomes_read("tx.csv", NULL, &a, 30, &o, &tx));  // spend in each window
 *     tribe_exp_table t = {0};
 *     TRIBE_TRY(tribe_exp_measure(&a, o, 0.95, 0.05, &t));                  // per segment and overall
 *     ... tribe_exp_csv(&t, &text) ...
 *     tribe_exp_table_free(&t); free(o); tribe_exp_assign_free(&a);
 *
 * The statistics kernel (tribe_exp_arm_add, tribe_exp_compare and the
 * interval functions) is plain arithmetic on counts and sums: no I/O, no
 * allocation. Ownership: whoever fills a struct frees it with its _free
 * (accepting a zeroed struct). Not collective: the CLI runs it on rank 0.
 */
#ifndef TRIBE_EXPERIMENT_H
#define TRIBE_EXPERIMENT_H

#include "tribe/core.h"
#include "tribe/mapping.h"

/* ---- the statistics kernel ------------------------------------------------ */

/* One arm's outcomes: customers, converters and the spend's mean and sum of
 * squared deviations (Welford's update, so no cancellation). */
typedef struct {
    int64_t n, conv;
    double mean, m2;
} tribe_exp_arm;

/* An estimate and its interval; NaN where it is not defined (an empty arm,
 * a zero control rate for a relative lift). */
typedef struct {
    double est, lo, hi;
} tribe_exp_ci;

typedef struct {
    tribe_exp_arm t, c;                /* treatment, control */
    double conv_t, conv_c;             /* conversion rates */
    double spend_t, spend_c;           /* spend per customer (means) */
    tribe_exp_ci conv_abs;             /* conv_t - conv_c: Newcombe's hybrid score interval */
    tribe_exp_ci conv_rel;             /* conv_t / conv_c - 1: log risk ratio (Katz) interval */
    tribe_exp_ci spend_abs;            /* spend_t - spend_c: Welch's t interval */
    tribe_exp_ci spend_rel;            /* spend_t / spend_c - 1: delta method on the log ratio */
    tribe_exp_ci incr_conversions;     /* conv_abs x t.n */
    tribe_exp_ci incr_revenue;         /* spend_abs x t.n */
    double cost;                       /* cost per message x t.n */
    tribe_exp_ci roi;                  /* (incr_revenue - cost) / cost; NaN when cost is 0 */
    double welch_df;                   /* Welch-Satterthwaite degrees of freedom */
    int small;                         /* 1 when an arm has fewer than 10 converters or non-converters */
} tribe_exp_result;

/* Adds one customer (converted 0/1, spend) to an arm. */
void tribe_exp_arm_add(tribe_exp_arm *a, int converted, double spend);
/* The standard normal quantile of p in (0, 1) (bisection on erfc: exact to
 * double rounding); NaN outside. */
double tribe_exp_norm_quantile(double p);
/* Student's t quantile of p with df > 0 degrees of freedom: the
 * Cornish-Fisher expansion of Abramowitz & Stegun 26.7.5 (error < 1e-3 from
 * 4 degrees of freedom, < 1e-5 from 30); df < 1 is taken as 1. */
double tribe_exp_t_quantile(double p, double df);
/* Wilson's score interval for x successes of n at level conf. */
tribe_exp_ci tribe_exp_wilson(int64_t x, int64_t n, double conf);
/* Newcombe's hybrid score interval (his method 10, 1998) for p1 - p0. */
tribe_exp_ci tribe_exp_newcombe(int64_t x1, int64_t n1, int64_t x0, int64_t n0, double conf);
/* Welch's t interval for mean(t) - mean(c). */
tribe_exp_ci tribe_exp_welch(const tribe_exp_arm *t, const tribe_exp_arm *c, double conf, double *df);
/* Compares treatment t with control c at level conf (0.95), the cost of one
 * message cost_per_message (>= 0). */
void tribe_exp_compare(const tribe_exp_arm *t, const tribe_exp_arm *c, double conf, double cost_per_message,
                       tribe_exp_result *r);

/* ---- the outbox: who was in which arm ------------------------------------- */

enum { TRIBE_EXP_CONTROL = 0, TRIBE_EXP_TREATMENT = 1 };

typedef struct {
    int64_t id;      /* the customer's key (the outbox's "customer") */
    char *text;      /* its string id ("customer_id"), else NULL */
    int64_t segment; /* the outbox's "segment" */
    int64_t day;     /* day number (tribe/date.h) of the first send or holdout line */
    int arm;         /* TRIBE_EXP_CONTROL or TRIBE_EXP_TREATMENT */
} tribe_exp_unit;

typedef struct {
    char *campaign;        /* the campaign measured */
    int string_ids;        /* the outbox carries "customer_id" texts */
    int dry_run;           /* some treatment lines are dry runs: nothing was delivered */
    int64_t n;             /* customers in an arm */
    tribe_exp_unit *u;     /* [n] sorted by id */
    int64_t lines;         /* lines of the campaign */
    int64_t skipped;       /* customers skipped (no contact, opted out, suppressed, capped) */
    int64_t failed;        /* customers whose every attempt failed: in neither arm */
} tribe_exp_assign;

/* Reads the outbox's lines of one campaign: status "holdout" is the control
 * arm, "sent" or "dry_run" the treatment; "failed" customers (never
 * delivered) and "skipped" ones are counted, in no arm. campaign NULL: the
 * outbox must hold exactly one campaign. Errors: IO (cannot read); INPUT
 * "<path>:<line>: ..." naming the key of a malformed line, a customer in both
 * arms or in two segments, no such campaign (the message lists those in the
 * file), several campaigns without campaign, no customer in an arm. */
tribe_status tribe_exp_outbox_read(const char *path, const char *campaign, tribe_exp_assign *a);
void tribe_exp_assign_free(tribe_exp_assign *a);
/* Index of customer id in a->u, or -1. */
int64_t tribe_exp_find(const tribe_exp_assign *a, int64_t id);

/* ---- outcomes: the transactions after the send ---------------------------- */

typedef struct {
    double spend;  /* net spend in the window (returns subtracted) */
    int converted; /* at least one purchase (a row with a positive amount) in the window */
} tribe_exp_outcome;

typedef struct {
    int64_t rows;          /* data rows read */
    int64_t used;          /* rows of experiment customers inside their window */
    int64_t outside;       /* rows of experiment customers outside their window */
    int64_t other;         /* rows of other customers (or without a customer id) */
    int64_t last_day;      /* the latest date of the file (INT64_MIN when none) */
} tribe_exp_tx_stats;

/* Reads transactions (plain or gzip CSV) in the layout of mapping m (NULL:
 * the built-in Online Retail layout): a row's amount is its amount column,
 * else quantity x unit price; a cancelled order (cancel prefix) or a return
 * (return flag) counts as minus its absolute amount. A row of customer u
 * counts when its day d is in [u.day, u.day + window_days). *out gets one
 * outcome per customer of a (calloc'd, caller frees). Errors: IO; INPUT
 * "<path>:<line>: <column> '<cell>' ..." for a malformed customer id, date,
 * quantity, price or amount of an experiment customer (rows of other
 * customers are only counted), a missing column; USAGE for a mapping
 * without an amount or a quantity and unit price. */
tribe_status tribe_exp_outcomes_read(const char *path, const tribe_mapping *m, const tribe_exp_assign *a,
                                     int window_days, tribe_exp_outcome **out, tribe_exp_tx_stats *st);

/* ---- the table ------------------------------------------------------------ */

typedef struct {
    int64_t segment;       /* the segment id; -1 for the overall row */
    tribe_exp_result r;
} tribe_exp_row;

typedef struct {
    int nrows;             /* segments in id order, then the overall row */
    tribe_exp_row *row;
    double conf, cost_per_message;
    int window_days;
} tribe_exp_table;

/* Per segment and overall (all customers pooled): tribe_exp_compare of
 * the arms. NOMEM. */
tribe_status tribe_exp_measure(const tribe_exp_assign *a, const tribe_exp_outcome *o, double conf,
                               double cost_per_message, tribe_exp_table *t);
void tribe_exp_table_free(tribe_exp_table *t);
/* The table as CSV text (header and one row per table row, CRLF; numbers
 * with up to 10 significant digits, NaN as an empty cell; docs/experiments.md
 * lists the columns). NOMEM. */
tribe_status tribe_exp_csv(const tribe_exp_table *t, const char *campaign, char **out);

/* ---- the planted effect (tribe gen --effect) ------------------------------ */

typedef struct {
    uint64_t seed;
    int window_days;        /* purchases of converters fall in [send day, send day + window) */
    double base_conversion; /* P: control conversion of segment s is P x (1 + 0.25 (s mod 4)) */
    double conversion_lift; /* D: treatment adds D x w_s, w_s = 0.5 + 0.5 (s mod 3) */
    double mean_spend;      /* M: mean spend of a control converter M x (1 + 0.5 (s mod 2)) */
    double spend_lift;      /* R: a treatment converter spends (1 + R x w_s) times as much */
    double sigma;           /* lognormal sigma of a converter's spend */
} tribe_effect_cfg;

void tribe_effect_defaults(tribe_effect_cfg *cfg);
/* Writes dir/transactions.csv (the Online Retail layout) with the planted
 * outcomes of the customers of a, plus purchases outside the windows and of
 * the outbox's skipped customers (which measure must ignore), and
 * dir/effect_truth.csv: per segment and overall the planted rates, means
 * and the true lifts conditional on the arms' sizes. Deterministic in
 * (seed, customer id). Errors: USAGE for a bad cfg; IO; NOMEM. */
tribe_status tribe_effect_write(const tribe_effect_cfg *cfg, const tribe_exp_assign *a, const char *dir);

#endif
