/* tribe campaign measure: did the campaign work? Treatment against holdout
 * of one campaign of the outbox over the transactions after the send
 * (docs/experiments.md). Rank 0 reads and writes; the other ranks only agree
 * on the status, so the command works under mpiexec with any number of ranks. */
#include "cli.h"
#include "tribe/experiment.h"
#include "tribe/report.h"
#include "tribe/sbuf.h"

#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tribe_status tribe_cli_number(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || !end || *end || !(v >= lo && v <= hi))
        return tribe_cli_usage(cmd, "%s expects a number between %g and %g, got '%s'", opt, lo, hi, s);
    *out = v;
    return TRIBE_OK;
}

typedef struct {
    const char *outbox, *transactions, *campaign, *mapping, *out;
    int window;
    double cost, conf;
} measure_opts;

/* The campaign name in lower-case letters and digits joined by '-'
 * ("Spring sale!" -> "spring-sale"), for the file names. */
static void slug(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    int dash = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 2 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
            dash = 0;
        } else
            dash = 1;
    }
    if (!n)
        out[n++] = 'x';
    out[n] = '\0';
}

static const char *seg_name(const tribe_exp_row *w, char *buf, size_t cap)
{
    if (w->segment < 0)
        snprintf(buf, cap, "all");
    else
        snprintf(buf, cap, "%lld", (long long)w->segment);
    return buf;
}

/* "+2.1 pp [0.4, 3.8]" style cells; "-" where undefined. */
static void ci_txt(char *buf, size_t cap, tribe_exp_ci c, double scale, int decimals, const char *unit)
{
    if (!isfinite(c.est)) {
        snprintf(buf, cap, "-");
        return;
    }
    if (!isfinite(c.lo))
        snprintf(buf, cap, "%+.*f%s", decimals, c.est * scale, unit);
    else
        snprintf(buf, cap, "%+.*f%s [%+.*f, %+.*f]", decimals, c.est * scale, unit, decimals, c.lo * scale, decimals,
                 c.hi * scale);
}

static void print_table(const tribe_exp_table *t, const tribe_exp_assign *a, const tribe_exp_tx_stats *ts)
{
    char seg[32], c1[96], c2[96], c3[96], c4[96];
    printf("campaign measure: campaign '%s', window %d days from each send day, %g%% intervals\n", a->campaign,
           t->window_days, 100 * t->conf);
    printf("  outbox: %lld customers in the arms, %lld skipped, %lld never delivered (in no arm)%s\n",
           (long long)a->n, (long long)a->skipped, (long long)a->failed,
           a->dry_run ? "; the treatment was a DRY RUN: nothing was delivered" : "");
    printf("  transactions: %lld rows, %lld in the windows, %lld outside them, %lld of other customers\n",
           (long long)ts->rows, (long long)ts->used, (long long)ts->outside, (long long)ts->other);
    printf("%-7s %8s %8s %7s %7s  %-26s %-24s %9s %9s  %-26s %-30s %s\n", "segment", "n_treat", "n_ctrl", "conv_t",
           "conv_c", "conversion lift (pp)", "relative conversion lift", "spend_t", "spend_c",
           "spend lift per customer", "incremental revenue", "ROI");
    for (int i = 0; i < t->nrows; i++) {
        const tribe_exp_result *r = &t->row[i].r;
        ci_txt(c1, sizeof c1, r->conv_abs, 100, 2, "");
        ci_txt(c2, sizeof c2, r->conv_rel, 100, 1, "%");
        ci_txt(c3, sizeof c3, r->spend_abs, 1, 2, "");
        ci_txt(c4, sizeof c4, r->incr_revenue, 1, 0, "");
        char roi[96];
        ci_txt(roi, sizeof roi, r->roi, 100, 0, "%");
        printf("%-7s %8lld %8lld %6.2f%% %6.2f%%  %-26s %-24s %9.2f %9.2f  %-26s %-30s %s%s\n",
               seg_name(&t->row[i], seg, sizeof seg), (long long)r->t.n, (long long)r->c.n, 100 * r->conv_t,
               100 * r->conv_c, c1, c2, r->spend_t, r->spend_c, c3, c4, roi, r->small ? "  (small sample)" : "");
    }
}

/* One sentence a marketer reads for a row. */
static tribe_status verdict(tribe_sbuf *b, const tribe_exp_result *r, double conf)
{
    tribe_status st = TRIBE_OK;
    const char *conv = !isfinite(r->conv_abs.lo) ? "cannot be judged"
                       : r->conv_abs.lo > 0      ? "rose"
                       : r->conv_abs.hi < 0      ? "fell"
                                                 : "did not change detectably";
    const char *spend = !isfinite(r->spend_abs.lo) ? "cannot be judged"
                        : r->spend_abs.lo > 0      ? "rose"
                        : r->spend_abs.hi < 0      ? "fell"
                                                   : "did not change detectably";
    TRIBE_TRY(tribe_sbuf_printf(b, "Conversion %s and spend per customer %s (at %g%% confidence)", conv, spend,
                                100 * conf));
    if (isfinite(r->roi.lo))
        TRIBE_TRY(tribe_sbuf_printf(b, r->roi.lo > 0   ? "; the campaign paid for itself"
                                       : r->roi.hi < 0 ? "; the campaign cost more than it brought"
                                                       : "; whether it paid for itself is not yet clear"));
    TRIBE_TRY(tribe_sbuf_add(b, r->small ? ". Few converters: read the intervals, not the estimates." : "."));
cleanup:
    return st;
}

static tribe_status html_ci(tribe_sbuf *b, tribe_exp_ci c, double scale, int decimals, const char *unit)
{
    char buf[128];
    ci_txt(buf, sizeof buf, c, scale, decimals, unit);
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, "<td>"));
    TRIBE_TRY(tribe_html_esc(b, buf));
    TRIBE_TRY(tribe_sbuf_add(b, "</td>"));
cleanup:
    return st;
}

static tribe_status html_section(tribe_sbuf *b, const tribe_exp_table *t, const tribe_exp_assign *a)
{
    tribe_status st = TRIBE_OK;
    char seg[32];
    TRIBE_TRY(tribe_html_section(b, "experiment", "Experiment", "Did the campaign work?"));
    TRIBE_TRY(tribe_sbuf_add(b, "<p class=\"lead\">Campaign <b>"));
    TRIBE_TRY(tribe_html_esc(b, a->campaign));
    TRIBE_TRY(tribe_sbuf_printf(b,
                                "</b>: customers who received it (treatment) against a held-out control group, "
                                "over the %d days from each send day. Lifts are treatment minus control, with "
                                "%g%% confidence intervals (docs/experiments.md). An interval that contains 0 "
                                "means the data cannot tell the campaign from no campaign.%s</p>\n",
                                t->window_days, 100 * t->conf,
                                a->dry_run ? " <b>The treatment was a dry run: nothing was delivered.</b>" : ""));
    TRIBE_TRY(tribe_sbuf_add(b, "<div class=\"card\"><table><tr><th>segment</th><th>treatment</th><th>control</th>"
                                "<th>conversion (t / c)</th><th>conversion lift, points</th><th>relative</th>"
                                "<th>spend per customer (t / c)</th><th>spend lift</th><th>relative</th>"
                                "<th>incremental revenue</th><th>cost</th><th>ROI</th><th>reading</th></tr>\n"));
    for (int i = 0; i < t->nrows; i++) {
        const tribe_exp_result *r = &t->row[i].r;
        TRIBE_TRY(tribe_sbuf_printf(b, "<tr><td>%s</td><td>%lld</td><td>%lld</td><td>%.2f%% / %.2f%%</td>",
                                    seg_name(&t->row[i], seg, sizeof seg), (long long)r->t.n, (long long)r->c.n,
                                    100 * r->conv_t, 100 * r->conv_c));
        TRIBE_TRY(html_ci(b, r->conv_abs, 100, 2, ""));
        TRIBE_TRY(html_ci(b, r->conv_rel, 100, 1, "%"));
        TRIBE_TRY(tribe_sbuf_printf(b, "<td>%.2f / %.2f</td>", r->spend_t, r->spend_c));
        TRIBE_TRY(html_ci(b, r->spend_abs, 1, 2, ""));
        TRIBE_TRY(html_ci(b, r->spend_rel, 100, 1, "%"));
        TRIBE_TRY(html_ci(b, r->incr_revenue, 1, 0, ""));
        TRIBE_TRY(tribe_sbuf_printf(b, "<td>%.0f</td>", r->cost));
        TRIBE_TRY(html_ci(b, r->roi, 100, 0, "%"));
        TRIBE_TRY(tribe_sbuf_add(b, "<td>"));
        TRIBE_TRY(verdict(b, r, t->conf));
        TRIBE_TRY(tribe_sbuf_add(b, "</td></tr>\n"));
    }
    TRIBE_TRY(tribe_sbuf_add(b, "</table></div>\n<p class=\"note\">Conversion: Newcombe's hybrid score interval; "
                                "relative conversion: log risk ratio; spend: Welch's t interval; relative spend: "
                                "delta method on the log ratio of means. Incremental revenue = spend lift x "
                                "treated customers; ROI = (incremental revenue - cost) / cost.</p></section>\n"));
cleanup:
    return st;
}

static tribe_status write_outputs(const measure_opts *mo, const tribe_exp_table *t, const tribe_exp_assign *a)
{
    tribe_status st = TRIBE_OK;
    char dirbuf[4096], name[96], path[4200];
    char *csv = NULL;
    tribe_sbuf h = {0}, sec = {0};
    snprintf(dirbuf, sizeof dirbuf, "%s", mo->outbox);
    const char *dir = mo->out ? mo->out : dirname(dirbuf);
    slug(a->campaign, name, sizeof name);
    TRIBE_TRY(tribe_exp_csv(t, a->campaign, &csv));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/experiment_%s.csv", dir, name));
    TRIBE_TRY(tribe_write_file_atomic(path, csv, strlen(csv)));
    printf("  -> %s\n", path);
    TRIBE_TRY(html_section(&sec, t, a));
    TRIBE_TRY(tribe_sbuf_add(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
                                 "Campaign experiment &middot; "));
    TRIBE_TRY(tribe_html_esc(&h, a->campaign));
    TRIBE_TRY(tribe_sbuf_add(&h, "</title>\n<style>body{font:15px/1.45 system-ui,sans-serif;color:#1f2933;"
                                 "margin:0;background:#f5f7fa}.wrap{max-width:1200px;margin:0 auto;padding:16px}"
                                 ".card{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 3px #0002;"
                                 "overflow-x:auto}table{border-collapse:collapse;font-size:13px}td,th{padding:4px "
                                 "8px;border-bottom:1px solid #e4e7eb;text-align:right}td:last-child,th:last-child"
                                 "{text-align:left}.note{color:#616e7c;font-size:13px}</style></head><body>"
                                 "<main class=\"wrap\">\n"));
    TRIBE_TRY(tribe_sbuf_addn(&h, sec.p, sec.len));
    TRIBE_TRY(tribe_sbuf_add(&h, "</main></body></html>\n"));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/experiment_%s.html", dir, name));
    TRIBE_TRY(tribe_write_file_atomic(path, h.p, h.len));
    printf("  -> %s\n", path);
cleanup:
    free(csv);
    tribe_sbuf_free(&h);
    tribe_sbuf_free(&sec);
    return st;
}

static tribe_status measure(const measure_opts *mo)
{
    tribe_status st = TRIBE_OK;
    tribe_exp_assign a = {0};
    tribe_exp_outcome *o = NULL;
    tribe_exp_tx_stats ts;
    tribe_exp_table t = {0};
    tribe_mapping *m = NULL;
    if (mo->mapping)
        TRIBE_TRY(tribe_mapping_load(mo->mapping, &m));
    TRIBE_TRY(tribe_exp_outbox_read(mo->outbox, mo->campaign, &a));
    TRIBE_TRY(tribe_exp_outcomes_read(mo->transactions, m, &a, mo->window, &o, &ts));
    TRIBE_TRY(tribe_exp_measure(&a, o, mo->conf, mo->cost, &t));
    t.window_days = mo->window;
    int64_t last_send = INT64_MIN;
    for (int64_t i = 0; i < a.n; i++)
        if (a.u[i].day > last_send)
            last_send = a.u[i].day;
    if (ts.last_day < last_send + mo->window - 1)
        TRIBE_WARN("campaign measure: the window of the last send runs %lld day(s) past the transactions' last "
                   "day: its spend is cut short (measure again later, or shorten --window-days)",
                   (long long)(last_send + mo->window - 1 - (ts.last_day == INT64_MIN ? last_send - 1 : ts.last_day)));
    print_table(&t, &a, &ts);
    TRIBE_TRY(write_outputs(mo, &t, &a));
cleanup:
    tribe_exp_table_free(&t);
    free(o);
    tribe_exp_assign_free(&a);
    tribe_mapping_destroy(&m);
    return st;
}

tribe_status tribe_cli_campaign_measure(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    measure_opts mo = {.window = 30, .conf = 0.95};
    int64_t v = 0;
    static const struct option opts[] = {{"outbox", required_argument, 0, 'b'},
                                         {"transactions", required_argument, 0, 't'},
                                         {"campaign", required_argument, 0, 'c'},
                                         {"window-days", required_argument, 0, 'w'},
                                         {"cost-per-message", required_argument, 0, 'k'},
                                         {"confidence", required_argument, 0, 'f'},
                                         {"mapping", required_argument, 0, 'm'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': mo.outbox = optarg; break;
        case 't': mo.transactions = optarg; break;
        case 'c': mo.campaign = optarg; break;
        case 'w':
            TRIBE_TRY(tribe_cli_int("campaign", "--window-days", optarg, 1, 3650, &v));
            mo.window = (int)v;
            break;
        case 'k': TRIBE_TRY(tribe_cli_number("campaign", "--cost-per-message", optarg, 0, 1e9, &mo.cost)); break;
        case 'f': TRIBE_TRY(tribe_cli_number("campaign", "--confidence", optarg, 0.5, 0.999, &mo.conf)); break;
        case 'm': mo.mapping = optarg; break;
        case 'o': mo.out = optarg; break;
        default: return tribe_cli_usage("campaign", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("campaign", "unexpected argument '%s'", argv[optind]);
    if (!mo.outbox || !mo.transactions)
        return tribe_cli_usage("campaign", "measure needs --outbox FILE and --transactions FILE");
    if (tribe_par_rank(par) == 0)
        st = measure(&mo);
cleanup:
    return tribe_par_agree(par, st);
}
