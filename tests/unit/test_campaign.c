/* Unit tests for src/campaign: the plan mapper and its job rules, the
 * expected-value formula, SHA-256 / HMAC-SHA256 / base64 against published
 * vectors, Standard Webhooks signatures, contacts, and the dry-run send
 * (batching, skips by reason, frequency cap, outbox lines). */
#include "testutil.h"
#include "tribe/campaign.h"
#include "htmlfix.h"
#include "tribe/persona.h"
#include "tribe/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segfix.h"


static void rule_match_should_use_the_name_family_ignoring_case(void)
{
    CU_ASSERT(tribe_campaign_rule_matches("At Risk", "At Risk"));
    CU_ASSERT(tribe_campaign_rule_matches("at risk", "At Risk 2"));
    CU_ASSERT_FALSE(tribe_campaign_rule_matches("At Risk", "At Risky"));
    CU_ASSERT_FALSE(tribe_campaign_rule_matches("Lost", "Loyal Customers"));
    CU_ASSERT(tribe_campaign_rule_matches("*", "Segment 4"));
    CU_ASSERT(tribe_campaign_rule_matches("Segment 4", "Segment 4"));
    CU_ASSERT_STRING_EQUAL(tribe_campaign_channel_of_device("app"), "push");
    CU_ASSERT_STRING_EQUAL(tribe_campaign_channel_of_device("mobile"), "sms");
    CU_ASSERT_STRING_EQUAL(tribe_campaign_channel_of_device("desktop"), "email");
    CU_ASSERT_STRING_EQUAL(tribe_campaign_channel_of_device("tablet"), "email");
}

static void plan_should_map_rfm_status_to_the_builtin_campaigns(void)
{
    tribe_segments *s = fixture_segments();
    tribe_campaign_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    /* Champions: loyalty reward, channel from the device mix (app is the largest level -> push). */
    CU_ASSERT_PTR_NOT_NULL(strstr(p[0].campaign, "loyalty reward"));
    CU_ASSERT_STRING_EQUAL(p[0].channel, "push");
    CU_ASSERT_PTR_NOT_NULL(strstr(p[0].channel_basis, "app"));
    CU_ASSERT_STRING_EQUAL(p[0].rule, "built-in: Champions");
    /* Loyal Customers: desktop is the largest level -> e-mail. */
    CU_ASSERT_STRING_EQUAL(p[1].channel, "email");
    CU_ASSERT_PTR_NOT_NULL(strstr(p[1].channel_basis, "desktop"));
    CU_ASSERT_STRING_EQUAL(p[2].campaign, "welcome series");
    CU_ASSERT_STRING_EQUAL(p[2].channel_basis, "rule");
    CU_ASSERT_STRING_EQUAL(p[3].campaign, "reactivation offer");
    CU_ASSERT_STRING_EQUAL(p[4].campaign, "win-back discount");
    for (int c = 0; c < FIX_K; c++) {
        CU_ASSERT_EQUAL(p[c].segment, c);
        CU_ASSERT_EQUAL(p[c].size, FIX_SIZE[c]);
        CU_ASSERT_STRING_EQUAL(p[c].status, FIX_NAMES[c]);
        CU_ASSERT(p[c].response_rate > 0 && p[c].response_rate <= 1);
    }
    tribe_campaign_plan_destroy(&p);
    CU_ASSERT_PTR_NULL(p);
    tribe_campaign_plan_destroy(NULL);
    tribe_segments_destroy(&s);
}

static void high_value_lapsed_segments_should_get_the_cant_lose_them_treatment(void)
{
    /* Champions' figures (revenue index 4.35) under a lapsed name; At Risk's own (0.47) stay plain. */
    static const char *const names[FIX_K] = {"At Risk", "Loyal Customers", "New Customers", "At Risk 2", "Lost"};
    tribe_segments *s = fixture_segments_named(names);
    tribe_campaign_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[0].value_tier, "high");
    CU_ASSERT_DOUBLE_EQUAL(p[0].value_index, FIX_REV[0] / s->seg[0].share, 1e-12);
    CU_ASSERT_STRING_EQUAL(p[0].campaign, "personal win-back with the strongest incentive");
    CU_ASSERT_STRING_EQUAL(p[0].rule, "built-in: At Risk (high value)");
    CU_ASSERT_DOUBLE_EQUAL(p[0].response_rate, 0.06, 1e-12); /* the At Risk rate, not the Can't Lose Them one */
    CU_ASSERT_STRING_EQUAL(p[3].value_tier, "low");
    CU_ASSERT_STRING_EQUAL(p[3].campaign, "reactivation offer");
    CU_ASSERT_STRING_EQUAL(p[3].status, "At Risk");
    CU_ASSERT_STRING_EQUAL(p[1].value_tier, "mid");
    tribe_campaign_plan_destroy(&p);
    /* a job rule for the family wins over the high-value treatment */
    tribe_campaign_rule r = {.segment_match = "At Risk", .campaign = "mine", .response_rate = NAN};
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, &r, 1, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[0].campaign, "mine");
    CU_ASSERT_STRING_EQUAL(p[0].tone, "caring, urgent");
    tribe_campaign_plan_destroy(&p);
    tribe_segments_destroy(&s);
}

static void expected_value_should_be_size_times_rate_times_order_value(void)
{
    tribe_segments *s = fixture_segments();
    tribe_campaign_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    int seen[FIX_K + 1] = {0};
    for (int c = 0; c < FIX_K; c++) {
        /* fixture means: median * 1.21 + 0.37 */
        double mon = FIX_MEDIAN[c][2] * 1.21 + 0.37, freq = FIX_MEDIAN[c][1] * 1.21 + 0.37;
        CU_ASSERT_DOUBLE_EQUAL(p[c].order_value, mon / freq, 1e-9);
        CU_ASSERT_STRING_EQUAL(p[c].value_basis, "mean monetary / mean frequency");
        CU_ASSERT_DOUBLE_EQUAL(p[c].expected_value, (double)FIX_SIZE[c] * p[c].response_rate * mon / freq, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(p[c].mean_monetary, mon, 1e-9);
        CU_ASSERT(p[c].priority >= 1 && p[c].priority <= FIX_K);
        seen[p[c].priority]++;
    }
    /* priorities are a permutation ordered by expected value */
    for (int r = 1; r <= FIX_K; r++)
        CU_ASSERT_EQUAL(seen[r], 1);
    for (int a = 0; a < FIX_K; a++)
        for (int b = 0; b < FIX_K; b++)
            if (p[a].priority < p[b].priority)
                CU_ASSERT(p[a].expected_value >= p[b].expected_value);
    /* Champions: 612 x 0.25 x (5215.98 / 14.89) */
    CU_ASSERT_DOUBLE_EQUAL(p[0].expected_value, 612 * 0.25 * (4310.5 * 1.21 + 0.37) / (12 * 1.21 + 0.37), 1e-6);
    tribe_campaign_plan_destroy(&p);

    /* Without a frequency column the value falls back to avg_order_value. */
    int jf = tribe_segments_feature(s, "frequency");
    free(s->feature_names[jf]);
    s->feature_names[jf] = strdup("orders_renamed");
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[0].value_basis, "mean avg_order_value");
    CU_ASSERT_DOUBLE_EQUAL(p[0].order_value, 352.1 * 1.21 + 0.37, 1e-9);
    tribe_campaign_plan_destroy(&p);
    tribe_segments_destroy(&s);
}

/* Retention (docs/campaigns.md): above the base's customer-weighted mean LTV
 * and mean churn risk, not lapsed, no job rule. Loyal Customers qualifies;
 * Champions (low risk) and New Customers (low value) do not; At Risk, a
 * lapsed family, keeps its own campaign. */
static void valuable_risky_segments_should_get_a_retention_campaign(void)
{
    tribe_segments *s = fixture_segments();
    tribe_campaign_plan *p = NULL;
    char *csv = NULL;
    static const double ltv[FIX_K] = {900, 600, 50, 700, 10}, risk[FIX_K] = {0.1, 0.7, 0.8, 0.6, 0.5};
    for (int c = 0; c < FIX_K; c++) {
        s->seg[c].ltv_mean = ltv[c];
        s->seg[c].churn_mean = risk[c];
    }
    double n = 0, lb = 0, rb = 0;
    for (int c = 0; c < FIX_K; c++) {
        n += (double)FIX_SIZE[c];
        lb += (double)FIX_SIZE[c] * ltv[c];
        rb += (double)FIX_SIZE[c] * risk[c];
    }
    CU_ASSERT_FATAL(ltv[1] >= lb / n && risk[1] >= rb / n && risk[0] < rb / n && ltv[2] < lb / n);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[1].rule, "built-in: retention (Loyal Customers)");
    CU_ASSERT_PTR_NOT_NULL(strstr(p[1].campaign, "retention"));
    CU_ASSERT_DOUBLE_EQUAL(p[1].response_rate, 0.20, 0); /* the family's own rate */
    CU_ASSERT_STRING_EQUAL(p[0].rule, "built-in: Champions");
    CU_ASSERT_STRING_EQUAL(p[2].campaign, "welcome series");
    CU_ASSERT_PTR_NULL(strstr(p[3].rule, "retention"));
    CU_ASSERT_DOUBLE_EQUAL(p[1].churn_risk, 0.7, 0);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_csv_text(p, FIX_K, &csv), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",rule,churn_risk,currency,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "built-in: retention (Loyal Customers),0.7,"));
    free(csv);
    csv = NULL;
    tribe_campaign_plan_destroy(&p);
    /* without a churn model: no retention, no churn column */
    for (int c = 0; c < FIX_K; c++)
        s->seg[c].churn_mean = NAN;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[1].rule, "built-in: Loyal Customers");
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_csv_text(p, FIX_K, &csv), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(csv, "churn_risk"));
    free(csv);
    tribe_campaign_plan_destroy(&p);
    tribe_segments_destroy(&s);
}

static void predicted_ltv_should_be_the_value_signal_when_given(void)
{
    tribe_segments *s = fixture_segments();
    tribe_campaign_plan *p = NULL, *q = NULL;
    double ltv[FIX_K];
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &q), TRIBE_OK); /* no LTV model */
    for (int c = 0; c < FIX_K; c++)
        ltv[c] = 10.0 * (c + 1); /* reverse of the monetary order: priorities must follow it */
    ltv[1] = NAN;                /* a segment without a finite LTV keeps the order value */
    for (int c = 0; c < FIX_K; c++)
        s->seg[c].ltv_mean = ltv[c];
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &p), TRIBE_OK);
    for (int c = 0; c < FIX_K; c++) {
        if (c == 1) {
            CU_ASSERT_STRING_EQUAL(p[c].value_basis, "mean monetary / mean frequency");
            CU_ASSERT_DOUBLE_EQUAL(p[c].order_value, q[c].order_value, 0);
            continue;
        }
        CU_ASSERT_STRING_EQUAL(p[c].value_basis, "mean predicted LTV");
        CU_ASSERT_DOUBLE_EQUAL(p[c].order_value, ltv[c], 0);
        CU_ASSERT_DOUBLE_EQUAL(p[c].expected_value, (double)FIX_SIZE[c] * p[c].response_rate * ltv[c], 1e-9);
    }
    tribe_campaign_plan_destroy(&p);
    tribe_campaign_plan_destroy(&q);
    tribe_segments_destroy(&s);
}

/* The rules of a spec's "campaign" object, read strictly (caller frees). */
static tribe_status read_rules(const char *text, tribe_campaign_rule **rules, int *n)
{
    tribe_spec *spec = NULL, *c = NULL;
    tribe_status st = tribe_spec_parse("/j/job.json", text, &spec);
    if (st == TRIBE_OK)
        st = tribe_spec_object(spec, "campaign", &c);
    if (st == TRIBE_OK)
        st = tribe_campaign_rules_read(c, rules, n);
    if (st == TRIBE_OK)
        st = tribe_spec_finish(spec);
    if (st != TRIBE_OK) {
        tribe_campaign_rules_free(*rules, *n);
        *rules = NULL;
        *n = 0;
    }
    tribe_spec_destroy(&spec);
    return st;
}

static void job_rules_should_override_builtin_fields_and_keep_the_rest(void)
{
    tribe_campaign_rule *rules = NULL;
    int n_rules = 0;
    const char *text = "{\"campaign\": {\"rules\": ["
                       "{\"segment_match\": \"at risk\", \"channel\": \"sms\", \"response_rate\": 0.1},"
                       "{\"segment_match\": \"*\", \"campaign\": \"catch-all\", \"channel\": \"auto\"}]}}";
    CU_ASSERT_EQUAL_FATAL(read_rules(text, &rules, &n_rules), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(n_rules, 2);
    CU_ASSERT(isnan(rules[1].response_rate));
    tribe_segments *s = fixture_segments();
    tribe_campaign_plan *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, rules, n_rules, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p[3].rule, "campaign.rules[0]");
    CU_ASSERT_STRING_EQUAL(p[3].channel, "sms");
    CU_ASSERT_STRING_EQUAL(p[3].campaign, "reactivation offer"); /* left out: the built-in's */
    CU_ASSERT_DOUBLE_EQUAL(p[3].response_rate, 0.1, 1e-12);
    for (int c = 0; c < FIX_K; c++)
        if (c != 3) {
            CU_ASSERT_STRING_EQUAL(p[c].rule, "campaign.rules[1]");
            CU_ASSERT_STRING_EQUAL(p[c].campaign, "catch-all");
        }
    /* "*" with channel auto: Hibernating's largest device is desktop -> email; rate from its built-in rule */
    CU_ASSERT_STRING_EQUAL(p[4].channel, "email");
    CU_ASSERT_DOUBLE_EQUAL(p[4].response_rate, 0.03, 1e-12);
    char *csv = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_csv_text(p, FIX_K, &csv), TRIBE_OK);
    CU_ASSERT_EQUAL(strncmp(csv, "segment_id,segment_name,rfm_status,size,campaign,channel,", 57), 0);
    int lines = 0;
    for (const char *q = csv; *q; q++)
        lines += *q == '\n';
    CU_ASSERT_EQUAL(lines, FIX_K + 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\"caring, urgent\"")); /* a field with a comma is quoted */
    free(csv);
    tribe_campaign_plan_destroy(&p);
    tribe_segments_destroy(&s);
    tribe_campaign_rules_free(rules, n_rules);
}

static void job_spec_should_reject_bad_campaign_rules_naming_the_key(void)
{
    tribe_campaign_rule *rules = NULL;
    int n = 0;
    static const struct {
        const char *rules, *needle;
    } bad[] = {
        {"[{\"segment_match\": \"Lost\", \"tonee\": \"x\"}]", "campaign.rules[0].tonee"},
        {"[{\"segment_match\": \"Lost\"}, {\"campaign\": \"x\"}]", "campaign.rules[1].segment_match"},
        {"[{\"segment_match\": \"Lost\", \"response_rate\": 1.5}]", "campaign.rules[0].response_rate"},
        {"[{\"segment_match\": \"Lost\", \"channel\": \"fax\"}]", "campaign.rules[0].channel"},
        {"[{\"segment_match\": 3}]", "campaign.rules[0].segment_match"},
        {"[\"Lost\"]", "campaign.rules[0]"},
        {"{\"segment_match\": \"Lost\"}", "campaign.rules"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"campaign\": {\"rules\": %s}}", bad[i].rules);
        CU_ASSERT_EQUAL(read_rules(text, &rules, &n), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NULL(rules);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), bad[i].needle));
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "/j/job.json"));
    }
    CU_ASSERT_EQUAL(read_rules("{\"campaign\": {\"x\": 1}}", &rules, &n), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "campaign.x"));
}

static void report_should_show_the_plan_only_when_given_and_escape_it(void)
{
    tribe_segments *s = fixture_segments();
    tribe_campaign_rule r = {.segment_match = "Lost", .campaign = "<b>sunset</b> & co", .response_rate = NAN};
    tribe_campaign_rule rules[2] = {r, r};
    rules[0].segment_match = "Hibernating";
    tribe_campaign_plan *p = NULL;
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, rules, 2, &p), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_report_personas(&b, s, NULL, p, NULL), TRIBE_OK);
    char *without = page_html(s, b.p);
    CU_ASSERT_EQUAL_FATAL(tribe_report_campaign(&b, s, p), TRIBE_OK);
    char *with = page_html(s, b.p);
    tribe_sbuf_free(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(with, "<section id=\"campaigns\" data-nav=\"Campaigns\"><h2>Campaign plan</h2>"));
    CU_ASSERT_PTR_NULL(strstr(without, "id=\"campaigns\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(with, "&lt;b&gt;sunset&lt;/b&gt; &amp; co"));
    CU_ASSERT_PTR_NULL(strstr(with, "<b>sunset"));
    CU_ASSERT_PTR_NOT_NULL(strstr(with, "reactivation offer"));
    /* the section sits between the personas and the data-quality section */
    CU_ASSERT(strstr(with, "id=\"personas\"") < strstr(with, "id=\"campaigns\""));
    CU_ASSERT(strstr(with, "id=\"campaigns\"") < strstr(with, "id=\"quality\""));
    free(with);
    free(without);
    tribe_campaign_plan_destroy(&p);
    tribe_segments_destroy(&s);
}

static void hex_of(const uint8_t *d, char *out) { tribe_hex(d, 32, out); }

static void sha256_should_match_the_fips_vectors(void)
{
    uint8_t h[32];
    char hex[65];
    tribe_sha256("", 0, h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    tribe_sha256("abc", 3, h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    tribe_sha256(m, strlen(m), h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* a million 'a', fed in uneven pieces */
    tribe_sha256_ctx c;
    char a[997];
    memset(a, 'a', sizeof a);
    tribe_sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof a ? left : sizeof a;
        tribe_sha256_update(&c, a, n);
        left -= n;
    }
    tribe_sha256_final(&c, h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void hmac_sha256_should_match_rfc_4231(void)
{
    uint8_t h[32], key[131];
    char hex[65];
    const char *d2 = "what do ya want for nothing?";
    tribe_hmac_sha256("Jefe", 4, d2, strlen(d2), h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0x0b, 20);
    tribe_hmac_sha256(key, 20, "Hi There", 8, h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    memset(key, 0xaa, sizeof key); /* longer than a block: the key is hashed first */
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    tribe_hmac_sha256(key, sizeof key, d6, strlen(d6), h);
    hex_of(h, hex);
    CU_ASSERT_STRING_EQUAL(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void base64_should_match_rfc_4648_and_round_trip(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[32];
    uint8_t dec[32];
    size_t n = 0;
    for (int i = 0; i < 7; i++) {
        CU_ASSERT_EQUAL(tribe_base64_encode((const uint8_t *)in[i], strlen(in[i]), enc), strlen(out[i]));
        CU_ASSERT_STRING_EQUAL(enc, out[i]);
        CU_ASSERT_EQUAL_FATAL(tribe_base64_decode(out[i], dec, sizeof dec, &n), TRIBE_OK);
        CU_ASSERT_EQUAL(n, strlen(in[i]));
        CU_ASSERT_EQUAL(memcmp(dec, in[i], n), 0);
    }
    CU_ASSERT_EQUAL(tribe_base64_decode("Zm9v!", dec, sizeof dec, &n), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_base64_decode("Zm9vYmFy", dec, 3, &n), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_base64_decode("Z", dec, sizeof dec, &n), TRIBE_ERR_INPUT);
}

static void webhook_signature_should_match_the_standard_webhooks_vector(void)
{
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const char *body = "{\"test\": 2432232314}";
    char sig[TRIBE_WEBHOOK_SIG_MAX];
    CU_ASSERT_EQUAL_FATAL(tribe_webhook_sign(secret, id, 1614265330, body, strlen(body), sig), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "1614265330", body, strlen(body), sig, 1614265330, 300), TRIBE_OK);
    /* several signatures (key rotation): one match is enough */
    char two[200];
    snprintf(two, sizeof two, "v1,AAAA %s", sig);
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "1614265330", body, strlen(body), two, 0, 0), TRIBE_OK);
    /* tampered body, other id, other timestamp, stale timestamp, wrong secret */
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "1614265330", "{\"test\": 1}", 11, sig, 0, 0), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), id));
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, "msg_x", "1614265330", body, strlen(body), sig, 0, 0),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "1614265331", body, strlen(body), sig, 0, 0), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "1614265330", body, strlen(body), sig, 1614265330 + 301, 300),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_webhook_verify("whsec_AAAA", id, "1614265330", body, strlen(body), sig, 0, 0),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, "16x", body, strlen(body), sig, 0, 0), TRIBE_ERR_INPUT);
    /* the timestamp exactly as signed: no sign, space or leading zeros */
    static const char *const forms[] = {"+1614265330", "01614265330", " 1614265330", "1614265330 ", "", "-1"};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
        CU_ASSERT_EQUAL(tribe_webhook_verify(secret, id, forms[i], body, strlen(body), sig, 0, 0), TRIBE_ERR_INPUT);
    /* a plain (non-whsec_) secret is used as its own bytes */
    CU_ASSERT_EQUAL_FATAL(tribe_webhook_sign("s3cret", "m1", 5, "b", 1, sig), TRIBE_OK);
    uint8_t mac[32];
    char b64[64], want[80];
    tribe_hmac_sha256("s3cret", 6, "m1.5.b", 6, mac);
    tribe_base64_encode(mac, 32, b64);
    snprintf(want, sizeof want, "v1,%s", b64);
    CU_ASSERT_STRING_EQUAL(sig, want);
}

static void batch_key_should_depend_on_every_part_and_nothing_else(void)
{
    int64_t a[3] = {1, 2, 3}, b[3] = {1, 2, 4};
    char k1[65], k2[65];
    tribe_campaign_batch_key("r1", 2, "win-back", "email", a, 3, k1);
    tribe_campaign_batch_key("r1", 2, "win-back", "email", a, 3, k2);
    CU_ASSERT_STRING_EQUAL(k1, k2);
    CU_ASSERT_EQUAL(strlen(k1), 64);
    tribe_campaign_batch_key("r1", 2, "win-back", "email", b, 3, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    tribe_campaign_batch_key("r2", 2, "win-back", "email", a, 3, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    tribe_campaign_batch_key("r1", 3, "win-back", "email", a, 3, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    tribe_campaign_batch_key("r1", 2, "welcome", "email", a, 3, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    tribe_campaign_batch_key("r1", 2, "win-back", "sms", a, 3, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
    tribe_campaign_batch_key("r1", 2, "win-back", "email", a, 2, k2);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static int64_t count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    int64_t n = 0;
    while (fgets(line, sizeof line, f))
        n += !needle || strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void contacts_should_be_read_sorted_and_checked(void)
{
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    snprintf(path, sizeof path, "%s/c.csv", dir);
    write_text(path, "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n30,c@example.com,,1,0\n10,,+447700900001,0,1\n"
                     "20,b@example.com,+447700900002,1,1\n");
    tribe_contacts *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_contacts_read(path, &cs), TRIBE_OK);
    CU_ASSERT_EQUAL(cs->n, 3);
    CU_ASSERT_EQUAL(cs->c[0].id, 10);
    CU_ASSERT_PTR_NULL(cs->c[0].email);
    CU_ASSERT_STRING_EQUAL(tribe_contacts_find(cs, 20)->email, "b@example.com");
    CU_ASSERT_PTR_NULL(tribe_contacts_find(cs, 25));
    CU_ASSERT_PTR_NULL(tribe_contacts_find(cs, 31));
    CU_ASSERT_EQUAL(tribe_contacts_find(cs, 30)->sms_optin, 0);
    tribe_contacts_destroy(&cs);
    CU_ASSERT_PTR_NULL(cs);
    write_text(path, "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n1,a@example.com,,maybe,0\n");
    CU_ASSERT_EQUAL(tribe_contacts_read(path, &cs), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), ":2: EmailOptIn"));
    write_text(path, "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n1,a@example.com,,1,0\n1,b@example.com,,1,0\n");
    CU_ASSERT_EQUAL(tribe_contacts_read(path, &cs), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "appears twice"));
    write_text(path, "CustomerID,Email\n1,a@example.com\n");
    CU_ASSERT_EQUAL(tribe_contacts_read(path, &cs), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(cs);
}

/* Dry run over 2,600 customers: every customer lands in exactly one bucket,
 * batches hold at most batch_size recipients, the outbox has one line per
 * customer, and a second send with a cap of 1 after a "sent" history skips
 * exactly the customers in the history. */
static void dry_run_should_batch_count_every_skip_and_cap_from_history(void)
{
    char dir[256], cpath[300], spath[300], obox[300];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    snprintf(cpath, sizeof cpath, "%s/contacts.csv", dir);
    snprintf(spath, sizeof spath, "%s/suppress.txt", dir);
    snprintf(obox, sizeof obox, "%s/outbox.jsonl", dir);
    enum { N = 2600 };
    static int64_t ids[N];
    FILE *f = fopen(cpath, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n", f);
    int64_t want_nocontact = 0, want_optout = 0, want_supp = 0;
    for (int i = 0; i < N; i++) {
        ids[i] = 1000 + i;
        if (i % 50 == 7) { /* no contact row at all */
            want_nocontact++;
            continue;
        }
        if (i % 50 == 8) { /* a row without an e-mail */
            fprintf(f, "%d,,+447700900123,0,1\n", 1000 + i);
            want_nocontact++;
            continue;
        }
        int optin = i % 25 != 3;
        want_optout += !optin;
        fprintf(f, "%d,Customer%d@Example.com,,%d,0\n", 1000 + i, 1000 + i, optin);
        if (optin && i % 100 == 11)
            want_supp++;
    }
    fclose(f);
    f = fopen(spath, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("# suppression list\n", f);
    for (int i = 0; i < N; i++)
        if (i % 100 == 11)
            fprintf(f, "  customer%d@example.com \n", 1000 + i); /* case and spaces do not matter */
    fclose(f);

    tribe_contacts *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_contacts_read(cpath, &cs), TRIBE_OK);
    tribe_send_cfg cfg;
    tribe_send_cfg_defaults(&cfg);
    cfg.run_id = "r1";
    cfg.segment = 2;
    cfg.campaign = "win-back";
    cfg.outbox = obox;
    cfg.subject = "s";
    cfg.body = "b";
    cfg.suppress_path = spath;
    cfg.now = 1700000000;
    tribe_send_stats st;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_send(&cfg, ids, N, cs, &st), TRIBE_OK);
    int64_t eligible = N - want_nocontact - want_optout - want_supp;
    CU_ASSERT_EQUAL(st.customers, N);
    CU_ASSERT_EQUAL(st.no_contact, want_nocontact);
    CU_ASSERT_EQUAL(st.opted_out, want_optout);
    CU_ASSERT_EQUAL(st.suppressed, want_supp);
    CU_ASSERT_EQUAL(st.dry_run, eligible);
    CU_ASSERT_EQUAL(st.sent + st.capped + st.failed + st.attempts, 0);
    CU_ASSERT_EQUAL(st.requests, (eligible + TRIBE_SEND_MAX_BATCH - 1) / TRIBE_SEND_MAX_BATCH);
    CU_ASSERT_EQUAL(st.outbox_lines, N);
    CU_ASSERT_EQUAL(count_lines(obox, NULL), N);
    CU_ASSERT_EQUAL(count_lines(obox, "\"reason\": \"no_contact\""), want_nocontact);

    /* smaller batches: more requests, same buckets */
    cfg.batch_size = 7;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_send(&cfg, ids, N, cs, &st), TRIBE_OK);
    CU_ASSERT_EQUAL(st.requests, (eligible + 6) / 7);
    CU_ASSERT_EQUAL(st.dry_run, eligible);

    /* A history of "sent" lines (as a real send writes them) caps those customers;
     * one outside the window does not count. */
    FILE *h = fopen(obox, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    fprintf(h, "{\"ts\": 1699999000, \"run_id\": \"r0\", \"segment\": 2, \"campaign\": \"x\", \"channel\": \"email\", "
               "\"customer\": 1000, \"to\": null, \"request\": null, \"attempt\": 1, \"status\": \"sent\", \"http\": 202, "
               "\"reason\": \"\"}\n");
    fprintf(h, "{\"ts\": 1699999000, \"run_id\": \"r0\", \"segment\": 2, \"campaign\": \"x\", \"channel\": \"email\", "
               "\"customer\": 1001, \"to\": null, \"request\": null, \"attempt\": 1, \"status\": \"sent\", \"http\": 202, "
               "\"reason\": \"\"}\n");
    fprintf(h, "{\"ts\": 1600000000, \"run_id\": \"r0\", \"segment\": 2, \"campaign\": \"x\", \"channel\": \"email\", "
               "\"customer\": 1002, \"to\": null, \"request\": null, \"attempt\": 1, \"status\": \"sent\", \"http\": 202, "
               "\"reason\": \"\"}\n");
    fclose(h);
    cfg.max_per_customer = 1;
    cfg.batch_size = TRIBE_SEND_MAX_BATCH;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_send(&cfg, ids, N, cs, &st), TRIBE_OK);
    CU_ASSERT_EQUAL(st.capped, 2);
    CU_ASSERT_EQUAL(st.dry_run, eligible - 2);
    CU_ASSERT_EQUAL(st.no_contact + st.opted_out + st.suppressed + st.capped + st.dry_run + st.sent + st.failed, N);

    /* bad configuration */
    cfg.channel = "fax";
    CU_ASSERT_EQUAL(tribe_campaign_send(&cfg, ids, N, cs, &st), TRIBE_ERR_USAGE);
    cfg.channel = "email";
    cfg.batch_size = TRIBE_SEND_MAX_BATCH + 1;
    CU_ASSERT_EQUAL(tribe_campaign_send(&cfg, ids, N, cs, &st), TRIBE_ERR_USAGE);
    tribe_contacts_destroy(&cs);
}


/* A run directory as `tribe run` leaves it for the campaign: personas.json
 * and campaign_plan.csv written by the real writers, for the fixture's
 * segments under persistent ids 10, 13, 16, 19, 22. */
static tribe_segments *write_run_dir(const char *dir, tribe_persona **personas)
{
    char path[512], *json = NULL;
    tribe_segments *s = fixture_segments();
    tribe_persona_provider *pp = NULL;
    tribe_campaign_plan *plan = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int c = 0; c < s->k; c++)
        s->seg[c].id = 10 + 3 * c;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_offline_create(7, &pp), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_write(pp, s, personas), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_to_json(*personas, s->k, s, &json), TRIBE_OK);
    snprintf(path, sizeof path, "%s/personas.json", dir);
    write_text(path, json);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &plan), TRIBE_OK);
    snprintf(path, sizeof path, "%s/campaign_plan.csv", dir);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_csv(path, plan, s->k), TRIBE_OK);
    tribe_campaign_plan_destroy(&plan);
    tribe_persona_provider_destroy(&pp);
    free(json);
    return s;
}

static void message_and_plan_name_should_be_read_by_persistent_segment_id(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/run-msg", tribe_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(tribe_mkdirs(dir), TRIBE_OK);
    tribe_persona *p = NULL;
    tribe_segments *s = write_run_dir(dir, &p);
    tribe_campaign_message m;
    char name[128];
    /* segment at position 3 has id 19 */
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_message_read(dir, 19, &m), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(m.subject, p[3].email_subject);
    CU_ASSERT_PTR_NOT_NULL(strstr(m.body, p[3].email_body));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.body, "{{first_name}}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.sms, p[3].tagline));
    CU_ASSERT_PTR_NOT_NULL(strstr(m.sms, "Reply STOP to opt out."));
    tribe_campaign_message_clear(&m);
    CU_ASSERT_PTR_NULL(m.subject);
    tribe_campaign_plan *plan = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &plan), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_name(dir, 19, name, sizeof name), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(name, plan[3].campaign);
    tribe_campaign_plan_destroy(&plan);
    /* a position is not an id */
    CU_ASSERT_EQUAL(tribe_campaign_message_read(dir, 3, &m), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no persona for segment 3"));
    CU_ASSERT_PTR_NULL(m.body);
    CU_ASSERT_EQUAL(tribe_campaign_plan_name(dir, 3, name, sizeof name), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "no row for segment 3"));
    char missing[400];
    snprintf(missing, sizeof missing, "%s/nothing-here", dir);
    CU_ASSERT_EQUAL(tribe_campaign_message_read(missing, 19, &m), TRIBE_ERR_IO);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

/* The preview fills the merge fields as the send does: the SMS the mock
 * Twilio receives (form-encoded Body) and the e-mail SendGrid builds from
 * its substitutions. */
static void render_should_fill_merge_fields_as_the_send_does(void)
{
    tribe_campaign_message m = {"Hello {{first_name}}", "Hi {{first_name}},\n\nYour id is {{customer_id}}.",
                                "Hi {{first_name}}, 20% off. Reply STOP"};
    tribe_contact ann = {.id = 42, .email = "ann@example.com", .phone = "+447700900001", .first_name = "Ann"};
    tribe_contact anon = {.id = 7, .email = "x@example.com"};
    char *subj = NULL, *body = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_render(&m, "email", &ann, &subj, &body), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(subj, "Hello Ann");
    CU_ASSERT_STRING_EQUAL(body, "Hi Ann,\n\nYour id is 42.");
    free(subj);
    free(body);
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_render(&m, "sms", &anon, &subj, &body), TRIBE_OK);
    CU_ASSERT_PTR_NULL(subj);
    CU_ASSERT_STRING_EQUAL(body, "Hi there, 20% off. Reply STOP");
    free(body);
    m.sms = NULL; /* no SMS text: the body, as the send */
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_render(&m, "sms", &anon, &subj, &body), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(body, "Hi there,\n\nYour id is 7.");
    free(body);
    CU_ASSERT_EQUAL(tribe_campaign_render(&m, "fax", &ann, &subj, &body), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(tribe_campaign_render(&m, "email", NULL, &subj, &body), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(subj);
    CU_ASSERT_PTR_NULL(body);
}

typedef struct {
    int64_t calls, last_done, last_total, backwards;
} progress_log;

static void on_progress(void *ctx, int64_t done, int64_t total)
{
    progress_log *p = ctx;
    p->backwards += done < p->last_done;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

/* Count, then a dry-run send of the same customers: the same numbers in
 * every bucket (one decision function), for e-mail and SMS, with a
 * suppression list and a cap from the outbox history; the count writes
 * nothing; the send reports progress per request, ending at total. */
static void count_should_equal_what_a_dry_run_send_then_records(void)
{
    char dir[256], cpath[300], spath[300], obox[300];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    snprintf(cpath, sizeof cpath, "%s/contacts-count.csv", dir);
    snprintf(spath, sizeof spath, "%s/suppress-count.txt", dir);
    snprintf(obox, sizeof obox, "%s/outbox-count.jsonl", dir);
    enum { N = 1500 };
    static int64_t ids[N];
    FILE *f = fopen(cpath, "w"), *g = fopen(spath, "w"), *h = fopen(obox, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f && g && h);
    fputs("CustomerID,Email,Phone,EmailOptIn,SmsOptIn,FirstName\n", f);
    for (int i = 0; i < N; i++) {
        ids[i] = 5000 + i;
        if (i % 40 == 1)
            continue;
        fprintf(f, "%d,%s,%s,%d,%d,P%d\n", 5000 + i, i % 9 == 2 ? "" : "c@example.com", i % 7 == 3 ? "" : "+4477009",
                i % 11 != 4, i % 13 != 5, i);
        if (i % 17 == 6)
            fprintf(g, "c%d@example.com\n+4477%d\n", i, i);
        if (i % 23 == 8) /* sent three days ago: capped */
            fprintf(h, "{\"ts\": 1699740800, \"customer\": %d, \"status\": \"sent\"}\n", 5000 + i);
    }
    fclose(f);
    fclose(g);
    fclose(h);
    /* distinct addresses so the suppression list bites on some */
    tribe_contacts *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_contacts_read(cpath, &cs), TRIBE_OK);
    for (int64_t i = 0; i < cs->n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "c%lld@example.com", (long long)(cs->c[i].id - 5000));
        if (cs->c[i].email) {
            free(cs->c[i].email);
            cs->c[i].email = strdup(buf);
        }
        snprintf(buf, sizeof buf, "+4477%lld", (long long)(cs->c[i].id - 5000));
        if (cs->c[i].phone) {
            free(cs->c[i].phone);
            cs->c[i].phone = strdup(buf);
        }
    }
    static const char *const channels[] = {"email", "sms"};
    for (int ch = 0; ch < 2; ch++) {
        tribe_send_cfg cfg;
        tribe_send_cfg_defaults(&cfg);
        cfg.run_id = "r9";
        cfg.segment = 3;
        cfg.campaign = "count-test";
        cfg.channel = channels[ch];
        cfg.outbox = obox;
        cfg.subject = "s";
        cfg.body = "b";
        cfg.suppress_path = spath;
        cfg.batch_size = 100;
        cfg.max_per_customer = 1;
        cfg.now = 1700000000;
        progress_log pl = {0};
        cfg.progress = on_progress;
        cfg.progress_ctx = &pl;
        tribe_send_stats c, s;
        int64_t lines = count_lines(obox, NULL);
        CU_ASSERT_EQUAL_FATAL(tribe_campaign_count(&cfg, ids, N, cs, &c), TRIBE_OK);
        CU_ASSERT_EQUAL(count_lines(obox, NULL), lines); /* nothing written */
        CU_ASSERT_EQUAL(pl.calls, 0);
        CU_ASSERT_EQUAL_FATAL(tribe_campaign_send(&cfg, ids, N, cs, &s), TRIBE_OK);
        CU_ASSERT_EQUAL(c.customers, s.customers);
        CU_ASSERT_EQUAL(c.no_contact, s.no_contact);
        CU_ASSERT_EQUAL(c.opted_out, s.opted_out);
        CU_ASSERT_EQUAL(c.suppressed, s.suppressed);
        CU_ASSERT_EQUAL(c.capped, s.capped);
        CU_ASSERT_EQUAL(c.dry_run, s.dry_run);
        CU_ASSERT_EQUAL(c.requests, s.requests);
        CU_ASSERT_EQUAL(c.sent + c.failed + c.attempts + c.outbox_lines, 0);
        /* every bucket is in use, so the equality says something */
        CU_ASSERT(c.no_contact > 0 && c.opted_out > 0 && c.suppressed > 0 && c.capped > 0 && c.dry_run > 0);
        CU_ASSERT_EQUAL(c.no_contact + c.opted_out + c.suppressed + c.capped + c.dry_run, N);
        /* after each full request in the loop, then once at the end */
        CU_ASSERT_EQUAL(pl.calls, s.dry_run / (ch == 0 ? cfg.batch_size : 1) + 1);
        CU_ASSERT(pl.calls > 2);
        CU_ASSERT_EQUAL(pl.last_done, N);
        CU_ASSERT_EQUAL(pl.last_total, N);
        CU_ASSERT_EQUAL(pl.backwards, 0);
    }
    tribe_contacts_destroy(&cs);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(rule_match_should_use_the_name_family_ignoring_case),
        TRIBE_TEST(plan_should_map_rfm_status_to_the_builtin_campaigns),
        TRIBE_TEST(high_value_lapsed_segments_should_get_the_cant_lose_them_treatment),
        TRIBE_TEST(expected_value_should_be_size_times_rate_times_order_value),
        TRIBE_TEST(predicted_ltv_should_be_the_value_signal_when_given),
        TRIBE_TEST(valuable_risky_segments_should_get_a_retention_campaign),
        TRIBE_TEST(job_rules_should_override_builtin_fields_and_keep_the_rest),
        TRIBE_TEST(job_spec_should_reject_bad_campaign_rules_naming_the_key),
        TRIBE_TEST(report_should_show_the_plan_only_when_given_and_escape_it),
        TRIBE_TEST(sha256_should_match_the_fips_vectors),
        TRIBE_TEST(hmac_sha256_should_match_rfc_4231),
        TRIBE_TEST(base64_should_match_rfc_4648_and_round_trip),
        TRIBE_TEST(webhook_signature_should_match_the_standard_webhooks_vector),
        TRIBE_TEST(batch_key_should_depend_on_every_part_and_nothing_else),
        TRIBE_TEST(contacts_should_be_read_sorted_and_checked),
        TRIBE_TEST(dry_run_should_batch_count_every_skip_and_cap_from_history),
        TRIBE_TEST(message_and_plan_name_should_be_read_by_persistent_segment_id),
        TRIBE_TEST(render_should_fill_merge_fields_as_the_send_does),
        TRIBE_TEST(count_should_equal_what_a_dry_run_send_then_records),
        {NULL, NULL}};
    return tribe_test_main("campaign", cases);
}
