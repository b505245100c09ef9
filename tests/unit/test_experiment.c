/* Unit tests for the holdout experiment's statistics (src/campaign/exp_stats.c)
 * and the holdout split of the send (src/campaign/send.c): the intervals
 * against published values, their coverage over 1,000 simulated experiments
 * with a planted lift, and the arms' determinism. */
#include "testutil.h"
#include "tribe/campaign.h"
#include "tribe/experiment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quantiles_should_match_the_tables(void)
{
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_norm_quantile(0.975), 1.959963984540054, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_norm_quantile(0.5), 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_norm_quantile(0.005), -2.5758293035489, 1e-10);
    CU_ASSERT(isnan(tribe_exp_norm_quantile(1)));
    /* Student's t, two-sided 95%: 2.7764 (4 df), 2.2281 (10), 2.0423 (30), 1.9840 (100) */
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_t_quantile(0.975, 4), 2.7764, 2e-3);
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_t_quantile(0.975, 10), 2.2281, 2e-4);
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_t_quantile(0.975, 30), 2.0423, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(tribe_exp_t_quantile(0.975, 100), 1.9840, 1e-4);
}

static void newcombe_should_match_his_published_example(void)
{
    /* Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80
     * = 0.2, method 10 (hybrid score) interval 0.0524 to 0.3339. */
    tribe_exp_ci d = tribe_exp_newcombe(56, 70, 48, 80, 0.95);
    CU_ASSERT_DOUBLE_EQUAL(d.est, 0.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.lo, 0.0524, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(d.hi, 0.3339, 1e-4);
    /* example (e): 0/10 - 0/20, interval -0.1611 to 0.2775 */
    d = tribe_exp_newcombe(0, 10, 0, 20, 0.95);
    CU_ASSERT_DOUBLE_EQUAL(d.lo, -0.1611, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(d.hi, 0.2775, 1e-4);
    /* Wilson, Newcombe's table I: 15/148 -> 0.0624 to 0.1605 */
    tribe_exp_ci w = tribe_exp_wilson(15, 148, 0.95);
    CU_ASSERT_DOUBLE_EQUAL(w.lo, 0.0624, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(w.hi, 0.1605, 1e-4);
}

static void welch_should_match_a_hand_computation(void)
{
    /* t = {1, 2, 3, 4} (mean 2.5, var 5/3), c = {2, 4, 6} (mean 4, var 4):
     * se^2 = 5/12 + 4/3 = 1.75, df = 1.75^2 / ((5/12)^2/3 + (4/3)^2/2) = 3.3559 */
    tribe_exp_arm t = {0}, c = {0};
    for (int i = 1; i <= 4; i++)
        tribe_exp_arm_add(&t, 1, i);
    for (int i = 1; i <= 3; i++)
        tribe_exp_arm_add(&c, 1, 2 * i);
    double df = 0;
    tribe_exp_ci d = tribe_exp_welch(&t, &c, 0.95, &df);
    CU_ASSERT_DOUBLE_EQUAL(d.est, -1.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(df, 1.75 * 1.75 / ((5.0 / 12) * (5.0 / 12) / 3 + (4.0 / 3) * (4.0 / 3) / 2), 1e-12);
    double h = tribe_exp_t_quantile(0.975, df) * sqrt(1.75);
    CU_ASSERT_DOUBLE_EQUAL(d.hi - d.est, h, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.est - d.lo, h, 1e-12);
}

/* One simulated experiment: nt treated and nc control customers; a control
 * customer converts with p0 and spends lognormal(mu0, sigma) when it does; a
 * treated one with p1 and mu1 = mu0 (1 + r). */
typedef struct {
    int64_t nt, nc;
    double p0, p1, mu0, r, sigma;
} sim;

static void simulate(const sim *s, uint64_t seed, tribe_exp_arm *t, tribe_exp_arm *c)
{
    memset(t, 0, sizeof *t);
    memset(c, 0, sizeof *c);
    for (int64_t i = 0; i < s->nt + s->nc; i++) {
        int treated = i < s->nt;
        double p = treated ? s->p1 : s->p0, mu = s->mu0 * (treated ? 1 + s->r : 1);
        int conv = tribe_rng_unif(seed, 1, (uint64_t)i) < p;
        double spend = conv ? mu * exp(s->sigma * tribe_rng_normal(seed, 2, (uint64_t)i) - s->sigma * s->sigma / 2) : 0;
        tribe_exp_arm_add(treated ? t : c, conv, spend);
    }
}

static int covers(tribe_exp_ci c, double truth) { return c.lo <= truth && truth <= c.hi; }

/* The proof of the intervals: 1,000 planted experiments (fixed seeds), each
 * interval covers its planted truth in 93% to 97% of them (nominal 95%;
 * the binomial standard error of a coverage over 1,000 is 0.7 points). */
static void intervals_should_cover_the_planted_lift_at_their_nominal_rate(void)
{
    static const sim cases[] = {
        {9000, 1000, 0.08, 0.11, 40, 0.20, 0.8},  /* a 10% holdout, a clear lift */
        {2000, 2000, 0.05, 0.05, 60, 0.00, 0.8},  /* a 50/50 test, no lift at all */
        {9000, 1000, 0.15, 0.17, 25, -0.1, 0.6},  /* a higher rate, smaller spend per converter */
    };
    const int reps = 1000;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const sim *s = &cases[k];
        double m0 = s->p0 * s->mu0, m1 = s->p1 * s->mu0 * (1 + s->r);
        int cov[4] = {0};
        for (int rep = 0; rep < reps; rep++) {
            tribe_exp_arm t, c;
            tribe_exp_result r;
            simulate(s, 1000 * (uint64_t)k + (uint64_t)rep + 1, &t, &c);
            tribe_exp_compare(&t, &c, 0.95, 0, &r);
            cov[0] += covers(r.conv_abs, s->p1 - s->p0);
            cov[1] += covers(r.conv_rel, s->p1 / s->p0 - 1);
            cov[2] += covers(r.spend_abs, m1 - m0);
            cov[3] += covers(r.spend_rel, m1 / m0 - 1);
        }
        static const char *const what[] = {"conversion difference (Newcombe)", "conversion ratio (Katz log)",
                                           "spend difference (Welch)", "spend ratio (log delta)"};
        for (int j = 0; j < 4; j++) {
            double rate = 100.0 * cov[j] / reps;
            printf("\n    case %zu %-34s coverage %.1f%%", k, what[j], rate);
            CU_ASSERT(rate >= 93 && rate <= 97);
        }
    }
}

static void compare_should_scale_revenue_and_roi_from_the_spend_lift(void)
{
    tribe_exp_arm t = {0}, c = {0};
    for (int i = 0; i < 100; i++) {
        tribe_exp_arm_add(&t, i % 4 == 0, i % 4 == 0 ? 20 + i % 7 : 0);
        tribe_exp_arm_add(&c, i % 5 == 0, i % 5 == 0 ? 20 + i % 3 : 0);
    }
    tribe_exp_result r;
    tribe_exp_compare(&t, &c, 0.95, 0.5, &r);
    CU_ASSERT_DOUBLE_EQUAL(r.conv_t, 0.25, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.conv_c, 0.20, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.incr_revenue.est, (r.spend_t - r.spend_c) * 100, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.incr_revenue.lo, r.spend_abs.lo * 100, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.cost, 50, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.roi.est, (r.incr_revenue.est - 50) / 50, 1e-12);
    CU_ASSERT(r.roi.lo < r.roi.est && r.roi.est < r.roi.hi);
    CU_ASSERT(r.conv_rel.lo < 0.25 && 0.25 < r.conv_rel.hi);
    /* no cost: no ROI; an empty control: no intervals */
    tribe_exp_compare(&t, &c, 0.95, 0, &r);
    CU_ASSERT(isnan(r.roi.est));
    tribe_exp_arm none = {0};
    tribe_exp_compare(&t, &none, 0.95, 0, &r);
    CU_ASSERT(isnan(r.conv_abs.lo) && isnan(r.spend_abs.est) && isnan(r.conv_rel.est));
}

static void arms_should_be_deterministic_per_campaign_and_hold_their_share(void)
{
    int64_t in_a = 0, in_b = 0, both = 0;
    const int64_t n = 100000;
    for (int64_t id = 1; id <= n; id++) {
        int a = tribe_campaign_arm("spring sale", id, 0.1), b = tribe_campaign_arm("summer sale", id, 0.1);
        CU_ASSERT_EQUAL(a, tribe_campaign_arm("spring sale", id, 0.1));
        /* a larger share keeps every customer of a smaller one in control */
        if (a)
            CU_ASSERT_EQUAL(tribe_campaign_arm("spring sale", id, 0.2), 1);
        in_a += a;
        in_b += b;
        both += a && b;
    }
    /* 10% +- 5 standard errors (the counts are 9,977 and 10,380, as Python's
     * hashlib gives them too); independent campaigns overlap in 1% */
    CU_ASSERT(fabs((double)in_a / n - 0.1) < 5 * sqrt(0.09 / n));
    CU_ASSERT(fabs((double)in_b / n - 0.1) < 5 * sqrt(0.09 / n));
    CU_ASSERT(fabs((double)both / n - 0.01) < 5 * sqrt(0.0099 / n));
    CU_ASSERT_EQUAL(tribe_campaign_arm("x", 7, 0), 0);
    CU_ASSERT_EQUAL(tribe_campaign_arm("x", 7, 1), 1);
}

static void send_should_hold_out_only_eligible_customers_and_never_send_them(void)
{
    char contacts[512], outbox[512], line[2048];
    snprintf(contacts, sizeof contacts, "%s/contacts.csv", tribe_test_tmpdir());
    snprintf(outbox, sizeof outbox, "%s/outbox.jsonl", tribe_test_tmpdir());
    remove(outbox);
    FILE *f = fopen(contacts, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n", f);
    int64_t ids[400];
    for (int i = 0; i < 400; i++) {
        ids[i] = 1000 + i;
        if (i % 10 == 3) /* no row: no_contact */
            continue;
        fprintf(f, "%d,c%d@example.com,,%d,0\n", 1000 + i, i, i % 10 == 5 ? 0 : 1);
    }
    fclose(f);
    tribe_contacts *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_contacts_read(contacts, &cs), TRIBE_OK);
    tribe_send_cfg cfg;
    tribe_send_stats cnt, st;
    tribe_send_cfg_defaults(&cfg);
    cfg.campaign = "test";
    cfg.outbox = outbox;
    cfg.now = 1700000000;
    cfg.holdout = 0.25;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_count(&cfg, ids, 400, cs, &cnt), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_send(&cfg, ids, 400, cs, &st), TRIBE_OK);
    CU_ASSERT_EQUAL(st.no_contact, 40);
    CU_ASSERT_EQUAL(st.opted_out, 40);
    CU_ASSERT_EQUAL(st.holdout + st.dry_run, 320);
    CU_ASSERT_EQUAL(st.holdout, cnt.holdout);
    CU_ASSERT_EQUAL(st.dry_run, cnt.dry_run);
    CU_ASSERT(st.holdout > 40 && st.holdout < 120);
    /* every holdout line is an eligible customer of the control arm; every dry_run one of the treatment */
    f = fopen(outbox, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int64_t hold = 0, dry = 0;
    while (fgets(line, sizeof line, f)) {
        long long id = atoll(strstr(line, "\"customer\": ") + 12);
        int control = tribe_campaign_arm("test", id, 0.25);
        if (strstr(line, "\"status\": \"holdout\"")) {
            hold++;
            CU_ASSERT(control && strstr(line, "\"reason\": \"control\"") != NULL);
            CU_ASSERT((id - 1000) % 10 != 3 && (id - 1000) % 10 != 5);
        } else if (strstr(line, "\"status\": \"dry_run\"")) {
            dry++;
            CU_ASSERT(!control);
        }
    }
    fclose(f);
    CU_ASSERT_EQUAL(hold, st.holdout);
    CU_ASSERT_EQUAL(dry, st.dry_run);
    cfg.holdout = 1.5;
    CU_ASSERT_EQUAL(tribe_campaign_count(&cfg, ids, 400, cs, &cnt), TRIBE_ERR_USAGE);
    tribe_contacts_destroy(&cs);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(quantiles_should_match_the_tables),
        TRIBE_TEST(newcombe_should_match_his_published_example),
        TRIBE_TEST(welch_should_match_a_hand_computation),
        TRIBE_TEST(intervals_should_cover_the_planted_lift_at_their_nominal_rate),
        TRIBE_TEST(compare_should_scale_revenue_and_roi_from_the_spend_lift),
        TRIBE_TEST(arms_should_be_deterministic_per_campaign_and_hold_their_share),
        TRIBE_TEST(send_should_hold_out_only_eligible_customers_and_never_send_them),
        {NULL, NULL}};
    return tribe_test_main("experiment", cases);
}
