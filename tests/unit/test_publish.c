/* Unit tests for COPY's text format fields (src/publish/copy.c); the server's
 * own reading of them is tests/e2e/test_publish.sh. */
#include "testutil.h"

#include "tribe/publish.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A COPY text field decoded as PostgreSQL's COPY FROM does (backslash
 * escapes \b \f \n \r \t \v, octal \ooo, \xhh, any other \c is c), into
 * out; returns the length, -1 for \N (NULL). */
static int copy_decode(const char *f, size_t n, char *out)
{
    if (n == 2 && f[0] == '\\' && f[1] == 'N')
        return -1;
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] != '\\' || i + 1 == n) {
            out[m++] = f[i];
            continue;
        }
        char c = f[++i];
        static const char ESC[] = "b\bf\fn\nr\rt\tv\v";
        const char *e = strchr(ESC, c);
        if (e && (e - ESC) % 2 == 0)
            out[m++] = e[1];
        else if (c >= '0' && c <= '7') {
            int v = 0;
            for (int k = 0; k < 3 && i < n && f[i] >= '0' && f[i] <= '7'; k++, i++)
                v = 8 * v + (f[i] - '0');
            i--;
            out[m++] = (char)v;
        } else
            out[m++] = c;
    }
    return m;
}

static void text_fields_should_escape_backslash_tab_newline_and_cr_only(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_text(&b, "a\tb\nc\rd\\e \"q\" 'x' {,} Zoë 🙂 \\N"), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "a\\tb\\nc\\rd\\\\e \"q\" 'x' {,} Zoë 🙂 \\\\N");
    b.len = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_text(&b, NULL), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "\\N");
    b.len = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_text(&b, ""), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "");
    tribe_sbuf_free(&b);
}

static void every_byte_string_should_decode_back_to_itself(void)
{
    tribe_sbuf b = {0};
    char s[64], out[256];
    for (int t = 0; t < 20000; t++) {
        int n = (int)tribe_rng_below(9, 1, (uint64_t)t, 40);
        for (int i = 0; i < n; i++) /* weighted towards the bytes that matter */
            s[i] = (char)("\\\t\n\r\"N.{},x"[tribe_rng_below(9, 2, (uint64_t)t * 64 + i, 12)] +
                          (tribe_rng_below(9, 3, (uint64_t)t * 64 + i, 4) == 0 ? 0x80 : 0));
        s[n] = '\0';
        for (int i = 0; i < n; i++)
            if (!s[i])
                s[i] = 'z';
        b.len = 0;
        CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_text(&b, s), TRIBE_OK);
        CU_ASSERT_PTR_NULL(memchr(b.p, '\t', b.len)); /* a field never ends early */
        CU_ASSERT_PTR_NULL(memchr(b.p, '\n', b.len));
        CU_ASSERT_PTR_NULL(memchr(b.p, '\r', b.len));
        int m = copy_decode(b.p, b.len, out);
        CU_ASSERT_EQUAL(m, n);
        CU_ASSERT(m == n && memcmp(out, s, (size_t)n) == 0);
    }
    tribe_sbuf_free(&b);
}

static void array_fields_should_quote_each_element(void)
{
    tribe_sbuf b = {0};
    char *v[] = {"plain", "a \"quote\"", "back\\slash", "tab\there", "", "NULL", "{x,y}"};
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_array(&b, v, 7), TRIBE_OK);
    /* array literal {"plain","a \"quote\"","back\\slash","tab<TAB>here","","NULL","{x,y}"},
     * then COPY-escaped: every backslash doubled, the tab written \t */
    CU_ASSERT_STRING_EQUAL(b.p, "{\"plain\",\"a \\\\\"quote\\\\\"\",\"back\\\\\\\\slash\",\"tab\\there\",\"\","
                                "\"NULL\",\"{x,y}\"}");
    b.len = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_array(&b, NULL, 0), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "{}");
    tribe_sbuf_free(&b);
}

static void numbers_should_read_back_exactly_and_nan_as_null(void)
{
    tribe_sbuf b = {0};
    const double d[] = {0.1, -1e-300, 1.0 / 3.0, 123456789.123456789, 5e-324};
    for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
        b.len = 0;
        CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_f64(&b, d[i]), TRIBE_OK);
        CU_ASSERT_EQUAL(strtod(b.p, NULL), d[i]);
        b.len = 0;
        CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_f32(&b, (float)d[i]), TRIBE_OK);
        CU_ASSERT_EQUAL(strtof(b.p, NULL), (float)d[i]);
    }
    b.len = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_f64(&b, NAN), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_copy_f32(&b, INFINITY), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "\\N\\N");
    tribe_sbuf_free(&b);
}

static void schema_names_should_be_plain_lower_case_identifiers(void)
{
    CU_ASSERT_EQUAL(tribe_publish_check_schema("tribe"), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_publish_check_schema("_crm_2026"), TRIBE_OK);
    const char *bad[] = {"", "Tribe", "2x", "a-b", "a\"b", "a.b", "x y",
                         "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(tribe_publish_check_schema(bad[i]), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(tribe_publish_check_schema(NULL), TRIBE_ERR_USAGE);
}

static void a_failed_allocation_should_leave_the_buffer_as_it_was(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_add(&b, "kept"), TRIBE_OK);
    char big[600];
    memset(big, '\t', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tribe_alloc_fail_after(1);
    CU_ASSERT_EQUAL(tribe_sbuf_copy_text(&b, big), TRIBE_ERR_NOMEM);
    tribe_alloc_fail_after(0);
    CU_ASSERT_STRING_EQUAL(b.p, "kept");
    tribe_sbuf_free(&b);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(text_fields_should_escape_backslash_tab_newline_and_cr_only),
        TRIBE_TEST(every_byte_string_should_decode_back_to_itself),
        TRIBE_TEST(array_fields_should_quote_each_element),
        TRIBE_TEST(numbers_should_read_back_exactly_and_nan_as_null),
        TRIBE_TEST(schema_names_should_be_plain_lower_case_identifiers),
        TRIBE_TEST(a_failed_allocation_should_leave_the_buffer_as_it_was),
        {NULL, NULL}};
    return tribe_test_main("publish", cases);
}
