/* Unit tests for src/core/sbuf.c: the growable string buffer. */
#include "testutil.h"
#include "tribe/sbuf.h"

#include <stdlib.h>
#include <string.h>

static void an_empty_buffer_should_hand_over_an_empty_string(void)
{
    tribe_sbuf b = {0};
    char *s = NULL;
    CU_ASSERT_EQUAL(tribe_sbuf_take(&b, &s), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_PTR_NULL(b.p);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(b.cap, 0);
    free(s);
    tribe_sbuf_free(&b);
    tribe_sbuf_free(&b); /* twice, and NULL: both harmless */
    tribe_sbuf_free(NULL);
}

static void appends_should_grow_by_doubling_and_keep_a_terminator(void)
{
    tribe_sbuf b = {0};
    size_t want = 0;
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        char word[16];
        int n = snprintf(word, sizeof word, "%d,", i);
        CU_ASSERT_EQUAL_FATAL(i % 2 ? tribe_sbuf_add(&b, word) : tribe_sbuf_addn(&b, word, (size_t)n), TRIBE_OK);
        want += (size_t)n;
        /* capacity: a power of two from 256, always room for the NUL */
        if (b.len != want || b.p[b.len] != '\0' || b.len >= b.cap || b.cap < 256 || (b.cap & (b.cap - 1)) != 0)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(strlen(b.p), want);
    CU_ASSERT(strncmp(b.p, "0,1,2,3,", 8) == 0);
    CU_ASSERT(strcmp(b.p + want - 5, "4999,") == 0);
    char *s = NULL;
    CU_ASSERT_EQUAL(tribe_sbuf_take(&b, &s), TRIBE_OK);
    CU_ASSERT_EQUAL(strlen(s), want);
    CU_ASSERT_PTR_NULL(b.p);
    free(s);
}

static void addn_should_copy_embedded_nuls_and_allow_zero_bytes(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_addn(&b, NULL, 0), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.p);
    CU_ASSERT_STRING_EQUAL(b.p, "");
    CU_ASSERT_EQUAL(tribe_sbuf_addn(&b, "a\0b", 3), TRIBE_OK);
    CU_ASSERT_EQUAL(b.len, 3);
    CU_ASSERT(memcmp(b.p, "a\0b\0", 4) == 0);
    tribe_sbuf_free(&b);
    CU_ASSERT_PTR_NULL(b.p);
    CU_ASSERT_EQUAL(b.len, 0);
}

static void printf_should_render_strings_longer_than_the_capacity(void)
{
    const size_t n = 100000;
    char *big = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_printf(&b, "<%s>", "x"), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_sbuf_printf(&b, "[%s|%0*d]", big, 3000, 42), TRIBE_OK);
    CU_ASSERT_EQUAL(b.len, 3 + 1 + n + 1 + 3000 + 1);
    CU_ASSERT_EQUAL(strlen(b.p), b.len);
    CU_ASSERT(strncmp(b.p, "<x>[abc", 7) == 0);
    CU_ASSERT(memcmp(b.p + 4, big, n) == 0);
    CU_ASSERT_STRING_EQUAL(b.p + b.len - 4, "042]");
    CU_ASSERT_EQUAL(b.p[4 + n + 1], '0');
    CU_ASSERT_EQUAL(tribe_sbuf_printf(&b, "%s", ""), TRIBE_OK); /* nothing to add */
    CU_ASSERT_EQUAL(b.len, 3 + 1 + n + 1 + 3000 + 1);
    tribe_sbuf_free(&b);
    free(big);
}

/* The generator's pattern: reserve once, write bytes directly, advance len. */
static void reserved_room_should_take_direct_writes_and_take_should_terminate_them(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_add(&b, "head:"), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_reserve(&b, 1000), TRIBE_OK);
    CU_ASSERT(b.len + 1000 < b.cap);
    size_t cap = b.cap;
    memset(b.p + b.len, 'z', 1000);
    b.len += 1000;
    CU_ASSERT_EQUAL(tribe_sbuf_reserve(&b, 0), TRIBE_OK); /* room for the NUL is already there */
    CU_ASSERT_EQUAL(b.cap, cap);
    char *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_take(&b, &s), TRIBE_OK);
    CU_ASSERT_EQUAL(strlen(s), 1005);
    CU_ASSERT(strncmp(s, "head:zzz", 8) == 0);
    free(s);
}

static void impossible_sizes_should_fail_with_nomem_and_leave_the_buffer(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_add(&b, "keep"), TRIBE_OK);
    char *p = b.p;
    size_t cap = b.cap;
    CU_ASSERT_EQUAL(tribe_sbuf_reserve(&b, SIZE_MAX), TRIBE_ERR_NOMEM);
    CU_ASSERT_EQUAL(tribe_sbuf_reserve(&b, SIZE_MAX - 4), TRIBE_ERR_NOMEM);
    CU_ASSERT_EQUAL(tribe_sbuf_reserve(&b, SIZE_MAX / 2 + 1), TRIBE_ERR_NOMEM);
    CU_ASSERT(strstr(tribe_errmsg(), "address space") != NULL);
    CU_ASSERT_PTR_EQUAL(b.p, p);
    CU_ASSERT_EQUAL(b.cap, cap);
    CU_ASSERT_STRING_EQUAL(b.p, "keep");
    tribe_sbuf_free(&b);
}

/* Each step fails at its k-th allocation in turn: a failed call returns
 * NOMEM and leaves the text as it was; the sequence eventually completes. */
static void failed_allocations_should_leave_the_buffer_as_it_was(void)
{
    static char chunk[700];
    memset(chunk, 'q', sizeof chunk - 1);
    int finished = 0, failures = 0;
    for (long k = 1; k < 100 && !finished; k++) {
        tribe_sbuf b = {0};
        char *out = NULL;
        tribe_alloc_fail_after(k);
        tribe_status st = TRIBE_OK;
        for (int step = 0; step < 12 && st == TRIBE_OK; step++) {
            size_t len0 = b.len, cap0 = b.cap;
            char *before = b.p ? strndup(b.p, b.len) : NULL;
            switch (step % 4) {
            case 0: st = tribe_sbuf_add(&b, chunk); break;
            case 1: st = tribe_sbuf_addn(&b, chunk, 300); break;
            case 2: st = tribe_sbuf_printf(&b, "%s-%d", chunk, step); break;
            default: st = tribe_sbuf_reserve(&b, 5000); break;
            }
            if (st != TRIBE_OK) {
                failures++;
                CU_ASSERT_EQUAL(st, TRIBE_ERR_NOMEM);
                CU_ASSERT_EQUAL(b.len, len0);
                CU_ASSERT_EQUAL(b.cap, cap0);
                if (before)
                    CU_ASSERT(memcmp(b.p, before, len0) == 0);
            }
            free(before);
        }
        if (st == TRIBE_OK)
            st = tribe_sbuf_take(&b, &out);
        tribe_alloc_fail_after(0);
        if (st == TRIBE_OK) {
            finished = 1;
            CU_ASSERT_EQUAL(strlen(out), 3 * 699 + 3 * 300 + (699 + 2) + (699 + 2) + (699 + 3)); /* "-2", "-6", "-10" */
        } else {
            CU_ASSERT_PTR_NULL(out);
        }
        free(out);
        tribe_sbuf_free(&b);
    }
    CU_ASSERT(finished);
    CU_ASSERT(failures > 0);

    /* take of an empty buffer needs one allocation; when it fails nothing changes */
    tribe_sbuf e = {0};
    char *s = NULL;
    tribe_alloc_fail_after(1);
    CU_ASSERT_EQUAL(tribe_sbuf_take(&e, &s), TRIBE_ERR_NOMEM);
    tribe_alloc_fail_after(0);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NULL(e.p);
}

static void json_strings_should_be_escaped(void)
{
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_json_str(&b, "a\"b\\c\nd\te \xc2\xa3"), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_sbuf_json_str(&b, NULL), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "\"a\\\"b\\\\c\\nd\\u0009e \xc2\xa3\"\"\"");
    tribe_sbuf_free(&b);
}

/* The cell for s as tribe_sbuf_csv_cell writes it (test-owned copy). */
static char *cell(const char *s)
{
    tribe_sbuf b = {0};
    char *out = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_csv_cell(&b, s), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_sbuf_take(&b, &out), TRIBE_OK);
    return out;
}

#define CELL_IS(in, want)                                                                                            \
    do {                                                                                                             \
        char *got_ = cell(in);                                                                                       \
        CU_ASSERT_STRING_EQUAL(got_, want);                                                                          \
        free(got_);                                                                                                  \
    } while (0)

static void csv_cells_starting_like_a_formula_should_get_a_quote_mark_and_be_quoted(void)
{
    CELL_IS("=1+1", "\"'=1+1\"");
    CELL_IS("+cmd|' /C calc'!A0", "\"'+cmd|' /C calc'!A0\"");
    CELL_IS("-2+3", "\"'-2+3\"");
    CELL_IS("@SUM(A1)", "\"'@SUM(A1)\"");
    CELL_IS("\tx", "\"'\tx\"");
    CELL_IS("\r=1", "\"'\r=1\"");
    CELL_IS("-", "\"'-\"");
    CELL_IS("=HYPERLINK(\"http://x\",\"a,b\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"");
    /* a trigger anywhere but first is harmless */
    CELL_IS("a=1+1", "a=1+1");
    CELL_IS(" =1", " =1");
}

static void csv_cells_that_are_plain_numbers_should_stay_as_they_are(void)
{
    CELL_IS("-12", "-12");
    CELL_IS("-3.5", "-3.5");
    CELL_IS("+7", "+7");
    CELL_IS("-1e-3", "-1e-3");
    CELL_IS("-.5", "-.5");
    CELL_IS("12", "12");
    /* not wholly a number: neutralised */
    CELL_IS("-12 ", "\"'-12 \"");
    CELL_IS("-1e", "\"'-1e\"");
    CELL_IS("-e5", "\"'-e5\"");
    CELL_IS("-0x1F", "\"'-0x1F\"");
    CELL_IS("+-1", "\"'+-1\"");
}

static void csv_cells_already_starting_with_quote_marks_should_stay_reversible(void)
{
    /* a reader removes one leading ' when quote marks then a trigger begin the cell */
    CELL_IS("'=1", "\"''=1\"");
    CELL_IS("''-12", "\"'''-12\"");
    CELL_IS("'-12", "\"''-12\"");
    /* quote marks followed by anything else: as they are */
    CELL_IS("'tis", "'tis");
    CELL_IS("'", "'");
}

static void csv_cells_should_follow_rfc_4180_and_keep_utf8(void)
{
    CELL_IS("", "");
    CELL_IS(NULL, "");
    CELL_IS("plain", "plain");
    CELL_IS("a,b", "\"a,b\"");
    CELL_IS("say \"hi\"", "\"say \"\"hi\"\"\"");
    CELL_IS("two\nlines", "\"two\nlines\"");
    CELL_IS("cr\rin", "\"cr\rin\"");
    CELL_IS("caf\xc3\xa9 \xc2\xa3" "5", "caf\xc3\xa9 \xc2\xa3" "5");
    CELL_IS("\xef\xbc\x9d" "1+1", "\xef\xbc\x9d" "1+1"); /* a full-width '=' is no formula */
}

static void csv_cells_should_measure_like_snprintf_and_pass_nuls(void)
{
    const char raw[] = {'=', 'a', '\0', 'b'};
    char out[16];
    memset(out, 'x', sizeof out);
    CU_ASSERT_EQUAL(tribe_csv_cell(NULL, 0, raw, sizeof raw), 7);
    CU_ASSERT_EQUAL(tribe_csv_cell(out, 3, raw, sizeof raw), 7); /* cut to 3 bytes, no NUL */
    CU_ASSERT(memcmp(out, "\"'=x", 4) == 0);
    CU_ASSERT_EQUAL(tribe_csv_cell(out, sizeof out, raw, sizeof raw), 7);
    CU_ASSERT(memcmp(out, "\"'=a\0b\"\0", 8) == 0);
    /* out of memory: the buffer stays as it was */
    char big[400];
    memset(big, '=', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tribe_sbuf b = {0};
    CU_ASSERT_EQUAL(tribe_sbuf_add(&b, "x,"), TRIBE_OK);
    tribe_alloc_fail_after(1);
    CU_ASSERT_EQUAL(tribe_sbuf_csv_cell(&b, big), TRIBE_ERR_NOMEM);
    tribe_alloc_fail_after(0);
    CU_ASSERT_EQUAL(b.len, 2);
    CU_ASSERT_STRING_EQUAL(b.p, "x,");
    tribe_sbuf_free(&b);
}

static void csv_cell_text_should_undo_exactly_what_the_formula_rule_added(void)
{
    static const char *const texts[] = {"=1+1", "'=1", "''-12", "'-12", "-12", "'tis", "'", "", "@x", "\t", "a,b",
                                        "+cmd|' /C calc'!A0", "'\r"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        char *c = cell(texts[i]);
        /* undo RFC 4180 quoting the way a reader does, then the rule */
        char plain[64] = "";
        size_t n = 0, len = strlen(c);
        if (len && c[0] == '"') {
            for (size_t j = 1; j + 1 < len; j++) {
                plain[n++] = c[j];
                if (c[j] == '"')
                    j++;
            }
        } else {
            memcpy(plain, c, len);
            n = len;
        }
        plain[n] = '\0';
        CU_ASSERT_STRING_EQUAL(tribe_csv_cell_text(plain), texts[i]);
        free(c);
    }
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(an_empty_buffer_should_hand_over_an_empty_string),
        TRIBE_TEST(appends_should_grow_by_doubling_and_keep_a_terminator),
        TRIBE_TEST(addn_should_copy_embedded_nuls_and_allow_zero_bytes),
        TRIBE_TEST(printf_should_render_strings_longer_than_the_capacity),
        TRIBE_TEST(reserved_room_should_take_direct_writes_and_take_should_terminate_them),
        TRIBE_TEST(impossible_sizes_should_fail_with_nomem_and_leave_the_buffer),
        TRIBE_TEST(json_strings_should_be_escaped),
        TRIBE_TEST(failed_allocations_should_leave_the_buffer_as_it_was),
        TRIBE_TEST(csv_cells_starting_like_a_formula_should_get_a_quote_mark_and_be_quoted),
        TRIBE_TEST(csv_cells_that_are_plain_numbers_should_stay_as_they_are),
        TRIBE_TEST(csv_cells_already_starting_with_quote_marks_should_stay_reversible),
        TRIBE_TEST(csv_cells_should_follow_rfc_4180_and_keep_utf8),
        TRIBE_TEST(csv_cells_should_measure_like_snprintf_and_pass_nuls),
        TRIBE_TEST(csv_cell_text_should_undo_exactly_what_the_formula_rule_added),
        {NULL, NULL}};
    return tribe_test_main("sbuf", cases);
}
