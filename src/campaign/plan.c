/* The channel and offer mapper: segments -> campaign plan (tribe/campaign.h,
 * docs/campaigns.md).
 *
 * Value signal. When the run predicted lifetime value (job key "ltv"), the
 * value of a responding customer is the segment's mean predicted spend over
 * the LTV horizon. Otherwise it is the segment's mean order value: mean
 * monetary / mean frequency when both exist (money per order), else mean
 * avg_order_value, else mean monetary, else 0 (one place: order_value()).
 * Expected value
 * = size x response_rate x order_value: the revenue of one campaign wave if
 * the assumed share of the segment buys one more order. */
#include "tribe/campaign.h"
#include "tribe/sbuf.h"

#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *family, *campaign, *channel, *tone, *timing;
    double response_rate;
} builtin_rule;

/* Rates are planning assumptions (typical retention-marketing ranges: loyal
 * buyers answer far more often than lapsed ones), not measurements; a job
 * overrides them with campaign.rules. "auto" = from the device mix. */
static const builtin_rule BUILTIN[] = {
    {"Champions", "loyalty reward: early access and VIP perks", "auto", "appreciative, exclusive",
     "within 7 days, then monthly", 0.25},
    {"Loyal Customers", "loyalty programme upsell", "auto", "warm, personal", "monthly", 0.20},
    {"Big Spenders", "premium cross-sell", "email", "premium, concise", "every 2 weeks", 0.15},
    {"Potential Loyalists", "membership offer for the next order", "auto", "encouraging",
     "within 7 days of the last order", 0.12},
    {"New Customers", "welcome series", "email", "friendly, helpful", "3 messages over the first 14 days", 0.15},
    {"Promising", "second-purchase incentive", "auto", "upbeat", "within 14 days", 0.10},
    {"Need Attention", "limited-time offer", "auto", "timely, helpful", "within 7 days", 0.08},
    {"About to Sleep", "reminder with recommendations", "email", "gentle", "within 7 days", 0.06},
    {"At Risk", "reactivation offer", "auto", "caring, urgent", "now, reminder after 7 days", 0.06},
    {"Can't Lose Them", "personal win-back with the strongest incentive", "auto", "personal, generous",
     "now, follow-up call after 5 days", 0.08},
    {"Hibernating", "win-back discount", "email", "friendly, low-pressure", "one message, reminder after 14 days",
     0.03},
    {"Lost", "last-chance win-back, then sunset", "email", "brief, respectful", "once", 0.01},
    {"*", "newsletter", "email", "neutral", "monthly", 0.05},
};
#define NBUILTIN (sizeof BUILTIN / sizeof BUILTIN[0])

/* The name without a trailing " <digits>" (the naming stage's uniquifier). */
static void family_of(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s", name ? name : "");
    size_t n = strlen(out), i = n;
    while (i > 0 && isdigit((unsigned char)out[i - 1]))
        i--;
    if (i < n && i > 1 && out[i - 1] == ' ')
        out[i - 1] = '\0';
}

int tribe_campaign_rule_matches(const char *match, const char *segment_name)
{
    if (!match || !segment_name)
        return 0;
    if (strcmp(match, "*") == 0)
        return 1;
    char fam[128];
    family_of(segment_name, fam, sizeof fam);
    return strcasecmp(match, fam) == 0 || strcasecmp(match, segment_name) == 0;
}

const char *tribe_campaign_channel_of_device(const char *device)
{
    if (!device)
        return "email";
    if (strcasecmp(device, "app") == 0)
        return "push";
    if (strcasecmp(device, "mobile") == 0)
        return "sms";
    return "email";
}

static double mean_of(const tribe_segments *s, int c, const char *f)
{
    int j = tribe_segments_feature(s, f);
    return j < 0 ? NAN : s->seg[c].mean[j];
}

static double order_value(const tribe_segments *s, int c, char *basis, size_t cap)
{
    if (isfinite(s->seg[c].ltv_mean)) {
        snprintf(basis, cap, "mean predicted LTV");
        return s->seg[c].ltv_mean;
    }
    double m = mean_of(s, c, "monetary"), f = mean_of(s, c, "frequency"), a = mean_of(s, c, "avg_order_value");
    if (isfinite(m) && isfinite(f) && f > 0) {
        snprintf(basis, cap, "mean monetary / mean frequency");
        return m / f;
    }
    if (isfinite(a)) {
        snprintf(basis, cap, "mean avg_order_value");
        return a;
    }
    if (isfinite(m)) {
        snprintf(basis, cap, "mean monetary");
        return m;
    }
    snprintf(basis, cap, "none (no monetary column)");
    return 0;
}

/* "auto": the channel of the segment's most common device (ties: the level
 * listed first); e-mail when the data has no device mix or no device counts. */
static const char *auto_channel(const tribe_segments *s, int c, char *basis, size_t cap)
{
    for (int x = 0; x < s->n_mix; x++) {
        const tribe_segmix *mx = &s->mix[x];
        if (strcmp(mx->name, "device") != 0)
            continue;
        int64_t tot = 0, best = 0;
        int bl = -1;
        for (int l = 0; l < mx->n_levels; l++) {
            int64_t v = mx->count[(size_t)c * (size_t)mx->n_levels + (size_t)l];
            tot += v;
            if (v > best) {
                best = v;
                bl = l;
            }
        }
        if (bl >= 0) {
            snprintf(basis, cap, "device mix: %.40s %.0f%%", mx->levels[bl], 100.0 * (double)best / (double)tot);
            return tribe_campaign_channel_of_device(mx->levels[bl]);
        }
    }
    snprintf(basis, cap, "no device mix: default");
    return "email";
}

/* Families whose customers have stopped buying: when they used to spend well
 * above the base, the plain reactivation campaign undersells them. */
static int lapsed(const char *family)
{
    static const char *const L[] = {"About to Sleep", "At Risk", "Hibernating", "Lost"};
    for (size_t i = 0; i < sizeof L / sizeof *L; i++)
        if (strcasecmp(family, L[i]) == 0)
            return 1;
    return 0;
}

static const builtin_rule *builtin_of(const char *family)
{
    for (size_t i = 0; i < NBUILTIN; i++)
        if (strcmp(BUILTIN[i].family, family) == 0)
            return &BUILTIN[i];
    return &BUILTIN[NBUILTIN - 1];
}

/* Retention (docs/campaigns.md, "Retention"): with a churn model, a segment
 * whose mean predicted LTV and mean churn risk are both at least the base's
 * (customer-weighted means over the segments) is worth keeping and likely to
 * leave. Lapsed families keep their win-back campaigns, job rules win. */
static const builtin_rule RETENTION = {"Retention", "retention: personal check-in with a loyalty incentive", "auto",
                                       "personal, appreciative", "now, before the churn horizon; reminder after 14 days",
                                       0.0};

/* The customer-weighted mean of a segment figure (NaN if any is NaN). */
static double base_mean(const tribe_segments *s, size_t off)
{
    double num = 0, den = 0;
    for (int c = 0; c < s->k; c++) {
        double v = *(const double *)((const char *)&s->seg[c] + off);
        num += (double)s->seg[c].size * v;
        den += (double)s->seg[c].size;
    }
    return den > 0 ? num / den : NAN;
}

static int retention_due(const tribe_segments *s, int c, double ltv_base, double risk_base)
{
    const tribe_segment *g = &s->seg[c];
    return isfinite(g->churn_mean) && isfinite(g->ltv_mean) && isfinite(ltv_base) && isfinite(risk_base) &&
           g->ltv_mean >= ltv_base && g->churn_mean >= risk_base;
}

static int cmp_ev(const void *a, const void *b)
{
    const tribe_campaign_plan *x = *(const tribe_campaign_plan *const *)a, *y = *(const tribe_campaign_plan *const *)b;
    if (x->expected_value != y->expected_value)
        return x->expected_value > y->expected_value ? -1 : 1;
    return x->segment - y->segment;
}

tribe_status tribe_campaign_plan_build(const tribe_segments *s, const tribe_campaign_rule *rules, int n_rules,
                                       tribe_campaign_plan **out)
{
    tribe_status st = TRIBE_OK;
    tribe_campaign_plan *p = NULL, **order = NULL;
    if (!s || s->k < 1)
        return tribe_fail(TRIBE_ERR_INPUT, "campaign plan: no segments");
    TRIBE_TRY(tribe_calloc((void **)&p, (size_t)s->k, sizeof *p));
    TRIBE_TRY(tribe_calloc((void **)&order, (size_t)s->k, sizeof *order));
    double ltv_base = base_mean(s, offsetof(tribe_segment, ltv_mean));
    double risk_base = base_mean(s, offsetof(tribe_segment, churn_mean));
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        tribe_campaign_plan *r = &p[c];
        r->segment = g->id;
        snprintf(r->segment_name, sizeof r->segment_name, "%s", g->name);
        memcpy(r->currency, s->currency.code, sizeof r->currency);
        family_of(g->name, r->status, sizeof r->status);
        r->size = g->size;
        const builtin_rule *b = &BUILTIN[NBUILTIN - 1];
        for (size_t i = 0; i < NBUILTIN; i++)
            if (tribe_campaign_rule_matches(BUILTIN[i].family, g->name)) {
                b = &BUILTIN[i];
                break;
            }
        r->value_index = isfinite(g->revenue_share) && g->share > 0 ? g->revenue_share / g->share : NAN;
        snprintf(r->value_tier, sizeof r->value_tier, "%s",
                 !isfinite(r->value_index) ? "unknown" : r->value_index >= 1.5 ? "high"
                                                     : r->value_index < 0.67  ? "low"
                                                                              : "mid");
        const tribe_campaign_rule *j = NULL;
        for (int i = 0; i < n_rules && !j; i++)
            if (tribe_campaign_rule_matches(rules[i].segment_match, g->name)) {
                j = &rules[i];
                snprintf(r->rule, sizeof r->rule, "campaign.rules[%d]", i);
            }
        double own_rate = b->response_rate;
        if (!j && lapsed(b->family) && strcmp(r->value_tier, "high") == 0) {
            snprintf(r->rule, sizeof r->rule, "built-in: %.20s (high value)", b->family);
            b = builtin_of("Can't Lose Them");
        } else if (!j && !lapsed(b->family) && retention_due(s, c, ltv_base, risk_base)) {
            snprintf(r->rule, sizeof r->rule, "built-in: retention (%.20s)", b->family);
            b = &RETENTION; /* the family's response rate stays */
        } else if (!j) {
            snprintf(r->rule, sizeof r->rule, "built-in: %.28s", b->family);
        }
        r->churn_risk = g->churn_mean;
        snprintf(r->campaign, sizeof r->campaign, "%s", j && j->campaign ? j->campaign : b->campaign);
        snprintf(r->tone, sizeof r->tone, "%s", j && j->tone ? j->tone : b->tone);
        snprintf(r->timing, sizeof r->timing, "%s", j && j->timing ? j->timing : b->timing);
        r->response_rate = j && isfinite(j->response_rate) ? j->response_rate : own_rate;
        const char *ch = j && j->channel ? j->channel : b->channel;
        if (strcmp(ch, "auto") == 0)
            ch = auto_channel(s, c, r->channel_basis, sizeof r->channel_basis);
        else
            snprintf(r->channel_basis, sizeof r->channel_basis, "rule");
        snprintf(r->channel, sizeof r->channel, "%s", ch);
        r->order_value = order_value(s, c, r->value_basis, sizeof r->value_basis);
        int jm = tribe_segments_feature(s, "monetary");
        r->mean_monetary = jm < 0 ? NAN : g->mean[jm];
        r->median_monetary = jm < 0 ? NAN : g->median[jm];
        r->revenue_share = g->revenue_share;
        r->expected_value = (double)r->size * r->response_rate * r->order_value;
        /* the offer: the segment's first offer (highest lift), if any */
        snprintf(r->offer, sizeof r->offer, "%s", g->n_offers > 0 ? g->offer[0].name : "");
        r->offer_lift = g->n_offers > 0 ? g->offer[0].lift : NAN;
        order[c] = r;
    }
    qsort(order, (size_t)s->k, sizeof *order, cmp_ev);
    for (int c = 0; c < s->k; c++)
        order[c]->priority = c + 1;
    *out = p;
    p = NULL;
cleanup:
    free(p);
    free(order);
    return st;
}

void tribe_campaign_plan_destroy(tribe_campaign_plan **p)
{
    if (!p)
        return;
    free(*p);
    *p = NULL;
}

/* A text cell (tribe_csv_cell: quoting and the formula rule), then the separator. */
static tribe_status csv_field(tribe_sbuf *b, const char *v, int last)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_csv_cell(b, v));
    TRIBE_TRY(tribe_sbuf_add(b, last ? "\r\n" : ","));
cleanup:
    return st;
}

/* A number tribe formats: written as it is (a negative one keeps its sign). */
static tribe_status csv_num(tribe_sbuf *b, double v, int last)
{
    char buf[64] = "";
    if (isfinite(v))
        snprintf(buf, sizeof buf, "%.10g", v);
    return tribe_sbuf_printf(b, "%s%s", buf, last ? "\r\n" : ",");
}

static tribe_status csv_int(tribe_sbuf *b, long long v)
{
    return tribe_sbuf_printf(b, "%lld,", v);
}

tribe_status tribe_campaign_plan_csv_text(const tribe_campaign_plan *p, int k, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    int churn = 0; /* the churn column only when the run has a churn model */
    for (int c = 0; c < k; c++)
        churn |= isfinite(p[c].churn_risk);
    TRIBE_TRY(tribe_sbuf_printf(&b, "segment_id,segment_name,rfm_status,size,campaign,channel,channel_basis,tone,timing,"
                                 "response_rate,order_value,value_basis,mean_monetary,median_monetary,revenue_share,"
                                 "value_index,value_tier,expected_value,priority,rule,%scurrency,offer,offer_lift\r\n",
                                 churn ? "churn_risk," : ""));
    for (int c = 0; c < k; c++) {
        const tribe_campaign_plan *r = &p[c];
        TRIBE_TRY(csv_int(&b, r->segment));
        TRIBE_TRY(csv_field(&b, r->segment_name, 0));
        TRIBE_TRY(csv_field(&b, r->status, 0));
        TRIBE_TRY(csv_int(&b, (long long)r->size));
        TRIBE_TRY(csv_field(&b, r->campaign, 0));
        TRIBE_TRY(csv_field(&b, r->channel, 0));
        TRIBE_TRY(csv_field(&b, r->channel_basis, 0));
        TRIBE_TRY(csv_field(&b, r->tone, 0));
        TRIBE_TRY(csv_field(&b, r->timing, 0));
        TRIBE_TRY(csv_num(&b, r->response_rate, 0));
        TRIBE_TRY(csv_num(&b, r->order_value, 0));
        TRIBE_TRY(csv_field(&b, r->value_basis, 0));
        TRIBE_TRY(csv_num(&b, r->mean_monetary, 0));
        TRIBE_TRY(csv_num(&b, r->median_monetary, 0));
        TRIBE_TRY(csv_num(&b, r->revenue_share, 0));
        TRIBE_TRY(csv_num(&b, r->value_index, 0));
        TRIBE_TRY(csv_field(&b, r->value_tier, 0));
        TRIBE_TRY(csv_num(&b, r->expected_value, 0));
        TRIBE_TRY(csv_int(&b, r->priority));
        TRIBE_TRY(csv_field(&b, r->rule, 0));
        if (churn)
            TRIBE_TRY(csv_num(&b, r->churn_risk, 0));
        TRIBE_TRY(csv_field(&b, r->currency, 0));
        TRIBE_TRY(csv_field(&b, r->offer, 0));
        TRIBE_TRY(csv_num(&b, r->offer_lift, 1));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

tribe_status tribe_campaign_plan_csv(const char *path, const tribe_campaign_plan *p, int k)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    TRIBE_TRY(tribe_campaign_plan_csv_text(p, k, &text));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
cleanup:
    free(text);
    return st;
}
