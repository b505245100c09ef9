/* Unit tests for the ad-platform audiences (src/campaign/audience.c,
 * suppress.c): e-mail and phone normalisation per platform, the hashes
 * against Meta's published examples and against sha256sum run at test time,
 * the suppression list's forms, and the upload CSV's buckets. */
#include "testutil.h"
#include "tribe/campaign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tribe_audience_platform G = TRIBE_AUDIENCE_GOOGLE, M = TRIBE_AUDIENCE_META;

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* The hex SHA-256 of s as coreutils' sha256sum computes it (0 when it is not
 * there: the case is then skipped). */
static int sha256sum(const char *s, char out[65])
{
    char path[512], cmd[700];
    snprintf(path, sizeof path, "%s/in.txt", tribe_test_tmpdir());
    write_text(path, s);
    snprintf(cmd, sizeof cmd, "sha256sum '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    int ok = fscanf(p, "%64s", out) == 1 && strlen(out) == 64;
    return pclose(p) == 0 && ok;
}

static void email_should_be_trimmed_lowercased_and_gmail_dots_removed_for_google_only(void)
{
    char out[TRIBE_AUDIENCE_ADDR_MAX];
    CU_ASSERT(tribe_audience_email(M, "  John_Smith@Gmail.com\t", out));
    CU_ASSERT_STRING_EQUAL(out, "john_smith@gmail.com");
    CU_ASSERT(tribe_audience_email(G, " J.Doe@GMAIL.com", out));
    CU_ASSERT_STRING_EQUAL(out, "jdoe@gmail.com");
    CU_ASSERT(tribe_audience_email(G, "j.o.e@googlemail.com", out));
    CU_ASSERT_STRING_EQUAL(out, "joe@googlemail.com");
    CU_ASSERT(tribe_audience_email(M, "J.Doe@Gmail.com", out));
    CU_ASSERT_STRING_EQUAL(out, "j.doe@gmail.com");
    /* other domains keep their dots, plus tags stay (neither platform documents removing them) */
    CU_ASSERT(tribe_audience_email(G, "J.Doe+News@Example.co.uk", out));
    CU_ASSERT_STRING_EQUAL(out, "j.doe+news@example.co.uk");
    /* unusable: refused whole, out empty */
    static const char *const bad[] = {"", "   ", "no-at-sign", "two@@example.com", "a@b@example.com",
                                      "@example.com", "a@localhost", "a@example..com", "a@.example.com",
                                      "a@example.com.", "a b@example.com", "a,b@example.com", "=1+1",
                                      "\"x\"@example.com", "a@exa\x01mple.com", "...@gmail.com"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        strcpy(out, "junk");
        CU_ASSERT_FALSE(tribe_audience_email(G, bad[i], out));
        CU_ASSERT_STRING_EQUAL(out, "");
    }
    char long_addr[300];
    memset(long_addr, 'a', 250);
    strcpy(long_addr + 250, "@x.com");
    CU_ASSERT_FALSE(tribe_audience_email(M, long_addr, out));
    CU_ASSERT_FALSE(tribe_audience_email(M, NULL, out));
}

static void phone_should_be_e164_with_plus_for_google_and_digits_for_meta(void)
{
    char out[TRIBE_AUDIENCE_ADDR_MAX];
    CU_ASSERT(tribe_audience_phone(M, "(650)555-1212", "1", out));
    CU_ASSERT_STRING_EQUAL(out, "16505551212");
    CU_ASSERT(tribe_audience_phone(G, "(650)555-1212", "1", out));
    CU_ASSERT_STRING_EQUAL(out, "+16505551212");
    CU_ASSERT(tribe_audience_phone(G, " +44 (0)7700-900.123 ", NULL, out)); /* the "(0)" is the trunk prefix */
    CU_ASSERT_STRING_EQUAL(out, "+447700900123");
    CU_ASSERT(tribe_audience_phone(G, "+44 7700 900123", NULL, out));
    CU_ASSERT_STRING_EQUAL(out, "+447700900123");
    CU_ASSERT(tribe_audience_phone(M, "0044 7700 900123", NULL, out));
    CU_ASSERT_STRING_EQUAL(out, "447700900123");
    /* a national number takes the calling code after its trunk 0, and is unusable without one */
    CU_ASSERT(tribe_audience_phone(G, "07700 900123", "44", out));
    CU_ASSERT_STRING_EQUAL(out, "+447700900123");
    CU_ASSERT_FALSE(tribe_audience_phone(G, "07700 900123", NULL, out));
    CU_ASSERT_STRING_EQUAL(out, "");
    static const char *const bad[] = {"", "+", "+0447700900123", "+44 7700 900123 ext 5", "+44-7700-9OO123",
                                      "+44 7700 +900123", "+1234567", "+1234567890123456", "call me",
                                      "=1+1", "+44#7700900123"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        strcpy(out, "junk");
        CU_ASSERT_FALSE(tribe_audience_phone(G, bad[i], "44", out));
        CU_ASSERT_STRING_EQUAL(out, "");
    }
    CU_ASSERT(tribe_audience_phone(G, "+12345678", NULL, out)); /* 8 digits: the shortest kept */
    CU_ASSERT(tribe_audience_phone(G, "+123456789012345", NULL, out)); /* 15: E.164's longest */
}

static void hashes_should_match_metas_published_examples_and_sha256sum(void)
{
    char n[TRIBE_AUDIENCE_ADDR_MAX], h[65], want[65];
    /* Meta, Conversions API customer information parameters (em, ph examples) */
    CU_ASSERT(tribe_audience_email(M, "John_Smith@gmail.com", n));
    tribe_audience_hash(n, h);
    CU_ASSERT_STRING_EQUAL(h, "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f");
    CU_ASSERT(tribe_audience_phone(M, "(650)555-1212", "1", n));
    tribe_audience_hash(n, h);
    CU_ASSERT_STRING_EQUAL(h, "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176");
    /* Google's forms against coreutils */
    static const char *const google[] = {"+16505551212", "jdoe@gmail.com", "j.doe+news@example.co.uk"};
    for (size_t i = 0; i < sizeof google / sizeof *google; i++) {
        if (!sha256sum(google[i], want)) {
            tribe_test_skip("sha256sum is not installed");
            return;
        }
        tribe_audience_hash(google[i], h);
        CU_ASSERT_STRING_EQUAL(h, want);
    }
}

static void suppression_should_match_an_address_in_any_of_its_forms(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/sup.txt", tribe_test_tmpdir());
    write_text(path, "# opted out by phone call\n  J.Doe@Gmail.com \n+44 7700 900123\n\n07700 900999\n");
    tribe_suppression *s = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_suppression_read(path, "44", &s), TRIBE_OK);
    CU_ASSERT(tribe_suppression_has(s, "j.doe@gmail.com"));
    CU_ASSERT(tribe_suppression_has(s, "JDOE@gmail.com")); /* Gmail ignores the dots */
    CU_ASSERT(tribe_suppression_has(s, "+447700900123"));
    CU_ASSERT(tribe_suppression_has(s, "07700 900123"));  /* national, with the calling code */
    CU_ASSERT(tribe_suppression_has(s, "+447700900999"));
    CU_ASSERT_FALSE(tribe_suppression_has(s, "jdoe@example.com"));
    CU_ASSERT_FALSE(tribe_suppression_has(s, "# opted out by phone call"));
    CU_ASSERT_FALSE(tribe_suppression_has(s, ""));
    CU_ASSERT_FALSE(tribe_suppression_has(s, NULL));
    CU_ASSERT_FALSE(tribe_suppression_has(NULL, "j.doe@gmail.com"));
    tribe_suppression_destroy(&s);
    CU_ASSERT_PTR_NULL(s);
    tribe_suppression_destroy(NULL);
    CU_ASSERT_EQUAL(tribe_suppression_read("/nonexistent/sup.txt", NULL, &s), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NULL(s);
}

/* Every customer in exactly one bucket; only hashes of usable, opted-in,
 * unsuppressed addresses are written. */
static void audience_csv_should_count_every_customer_once_and_write_only_hashes(void)
{
    char path[512], sup_path[512];
    snprintf(path, sizeof path, "%s/contacts.csv", tribe_test_tmpdir());
    snprintf(sup_path, sizeof sup_path, "%s/sup.txt", tribe_test_tmpdir());
    write_text(path, "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n"
                     "1,Ann@Example.com,+44 7700 900001,1,1\n"  /* both */
                     "2,bob@example.com,,1,0\n"                 /* e-mail only */
                     "3,,07700 900003,0,1\n"                    /* national phone, needs --country-code */
                     "4,cat@example.com,+447700900004,0,0\n"    /* opted out of both */
                     "5,dan@example.com,+447700900005,1,1\n"    /* phone suppressed: all of dan out */
                     "6,\"=HYPERLINK(\"\"x\"\")\",call me,1,1\n" /* hostile, unusable */
                     "7,eve@example.com,not a phone,1,1\n"      /* e-mail kept, phone counted invalid */
                     "8,,,1,1\n");                              /* no address */
    write_text(sup_path, "+44 7700 900005\n");
    tribe_contacts *cs = NULL;
    tribe_suppression *sup = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_contacts_read(path, &cs), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_suppression_read(sup_path, NULL, &sup), TRIBE_OK);
    const int64_t ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int cc = 0; cc < 2; cc++) {
        tribe_sbuf b = {0};
        tribe_audience_stats s;
        CU_ASSERT_EQUAL_FATAL(tribe_audience_csv(G, ids, 9, cs, sup, cc ? "44" : NULL, &b, &s), TRIBE_OK);
        CU_ASSERT_EQUAL(s.customers, 9);
        CU_ASSERT_EQUAL(s.exported, cc ? 4 : 3);
        CU_ASSERT_EQUAL(s.no_contact, 2); /* 8, and 9 without a contacts row */
        CU_ASSERT_EQUAL(s.opted_out, 1);
        CU_ASSERT_EQUAL(s.suppressed, 1);
        CU_ASSERT_EQUAL(s.invalid, cc ? 1 : 2);
        CU_ASSERT_EQUAL(s.exported + s.no_contact + s.opted_out + s.suppressed + s.invalid, s.customers);
        CU_ASSERT_EQUAL(s.emails, 3);
        CU_ASSERT_EQUAL(s.phones, cc ? 2 : 1);
        CU_ASSERT_EQUAL(s.invalid_emails, 1);
        CU_ASSERT_EQUAL(s.invalid_phones, cc ? 2 : 3);
        /* the header, then one row per exported customer, each two hex cells or empty */
        CU_ASSERT(strncmp(b.p, "Email,Phone\r\n", 13) == 0);
        int rows = 0;
        for (const char *p = strchr(b.p, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
            rows++;
            size_t a = strspn(p, "0123456789abcdef");
            CU_ASSERT(a == 0 || a == 64);
            CU_ASSERT_EQUAL(p[a], ',');
            size_t z = strspn(p + a + 1, "0123456789abcdef");
            CU_ASSERT(z == 0 || z == 64);
            CU_ASSERT(strncmp(p + a + 1 + z, "\r\n", 2) == 0);
            CU_ASSERT(a + z > 0);
        }
        CU_ASSERT_EQUAL(rows, s.exported);
        char n[TRIBE_AUDIENCE_ADDR_MAX], h[65];
        tribe_audience_email(G, "ann@example.com", n);
        tribe_audience_hash(n, h);
        CU_ASSERT_PTR_NOT_NULL(strstr(b.p, h));
        tribe_audience_hash("dan@example.com", h);
        CU_ASSERT_PTR_NULL(strstr(b.p, h)); /* suppressed through his phone */
        tribe_sbuf_free(&b);
    }
    tribe_sbuf b = {0};
    tribe_audience_stats s;
    CU_ASSERT_EQUAL_FATAL(tribe_audience_csv(M, ids, 0, cs, NULL, NULL, &b, &s), TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(b.p, "email,phone\r\n");
    CU_ASSERT_EQUAL(s.customers, 0);
    tribe_sbuf_free(&b);
    tribe_suppression_destroy(&sup);
    tribe_contacts_destroy(&cs);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(email_should_be_trimmed_lowercased_and_gmail_dots_removed_for_google_only),
        TRIBE_TEST(phone_should_be_e164_with_plus_for_google_and_digits_for_meta),
        TRIBE_TEST(hashes_should_match_metas_published_examples_and_sha256sum),
        TRIBE_TEST(suppression_should_match_an_address_in_any_of_its_forms),
        TRIBE_TEST(audience_csv_should_count_every_customer_once_and_write_only_hashes),
        {NULL, NULL}};
    return tribe_test_main("audience", cases);
}
