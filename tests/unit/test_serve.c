/* Unit tests for src/serve's serial pieces: customer ids as written, the
 * token file, constant-time comparison, sessions, the rate limiter, the
 * metrics text, and the look-up on a hand-built snapshot. */
#include "testutil.h"

#include "../../src/serve/auth.h" /* internal to src/serve */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t parsed(const char *s, int *rc)
{
    int64_t v = -1;
    *rc = tribe_serve_parse_id(s, strlen(s), &v);
    return v;
}

static void ids_should_parse_as_integers_or_their_float_form(void)
{
    int rc = 0;
    CU_ASSERT_EQUAL(parsed("17850", &rc), 17850);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(parsed("17850.0", &rc), 17850);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(parsed("17850.000", &rc), 17850);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(parsed("-3", &rc), -3);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(parsed("9223372036854775807", &rc), INT64_MAX);
    CU_ASSERT_EQUAL(rc, 0);
    static const char *const bad[] = {"", "abc", "17850.5", "17850x", "+5", "9223372036854775808", "1e5", " 12",
                                      "12 ", "0x10", "12345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        parsed(bad[i], &rc);
        CU_ASSERT_NOT_EQUAL(rc, 0);
        if (rc == 0)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
    }
    int64_t v = 0; /* a length cuts the text: "17850/customers" is read up to the slash by the caller */
    CU_ASSERT_EQUAL(tribe_serve_parse_id("17850/x", 5, &v), 0);
    CU_ASSERT_EQUAL(v, 17850);
}

static char *token_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tribe-tokens-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void token_files_should_give_roles_and_reject_bad_lines(void)
{
    tribe_auth *a = NULL;
    char who[24] = "";
    char *p = token_file("# comment\n\nread  reader-token-0123456789\nwrite writer-token-0123456789\n");
    CU_ASSERT_EQUAL_FATAL(tribe_auth_create(p, 0, 0, 0, &a), TRIBE_OK);
    unlink(p);
    CU_ASSERT_EQUAL(tribe_auth_token(a, "reader-token-0123456789", 23, who), TRIBE_ROLE_READ);
    CU_ASSERT_EQUAL(strncmp(who, "token:", 6), 0);
    CU_ASSERT_PTR_NULL(strstr(who, "reader"));
    CU_ASSERT_EQUAL(tribe_auth_token(a, "writer-token-0123456789", 23, who), TRIBE_ROLE_WRITE);
    CU_ASSERT_EQUAL(tribe_auth_token(a, "writer-token-012345678", 22, who), TRIBE_ROLE_NONE);
    CU_ASSERT_EQUAL(tribe_auth_token(a, "", 0, who), TRIBE_ROLE_NONE);
    tribe_auth_destroy(&a);
    CU_ASSERT_PTR_NULL(a);

    static const char *const bad[][2] = {{"admin some-token-0123456789\n", ":1: expected 'read TOKEN'"},
                                         {"read short\n", ":1: a token must be at least 16 characters"},
                                         {"read a-token-0123456789 extra\n", ":1: expected"},
                                         {"# only a comment\n", "no token"},
                                         {"read ok-token-0123456789\nwrite\n", ":2: expected"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = token_file(bad[i][0]);
        CU_ASSERT_EQUAL(tribe_auth_create(p, 0, 0, 0, &a), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), bad[i][1]));
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), p));
        CU_ASSERT_PTR_NULL(a);
        unlink(p);
    }
    CU_ASSERT_EQUAL(tribe_auth_create("/nonexistent/tokens", 0, 0, 0, &a), TRIBE_ERR_IO);
}

static void sessions_should_carry_their_role_and_csrf_token(void)
{
    tribe_auth *a = NULL;
    char id[65], csrf[65], got[65] = "", who[24] = "";
    char *p = token_file("write writer-token-0123456789\n");
    CU_ASSERT_EQUAL_FATAL(tribe_auth_create(p, 0, 0, 0, &a), TRIBE_OK);
    unlink(p);
    CU_ASSERT_EQUAL(tribe_auth_session_new(a, TRIBE_ROLE_WRITE, "token:abc", id, csrf), 0);
    CU_ASSERT_EQUAL(strlen(id), 64);
    CU_ASSERT_EQUAL(strlen(csrf), 64);
    CU_ASSERT_STRING_NOT_EQUAL(id, csrf);
    CU_ASSERT_EQUAL(tribe_auth_session(a, id, got, who), TRIBE_ROLE_WRITE);
    CU_ASSERT_STRING_EQUAL(got, csrf);
    CU_ASSERT_STRING_EQUAL(who, "token:abc");
    id[10] = id[10] == 'a' ? 'b' : 'a';
    CU_ASSERT_EQUAL(tribe_auth_session(a, id, got, who), TRIBE_ROLE_NONE);
    CU_ASSERT_EQUAL(tribe_auth_session(a, "short", got, who), TRIBE_ROLE_NONE);
    CU_ASSERT_TRUE(tribe_auth_same_text(csrf, csrf));
    CU_ASSERT_FALSE(tribe_auth_same_text(csrf, id));
    CU_ASSERT_FALSE(tribe_auth_same_text("", "x"));
    tribe_auth_destroy(&a);
}

static void the_rate_limit_should_allow_the_burst_then_ask_to_wait(void)
{
    tribe_auth *a = NULL;
    char *p = token_file("read reader-token-0123456789\n");
    CU_ASSERT_EQUAL_FATAL(tribe_auth_create(p, 1.0, 5, 0, &a), TRIBE_OK); /* 1/s, burst 5 */
    unlink(p);
    int allowed = 0, wait = 0;
    for (int i = 0; i < 8; i++) {
        int w = tribe_auth_limit(a, 42, 0);
        allowed += w == 0;
        wait = w > wait ? w : wait;
    }
    CU_ASSERT_EQUAL(allowed, 5);
    CU_ASSERT(wait >= 1 && wait <= 2);
    CU_ASSERT_EQUAL(tribe_auth_limit(a, 43, 0), 0); /* another address has its own bucket */
    tribe_auth_destroy(&a);
    p = token_file("read reader-token-0123456789\n");
    CU_ASSERT_EQUAL_FATAL(tribe_auth_create(p, 0, 0, 6, &a), TRIBE_OK); /* no read limit, 6 writes a minute */
    unlink(p);
    allowed = 0;
    for (int i = 0; i < 100; i++)
        allowed += tribe_auth_limit(a, 7, 0) == 0;
    CU_ASSERT_EQUAL(allowed, 100);
    allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += tribe_auth_limit(a, 7, 1) == 0;
    CU_ASSERT_EQUAL(allowed, 3); /* the write burst: max(3, 6 / 10) */
    tribe_auth_destroy(&a);
}

/* A snapshot of 5 customers in 2 segments, built by hand. */
static tribe_snap *tiny_snap(void)
{
    static int64_t id[] = {3, 10, 11, 400, 9000};
    static int16_t label[] = {1, 0, 1, 1, 0};
    static int64_t seg_id[] = {7, 2};
    static int64_t start[] = {0, 2, 5};
    static uint32_t rows[] = {1, 4, 0, 2, 3};
    static tribe_snap s;
    memset(&s, 0, sizeof s);
    s.n = 5;
    s.k = 2;
    s.id = id;
    s.label = label;
    s.seg_id = seg_id;
    s.seg_start = start;
    s.seg_rows = rows;
    return &s;
}

static void look_ups_should_find_every_id_and_nothing_else(void)
{
    tribe_snap *s = tiny_snap();
    for (int64_t i = 0; i < s->n; i++)
        CU_ASSERT_EQUAL(tribe_snap_find(s, s->id[i]), i);
    static const int64_t absent[] = {INT64_MIN, -1, 0, 2, 4, 12, 399, 401, 8999, 9001, INT64_MAX};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        CU_ASSERT_EQUAL(tribe_snap_find(s, absent[i]), -1);
    CU_ASSERT_EQUAL(tribe_snap_segment(s, 7), 0);
    CU_ASSERT_EQUAL(tribe_snap_segment(s, 2), 1);
    CU_ASSERT_EQUAL(tribe_snap_segment(s, 0), -1);
}

/* ids i of a set: the even ones, ones bunched at both ends of int64_t with a gap of 2^62 between, and
 * cubes (skewed: interpolation guesses badly); every id found at its row, its absent neighbours not */
static void look_ups_should_find_every_id_however_the_ids_are_spread(void)
{
    enum { N = 3000 };
    static int64_t id[N];
    tribe_snap s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.n = N;
    for (int set = 0; set < 3; set++) {
        for (int64_t i = 0; i < N; i++)
            id[i] = set == 0   ? 2 * i + 1000
                    : set == 1 ? (i < N / 2 ? INT64_MIN + 2 * i : INT64_MAX - 2 * (N - 1 - i))
                               : i * i * i;
        for (int64_t i = 0; i < N; i++) {
            CU_ASSERT_EQUAL(tribe_snap_find(&s, id[i]), i);
            if (id[i] != INT64_MIN && (i == 0 || id[i - 1] != id[i] - 1))
                CU_ASSERT_EQUAL(tribe_snap_find(&s, id[i] - 1), -1);
            if (id[i] != INT64_MAX && (i == N - 1 || id[i + 1] != id[i] + 1))
                CU_ASSERT_EQUAL(tribe_snap_find(&s, id[i] + 1), -1);
        }
    }
}

/* the ids of a customer object are written as "%lld" writes them, the extremes of int64_t included */
static void customer_objects_should_write_ids_as_printf_does(void)
{
    static int64_t id[] = {INT64_MIN, -10, -1, 0, 9, 10, 1234567890123, INT64_MAX};
    static int16_t label[] = {0, 1, 0, 1, 0, 1, 0, 1};
    static int64_t seg_id[] = {INT64_MIN, 100};
    static char name0[] = "low", name1[] = "a \"b\"";
    static char *seg_name[] = {name0, name1};
    tribe_snap s;
    memset(&s, 0, sizeof s);
    s.id = id;
    s.n = 8;
    s.k = 2;
    s.label = label;
    s.seg_id = seg_id;
    s.seg_name = seg_name;
    for (int64_t i = 0; i < s.n; i++) {
        char want[160];
        tribe_sbuf b = {0};
        snprintf(want, sizeof want, "{\"customer_id\":\"%lld\",\"segment\":{\"id\":\"%lld\",\"name\":%s}}",
                 (long long)id[i], (long long)seg_id[label[i]], label[i] ? "\"a \\\"b\\\"\"" : "\"low\"");
        CU_ASSERT_EQUAL_FATAL(tribe_snap_customer_json(&s, i, 1u << TRIBE_CF_SEGMENT, &b), TRIBE_OK);
        CU_ASSERT_STRING_EQUAL(b.p, want);
        tribe_sbuf_free(&b);
    }
}

static void metrics_should_count_requests_by_route_and_latency_bucket(void)
{
    tribe_metrics *m = NULL;
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_metrics_create(&m), TRIBE_OK);
    tribe_metrics_request(m, TRIBE_ROUTE_CUSTOMER, 200, 40e-6);
    tribe_metrics_request(m, TRIBE_ROUTE_CUSTOMER, 404, 60e-6);
    tribe_metrics_request(m, TRIBE_ROUTE_CUSTOMER, 200, 2.0);
    tribe_metrics_reload(m, 1, 0.5);
    tribe_metrics_reload(m, 0, 0.1);
    CU_ASSERT_EQUAL_FATAL(tribe_metrics_text(m, NULL, &b), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_requests_total{route=\"customer\",code=\"2xx\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_requests_total{route=\"customer\",code=\"4xx\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_bucket{le=\"3e-05\"} 0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_bucket{le=\"5e-05\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_bucket{le=\"7.5e-05\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_bucket{le=\"1\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_http_request_duration_seconds_count 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_reloads_total{result=\"ok\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(b.p, "tribe_reloads_total{result=\"failed\"} 1\n"));
    CU_ASSERT_PTR_NULL(strstr(b.p, "tribe_run_loaded{")); /* no run: no series */
    tribe_sbuf_free(&b);
    tribe_metrics_destroy(&m);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(ids_should_parse_as_integers_or_their_float_form),
        TRIBE_TEST(token_files_should_give_roles_and_reject_bad_lines),
        TRIBE_TEST(sessions_should_carry_their_role_and_csrf_token),
        TRIBE_TEST(the_rate_limit_should_allow_the_burst_then_ask_to_wait),
        TRIBE_TEST(look_ups_should_find_every_id_and_nothing_else),
        TRIBE_TEST(look_ups_should_find_every_id_however_the_ids_are_spread),
        TRIBE_TEST(customer_objects_should_write_ids_as_printf_does),
        TRIBE_TEST(metrics_should_count_requests_by_route_and_latency_bucket),
        {NULL, NULL}};
    return tribe_test_main("serve", cases);
}
