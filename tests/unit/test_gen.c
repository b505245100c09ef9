/* Unit tests for the generator (src/io/gen*.c): the files it writes are
 * re-read here with a tiny CSV splitter and the cleaning rules of
 * docs/formats.md, and every count must equal what truth.json promises. */
#include "testutil.h"
#include "tribe/gen.h"

#include "../../src/io/gen_internal.h" /* gen_set_omp_min: a test hook */

#include <omp.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- helpers ------------------------------------------------------------- */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *buf = NULL;
    if (tribe_read_file(path, &buf, len) != TRIBE_OK)
        return NULL;
    return buf;
}

static int file_exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* One RFC 4180 record from *p (advanced past its line end) into f[][cap]. */
#define MAXF 16
#define FCAP 128
static int split_record(const char **p, char f[MAXF][FCAP])
{
    const char *s = *p;
    int n = 0;
    size_t k = 0;
    int inq = 0;
    f[0][0] = '\0';
    for (;;) {
        char c = *s;
        if (c == '\0' && !inq)
            break;
        s++;
        if (inq) {
            if (c == '"' && *s == '"') {
                s++;
            } else if (c == '"') {
                inq = 0;
                continue;
            }
        } else if (c == '"') {
            inq = 1;
            continue;
        } else if (c == ',' || c == '\n') {
            if (n < MAXF)
                f[n][k < FCAP ? k : FCAP - 1] = '\0';
            n++, k = 0;
            if (n < MAXF)
                f[n][0] = '\0';
            if (c == '\n')
                break;
            continue;
        }
        if (n < MAXF && k + 1 < FCAP)
            f[n][k++] = c;
    }
    *p = s;
    return n;
}

static int is_int(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}
static int is_num(const char *s)
{
    char *end;
    if (!*s)
        return 0;
    strtod(s, &end);
    return *end == '\0';
}
static int is_datetime(const char *s)
{
    return strlen(s) == 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' && s[16] == ':';
}
/* "12.34" / "-0.5" -> cents, exactly */
static int64_t cents_of(const char *s)
{
    return (int64_t)llround(strtod(s, NULL) * 100.0);
}

/* The number after "key": in a flat JSON text (keys in truth.json are unique). */
static double json_num(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *at = strstr(json, pat);
    if (!at)
        return NAN;
    return strtod(at + strlen(pat), NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static tribe_status run_gen(const tribe_gen_cfg *cfg, const char *dir)
{
    tribe_par *par = NULL;
    tribe_status st = tribe_par_serial(&par);
    if (st == TRIBE_OK)
        st = tribe_gen(par, cfg, dir);
    tribe_par_finalize(&par);
    return st;
}

static int same_file(const char *d1, const char *d2, const char *name)
{
    size_t l1 = 0, l2 = 0;
    char *a = slurp(d1, name, &l1), *b = slurp(d2, name, &l2);
    int same = a && b && l1 == l2 && memcmp(a, b, l1) == 0;
    free(a);
    free(b);
    return same;
}

/* ---- re-reading a generated data set -------------------------------------- */
typedef struct {
    int64_t rows, malformed, missing, cancel, qty, price, kept, dup_copies, kept_cents, customers;
    int64_t web_rows, web_malformed, web_unmatched, demo_rows, demo_malformed, demo_dup, demo_unmatched;
    int64_t n;       /* customers in truth.csv */
    int64_t *id;     /* [n] truth ids */
    int *seg;        /* [n] */
    int64_t *last, *first, *freq, *cents; /* per truth customer, days as "YYYYMMDD"-free ordinals */
    int ok_ids;      /* truth ids ascending and every kept id is a truth id */
    int dates_in_window;
} reread;

/* Day ordinal of "YYYY-MM-DD" good enough for differences (days_from_civil). */
static int64_t day_of(const char *s)
{
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
}

static int64_t find_id(const reread *r, int64_t id)
{
    const int64_t *at = bsearch(&id, r->id, (size_t)r->n, sizeof *r->id, cmp_i64);
    return at ? at - r->id : -1;
}

static void reread_free(reread *r)
{
    free(r->id);
    free(r->seg);
    free(r->last);
    free(r->first);
    free(r->freq);
    free(r->cents);
    memset(r, 0, sizeof *r);
}

/* Reads truth.csv and transactions.csv (+ web and demographics when present). */
static int reread_dir(const char *dir, const char *end_date, reread *r)
{
    memset(r, 0, sizeof *r);
    char f[MAXF][FCAP];
    size_t len = 0;
    char *truth = slurp(dir, "truth.csv", &len);
    if (!truth)
        return 0;
    const char *p = truth;
    split_record(&p, f);
    int64_t cap = 1024;
    r->id = malloc((size_t)cap * sizeof *r->id);
    r->seg = malloc((size_t)cap * sizeof *r->seg);
    r->ok_ids = 1;
    while (*p) {
        if (split_record(&p, f) != 2)
            r->ok_ids = 0;
        if (r->n == cap) {
            cap *= 2;
            r->id = realloc(r->id, (size_t)cap * sizeof *r->id);
            r->seg = realloc(r->seg, (size_t)cap * sizeof *r->seg);
        }
        r->id[r->n] = atoll(f[0]);
        r->seg[r->n] = atoi(f[1]);
        if (r->n > 0 && r->id[r->n] <= r->id[r->n - 1])
            r->ok_ids = 0;
        r->n++;
    }
    free(truth);
    r->last = calloc((size_t)r->n, sizeof *r->last);
    r->first = calloc((size_t)r->n, sizeof *r->first);
    r->freq = calloc((size_t)r->n, sizeof *r->freq);
    r->cents = calloc((size_t)r->n, sizeof *r->cents);
    char *last_inv = calloc((size_t)r->n, 16);

    char *tx = slurp(dir, "transactions.csv", &len);
    if (!tx)
        return 0;
    uint64_t *hashes = malloc((len / 40 + 16) * sizeof *hashes);
    int64_t nh = 0;
    const int64_t end = day_of(end_date);
    r->dates_in_window = 1;
    p = tx;
    split_record(&p, f);
    while (*p) {
        const char *line = p;
        int nf = split_record(&p, f);
        r->rows++;
        hashes[nh++] = tribe_fnv1a(TRIBE_FNV_INIT, line, (size_t)(p - line));
        /* the cleaning rules of formats.md, first hit wins */
        if (nf != 8 || !is_int(f[3]) || !is_num(f[5]) || !is_datetime(f[4]) || (f[6][0] && !is_int(f[6]))) {
            r->malformed++;
            continue;
        }
        int64_t day = day_of(f[4]);
        if (day > end || day < end - 729)
            r->dates_in_window = 0;
        if (!f[6][0]) {
            r->missing++;
            continue;
        }
        if (f[0][0] == 'C') {
            r->cancel++;
            continue;
        }
        int64_t q = atoll(f[3]), c = cents_of(f[5]);
        if (q <= 0) {
            r->qty++;
            continue;
        }
        if (c <= 0) {
            r->price++;
            continue;
        }
        r->kept++;
        r->kept_cents += q * c;
        int64_t k = find_id(r, atoll(f[6]));
        if (k < 0) {
            r->ok_ids = 0;
            continue;
        }
        if (r->freq[k] == 0) {
            r->customers++;
            r->first[k] = r->last[k] = day;
        }
        if (day > r->last[k])
            r->last[k] = day;
        if (day < r->first[k])
            r->first[k] = day;
        /* rows of an invoice are contiguous: a new InvoiceNo is a new invoice */
        if (strncmp(last_inv + 16 * k, f[0], 15) != 0) {
            r->freq[k]++;
            memcpy(last_inv + 16 * k, f[0], 15); /* invoice numbers are short */
        }
        r->cents[k] += q * c;
    }
    qsort(hashes, (size_t)nh, sizeof *hashes, cmp_u64);
    for (int64_t k = 1; k < nh; k++)
        r->dup_copies += hashes[k] == hashes[k - 1];
    free(hashes);
    free(tx);
    free(last_inv);

    char *web = slurp(dir, "web_events.csv", &len);
    if (web) {
        p = web;
        split_record(&p, f);
        while (*p) {
            int nf = split_record(&p, f);
            r->web_rows++;
            if (nf != 5 || !is_int(f[0]) || !is_datetime(f[1]) || !is_int(f[2]) || !is_num(f[3]))
                r->web_malformed++;
            else if (find_id(r, atoll(f[0])) < 0)
                r->web_unmatched++;
        }
        free(web);
    }
    char *demo = slurp(dir, "demographics.csv", &len);
    if (demo) {
        char *seen = calloc((size_t)r->n, 1);
        p = demo;
        split_record(&p, f);
        while (*p) {
            int nf = split_record(&p, f);
            r->demo_rows++;
            if (nf != 5 || !is_int(f[0]) || (f[1][0] && !is_int(f[1]))) {
                r->demo_malformed++;
                continue;
            }
            int64_t k = find_id(r, atoll(f[0]));
            if (k < 0)
                r->demo_unmatched++;
            else if (seen[k]++)
                r->demo_dup++;
        }
        free(seen);
        free(demo);
    }
    return 1;
}

/* ---- tests --------------------------------------------------------------- */
static void gen_should_write_every_file_with_its_header(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 500;
    cfg.seed = 3;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    static const char *files[][2] = {
        {"transactions.csv", "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"},
        {"web_events.csv", "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n"},
        {"demographics.csv", "CustomerID,Age,Country,Occupation,Subscription\n"},
        {"truth.csv", "customer_id,segment\n"},
        {"truth.json", "{\n"},
        {"contacts.csv", "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n"}};
    for (int k = 0; k < 5; k++) {
        size_t len = 0;
        char *text = slurp(dir, files[k][0], &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT(strncmp(text, files[k][1], strlen(files[k][1])) == 0);
        CU_ASSERT(len > strlen(files[k][1]) && text[len - 1] == '\n');
        free(text);
    }
    CU_ASSERT_FALSE(file_exists(dir, "transactions.csv.part"));
}

static void gen_counts_should_equal_what_truth_json_promises(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 4000;
    cfg.seed = 11;
    cfg.dirt = 3.0; /* more dirt: every kind shows up in a small set */
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    size_t len;
    char *json = slurp(dir, "truth.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    reread r;
    CU_ASSERT_FATAL(reread_dir(dir, "2011-12-09", &r));

    CU_ASSERT_EQUAL(r.n, 4000);
    CU_ASSERT(r.ok_ids);
    CU_ASSERT(r.dates_in_window);
    CU_ASSERT_EQUAL(r.rows, (int64_t)json_num(json, "transaction_rows"));
    CU_ASSERT_EQUAL(r.kept, (int64_t)json_num(json, "kept_transaction_rows"));
    CU_ASSERT_EQUAL(r.malformed, (int64_t)json_num(json, "malformed"));
    CU_ASSERT_EQUAL(r.missing, (int64_t)json_num(json, "missing_customer_id"));
    CU_ASSERT_EQUAL(r.cancel, (int64_t)json_num(json, "cancellations"));
    CU_ASSERT_EQUAL(r.qty, (int64_t)json_num(json, "nonpositive_quantity"));
    CU_ASSERT_EQUAL(r.price, (int64_t)json_num(json, "nonpositive_price"));
    /* every exact repeat in the file is a planted duplicate of a kept row */
    CU_ASSERT_EQUAL(r.dup_copies, (int64_t)json_num(json, "duplicates"));
    CU_ASSERT_EQUAL(r.kept_cents, llround(json_num(json, "kept_monetary") * 100));
    CU_ASSERT_EQUAL(r.customers, 4000);
    CU_ASSERT_EQUAL(r.customers, (int64_t)json_num(json, "customers_with_kept_rows"));
    int64_t inv = 0;
    for (int64_t k = 0; k < r.n; k++)
        inv += r.freq[k];
    CU_ASSERT_EQUAL(inv, (int64_t)json_num(json, "kept_invoices"));
    CU_ASSERT(r.malformed > 0 && r.missing > 0 && r.cancel > 0 && r.qty > 0 && r.price > 0 && r.dup_copies > 0);
    CU_ASSERT_EQUAL(r.rows, r.kept + r.malformed + r.missing + r.cancel + r.qty + r.price);

    CU_ASSERT_EQUAL(r.web_rows, (int64_t)json_num(json, "web_rows"));
    CU_ASSERT_EQUAL(r.web_unmatched, (int64_t)json_num(json, "web_rows_unmatched"));
    CU_ASSERT_EQUAL(r.web_rows - r.web_malformed - r.web_unmatched, (int64_t)json_num(json, "web_sessions_matched"));
    CU_ASSERT(r.web_malformed > 0 && r.web_unmatched > 0);
    CU_ASSERT_EQUAL(r.demo_rows, (int64_t)json_num(json, "demographic_rows"));
    CU_ASSERT_EQUAL(r.demo_dup, (int64_t)json_num(json, "demographics_duplicate_ids"));
    CU_ASSERT_EQUAL(r.demo_unmatched, (int64_t)json_num(json, "demographics_rows_unmatched"));
    CU_ASSERT_EQUAL(r.demo_rows - r.demo_malformed - r.demo_unmatched - r.demo_dup, 4000);
    CU_ASSERT(r.demo_malformed > 0 && r.demo_dup > 0 && r.demo_unmatched > 0);

    /* contacts.csv: one row per truth customer, same ids in the same order,
     * and the counts truth.json promises. */
    char *con = slurp(dir, "contacts.csv", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(con);
    int64_t rows = 0, no_email = 0, no_phone = 0, email_out = 0, sms_out = 0, same_ids = 1;
    for (char *line = strtok(strchr(con, '\n') + 1, "\n"); line; line = strtok(NULL, "\n"), rows++) {
        char email[128] = "", phone[32] = "";
        long long id = 0;
        int ein = -1, sin = -1;
        char *f[5] = {line, NULL, NULL, NULL, NULL};
        for (int k = 1; k < 5; k++) {
            f[k] = strchr(f[k - 1], ',');
            CU_ASSERT_PTR_NOT_NULL_FATAL(f[k]);
            *f[k]++ = '\0';
        }
        id = strtoll(f[0], NULL, 10);
        snprintf(email, sizeof email, "%s", f[1]);
        snprintf(phone, sizeof phone, "%s", f[2]);
        ein = atoi(f[3]);
        sin = atoi(f[4]);
        same_ids &= rows < r.n && id == r.id[rows];
        CU_ASSERT(!email[0] || strstr(email, "@example.com"));
        CU_ASSERT(!phone[0] || strncmp(phone, "+447700900", 10) == 0);
        no_email += !email[0];
        no_phone += !phone[0];
        email_out += email[0] && !ein;
        sms_out += phone[0] && !sin;
        CU_ASSERT(email[0] || !ein);
        CU_ASSERT(phone[0] || !sin);
    }
    CU_ASSERT(same_ids);
    CU_ASSERT_EQUAL(rows, 4000);
    CU_ASSERT_EQUAL(rows, (int64_t)json_num(json, "contact_rows"));
    CU_ASSERT_EQUAL(no_email, (int64_t)json_num(json, "contacts_without_email"));
    CU_ASSERT_EQUAL(no_phone, (int64_t)json_num(json, "contacts_without_phone"));
    CU_ASSERT_EQUAL(email_out, (int64_t)json_num(json, "contacts_email_opted_out"));
    CU_ASSERT_EQUAL(sms_out, (int64_t)json_num(json, "contacts_sms_opted_out"));
    CU_ASSERT(no_email > 0 && no_phone > 0 && email_out > 0 && sms_out > 0);
    free(con);
    reread_free(&r);
    free(json);
}

static void planted_segments_should_have_their_shares_and_shapes(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 8000;
    cfg.seed = 5;
    cfg.web = cfg.demographics = 0;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    size_t len;
    char *json = slurp(dir, "truth.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    reread r;
    CU_ASSERT_FATAL(reread_dir(dir, "2011-12-09", &r));
    int64_t count[6] = {0};
    double rec[6] = {0}, freq[6] = {0}, aov[6] = {0}, ten_max[6] = {0};
    const int64_t snap = day_of("2011-12-10");
    for (int64_t k = 0; k < r.n; k++) {
        int s = r.seg[k];
        CU_ASSERT_FATAL(s >= 0 && s < 6);
        count[s]++;
        rec[s] += (double)(snap - r.last[k]);
        freq[s] += (double)r.freq[k];
        aov[s] += (double)r.cents[k] / 100.0 / (double)r.freq[k];
        if (snap - r.first[k] > ten_max[s])
            ten_max[s] = (double)(snap - r.first[k]);
    }
    /* shares: listed in truth.json in segment order */
    const char *at = json;
    for (int s = 0; s < 6; s++) {
        at = strstr(at, "\"share\": ");
        CU_ASSERT_PTR_NOT_NULL_FATAL(at);
        double share = strtod(at + 9, NULL);
        at += 9;
        CU_ASSERT_DOUBLE_EQUAL((double)count[s] / (double)r.n, share, 0.025);
        rec[s] /= (double)count[s], freq[s] /= (double)count[s], aov[s] /= (double)count[s];
    }
    enum { CHAMP, LOYAL, BIG, NEW, RISK, HIB };
    /* the marketing shapes: who bought recently, often, big */
    CU_ASSERT(rec[CHAMP] < rec[LOYAL] && rec[LOYAL] < rec[RISK] && rec[RISK] < rec[HIB]);
    CU_ASSERT(rec[NEW] < rec[BIG]);
    for (int s = 1; s < 6; s++)
        CU_ASSERT(freq[CHAMP] > freq[s]);
    CU_ASSERT(freq[RISK] > freq[BIG] && freq[RISK] > freq[HIB] && freq[RISK] > freq[NEW]);
    for (int s = 0; s < 6; s++)
        if (s != BIG)
            CU_ASSERT(aov[BIG] > 2 * aov[s]);
    CU_ASSERT(aov[HIB] < aov[LOYAL]);
    CU_ASSERT(ten_max[NEW] <= 91); /* new customers: first purchase within ~3 months */
    CU_ASSERT(!file_exists(dir, "web_events.csv") && !file_exists(dir, "demographics.csv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"web_events\": null"));
    reread_free(&r);
    free(json);
}

static void same_seed_should_give_same_bytes_and_other_seeds_other_bytes(void)
{
    char d1[256], d2[256], d3[256];
    snprintf(d1, sizeof d1, "%s", tribe_test_tmpdir());
    snprintf(d2, sizeof d2, "%s", tribe_test_tmpdir());
    snprintf(d3, sizeof d3, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 1500;
    cfg.seed = 99;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d1), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d2), TRIBE_OK);
    cfg.seed = 100;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d3), TRIBE_OK);
    static const char *names[] = {"transactions.csv", "web_events.csv", "demographics.csv", "truth.csv", "truth.json",
                                  "contacts.csv"};
    for (int k = 0; k < 5; k++) {
        CU_ASSERT(same_file(d1, d2, names[k]));
        CU_ASSERT_FALSE(same_file(d1, d3, names[k]));
    }
}

static void clean_data_should_have_no_dirt_and_respect_end_date(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 2000;
    cfg.dirt = 0;
    cfg.end_date = "2020-02-29";
    cfg.segments = 8;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    reread r;
    CU_ASSERT_FATAL(reread_dir(dir, "2020-02-29", &r));
    CU_ASSERT(r.dates_in_window);
    CU_ASSERT(r.rows > 2000 && r.rows == r.kept);
    CU_ASSERT_EQUAL(r.dup_copies, 0);
    CU_ASSERT_EQUAL(r.web_malformed + r.web_unmatched, 0);
    CU_ASSERT_EQUAL(r.demo_rows, 2000);
    CU_ASSERT_EQUAL(r.customers, 2000);
    int seen[8] = {0};
    for (int64_t k = 0; k < r.n; k++)
        if (r.seg[k] >= 0 && r.seg[k] < 8)
            seen[r.seg[k]] = 1;
    for (int s = 0; s < 8; s++)
        CU_ASSERT(seen[s]);
    size_t len;
    char *demo = slurp(dir, "demographics.csv", &len);
    CU_ASSERT_PTR_NULL(strstr(demo, ",,")); /* no empty Age when clean */
    free(demo);
    reread_free(&r);
}

static void gzip_output_should_hold_the_same_bytes(void)
{
    char d1[256], d2[256];
    snprintf(d1, sizeof d1, "%s", tribe_test_tmpdir());
    snprintf(d2, sizeof d2, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 3000;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d1), TRIBE_OK);
    cfg.gzip = 1;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d2), TRIBE_OK);
    static const char *names[] = {"transactions.csv", "web_events.csv", "demographics.csv"};
    for (int k = 0; k < 3; k++) {
        size_t len = 0;
        char *plain = slurp(d1, names[k], &len), path[512];
        snprintf(path, sizeof path, "%s/%s.gz", d2, names[k]);
        gzFile g = gzopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        char *un = malloc(len + 1);
        int got = gzread(g, un, (unsigned)len + 1); /* multi-member: gzread spans members */
        gzclose(g);
        CU_ASSERT_EQUAL(got, (int)len);
        CU_ASSERT(got == (int)len && memcmp(un, plain, len) == 0);
        CU_ASSERT_FALSE(file_exists(d2, names[k])); /* no plain file beside the .gz */
        free(un);
        free(plain);
    }
    CU_ASSERT(same_file(d1, d2, "truth.csv"));
    /* regenerating plain into the gzip folder replaces the .gz files */
    cfg.gzip = 0;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d2), TRIBE_OK);
    CU_ASSERT_FALSE(file_exists(d2, "transactions.csv.gz"));
    CU_ASSERT(same_file(d1, d2, "transactions.csv"));
}

static void thread_count_should_not_change_the_bytes(void)
{
    char d1[256], d2[256];
    snprintf(d1, sizeof d1, "%s", tribe_test_tmpdir());
    snprintf(d2, sizeof d2, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 2500;
    cfg.seed = 8;
    static const char *names[] = {"transactions.csv.gz", "web_events.csv.gz", "demographics.csv.gz",
                                  "truth.csv", "truth.json"};
    for (int z = 0; z < 2; z++) {
        cfg.gzip = z;
        const int saved = omp_get_max_threads();
        gen_set_omp_min(1000000000); /* one thread */
        CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d1), TRIBE_OK);
        gen_set_omp_min(1); /* every chunk split over 3 threads */
        omp_set_num_threads(3);
        CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, d2), TRIBE_OK);
        omp_set_num_threads(saved);
        gen_set_omp_min(1024);
        for (int k = 0; k < 5; k++) {
            char name[64];
            snprintf(name, sizeof name, "%s", names[k]);
            if (!z && strstr(name, ".gz"))
                name[strlen(name) - 3] = '\0';
            CU_ASSERT(same_file(d1, d2, name));
        }
    }
}

static void bad_arguments_should_fail_with_usage_or_io(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 0;
    CU_ASSERT_EQUAL(run_gen(&cfg, dir), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "customers"));
    cfg.customers = 10;
    cfg.segments = TRIBE_GEN_MAX_SEGMENTS + 1;
    CU_ASSERT_EQUAL(run_gen(&cfg, dir), TRIBE_ERR_USAGE);
    cfg.segments = 6;
    cfg.end_date = "2011-02-30";
    CU_ASSERT_EQUAL(run_gen(&cfg, dir), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "2011-02-30"));
    cfg.end_date = "2011-12-09";
    cfg.dirt = -1;
    CU_ASSERT_EQUAL(run_gen(&cfg, dir), TRIBE_ERR_USAGE);
    cfg.dirt = 1;
    /* an output folder below a regular file cannot be created (even as root) */
    char blocker[300], out[400];
    snprintf(blocker, sizeof blocker, "%s/file", dir);
    FILE *fp = fopen(blocker, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fclose(fp);
    snprintf(out, sizeof out, "%s/sub", blocker);
    CU_ASSERT_EQUAL(run_gen(&cfg, out), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), blocker));
    CU_ASSERT_EQUAL(run_gen(&cfg, blocker), TRIBE_ERR_IO);
    CU_ASSERT_EQUAL(run_gen(&cfg, ""), TRIBE_ERR_USAGE);
    /* nothing generated into the folder by the failed calls */
    CU_ASSERT_FALSE(file_exists(dir, "transactions.csv"));
}

static void a_single_customer_should_still_make_a_data_set(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 1;
    cfg.segments = 1;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    reread r;
    CU_ASSERT_FATAL(reread_dir(dir, "2011-12-09", &r));
    CU_ASSERT_EQUAL(r.n, 1);
    CU_ASSERT_EQUAL(r.customers, 1);
    CU_ASSERT_EQUAL(r.seg[0], 0);
    CU_ASSERT(r.id[0] == 12346 || r.id[0] == 12347);
    reread_free(&r);
}

static void failed_allocations_should_fail_cleanly(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 300;
    tribe_par *par = tribe_test_serial();
    int succeeded = 0;
    for (long k = 1; k < 400 && !succeeded; k++) {
        tribe_alloc_fail_after(k);
        tribe_status st = tribe_gen(par, &cfg, dir);
        tribe_alloc_fail_after(0);
        CU_ASSERT(st == TRIBE_OK || st == TRIBE_ERR_NOMEM);
        if (st == TRIBE_OK)
            succeeded = 1;
        else
            CU_ASSERT_FALSE(file_exists(dir, "transactions.csv.part"));
    }
    CU_ASSERT(succeeded);
    /* the run that succeeded wrote everything: no failure was swallowed */
    reread r;
    CU_ASSERT_FATAL(reread_dir(dir, "2011-12-09", &r));
    CU_ASSERT_EQUAL(r.n, 300);
    CU_ASSERT_EQUAL(r.customers, 300);
    reread_free(&r);
    tribe_par_finalize(&par);
}


/* The financial layout: the brief's columns, amounts as the export writes
 * them, every row accounted for in truth.json, the planted per-segment
 * channel mix and credit scores realised; the retail files of an earlier run
 * in the same folder are removed. */
static void financial_layout_should_write_the_briefs_files_and_plant_its_segments(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_gen_cfg cfg;
    tribe_gen_defaults(&cfg);
    cfg.customers = 3000;
    cfg.seed = 5;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    CU_ASSERT(file_exists(dir, "transactions.csv"));
    cfg.layout = TRIBE_GEN_FINANCIAL;
    CU_ASSERT_EQUAL_FATAL(run_gen(&cfg, dir), TRIBE_OK);
    CU_ASSERT_FALSE(file_exists(dir, "transactions.csv"));
    CU_ASSERT_FALSE(file_exists(dir, "web_events.csv"));
    CU_ASSERT_FALSE(file_exists(dir, "demographics.csv"));
    size_t len = 0;
    char *json = slurp(dir, "truth.json", &len), *tx = slurp(dir, "transactions_data.csv", &len);
    char *users = slurp(dir, "users_data.csv", &len), *truth = slurp(dir, "truth.csv", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(users);
    CU_ASSERT_PTR_NOT_NULL_FATAL(truth);
    CU_ASSERT(strstr(json, "\"layout\": \"financial\"") != NULL);
    /* planted segment by customer id (ids ascend: 12346 + 3 i + 0/1) */
    static int seg_of[3 * 3000 + 10];
    char f[MAXF][FCAP];
    const char *p = truth;
    split_record(&p, f);
    while (*p && split_record(&p, f) == 2)
        seg_of[atoll(f[0]) - 12346] = atoi(f[1]);
    const char *hdr = "id,date,client_id,card_id,amount,use_chip,merchant_id,merchant_city,merchant_state,zip,mcc,errors\n";
    CU_ASSERT_FATAL(strncmp(tx, hdr, strlen(hdr)) == 0);
    int64_t rows = 0, bad = 0, pos = 0, neg = 0, buys = 0, refunds = 0;
    int64_t seg_buys[TRIBE_GEN_MAX_SEGMENTS] = {0}, seg_online[TRIBE_GEN_MAX_SEGMENTS] = {0};
    p = tx + strlen(hdr);
    while (*p) {
        CU_ASSERT_EQUAL_FATAL(split_record(&p, f), 12);
        rows++;
        int64_t d = 0, c = 0;
        int neg_sign = f[4][1] == '-';
        if (f[4][0] != '$' || sscanf(f[4] + 1 + neg_sign, "%" SCNd64 ".%2" SCNd64, &d, &c) != 2 ||
            strlen(f[4]) != strlen(f[4] + 1 + neg_sign) + 1 + (size_t)neg_sign ||
            strspn(f[4] + 1 + neg_sign, "0123456789.") != strlen(f[4] + 1 + neg_sign)) {
            bad++;
            continue;
        }
        int64_t cents = d * 100 + c;
        int s = seg_of[atoll(f[2]) - 12346];
        if (neg_sign) {
            neg += cents, refunds++;
        } else {
            pos += cents, buys++;
            seg_buys[s]++;
            seg_online[s] += strcmp(f[5], "Online Transaction") == 0;
            CU_ASSERT(strcmp(f[5], "Online Transaction") == 0 ? strcmp(f[7], "ONLINE") == 0 && !f[9][0]
                                                               : strcmp(f[7], "ONLINE") != 0 && f[9][0]);
        }
    }
    CU_ASSERT_EQUAL(rows, (int64_t)json_num(json, "transaction_rows"));
    CU_ASSERT_EQUAL(bad, (int64_t)json_num(json, "malformed"));
    CU_ASSERT_EQUAL(buys, (int64_t)json_num(json, "purchases"));
    CU_ASSERT_EQUAL(pos, (int64_t)json_num(json, "purchase_cents"));
    CU_ASSERT_EQUAL(refunds, (int64_t)json_num(json, "refunds"));
    CU_ASSERT_EQUAL(neg, (int64_t)json_num(json, "refund_cents"));
    CU_ASSERT(refunds > 0);
    /* online share of Champions (planted 0.35) and Hibernating (0.10) */
    CU_ASSERT(fabs((double)seg_online[0] / (double)seg_buys[0] - 0.35) < 0.04);
    CU_ASSERT(fabs((double)seg_online[5] / (double)seg_buys[5] - 0.10) < 0.04);
    /* users: one row per customer, credit scores by segment as planted (760 vs 615, sd 45) */
    p = users;
    CU_ASSERT_EQUAL_FATAL(split_record(&p, f), 14);
    CU_ASSERT_STRING_EQUAL(f[12], "credit_score");
    double score[TRIBE_GEN_MAX_SEGMENTS] = {0}, n[TRIBE_GEN_MAX_SEGMENTS] = {0};
    int64_t nusers = 0;
    while (*p) {
        CU_ASSERT_EQUAL_FATAL(split_record(&p, f), 14);
        int s = seg_of[atoll(f[0]) - 12346];
        CU_ASSERT(f[10][0] == '$' && f[11][0] == '$');
        score[s] += atof(f[12]), n[s]++, nusers++;
    }
    CU_ASSERT_EQUAL(nusers, 3000);
    CU_ASSERT(fabs(score[0] / n[0] - 760) < 12 && fabs(score[5] / n[5] - 615) < 12);
    free(json), free(tx), free(users), free(truth);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(gen_should_write_every_file_with_its_header),
        TRIBE_TEST(gen_counts_should_equal_what_truth_json_promises),
        TRIBE_TEST(planted_segments_should_have_their_shares_and_shapes),
        TRIBE_TEST(same_seed_should_give_same_bytes_and_other_seeds_other_bytes),
        TRIBE_TEST(clean_data_should_have_no_dirt_and_respect_end_date),
        TRIBE_TEST(gzip_output_should_hold_the_same_bytes),
        TRIBE_TEST(thread_count_should_not_change_the_bytes),
        TRIBE_TEST(bad_arguments_should_fail_with_usage_or_io),
        TRIBE_TEST(a_single_customer_should_still_make_a_data_set),
        TRIBE_TEST(failed_allocations_should_fail_cleanly),
        TRIBE_TEST(financial_layout_should_write_the_briefs_files_and_plant_its_segments),
        {NULL, NULL}};
    return tribe_test_main("gen", cases);
}
