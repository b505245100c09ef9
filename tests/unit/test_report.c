/* Unit tests for src/report: segments.csv and report.html. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "segfix.h"
#include "testutil.h"
#include "tribe/numfmt.h"
#include "tribe/persona.h"
#include "tribe/report.h"

#include <cjson/cJSON.h>
#include "tribe/record.h"
#include <stdio.h>

static const char RUN_JSON[] =
    "{\"run_id\":\"r-20240611-1\",\"seed\":42,\"input\":\"customers.h5\",\"k\":5,"
    "\"ledger\":{\"rows_read\":541909,\"missing_customer_id\":135080,\"cancellations\":8905},"
    "\"timings\":{\"ingest\":3.21,\"kmeans\":5.87}}";

static tribe_persona *personas(const tribe_segments *s)
{
    tribe_persona_provider *pp = NULL;
    tribe_persona *p = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_offline_create(42, &pp), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_personas_write(pp, s, &p), TRIBE_OK);
    tribe_persona_provider_destroy(&pp);
    return p;
}

/* Splits RFC 4180 text into records of fields (enough of a reader for the
 * test: quoted fields with doubled quotes, CRLF records). Returns the number
 * of records; fields[r][f] point into a static buffer. */
#define MAX_REC 16
#define MAX_FIELD 64
static int parse_csv(const char *text, char *fields[MAX_REC][MAX_FIELD], int nfields[MAX_REC])
{
    static char buf[1 << 16];
    size_t o = 0;
    int r = 0, f = 0;
    const char *q = text;
    if (!*q)
        return 0;
    fields[0][0] = buf;
    while (*q && r < MAX_REC) {
        if (*q == '"') {
            for (q++; *q; q++) {
                if (*q == '"' && q[1] == '"')
                    buf[o++] = *q++;
                else if (*q == '"')
                    break;
                else
                    buf[o++] = *q;
            }
            q++;
            continue;
        }
        if (*q == ',' || (*q == '\r' && q[1] == '\n')) {
            buf[o++] = '\0';
            if (*q == ',') {
                fields[r][++f] = buf + o;
                q++;
            } else {
                nfields[r++] = f + 1;
                f = 0;
                q += 2;
                if (*q && r < MAX_REC)
                    fields[r][0] = buf + o;
            }
            continue;
        }
        buf[o++] = *q++;
    }
    return r;
}

static void csv_should_have_a_header_and_one_row_per_segment(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona *p = personas(s);
    const char *dir = tribe_test_tmpdir();
    char path[512], *text = NULL;
    snprintf(path, sizeof path, "%s/segments.csv", dir);
    CU_ASSERT_EQUAL_FATAL(tribe_segments_csv(path, s, p), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_read_file(path, &text, NULL), TRIBE_OK);
    char *fields[MAX_REC][MAX_FIELD];
    int nf[MAX_REC];
    int nrec = parse_csv(text, fields, nf);
    CU_ASSERT_EQUAL(nrec, s->k + 1);
    int want = 5 + 2 * s->d + 3;
    for (int r = 0; r < nrec; r++)
        CU_ASSERT_EQUAL(nf[r], want);
    CU_ASSERT_STRING_EQUAL(fields[0][0], "segment_id");
    CU_ASSERT_STRING_EQUAL(fields[0][1], "name");
    CU_ASSERT_STRING_EQUAL(fields[0][4], "revenue_share");
    CU_ASSERT_STRING_EQUAL(fields[0][5], "mean_recency_days");
    CU_ASSERT_STRING_EQUAL(fields[0][6], "median_recency_days");
    CU_ASSERT_STRING_EQUAL(fields[0][want - 3], "persona_name");
    CU_ASSERT_STRING_EQUAL(fields[0][want - 2], "tagline");
    CU_ASSERT_STRING_EQUAL(fields[0][want - 1], "currency"); /* of the money columns */
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_EQUAL(atoi(fields[c + 1][0]), s->seg[c].id);
        CU_ASSERT_STRING_EQUAL(fields[c + 1][1], s->seg[c].name);
        CU_ASSERT_EQUAL(atoll(fields[c + 1][2]), s->seg[c].size);
        CU_ASSERT_DOUBLE_EQUAL(atof(fields[c + 1][3]), s->seg[c].share, 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(atof(fields[c + 1][6]), s->seg[c].median[0], 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(atof(fields[c + 1][8]), s->seg[c].median[1], 1e-9);
        CU_ASSERT_STRING_EQUAL(fields[c + 1][want - 3], p[c].name);
        CU_ASSERT_STRING_EQUAL(fields[c + 1][want - 2], p[c].tagline);
        CU_ASSERT_STRING_EQUAL(fields[c + 1][want - 1], "GBP");
    }
    /* No temporary file is left behind. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/segments.csv.tmp.%ld", dir, (long)getpid());
    CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
    free(text);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

static void csv_should_carry_the_outlier_counts_when_the_stage_ran(void)
{
    tribe_segments *s = fixture_segments();
    int64_t out[FIX_K];
    for (int c = 0; c < s->k; c++)
        s->seg[c].outliers = out[c] = 7 * c + 1;
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_segments_csv_text(s, NULL, &text), TRIBE_OK);
    char *fields[MAX_REC][MAX_FIELD];
    int nf[MAX_REC];
    CU_ASSERT_EQUAL_FATAL(parse_csv(text, fields, nf), s->k + 1);
    CU_ASSERT_EQUAL(nf[0], 6 + 2 * s->d + 3);
    CU_ASSERT_STRING_EQUAL(fields[0][5], "outliers");
    CU_ASSERT_STRING_EQUAL(fields[0][6], "mean_recency_days");
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_EQUAL(nf[c + 1], nf[0]);
        CU_ASSERT_EQUAL(atoll(fields[c + 1][5]), out[c]);
        CU_ASSERT_DOUBLE_EQUAL(atof(fields[c + 1][7]), s->seg[c].median[0], 1e-9);
    }
    free(text);
    tribe_segments_destroy(&s);
}

static void csv_should_quote_commas_quotes_and_line_breaks(void)
{
    const char *names[FIX_K] = {"Champions, \"VIP\"", "Loyal\nCustomers", "New Customers", "At Risk",
                                "Hibernating"};
    tribe_segments *s = fixture_segments_named(names);
    s->seg[2].revenue_share = NAN;
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_segments_csv_text(s, NULL, &text), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "0,\"Champions, \"\"VIP\"\"\",612,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "1,\"Loyal\nCustomers\",880,"));
    char *fields[MAX_REC][MAX_FIELD];
    int nf[MAX_REC];
    CU_ASSERT_EQUAL(parse_csv(text, fields, nf), s->k + 1);
    CU_ASSERT_STRING_EQUAL(fields[1][1], "Champions, \"VIP\"");
    CU_ASSERT_STRING_EQUAL(fields[2][1], "Loyal\nCustomers");
    CU_ASSERT_STRING_EQUAL(fields[3][4], "");               /* NaN revenue share: empty */
    CU_ASSERT_STRING_EQUAL(fields[1][nf[1] - 3], "");       /* no personas: empty columns */
    CU_ASSERT_STRING_EQUAL(fields[1][nf[1] - 2], "");
    free(text);
    tribe_segments_destroy(&s);
}

/* report.html as the segments, map, personas and campaign stages write it:
 * proj, p, plan, img and run (JSON text) may be NULL. Caller frees. */
static char *render_full(const tribe_segments *s, const tribe_persona *p, const tribe_projection *proj,
                         const char *run, const tribe_campaign_plan *plan, const tribe_persona_image *img)
{
    tribe_sbuf b = {0};
    tribe_rec *rec = NULL;
    char *text = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_report_segments(&b, s), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_report_map(&b, s, proj), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_report_personas(&b, s, p, plan, img), TRIBE_OK);
    if (plan)
        CU_ASSERT_EQUAL_FATAL(tribe_report_campaign(&b, s, plan), TRIBE_OK);
    if (run)
        CU_ASSERT_EQUAL_FATAL(tribe_rec_parse(run, &rec), TRIBE_OK);
    tribe_report_page page = {s, rec, b.p};
    CU_ASSERT_EQUAL_FATAL(tribe_report_html(&page, &text), TRIBE_OK);
    tribe_rec_destroy(&rec);
    tribe_sbuf_free(&b);
    return text;
}

static char *render(const tribe_segments *s, const tribe_persona *p, const tribe_projection *proj,
                    const char *run)
{
    return render_full(s, p, proj, run, NULL, NULL);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *q = strstr(hay, needle); q; q = strstr(q + 1, needle))
        n++;
    return n;
}

static void report_should_show_every_segment_and_persona(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona *p = personas(s);
    tribe_projection *proj = fixture_projection(500);
    char *html = render(s, p, proj, RUN_JSON);
    CU_ASSERT(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "</html>"));
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(html, s->seg[c].name));
        CU_ASSERT_PTR_NOT_NULL(strstr(html, p[c].name));
    }
    /* Run facts, ledger and timings from the run record; the version in the footer. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "r-20240611-1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "541,909"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Missing customer id"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "5.87 s"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "tribe " TRIBE_VERSION));
    /* Axis titles and one dot per projected customer. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "PC1 (41%)"));
    CU_ASSERT_EQUAL(count(html, "<circle cx=\""), 500); /* the map's points only: the size chart is HTML */
    /* The profile table: a row per feature. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Days since last order"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Pages per visit"));
    free(html);
    tribe_projection_destroy(&proj);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

/* HTML-escaped copy, as the report writes text (caller frees). */
static char *escaped(const char *s)
{
    char *o = malloc(6 * strlen(s) + 1), *w = o;
    for (; *s; s++) {
        const char *r = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;"
                      : *s == '\'' ? "&#39;" : NULL;
        if (r)
            w += sprintf(w, "%s", r);
        else
            *w++ = *s;
    }
    *w = '\0';
    return o;
}

static int card_has(const char *card, size_t len, const char *raw)
{
    char *e = escaped(raw);
    const char *hit = strstr(card, e);
    int ok = hit && (size_t)(hit - card) < len;
    free(e);
    return ok;
}

static void cards_should_show_the_campaign_and_the_evidence(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona *p = personas(s);
    tribe_campaign_plan *plan = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_campaign_plan_build(s, NULL, 0, &plan), TRIBE_OK);
    char *pj = NULL, *html = render_full(s, p, NULL, RUN_JSON, plan, NULL);
    CU_ASSERT_EQUAL_FATAL(tribe_personas_to_json(p, s->k, s, &pj), TRIBE_OK);
    const char *card = strstr(html, "<article class=\"card persona\"");
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(card);
        const char *next = strstr(card + 1, "<article class=\"card persona\"");
        const char *end = next ? next : strstr(card, "</section>");
        size_t len = (size_t)(end - card);
        /* Card c is segment c's, with its plan row: campaign, channel, tone, timing, expected value. */
        CU_ASSERT(card_has(card, len, p[c].name));
        CU_ASSERT(card_has(card, len, "Recommended campaign"));
        CU_ASSERT(card_has(card, len, plan[c].campaign));
        CU_ASSERT(card_has(card, len, plan[c].channel));
        CU_ASSERT(card_has(card, len, plan[c].tone));
        CU_ASSERT(card_has(card, len, plan[c].timing));
        char ev[64];
        CU_ASSERT(card_has(card, len, tribe_fmt_money(ev, sizeof ev, NULL, plan[c].expected_value)));
        for (int o = 0; o < s->k; o++)
            if (o != c && strcmp(plan[o].campaign, plan[c].campaign) != 0)
                CU_ASSERT(!card_has(card, len, plan[o].campaign));
        /* Evidence: one list item per entry of personas.json's evidence, each as written. */
        const char *ul = strstr(card, "<ul class=\"ev\">");
        CU_ASSERT_FATAL(ul && (size_t)(ul - card) < len);
        const char *ule = strstr(ul, "</ul>");
        int items = 0;
        for (const char *q = strstr(ul, "<li>"); q && q < ule; q = strstr(q + 1, "<li>"))
            items++;
        cJSON *arr = cJSON_Parse(pj), *ev_arr = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, c), "evidence");
        CU_ASSERT(cJSON_GetArraySize(ev_arr) > 0);
        CU_ASSERT_EQUAL(items, cJSON_GetArraySize(ev_arr));
        const cJSON *e;
        cJSON_ArrayForEach(e, ev_arr)
        {
            char want[256];
            char *w = escaped(cJSON_GetObjectItem(e, "written")->valuestring);
            snprintf(want, sizeof want, "<li><b>%s</b>", w);
            free(w);
            const char *hit = strstr(ul, want);
            CU_ASSERT(hit && hit < ule);
            snprintf(want, sizeof want, "<code>%s = ", cJSON_GetObjectItem(e, "figure")->valuestring);
            hit = strstr(ul, want);
            CU_ASSERT(hit && hit < ule);
        }
        cJSON_Delete(arr);
        card = next;
    }
    /* Champions' bio cites its median spend; the list names it in words. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "median net spend (after returns) <code>median.monetary = 4310.5</code>"));
    /* Without a plan the cards still carry the evidence, not the campaign. */
    char *bare = render(s, p, NULL, RUN_JSON);
    CU_ASSERT_PTR_NULL(strstr(bare, "Recommended campaign"));
    CU_ASSERT_EQUAL(count(bare, "<ul class=\"ev\">"), s->k);
    free(bare);
    free(pj);
    free(html);
    tribe_campaign_plan_destroy(&plan);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

static void cards_should_embed_checked_images_as_data_uris(void)
{
    static const char PNG_B64[] =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
    tribe_segments *s = fixture_segments();
    tribe_persona *p = personas(s);
    tribe_persona_image img[FIX_K] = {{0}};
    for (int c = 0; c < FIX_K; c++)
        img[c].segment = s->seg[c].id;
    img[0].b64 = strdup(PNG_B64);
    snprintf(img[0].mime, sizeof img[0].mime, "image/png");
    img[1].b64 = strdup(PNG_B64); /* a type the report does not embed */
    snprintf(img[1].mime, sizeof img[1].mime, "image/svg+xml");
    img[2].b64 = strdup("AAAA\"><script>x</script>"); /* not base64: never reaches the page */
    snprintf(img[2].mime, sizeof img[2].mime, "image/jpeg");
    snprintf(img[3].why, sizeof img[3].why, "HTTP 500 after 3 attempts");
    char *html = render_full(s, p, NULL, RUN_JSON, NULL, img);
    CU_ASSERT_EQUAL(count(html, "<img "), 1);
    CU_ASSERT_EQUAL(count(html, "src=\""), 1);
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    char want[512];
    char *name = escaped(p[0].name);
    snprintf(want, sizeof want, "<img class=\"pimg\" alt=\"Portrait of %s\" src=\"data:image/png;base64,%s\">", name,
             PNG_B64);
    free(name);
    const char *hit = strstr(html, want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hit);
    /* In Champions' card: after its persona's name, before the next card. */
    const char *card0 = strstr(html, "<article class=\"card persona\"");
    const char *card1 = strstr(card0 + 1, "<article class=\"card persona\"");
    CU_ASSERT(hit > card0 && hit < card1);
    /* The card of a failed image says why. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Portrait: no image: HTTP 500 after 3 attempts"));
    free(html);
    /* No array: no images, as before. */
    html = render(s, p, NULL, RUN_JSON);
    CU_ASSERT_EQUAL(count(html, "<img "), 0);
    free(html);
    for (int c = 0; c < FIX_K; c++)
        free(img[c].b64);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

static void report_should_reference_nothing_outside_the_file(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona *p = personas(s);
    tribe_projection *proj = fixture_projection(200);
    char *html = render(s, p, proj, RUN_JSON);
    CU_ASSERT_PTR_NULL(strstr(html, "http://"));
    CU_ASSERT_PTR_NULL(strstr(html, "https://"));
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    CU_ASSERT_PTR_NULL(strstr(html, "<link"));
    CU_ASSERT_PTR_NULL(strstr(html, "@import"));
    CU_ASSERT_PTR_NULL(strstr(html, "url("));
    CU_ASSERT_PTR_NULL(strstr(html, "src="));
    /* Only in-page anchors. */
    for (const char *q = strstr(html, "href=\""); q; q = strstr(q + 1, "href=\""))
        CU_ASSERT_EQUAL(q[6], '#');
    free(html);
    tribe_projection_destroy(&proj);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

static void report_should_escape_text_from_the_data(void)
{
    const char *names[FIX_K] = {"<script>alert(1)</script>", "Loyal & \"True\"", "New Customers", "At Risk",
                                "Hibernating"};
    tribe_segments *s = fixture_segments_named(names);
    free(s->mix[1].levels[0]);
    s->mix[1].levels[0] = strdup("<img src=x onerror=alert(1)>");
    tribe_persona *p = personas(s);
    char *html = render(s, p, NULL, "{\"run_id\":\"<b>x</b>\",\"ledger\":{\"<i>\":1}}");
    CU_ASSERT_PTR_NULL(strstr(html, "<script"));
    CU_ASSERT_PTR_NULL(strstr(html, "<img"));
    CU_ASSERT_PTR_NULL(strstr(html, "<b>x"));
    CU_ASSERT_PTR_NULL(strstr(html, "<i>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "Loyal &amp; &quot;True&quot;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
    /* Without a projection the map says so instead of drawing. */
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "No projection sample"));
    free(html);
    tribe_personas_destroy(&p, s->k);
    tribe_segments_destroy(&s);
}

static void report_should_render_without_personas_or_run_record(void)
{
    tribe_segments *s = fixture_segments();
    tribe_projection *proj = fixture_projection(10000);
    char *html = render(s, NULL, proj, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "No personas were written"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "No run record"));
    /* The scatter is capped at 3,000 points and says it is a sample. */
    CU_ASSERT_EQUAL(count(html, "<circle cx=\""), 3000);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "3,000 customers shown"));
    free(html);
    tribe_projection_destroy(&proj);
    tribe_segments_destroy(&s);
}

static void a_run_record_should_be_a_json_object(void)
{
    tribe_rec *rec = NULL;
    CU_ASSERT_EQUAL(tribe_rec_parse("{\"run_id\": ", &rec), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NULL(rec);
    CU_ASSERT_EQUAL(tribe_rec_parse("[1,2]", &rec), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "not an object"));
    CU_ASSERT_PTR_NULL(rec);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(csv_should_have_a_header_and_one_row_per_segment),
        TRIBE_TEST(csv_should_quote_commas_quotes_and_line_breaks),
        TRIBE_TEST(csv_should_carry_the_outlier_counts_when_the_stage_ran),
        TRIBE_TEST(report_should_show_every_segment_and_persona),
        TRIBE_TEST(cards_should_show_the_campaign_and_the_evidence),
        TRIBE_TEST(cards_should_embed_checked_images_as_data_uris),
        TRIBE_TEST(report_should_reference_nothing_outside_the_file),
        TRIBE_TEST(report_should_escape_text_from_the_data),
        TRIBE_TEST(report_should_render_without_personas_or_run_record),
        TRIBE_TEST(a_run_record_should_be_a_json_object),
        {NULL, NULL}};
    return tribe_test_main("report", cases);
}
