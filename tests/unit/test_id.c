/* Customer ids (tribe/id.h): exact keys of short texts, parsing in both
 * modes, look-ups, and string ids through ingest and customers.h5. */
#include "testutil.h"
#include "tribe/h5.h"
#include "tribe/id.h"
#include "tribe/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t key;
    char text[16];
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static void add_text(keyed *k, size_t *n, const char *s, size_t len)
{
    memcpy(k[*n].text, s, len);
    k[*n].text[len] = '\0';
    k[*n].key = tribe_id_key(s, len);
    (*n)++;
}

/* Every text of the exact encodings that a small enumeration reaches: all
 * texts of 1 and 2 bytes over a mixed alphabet, numbers with and without
 * leading zeros, 8..10-character codes: no two share a key. */
static void keys_of_short_texts_should_never_collide(void)
{
    static const char alpha[] = "0179AZaz- _.\xc3\xa9";
    const size_t na = sizeof alpha - 1;
    size_t cap = 200000, n = 0;
    keyed *k = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_calloc((void **)&k, cap, sizeof *k), TRIBE_OK);
    char s[16];
    for (size_t i = 0; i < na; i++) {
        s[0] = alpha[i];
        add_text(k, &n, s, 1);
        for (size_t j = 0; j < na; j++) {
            s[1] = alpha[j];
            add_text(k, &n, s, 2);
        }
    }
    for (int v = 0; v < 3000; v++) { /* 7, 07, 007 ... and C-00007 */
        int len = snprintf(s, sizeof s, "%d", v * 7919);
        add_text(k, &n, s, (size_t)len);
        len = snprintf(s, sizeof s, "0%d", v);
        add_text(k, &n, s, (size_t)len);
        len = snprintf(s, sizeof s, "C-%05d", v);
        add_text(k, &n, s, (size_t)len);
        len = snprintf(s, sizeof s, "CUST-%05d", v); /* 10 characters of [0-9A-Za-z-] */
        add_text(k, &n, s, (size_t)len);
        len = snprintf(s, sizeof s, "c%07d", v); /* 8 characters */
        add_text(k, &n, s, (size_t)len);
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    size_t dup = 0;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(k[i].key >= 0);
        if (i > 0 && k[i].key == k[i - 1].key && strcmp(k[i].text, k[i - 1].text) != 0)
            dup++;
    }
    CU_ASSERT_EQUAL(dup, 0);
    /* a canonical number is its own key, in both modes */
    CU_ASSERT_EQUAL(tribe_id_key("17850", 5), 17850);
    CU_ASSERT_EQUAL(tribe_id_key("0", 1), 0);
    CU_ASSERT_EQUAL(tribe_id_key("999999999999999999", 18), 999999999999999999LL);
    CU_ASSERT_NOT_EQUAL(tribe_id_key("017850", 6), 17850);
    free(k);
}

static void hashed_keys_should_collide_only_under_the_test_hook(void)
{
    const char *a = "0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01", *b = "0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b02";
    int64_t ka = tribe_id_key(a, strlen(a)), kb = tribe_id_key(b, strlen(b));
    CU_ASSERT(ka >= 0 && kb >= 0);
    CU_ASSERT_NOT_EQUAL(ka, kb);
    CU_ASSERT_EQUAL(ka, tribe_id_key(a, strlen(a))); /* deterministic */
    /* with one hash bit, three texts of the hashed kind cannot all differ */
    tribe_id_set_hash_bits(1);
    const char *c = "0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b03";
    int64_t k3[3] = {tribe_id_key(a, strlen(a)), tribe_id_key(b, strlen(b)), tribe_id_key(c, strlen(c))};
    CU_ASSERT(k3[0] == k3[1] || k3[0] == k3[2] || k3[1] == k3[2]);
    CU_ASSERT_EQUAL(tribe_id_key("C-00123", 7), tribe_id_key("C-00123", 7)); /* exact kinds unaffected */
    tribe_id_set_hash_bits(0);
    CU_ASSERT_EQUAL(tribe_id_key(a, strlen(a)), ka);
}

static void ids_should_parse_in_both_modes(void)
{
    int64_t key = -7;
    char why[160] = "";
    CU_ASSERT_EQUAL(tribe_id_parse(" 17850.0 ", 9, 0, &key, why, sizeof why), 1);
    CU_ASSERT_EQUAL(key, 17850);
    CU_ASSERT_EQUAL(tribe_id_parse("", 0, 0, &key, why, sizeof why), 0);
    CU_ASSERT_EQUAL(tribe_id_parse("  ", 2, 1, &key, why, sizeof why), 0);
    CU_ASSERT_EQUAL(tribe_id_parse("-5", 2, 0, &key, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "CustomerID '-5' is negative");
    CU_ASSERT_EQUAL(tribe_id_parse("C-1", 3, 0, &key, why, sizeof why), -1);
    CU_ASSERT_STRING_EQUAL(why, "CustomerID 'C-1' is not an integer id");
    CU_ASSERT_EQUAL(tribe_id_parse("C-1", 3, 1, &key, why, sizeof why), 1);
    CU_ASSERT_EQUAL(key, tribe_id_key("C-1", 3));
    CU_ASSERT_EQUAL(tribe_id_parse("Zo\xc3\xab", 4, 1, &key, why, sizeof why), 1);
    char long_id[80];
    memset(long_id, 'x', sizeof long_id);
    CU_ASSERT_EQUAL(tribe_id_parse(long_id, 64, 1, &key, why, sizeof why), 1);
    CU_ASSERT_EQUAL(tribe_id_parse(long_id, 65, 1, &key, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "is longer than 64 bytes"));
    CU_ASSERT_EQUAL(tribe_id_parse("a\xff", 2, 1, &key, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "is not valid UTF-8"));
    CU_ASSERT_EQUAL(tribe_id_parse("a\xc0\xaf", 3, 1, &key, why, sizeof why), -1); /* overlong '/' */
    CU_ASSERT_EQUAL(tribe_id_parse("a\x01z", 3, 1, &key, why, sizeof why), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "holds a control character"));
    CU_ASSERT_EQUAL(tribe_id_parse("a\xc2\x85z", 4, 1, &key, why, sizeof why), -1); /* C1 NEL */
    /* look-ups: the float form in both modes */
    int64_t keys[2];
    CU_ASSERT_EQUAL(tribe_id_lookup_keys("17850.0", 0, keys), 1);
    CU_ASSERT_EQUAL(keys[0], 17850);
    CU_ASSERT_EQUAL(tribe_id_lookup_keys("17850.0", 1, keys), 2);
    CU_ASSERT_EQUAL(keys[0], tribe_id_key("17850.0", 7));
    CU_ASSERT_EQUAL(keys[1], 17850);
    CU_ASSERT_EQUAL(tribe_id_lookup_keys("17850", 1, keys), 1);
    CU_ASSERT_EQUAL(tribe_id_lookup_keys("x", 0, keys), 0);
    char buf[TRIBE_ID_BUF];
    CU_ASSERT_STRING_EQUAL(tribe_id_format(NULL, 17850, buf), "17850");
    CU_ASSERT_STRING_EQUAL(tribe_id_format("C-00123", 5, buf), "C-00123");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static const char TX_HEAD[] = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

/* String ids through ingest: kept as given, joined across sources by text,
 * rows in key order, and back from customers.h5 unchanged. */
static void string_ids_should_survive_ingest_and_customers_h5(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[4096], web[4096], demo[4096], h5[4096];
    snprintf(tx, sizeof tx, "%s/tx.csv", dir);
    snprintf(web, sizeof web, "%s/web.csv", dir);
    snprintf(demo, sizeof demo, "%s/demo.csv", dir);
    snprintf(h5, sizeof h5, "%s/c.h5", dir);
    char text[2048];
    snprintf(text, sizeof text,
             "%s1,A,x,2,2011-01-10,1.5, C-00123 ,UK\n"
             "2,A,x,1,2011-01-11,2.0,0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01,UK\n"
             "3,B,x,1,2011-01-12,3.0,Zo\xc3\xab,UK\n"
             "4,B,x,1,2011-01-13,3.0,17850,UK\n"
             "5,B,x,1,2011-01-13,3.0,%s,UK\n"
             "6,B,x,1,2011-01-14,3.0,\"a\x01\",UK\n"
             "7,B,x,1,2011-01-15,4.0,C-00123,UK\n",
             TX_HEAD,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"); /* 65 bytes */
    write_file(tx, text);
    write_file(web, "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n"
                    "C-00123,2011-01-05,5,12.5,desktop\nnobody,2011-01-05,1,1.0,mobile\n");
    write_file(demo, "CustomerID,Age,Country,Occupation,Subscription\n"
                     "0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01,44,France,nurse,basic\n");
    tribe_ingest_cfg cfg = {.transactions = tx, .web = web, .demographics = demo, .string_ids = 1};
    tribe_table *t = NULL, *back = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL_FATAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_EQUAL(l.malformed, 2); /* the 65-byte id and the control character */
    CU_ASSERT_EQUAL_FATAL(t->n_local, 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->id_text);
    CU_ASSERT_EQUAL(t->id_width, 37); /* the UUID and its NUL */
    int found = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        char buf[TRIBE_ID_BUF];
        const char *s = tribe_table_id(t, i, buf);
        CU_ASSERT_EQUAL(t->id[i], tribe_id_key(s, strlen(s)));
        if (i > 0)
            CU_ASSERT(t->id[i] > t->id[i - 1]);
        if (strcmp(s, "C-00123") == 0) { /* two invoices; its web session joined */
            found++;
            CU_ASSERT_EQUAL(t->x[i * t->d + 1], 2.0f);
            CU_ASSERT_EQUAL(t->x[i * t->d + tribe_table_feature(t, "sessions")], 1.0f);
        }
        if (strncmp(s, "0b5e4a8e", 8) == 0) {
            found++;
            CU_ASSERT_EQUAL(t->x[i * t->d + tribe_table_feature(t, "age")], 44.0f);
        }
    }
    CU_ASSERT_EQUAL(found, 2);
    CU_ASSERT_EQUAL(l.web_rows_unmatched, 1);
    CU_ASSERT_EQUAL(tribe_table_find_id(t, "17850.0"), 0); /* the number written as a float */
    CU_ASSERT(tribe_table_find_id(t, "Zo\xc3\xab") >= 0);
    CU_ASSERT_EQUAL(tribe_table_find_id(t, "C-00124"), -1);
    CU_ASSERT_EQUAL(tribe_store_write_customers(par, h5, t, NULL, NULL), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(tribe_store_read_customers(par, h5, &back, NULL), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(back->id_width, t->id_width);
    CU_ASSERT_EQUAL(memcmp(back->id_text, t->id_text, (size_t)t->n_local * (size_t)t->id_width), 0);
    tribe_table_destroy(&back);
    /* integer ids: no texts, and the same file refuses string ids */
    cfg.string_ids = 0;
    tribe_table_destroy(&t);
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK);
    CU_ASSERT_PTR_NULL(t->id_text);
    CU_ASSERT_EQUAL(t->n_local, 1); /* 17850 only */
    tribe_table_destroy(&t);
    tribe_par_finalize(&par);
}

static void colliding_string_ids_should_be_refused_naming_both(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char tx[4096], text[2048];
    snprintf(tx, sizeof tx, "%s/collide.csv", dir);
    snprintf(text, sizeof text,
             "%s1,A,x,2,2011-01-10,1.5,0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b01,UK\n"
             "2,A,x,1,2011-01-11,2.0,0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b02,UK\n"
             "3,A,x,1,2011-01-11,2.0,0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b03,UK\n",
             TX_HEAD);
    write_file(tx, text);
    tribe_ingest_cfg cfg = {.transactions = tx, .string_ids = 1};
    tribe_table *t = NULL;
    tribe_ledger l;
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_OK); /* 61-bit hashes: no collision */
    CU_ASSERT_EQUAL(t ? t->n_global : 0, 3);
    tribe_table_destroy(&t);
    tribe_id_set_hash_bits(1);
    CU_ASSERT_EQUAL(tribe_ingest(par, &cfg, &t, &l), TRIBE_ERR_INPUT);
    tribe_id_set_hash_bits(0);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "collide.csv:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "have the same key"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'0b5e4a8e-3f0c-4c41-9d35-8a1c1f4f2b0"));
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(keys_of_short_texts_should_never_collide),
        TRIBE_TEST(hashed_keys_should_collide_only_under_the_test_hook),
        TRIBE_TEST(ids_should_parse_in_both_modes),
        TRIBE_TEST(string_ids_should_survive_ingest_and_customers_h5),
        TRIBE_TEST(colliding_string_ids_should_be_refused_naming_both),
        {NULL, NULL}};
    return tribe_test_main("id", cases);
}
