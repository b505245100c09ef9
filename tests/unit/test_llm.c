/* Unit tests for the LLM persona provider's pure pieces: the segment
 * profile, prompt templates, the persona schema, backoff, cache keys, the
 * persona.* job keys, and the fallback when no server answers. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segfix.h"
#include "testutil.h"
#include "tribe/job.h"
#include "tribe/llm.h"
#include "tribe/persona.h"

static const char *shipped_prompt(void) { return tribe_test_data("../../jobs/prompts/persona-v1.txt"); }

static cJSON *profile_json(const tribe_segments *s, int c, int64_t k_min)
{
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_llm_profile(s, c, k_min, &text), TRIBE_OK);
    cJSON *j = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    free(text);
    return j;
}

static const cJSON *feature(const cJSON *prof, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(prof, "features"))
    {
        if (strcmp(cJSON_GetObjectItem(f, "name")->valuestring, name) == 0)
            return f;
    }
    return NULL;
}

static void profile_should_hold_the_segments_aggregates(void)
{
    tribe_segments *s = fixture_segments();
    cJSON *p = profile_json(s, 0, 50);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(p, "segment")->valuestring, "Champions");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(p, "customers")->valuedouble, 612);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(p, "customers_in_whole_base")->valuedouble, (double)s->n_total);
    const cJSON *cur = cJSON_GetObjectItem(p, "currency");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cur, "code")->valuestring, "GBP");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cur, "symbol")->valuestring, "\xc2\xa3");
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(p, "share_of_customers_pct")->valuedouble,
                           round(10000.0 * 612 / (double)s->n_total) / 100.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(p, "share_of_revenue_pct")->valuedouble, 61.25, 1e-9);
    const cJSON *m = feature(p, "monetary");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(m, "unit")->valuestring, "money");
    /* monetary is net of returns, and the profile says so; other features carry no meaning */
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(m, "meaning")->valuestring, "net spend: purchases minus returns");
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(feature(p, "recency_days"), "meaning"));
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "segment_median")->valuedouble, 4310.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "segment_mean")->valuedouble, round(100 * (4310.5 * 1.21 + 0.37)) / 100,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "base_median")->valuedouble, 668.4, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "segment_q1")->valuedouble, round(100 * (4310.5 * 0.583 + 0.041)) / 100,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "segment_q3")->valuedouble, round(100 * (4310.5 * 1.637 + 0.057)) / 100,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "base_q1")->valuedouble, round(100 * (668.4 * 0.47 + 0.19)) / 100,
                           1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(m, "base_q3")->valuedouble, round(100 * (668.4 * 1.81 + 0.23)) / 100,
                           1e-9);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(m, "segment_vs_base")->valuestring, "higher");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(feature(p, "recency_days"), "segment_vs_base")->valuestring, "lower");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(feature(p, "recency_days"), "unit")->valuestring, "days");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(p, "features")), FIX_D);
    /* Country of Champions: United Kingdom 520 stays; Germany 40, France 30
     * and EIRE 22 are cells under k_min and are left out. */
    const cJSON *mx, *country = NULL;
    cJSON_ArrayForEach(mx, cJSON_GetObjectItem(p, "mix"))
    {
        if (strcmp(cJSON_GetObjectItem(mx, "name")->valuestring, "country") == 0)
            country = cJSON_GetObjectItem(mx, "levels");
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(country);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(country), 1);
    const cJSON *uk = cJSON_GetArrayItem(country, 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(uk, "level")->valuestring, "United Kingdom");
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(uk, "segment_pct")->valuedouble, round(10000.0 * 520 / 612) / 100, 1e-9);
    /* Exactly the documented keys, nothing per customer. */
    const char *top[] = {"segment", "customers", "share_of_customers_pct", "share_of_revenue_pct",
                         "customers_in_whole_base", "currency", "features", "mix"};
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, p)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof top / sizeof *top; i++)
            known |= strcmp(it->string, top[i]) == 0;
        CU_ASSERT(known);
        n++;
    }
    CU_ASSERT_EQUAL(n, 8);
    cJSON_Delete(p);
    tribe_segments_destroy(&s);
}

static void profile_should_refuse_a_segment_under_k_min(void)
{
    tribe_segments *s = fixture_segments();
    char *text = NULL;
    CU_ASSERT_EQUAL(tribe_llm_profile(s, 0, 613, &text), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "k_min"));
    CU_ASSERT_EQUAL(tribe_llm_profile(s, 0, 612, &text), TRIBE_OK);
    free(text);
    tribe_segments_destroy(&s);
}

static void profile_should_be_the_same_text_each_time(void)
{
    tribe_segments *s = fixture_segments();
    char *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL(tribe_llm_profile(s, 3, 50, &a), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_llm_profile(s, 3, 50, &b), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    tribe_segments_destroy(&s);
}

static void profile_should_carry_the_predicted_value_when_there_is_one(void)
{
    tribe_segments *s = fixture_segments();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    cJSON *p = profile_json(s, 0, 50);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(p, "predicted_value"));
    cJSON_Delete(p);
    s->ltv_horizon_days = 90;
    s->seg[0].ltv_mean = 412.25;
    s->seg[0].ltv_median = 301.5;
    s->seg[0].ltv_total = 123456.75;
    p = profile_json(s, 0, 50);
    const cJSON *lv = cJSON_GetObjectItem(p, "predicted_value");
    CU_ASSERT_FATAL(cJSON_IsObject(lv));
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(lv, "horizon_days")->valuedouble, 90, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(lv, "mean")->valuedouble, 412.25, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(lv, "median")->valuedouble, 301.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(lv, "total")->valuedouble, 123456.75, 1e-9);
    cJSON_Delete(p);
    /* ... and a persona may quote it: the grounding check knows the figure. */
    tribe_persona per = {0};
    per.segment = 0;
    per.bio = "Expected to spend about £412 each over the next 90 days.";
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    per.bio = "Expected to spend about £999 each over the next 90 days.";
    CU_ASSERT_NOT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    tribe_segments_destroy(&s);
}

static void profile_should_name_the_currency_whose_symbol_marks_money(void)
{
    tribe_segments *s = fixture_segments();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL_FATAL(tribe_currency_from_code("CHF", &s->currency), TRIBE_OK);
    s->ltv_horizon_days = 90;
    s->seg[0].ltv_mean = 412.25;
    cJSON *p = profile_json(s, 0, 50);
    const cJSON *cur = cJSON_GetObjectItem(p, "currency");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cur, "code")->valuestring, "CHF");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cur, "symbol")->valuestring, "CHF");
    cJSON_Delete(p);
    tribe_persona per = {0};
    per.segment = 0;
    /* "CHF 412" is money and a money figure; "CHF 90" is money, and 90 is
     * only the horizon in days (a bare "90" is grounded, as money it is not) */
    per.bio = "Expected to spend about CHF 412 each over the next 90 days.";
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    per.bio = "Expected to spend about CHF 90 each.";
    CU_ASSERT_NOT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    per.bio = "Expected to spend about CHF90 each.";
    CU_ASSERT_NOT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    per.bio = "Expected to spend about 90 each.";
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    /* another currency's sign is not the data's money, even on a money figure */
    per.bio = "Expected to spend about \xc2\xa3" "412 each.";
    CU_ASSERT_NOT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_currency_from_code("CAD", &s->currency), TRIBE_OK);
    per.bio = "Expected to spend about $412 (CA$412) each."; /* "$" ends the run's "CA$" */
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&per, s), TRIBE_OK);
    tribe_segments_destroy(&s);
}

static void profile_should_list_the_top_drivers_in_order_in_words(void)
{
    tribe_segments *plain = fixture_segments(), *s = fixture_segments_with_drivers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* Champions: monetary, then the tie recency_days / frequency by feature
     * index, distinct_products (96 vs 30), tenure_days (320 vs 281: more
     * than 10% above). */
    static const char *const names[5] = {"monetary", "recency_days", "frequency", "distinct_products", "tenure_days"};
    static const char *const vs[5] = {"higher", "lower", "higher", "higher", "higher"};
    cJSON *p = profile_json(s, 0, 50);
    const cJSON *td = cJSON_GetObjectItem(p, "top_drivers");
    CU_ASSERT_FATAL(cJSON_IsArray(td));
    CU_ASSERT_EQUAL(cJSON_GetArraySize(td), 5);
    for (int r = 0; r < 5 && r < cJSON_GetArraySize(td); r++) {
        const cJSON *d = cJSON_GetArrayItem(td, r);
        CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(d, "name")->valuestring, names[r]);
        CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(d, "segment_vs_base")->valuestring, vs[r]);
        CU_ASSERT_EQUAL(cJSON_GetArraySize(d), 2); /* words only: no figure for the grounding check */
    }
    cJSON_Delete(p);
    /* Hibernating: average order value 200 vs 262.5 is lower; 4 drivers. */
    p = profile_json(s, 4, 50);
    td = cJSON_GetObjectItem(p, "top_drivers");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(td), 4);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(td, 3), "name")->valuestring, "avg_order_value");
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(td, 3), "segment_vs_base")->valuestring, "lower");
    cJSON_Delete(p);
    /* Without drivers the key is absent and the rest of the text is the same. */
    char *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL(tribe_llm_profile(plain, 0, 50, &a), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_llm_profile(s, 0, 50, &b), TRIBE_OK);
    CU_ASSERT_PTR_NULL(strstr(a, "top_drivers"));
    p = cJSON_Parse(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cJSON_DeleteItemFromObject(p, "top_drivers");
    char *c = cJSON_PrintUnformatted(p);
    CU_ASSERT_STRING_EQUAL(c, a);
    cJSON_free(c);
    cJSON_Delete(p);
    free(a);
    free(b);
    /* The shipped prompt tells the model what top_drivers is. */
    tribe_llm_prompt *pr = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_llm_prompt_load(shipped_prompt(), &pr), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(pr->user, "top_drivers"));
    tribe_llm_prompt_destroy(&pr);
    tribe_segments_destroy(&s);
    tribe_segments_destroy(&plain);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void prompt_template_should_load_and_render(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/p.txt", tribe_test_tmpdir());
    write_text(path, "version: test-v7  \n--- system\nBe brief.\n\n--- user\nProfile: {{profile}} ({{profile}})\n"
                     "--- reask\nWrong: {{violation}}\n");
    tribe_llm_prompt *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_llm_prompt_load(path, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p->version, "test-v7");
    CU_ASSERT_STRING_EQUAL(p->system, "Be brief.");
    CU_ASSERT_STRING_EQUAL(p->reask, "Wrong: {{violation}}");
    char *out = NULL;
    CU_ASSERT_EQUAL(tribe_llm_render(p->user, "profile", "{\"a\":1}", &out), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(out, "Profile: {\"a\":1} ({\"a\":1})");
    free(out);
    tribe_llm_prompt_destroy(&p);
    CU_ASSERT_PTR_NULL(p);
    tribe_llm_prompt_destroy(NULL);

    CU_ASSERT_EQUAL_FATAL(tribe_llm_prompt_load(shipped_prompt(), &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p->version, "persona-v1");
    CU_ASSERT_PTR_NOT_NULL(strstr(p->reask, "{{violation}}"));
    tribe_llm_prompt_destroy(&p);
}

static void prompt_template_should_name_what_is_missing(void)
{
    char path[512];
    tribe_llm_prompt *p = NULL;
    snprintf(path, sizeof path, "%s/p.txt", tribe_test_tmpdir());
    write_text(path, "--- system\nx\n--- user\n{{profile}}\n--- reask\ny\n");
    CU_ASSERT_EQUAL(tribe_llm_prompt_load(path, &p), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "version"));
    write_text(path, "version: v\n--- system\nx\n--- user\n{{profile}}\n");
    CU_ASSERT_EQUAL(tribe_llm_prompt_load(path, &p), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "reask"));
    write_text(path, "version: v\n--- system\nx\n--- user\nno placeholder\n--- reask\ny\n");
    CU_ASSERT_EQUAL(tribe_llm_prompt_load(path, &p), TRIBE_ERR_INPUT);
    write_text(path, "version: v\n--- system\nx\n--- sytem\nx\n--- user\n{{profile}}\n--- reask\ny\n");
    CU_ASSERT_EQUAL(tribe_llm_prompt_load(path, &p), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), ":4:"));
    CU_ASSERT_EQUAL(tribe_llm_prompt_load("/nonexistent/prompt.txt", &p), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NULL(p);
}

#define GOOD                                                                                                   \
    "{\"name\":\"Ann Lee\",\"age_band\":\"35-44\",\"occupation\":\"nurse\",\"bio\":\"b\",\"goals\":[\"g\"],"   \
    "\"frustrations\":[\"f\"],\"channels\":[\"email\",\"sms\"],\"quote\":\"q\",\"email\":{\"subject\":\"s\"," \
    "\"body\":\"x\"},\"tagline\":\"t\",\"image_prompt\":\"i\"}"

static tribe_status parse(const char *content)
{
    tribe_persona p = {0};
    tribe_status st = tribe_llm_persona_parse(content, &p);
    tribe_persona_clear(&p);
    return st;
}

static void persona_reply_should_be_validated_against_the_schema(void)
{
    tribe_persona p = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_llm_persona_parse(GOOD, &p), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(p.name, "Ann Lee");
    CU_ASSERT_EQUAL(p.n_channels, 2);
    CU_ASSERT_STRING_EQUAL(p.channels[1], "sms");
    CU_ASSERT_STRING_EQUAL(p.email_subject, "s");
    CU_ASSERT_STRING_EQUAL(p.email_body, "x");
    tribe_persona_clear(&p);
    CU_ASSERT_PTR_NULL(p.name);
    CU_ASSERT_EQUAL(p.n_channels, 0);
    tribe_persona_clear(NULL);

    CU_ASSERT_EQUAL(parse("```json\n" GOOD "\n```"), TRIBE_OK);
    /* control characters from the server never reach a terminal, log or file: ESC sequences, CR, C1 CSI,
     * a newline forging a log line; the e-mail body keeps its line breaks */
    {
        const char *hostile = "{\"name\":\"Ann\\u001b[2J\\u001b[H Lee\\ninfo: personas: all from model\","
                              "\"age_band\":\"35-44\",\"occupation\":\"nurse\\r\",\"bio\":\"b\\u0007\\u009b31m\","
                              "\"goals\":[\"g\\u001b]0;title\\u0007\"],\"frustrations\":[\"f\"],\"channels\":[\"email\"],"
                              "\"quote\":\"q\",\"email\":{\"subject\":\"s\",\"body\":\"Hi,\\n\\nx\\u001b[1m\"},"
                              "\"tagline\":\"t\",\"image_prompt\":\"i\"}";
        tribe_persona h = {0};
        CU_ASSERT_EQUAL_FATAL(tribe_llm_persona_parse(hostile, &h), TRIBE_OK);
        CU_ASSERT_STRING_EQUAL(h.name, "Ann[2J[H Lee info: personas: all from model");
        CU_ASSERT_STRING_EQUAL(h.occupation, "nurse ");
        CU_ASSERT_STRING_EQUAL(h.bio, "b31m");
        CU_ASSERT_STRING_EQUAL(h.goals[0], "g]0;title");
        CU_ASSERT_STRING_EQUAL(h.email_body, "Hi,\n\nx[1m");
        tribe_persona_clear(&h);
        CU_ASSERT_EQUAL(parse("{\"name\":\"\\u001b\\u0007\",\"age_band\":\"35-44\",\"occupation\":\"n\",\"bio\":\"b\","
                              "\"goals\":[\"g\"],\"frustrations\":[\"f\"],\"channels\":[\"email\"],\"quote\":\"q\","
                              "\"email\":{\"subject\":\"s\",\"body\":\"x\"},\"tagline\":\"t\",\"image_prompt\":\"i\"}"),
                        TRIBE_ERR_INPUT);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "only control characters"));
        /* and an error message naming hostile text stays one line */
        tribe_fail(TRIBE_ERR_INPUT, "reply said '%s'", "a\nb\033[2Jc\r");
        CU_ASSERT_STRING_EQUAL(tribe_errmsg(), "reply said 'a b[2Jc '");
    }
    CU_ASSERT_EQUAL(parse("not json"), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(parse("[1,2]"), TRIBE_ERR_INPUT);
    /* One violation at a time, each named. */
    struct {
        const char *from, *to, *says;
    } bad[] = {
        {"\"tagline\":\"t\",", "", "'tagline' is missing"},
        {"\"goals\":[\"g\"]", "\"goals\":\"g\"", "'goals'"},
        {"\"goals\":[\"g\"]", "\"goals\":[]", "'goals'"},
        {"\"channels\":[\"email\",\"sms\"]", "\"channels\":[\"email\",3]", "'channels[1]'"},
        {"\"bio\":\"b\"", "\"bio\":\"\"", "'bio'"},
        {"\"quote\":\"q\"", "\"quote\":\"q\",\"extra\":1", "unexpected property 'extra'"},
        {"\"body\":\"x\"", "\"body\":\"x\",\"cc\":\"y\"", "'email.cc'"},
        {"\"email\":{\"subject\":\"s\",\"body\":\"x\"}", "\"email\":\"hi\"", "'email'"},
        {"\"body\":\"x\"", "\"body\":7", "'email.body'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char buf[1024];
        const char *at = strstr(GOOD, bad[i].from);
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - GOOD), GOOD, bad[i].to, at + strlen(bad[i].from));
        CU_ASSERT_EQUAL(parse(buf), TRIBE_ERR_INPUT);
        if (!strstr(tribe_errmsg(), bad[i].says))
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, tribe_errmsg(), bad[i].says);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), bad[i].says));
    }
}

static void schema_should_be_strict_json(void)
{
    cJSON *s = cJSON_Parse(tribe_llm_persona_schema());
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(s, "additionalProperties")));
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(s, "required")), 11);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(s, "properties")), 11);
    const cJSON *em = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "properties"), "email");
    CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(em, "additionalProperties")));
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(em, "required")), 2);
    cJSON_Delete(s);
}

static void reply_content_should_reject_refusals_and_cut_replies(void)
{
    char *c = NULL;
    CU_ASSERT_EQUAL(tribe_llm_reply_content("{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"role\":"
                                            "\"assistant\",\"content\":\"{}\",\"refusal\":null}}]}",
                                            &c),
                    TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(c, "{}");
    free(c);
    c = NULL;
    CU_ASSERT_EQUAL(tribe_llm_reply_content("{\"choices\":[{\"finish_reason\":\"length\",\"message\":{\"content\":"
                                            "\"{\\\"na\"}}]}",
                                            &c),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "length"));
    CU_ASSERT_EQUAL(tribe_llm_reply_content("{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":null,"
                                            "\"refusal\":\"no\"}}]}",
                                            &c),
                    TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "refusal"));
    CU_ASSERT_EQUAL(tribe_llm_reply_content("{\"choices\": [", &c), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_llm_reply_content("{\"choices\":[]}", &c), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(c);
}

static void backoff_should_honour_retry_after_else_grow_with_jitter(void)
{
    CU_ASSERT_EQUAL(tribe_llm_backoff_s(1.0, 1, 7.0, 42, 0), 7.0);
    CU_ASSERT_EQUAL(tribe_llm_backoff_s(1.0, 3, 0.0, 42, 0), 0.0);
    int differ = 0;
    for (int seg = 0; seg < 8; seg++)
        for (int a = 1; a <= 10; a++) {
            double d = tribe_llm_backoff_s(0.5, a, -1, 42, seg);
            double full = fmin(60.0, 0.5 * pow(2.0, a - 1));
            CU_ASSERT(d >= 0.5 * full && d < full);
            CU_ASSERT_EQUAL(d, tribe_llm_backoff_s(0.5, a, -1, 42, seg)); /* reproducible */
            differ += d != tribe_llm_backoff_s(0.5, a, -1, 42, seg + 1);
        }
    CU_ASSERT(differ > 70); /* jitter spreads segments apart */
    CU_ASSERT(tribe_llm_backoff_s(2.0, 40, -1, 1, 0) < 60.0);
}

static void cache_key_should_change_with_each_part(void)
{
    char a[33], b[33];
    tribe_llm_cache_key("{\"p\":1}", "persona-v1", "gpt", a);
    CU_ASSERT_EQUAL(strlen(a), 32);
    CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), 32);
    tribe_llm_cache_key("{\"p\":1}", "persona-v1", "gpt", b);
    CU_ASSERT_STRING_EQUAL(a, b);
    tribe_llm_cache_key("{\"p\":2}", "persona-v1", "gpt", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    tribe_llm_cache_key("{\"p\":1}", "persona-v2", "gpt", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    tribe_llm_cache_key("{\"p\":1}", "persona-v1", "llama", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    tribe_llm_cache_key("ab", "c", "m", a);
    tribe_llm_cache_key("a", "bc", "m", b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

/* A 1x1 PNG (what the test server's kind of reply decodes to) and the
 * start of a JPEG, as base64. */
static const char PNG_B64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

static void images_should_be_png_or_jpeg_in_valid_base64(void)
{
    unsigned char *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_image_b64_decode(PNG_B64, &d, &n), TRIBE_OK);
    CU_ASSERT_EQUAL(n, 69);
    CU_ASSERT_STRING_EQUAL(tribe_image_mime(d, n), "image/png");
    CU_ASSERT_PTR_NULL(tribe_image_mime(d, 7)); /* a cut signature is not a PNG */
    free(d);
    const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'};
    CU_ASSERT_STRING_EQUAL(tribe_image_mime(jpeg, sizeof jpeg), "image/jpeg");
    CU_ASSERT_PTR_NULL(tribe_image_mime((const unsigned char *)"GIF89a", 6));
    /* Base64: wrapped lines are fine; bad characters, data after padding and stray bits are not. */
    CU_ASSERT_EQUAL(tribe_image_b64_decode("aGVs\nbG8=", &d, &n), TRIBE_OK);
    CU_ASSERT(n == 5 && memcmp(d, "hello", 5) == 0);
    free(d);
    CU_ASSERT_EQUAL(tribe_image_b64_decode("aGVs*bG8=", &d, &n), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_image_b64_decode("aG=Vs", &d, &n), TRIBE_ERR_INPUT);
    CU_ASSERT_EQUAL(tribe_image_b64_decode("aGVsbG9=", &d, &n), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(d);

    tribe_persona_image img = {0};
    char body[512];
    snprintf(body, sizeof body, "{\"created\": 1, \"data\": [{\"b64_json\": \"%s\"}]}", PNG_B64);
    CU_ASSERT_EQUAL_FATAL(tribe_image_reply_parse(body, &img), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(img.mime, "image/png");
    CU_ASSERT_STRING_EQUAL(img.b64, PNG_B64); /* canonical re-encoding of canonical input */
    CU_ASSERT_EQUAL(img.bytes, 69);
    tribe_persona_image bad = {0};
    CU_ASSERT_EQUAL(tribe_image_reply_parse("{\"data\": [{\"b64_json\": \"R0lGODlhAQ==\"}]}", &bad), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "neither PNG nor JPEG"));
    CU_ASSERT_EQUAL(tribe_image_reply_parse("{\"data\": [{\"url\": \"https://x/y.png\"}]}", &bad), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "b64_json"));
    CU_ASSERT_EQUAL(tribe_image_reply_parse("not json", &bad), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(bad.b64);
    free(img.b64);
}

/* Nothing listens on port 1: no segment gets an image, each says why, the
 * small one never sends; the call itself succeeds. */
static void images_should_never_fail_the_run(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona_provider *pp = NULL;
    tribe_persona *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_offline_create(3, &pp), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_write(pp, s, &p), TRIBE_OK);
    tribe_image_config cfg = {.base_url = "http://127.0.0.1:1/v1", .model = "img",
                              .req = {.timeout_s = 2, .deadline_s = 10, .backoff_s = 0.01, .seed = 5,
                                      .max_concurrency = 2, .retries = 1, .k_min = 600}};
    tribe_persona_image *img = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_images_fetch(&cfg, s, p, &img), TRIBE_OK);
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_EQUAL(img[c].segment, s->seg[c].id);
        CU_ASSERT_PTR_NULL(img[c].b64);
        CU_ASSERT_STRING_EQUAL(img[c].mime, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(img[c].why, s->seg[c].size < 600 ? "k_min" : "after 2 attempts"));
    }
    char line[256];
    CU_ASSERT_EQUAL(strncmp(tribe_persona_image_summary(&img[0], line, sizeof line), "no image: ", 10), 0);
    tribe_persona_images_destroy(&img, s->k);
    CU_ASSERT_PTR_NULL(img);
    tribe_persona_images_destroy(NULL, 0);
    cfg.model = NULL;
    CU_ASSERT_EQUAL(tribe_persona_images_fetch(&cfg, s, p, &img), TRIBE_ERR_USAGE);
    tribe_personas_destroy(&p, s->k);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

/* Nothing listens on port 1: every segment falls back, quickly, and says why;
 * the small one says k_min. */
static void fallbacks_should_be_told_apart_by_their_reason(void)
{
    /* The reasons the provider writes (docs/personas-llm.md), and what they count as. */
    static const struct {
        const char *provider;
        int kind;
    } CASES[] = {
        {"test-model", -1},
        {"offline", -1},
        {"offline (fallback: 12 customers, under persona.k_min = 50)", TRIBE_FALLBACK_K_MIN},
        {"offline (fallback: HTTP 500 server_error after 3 attempts)", TRIBE_FALLBACK_HTTP},
        {"offline (fallback: HTTP 401 invalid_api_key)", TRIBE_FALLBACK_HTTP},
        {"offline (fallback: timeout after 2 attempts)", TRIBE_FALLBACK_TIMEOUT},
        {"offline (fallback: timeout; next retry in 1.5 s is past the deadline)", TRIBE_FALLBACK_TIMEOUT},
        {"offline (fallback: persona.deadline_s = 0.5 s passed)", TRIBE_FALLBACK_DEADLINE},
        {"offline (fallback: Couldn't connect to server after 2 attempts)", TRIBE_FALLBACK_CONNECTION},
        {"offline (fallback: refusal: I cannot HTTP 500 help)", TRIBE_FALLBACK_REFUSED},
        {"offline (fallback: refusal: finish_reason content_filter)", TRIBE_FALLBACK_REFUSED},
        {"offline (fallback: finish_reason length (reply cut short))", TRIBE_FALLBACK_CUT},
        {"offline (fallback: reply is not a chat completion (no choices[0].message) after 3 attempts)",
         TRIBE_FALLBACK_REPLY},
        {"offline (fallback: schema violation: the message content is not a JSON object after 3 attempts)",
         TRIBE_FALLBACK_JSON},
        {"offline (fallback: schema violation: 'goals' is missing after 3 attempts)", TRIBE_FALLBACK_SCHEMA},
        {"offline (fallback: ungrounded after a re-ask: bio states '7777777.77', which is not a figure)",
         TRIBE_FALLBACK_UNGROUNDED},
        {"offline (fallback: age band after a re-ask: age_band '4321-987654' is not one of 18-24)", TRIBE_FALLBACK_BAND},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        tribe_persona p = {.provider = (char *)CASES[i].provider};
        if (tribe_persona_fallback_kind(&p) != CASES[i].kind)
            fprintf(stderr, "%s: kind %d, not %d\n", CASES[i].provider, tribe_persona_fallback_kind(&p), CASES[i].kind);
        CU_ASSERT_EQUAL(tribe_persona_fallback_kind(&p), CASES[i].kind);
    }
    tribe_persona none = {0};
    CU_ASSERT_EQUAL(tribe_persona_fallback_kind(&none), -1);
}

static void provider_should_fall_back_when_no_server_answers(void)
{
    tribe_segments *s = fixture_segments();
    tribe_llm_config cfg = {.base_url = "http://127.0.0.1:1/v1", .model = "m", .prompt_path = shipped_prompt(),
                            .temperature = 0.5,
                            .req = {.timeout_s = 2, .deadline_s = 10, .backoff_s = 0.01, .seed = 5,
                                    .max_concurrency = 2, .retries = 1, .k_min = 600}};
    tribe_persona_provider *pp = NULL;
    tribe_persona *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_llm_create(&cfg, &pp), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_write(pp, s, &p), TRIBE_OK);
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_EQUAL(p[c].segment, c);
        CU_ASSERT_PTR_NOT_NULL(p[c].name);
        CU_ASSERT_EQUAL(strncmp(p[c].provider, "offline (fallback: ", 19), 0);
        const char *want = s->seg[c].size < 600 ? "k_min" : "after 2 attempts";
        CU_ASSERT_PTR_NOT_NULL(strstr(p[c].provider, want));
    }
    /* Counted by kind: the small segments by the privacy rule, the others by the refused connection;
     * under persona.require_llm only the latter fail the run, each named with its reason. */
    int counts[TRIBE_N_FALLBACK_KINDS], n_small = 0;
    for (int c = 0; c < s->k; c++) {
        n_small += s->seg[c].size < 600;
        CU_ASSERT_EQUAL(tribe_persona_fallback_kind(&p[c]),
                        s->seg[c].size < 600 ? TRIBE_FALLBACK_K_MIN : TRIBE_FALLBACK_CONNECTION);
    }
    CU_ASSERT(n_small > 0 && n_small < s->k);
    CU_ASSERT_EQUAL(tribe_personas_fallbacks(p, s->k, 0, counts), TRIBE_OK);
    CU_ASSERT_EQUAL(counts[TRIBE_FALLBACK_K_MIN], n_small);
    CU_ASSERT_EQUAL(counts[TRIBE_FALLBACK_CONNECTION], s->k - n_small);
    char buf[256], want[256];
    snprintf(want, sizeof want, "%d under k_min, %d connection error", n_small, s->k - n_small);
    CU_ASSERT_STRING_EQUAL(tribe_fallback_counts_text(counts, buf, sizeof buf), want);
    CU_ASSERT_EQUAL(tribe_personas_fallbacks(p, s->k, 1, counts), TRIBE_ERR_ENV);
    snprintf(want, sizeof want, "persona.require_llm: %d of %d personas fell back to the offline writer: segment 0 "
             "(Champions): ", s->k - n_small, s->k);
    CU_ASSERT_EQUAL(strncmp(tribe_errmsg(), want, strlen(want)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "after 2 attempts; segment "));
    CU_ASSERT_PTR_NULL(strstr(tribe_errmsg(), "k_min"));
    CU_ASSERT_PTR_NULL(strstr(tribe_errmsg(), "attempts)")); /* the reasons, not the provider strings */
    tribe_personas_destroy(&p, s->k);
    /* The per-segment hook behaves the same. */
    tribe_persona one = {0};
    CU_ASSERT_EQUAL(pp->write(pp, s, 1, &one), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(one.provider, "after 2 attempts"));
    tribe_persona_clear(&one);
    tribe_persona_provider_destroy(&pp);
    CU_ASSERT_PTR_NULL(pp);

    cfg.prompt_path = "/nonexistent/prompt.txt";
    CU_ASSERT_EQUAL(tribe_persona_llm_create(&cfg, &pp), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NULL(pp);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {TRIBE_TEST(profile_should_hold_the_segments_aggregates),
                                            TRIBE_TEST(profile_should_refuse_a_segment_under_k_min),
                                            TRIBE_TEST(profile_should_be_the_same_text_each_time),
                                            TRIBE_TEST(profile_should_name_the_currency_whose_symbol_marks_money),
        TRIBE_TEST(profile_should_list_the_top_drivers_in_order_in_words),
                                            TRIBE_TEST(profile_should_carry_the_predicted_value_when_there_is_one),
                                            TRIBE_TEST(prompt_template_should_load_and_render),
                                            TRIBE_TEST(prompt_template_should_name_what_is_missing),
                                            TRIBE_TEST(persona_reply_should_be_validated_against_the_schema),
                                            TRIBE_TEST(schema_should_be_strict_json),
                                            TRIBE_TEST(reply_content_should_reject_refusals_and_cut_replies),
                                            TRIBE_TEST(backoff_should_honour_retry_after_else_grow_with_jitter),
                                            TRIBE_TEST(cache_key_should_change_with_each_part),
                                            TRIBE_TEST(fallbacks_should_be_told_apart_by_their_reason),
                                            TRIBE_TEST(provider_should_fall_back_when_no_server_answers),
                                            TRIBE_TEST(images_should_be_png_or_jpeg_in_valid_base64),
                                            TRIBE_TEST(images_should_never_fail_the_run),
                                            {NULL, NULL}};
    return tribe_test_main("llm", cases);
}
