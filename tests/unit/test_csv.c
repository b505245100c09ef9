/* Unit tests for src/io/csv.c: quoting, line ends, gzip, byte ranges, strides. */
#include "testutil.h"
#include "tribe/csv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* A small file with every quoting feature: CRLF and LF line ends, a quoted
 * comma, doubled quotes, a newline inside quotes (and a CRLF inside quotes),
 * an empty field, a trailing comma, a blank line, no final newline. */

static const char SAMPLE[] =
    "id,text,n\r\n"
    "1,plain,10\r\n"
    "2,\"a, b\",20\n"
    "3,\"say \"\"hi\"\"\",30\n"
    "4,\"two\nlines\",40\n"
    "\n"
    "5,,50\r\n"
    "6,\"x\r\ny\",\n"
    "7,\"\",70";

typedef struct {
    int64_t line;
    char raw[256];
    char f1[64];
    int nf;
    int bad;
} rec;

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_gz(const char *path, const char *data, size_t len)
{
    gzFile g = gzopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(gzwrite(g, data, (unsigned)len), (int)len);
    gzclose(g);
}

/* Reads every record of a reader into out[], returns the count (-1 on error). */
static int read_all(const char *path, const tribe_csv_opts *o, rec *out, int max)
{
    tribe_csv *c = NULL;
    int n = 0, has = 0;
    if (tribe_csv_open(path, o, &c) != TRIBE_OK) {
        fprintf(stderr, "open: %s\n", tribe_errmsg());
        return -1;
    }
    while (tribe_csv_next(c, &has) == TRIBE_OK && has && n < max) {
        rec *r = &out[n++];
        size_t len = 0;
        const char *raw = tribe_csv_raw(c, &len);
        memset(r, 0, sizeof *r);
        r->line = tribe_csv_line(c);
        snprintf(r->raw, sizeof r->raw, "%.*s", (int)len, raw);
        snprintf(r->f1, sizeof r->f1, "%s", tribe_csv_field(c, 1, NULL));
        r->nf = tribe_csv_nfields(c);
        r->bad = tribe_csv_error(c) != NULL;
    }
    tribe_csv_close(&c);
    return n;
}

static int same(const rec *a, const rec *b)
{
    return a->line == b->line && strcmp(a->raw, b->raw) == 0 && strcmp(a->f1, b->f1) == 0 && a->nf == b->nf &&
           a->bad == b->bad;
}

static void quoted_fields_should_be_unquoted_with_their_lines(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    write_file(path, SAMPLE, strlen(SAMPLE));
    tribe_csv *c = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_csv_open(path, NULL, &c), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_csv_ncolumns(c), 3);
    CU_ASSERT_STRING_EQUAL(tribe_csv_column_name(c, 2), "n"); /* CR of CRLF dropped */
    CU_ASSERT_EQUAL(tribe_csv_column(c, "text"), 1);
    CU_ASSERT_EQUAL(tribe_csv_column(c, "Text"), -1);
    const char *want_f1[] = {"plain", "a, b", "say \"hi\"", "two\nlines", "", "x\r\ny", ""};
    const char *want_f2[] = {"10", "20", "30", "40", "50", "", "70"};
    const int64_t want_line[] = {2, 3, 4, 5, 8, 9, 11};
    int has = 0, n = 0;
    while (tribe_csv_next(c, &has) == TRIBE_OK && has) {
        CU_ASSERT_FATAL(n < 7);
        CU_ASSERT_PTR_NULL(tribe_csv_error(c));
        CU_ASSERT_EQUAL(tribe_csv_nfields(c), 3);
        CU_ASSERT_EQUAL(tribe_csv_line(c), want_line[n]);
        size_t len = 0;
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 1, &len), want_f1[n]);
        CU_ASSERT_EQUAL(len, strlen(want_f1[n]));
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 2, NULL), want_f2[n]);
        CU_ASSERT_STRING_EQUAL(tribe_csv_field(c, 7, &len), "");
        n++;
    }
    CU_ASSERT_EQUAL(n, 7);
    tribe_csv_close(&c);
    CU_ASSERT_PTR_NULL(c);
    tribe_csv_close(&c);
}

static void malformed_records_should_be_flagged_not_fatal(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/m.csv", dir);
    const char *text = "a,b\n1,ab\"\"c\n\"x\"y,2\nok,3\n4,\"never closed\nmore\n";
    write_file(path, text, strlen(text));
    rec r[8];
    int n = read_all(path, NULL, r, 8);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT(r[0].bad && r[0].nf == 0 && r[0].line == 2 && strcmp(r[0].raw, "1,ab\"\"c") == 0);
    CU_ASSERT(r[1].bad && r[1].line == 3);
    CU_ASSERT(!r[2].bad && r[2].nf == 2 && r[2].line == 4);
    CU_ASSERT(r[3].bad && r[3].line == 5); /* open quote runs to the end of the file */
    CU_ASSERT_STRING_EQUAL(r[3].raw, "4,\"never closed\nmore\n");
}

static void overlong_records_should_be_malformed_and_skipped(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/o.csv", dir);
    const char *text = "a,b\n1,short\n2,\"this one is long,\nand spans lines\"\n3,ok\n";
    write_file(path, text, strlen(text));
    tribe_csv_opts o = {.end = -1, .max_record = 12};
    rec r[8];
    int n = read_all(path, &o, r, 8);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT(!r[0].bad && r[0].line == 2);
    CU_ASSERT(r[1].bad && r[1].line == 3 && strlen(r[1].raw) == 12);
    CU_ASSERT(!r[2].bad && r[2].line == 5 && strcmp(r[2].f1, "ok") == 0);
}

static void gzip_files_should_read_like_plain_ones(void)
{
    const char *dir = tribe_test_tmpdir();
    char plain[512], gz[512];
    snprintf(plain, sizeof plain, "%s/s.csv", dir);
    snprintf(gz, sizeof gz, "%s/s.csv.gz", dir);
    write_file(plain, SAMPLE, strlen(SAMPLE));
    write_gz(gz, SAMPLE, strlen(SAMPLE));
    rec a[16], b[16];
    int na = read_all(plain, NULL, a, 16), nb = read_all(gz, NULL, b, 16);
    CU_ASSERT_EQUAL_FATAL(na, 7);
    CU_ASSERT_EQUAL_FATAL(nb, na);
    for (int i = 0; i < na; i++)
        CU_ASSERT(same(&a[i], &b[i]));
    tribe_csv *c = NULL;
    CU_ASSERT_EQUAL(tribe_csv_open(gz, NULL, &c), TRIBE_OK);
    CU_ASSERT(tribe_csv_is_gzip(c));
    tribe_csv_close(&c);
    /* a byte range makes no sense on a compressed stream */
    tribe_csv_opts o = {.begin = 5, .end = -1};
    CU_ASSERT_EQUAL(tribe_csv_open(gz, &o, &c), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(c);
}

/* Opens [b, e) of path with the prefix counts a job would compute. */
static int read_range(const char *path, int64_t b, int64_t e, size_t max_record, rec *out, int max)
{
    tribe_csv_opts o = {.begin = b, .end = e, .max_record = max_record};
    CU_ASSERT_EQUAL(tribe_csv_count_range(path, 0, b, &o.newlines_before, &o.quotes_before), TRIBE_OK);
    return read_all(path, &o, out, max);
}

/* Splits the file at every pair of points b1 <= b2 into three ranges: the
 * records of the three readers, in order, must be exactly the serial ones. */
static void check_all_splits(const char *path, size_t size, size_t max_record)
{
    rec serial[64], part[64];
    tribe_csv_opts o = {.end = -1, .max_record = max_record};
    int ns = read_all(path, &o, serial, 64);
    CU_ASSERT_FATAL(ns > 0);
    int failures = 0;
    for (int64_t b1 = 0; b1 <= (int64_t)size; b1++)
        for (int64_t b2 = b1; b2 <= (int64_t)size; b2++) {
            int n = 0, k;
            k = read_range(path, 0, b1, max_record, part + n, 64 - n);
            n += k > 0 ? k : 0;
            k = read_range(path, b1, b2, max_record, part + n, 64 - n);
            n += k > 0 ? k : 0;
            k = read_range(path, b2, -1, max_record, part + n, 64 - n);
            n += k > 0 ? k : 0;
            int ok = n == ns;
            for (int i = 0; ok && i < n; i++)
                ok = same(&part[i], &serial[i]);
            if (!ok && failures++ < 3)
                fprintf(stderr, "split %lld/%lld: %d records, want %d\n", (long long)b1, (long long)b2, n, ns);
        }
    CU_ASSERT_EQUAL(failures, 0);
}

static void byte_ranges_should_yield_each_record_once_at_any_split(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/s.csv", dir);
    write_file(path, SAMPLE, strlen(SAMPLE));
    check_all_splits(path, strlen(SAMPLE), 0);
    /* with malformed and over-long records too */
    const char *text = "a,b\n1,ab\"\"c\n\"q\"\"\",\"l\nl\"\n2,\"this is too long\"\n\n3,\"x\ny\"\n4,\"open\n5,x\n";
    snprintf(path, sizeof path, "%s/m.csv", dir);
    write_file(path, text, strlen(text));
    check_all_splits(path, strlen(text), 14);
}

static void strides_should_share_records_exactly_once(void)
{
    const char *dir = tribe_test_tmpdir();
    char plain[512], gz[512];
    snprintf(plain, sizeof plain, "%s/s.csv", dir);
    snprintf(gz, sizeof gz, "%s/s.csv.gz", dir);
    write_file(plain, SAMPLE, strlen(SAMPLE));
    write_gz(gz, SAMPLE, strlen(SAMPLE));
    rec serial[16], part[16];
    int ns = read_all(plain, NULL, serial, 16);
    for (int64_t block = 1; block <= 3; block++)
        for (int nparts = 1; nparts <= 4; nparts++) {
            int seen[16] = {0}, total = 0;
            for (int p = 0; p < nparts; p++) {
                tribe_csv_opts o = {.end = -1, .block = block, .part = p, .nparts = nparts};
                int n = read_all(gz, &o, part, 16);
                CU_ASSERT_FATAL(n >= 0);
                for (int i = 0; i < n; i++) {
                    int k = 0;
                    while (k < ns && serial[k].line != part[i].line)
                        k++;
                    CU_ASSERT_FATAL(k < ns);
                    CU_ASSERT(same(&serial[k], &part[i]));
                    /* data record k belongs to part (k / block) % nparts */
                    CU_ASSERT_EQUAL((k / block) % nparts, p);
                    seen[k]++;
                }
                total += n;
            }
            CU_ASSERT_EQUAL(total, ns);
            for (int k = 0; k < ns; k++)
                CU_ASSERT_EQUAL(seen[k], 1);
        }
}

/* Larger file (several read buffers): random record lengths, quoted fields
 * with commas and newlines; random splits agree with the serial read. */
static void long_files_should_split_like_short_ones(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512], gz[512];
    snprintf(path, sizeof path, "%s/big.csv", dir);
    snprintf(gz, sizeof gz, "%s/big.csv.gz", dir);
    size_t cap = 3 << 20, len = 0;
    char *buf = malloc(cap);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    len += (size_t)snprintf(buf, cap, "k,v,w\n");
    int64_t nrec = 0;
    while (len < cap - 5000) {
        uint64_t r = tribe_rng_u64(9, 1, (uint64_t)nrec);
        int flen = (int)(r % 3000);
        len += (size_t)snprintf(buf + len, cap - len, "%lld,\"", (long long)nrec);
        for (int i = 0; i < flen; i++) {
            uint64_t q = tribe_rng_u64(9, 2, (uint64_t)(nrec * 4096 + i)) % 40;
            buf[len++] = q == 0 ? '\n' : q == 1 ? ',' : 'a' + (char)(q % 26);
            if (q == 2)
                buf[len++] = '"', buf[len++] = '"';
        }
        len += (size_t)snprintf(buf + len, cap - len, "\",%s", (r >> 20) % 2 ? "w\r\n" : "w\n");
        nrec++;
    }
    write_file(path, buf, len);
    write_gz(gz, buf, len);
    free(buf);

    /* serial: count records and sum lines */
    tribe_csv *c = NULL;
    int has = 0;
    int64_t n0 = 0, lines0 = 0, keys0 = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_csv_open(path, NULL, &c), TRIBE_OK);
    while (tribe_csv_next(c, &has) == TRIBE_OK && has) {
        CU_ASSERT_PTR_NULL(tribe_csv_error(c));
        CU_ASSERT_EQUAL(atoll(tribe_csv_field(c, 0, NULL)), n0);
        n0++;
        lines0 += tribe_csv_line(c);
        keys0 += atoll(tribe_csv_field(c, 0, NULL));
    }
    tribe_csv_close(&c);
    CU_ASSERT_EQUAL(n0, nrec);

    for (int trial = 0; trial < 6; trial++) {
        int parts = 2 + trial % 4;
        int64_t cuts[8];
        cuts[0] = 0;
        cuts[parts] = -1;
        for (int p = 1; p < parts; p++)
            cuts[p] = (int64_t)((double)len * p / parts) + (int64_t)(tribe_rng_u64(9, 3, (uint64_t)(trial * 8 + p)) % 5000);
        int64_t n = 0, lines = 0, keys = 0;
        for (int p = 0; p < parts; p++) {
            tribe_csv_opts o = {.begin = cuts[p], .end = cuts[p + 1]};
            CU_ASSERT_EQUAL(tribe_csv_count_range(path, 0, cuts[p], &o.newlines_before, &o.quotes_before), TRIBE_OK);
            CU_ASSERT_EQUAL_FATAL(tribe_csv_open(path, &o, &c), TRIBE_OK);
            while (tribe_csv_next(c, &has) == TRIBE_OK && has) {
                n++;
                lines += tribe_csv_line(c);
                keys += atoll(tribe_csv_field(c, 0, NULL));
            }
            tribe_csv_close(&c);
        }
        CU_ASSERT_EQUAL(n, n0);
        CU_ASSERT_EQUAL(lines, lines0);
        CU_ASSERT_EQUAL(keys, keys0);
        /* and the gzip stride share-out */
        n = lines = 0;
        for (int p = 0; p < parts; p++) {
            tribe_csv_opts o = {.end = -1, .block = 7, .part = p, .nparts = parts};
            CU_ASSERT_EQUAL_FATAL(tribe_csv_open(gz, &o, &c), TRIBE_OK);
            while (tribe_csv_next(c, &has) == TRIBE_OK && has) {
                n++;
                lines += tribe_csv_line(c);
            }
            tribe_csv_close(&c);
        }
        CU_ASSERT_EQUAL(n, n0);
        CU_ASSERT_EQUAL(lines, lines0);
    }
}

static void bad_files_should_fail_with_the_right_class(void)
{
    const char *dir = tribe_test_tmpdir();
    char path[512];
    tribe_csv *c = NULL;
    snprintf(path, sizeof path, "%s/none.csv", dir);
    CU_ASSERT_EQUAL(tribe_csv_open(path, NULL, &c), TRIBE_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "none.csv"));
    snprintf(path, sizeof path, "%s/empty.csv", dir);
    write_file(path, "", 0);
    CU_ASSERT_EQUAL(tribe_csv_open(path, NULL, &c), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "empty"));
    snprintf(path, sizeof path, "%s/h.csv", dir);
    write_file(path, "\xEF\xBB\xBF" "a,b\n1,2\n", 11);
    CU_ASSERT_EQUAL_FATAL(tribe_csv_open(path, NULL, &c), TRIBE_OK);
    const char *want[] = {"a", "b", "zz"};
    int idx[3];
    CU_ASSERT_EQUAL(tribe_csv_require(c, want, 2, idx), TRIBE_OK); /* BOM dropped */
    CU_ASSERT(idx[0] == 0 && idx[1] == 1);
    CU_ASSERT_EQUAL(tribe_csv_require(c, want, 3, idx), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "'zz'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "h.csv"));
    tribe_csv_close(&c);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(quoted_fields_should_be_unquoted_with_their_lines),
        TRIBE_TEST(malformed_records_should_be_flagged_not_fatal),
        TRIBE_TEST(overlong_records_should_be_malformed_and_skipped),
        TRIBE_TEST(gzip_files_should_read_like_plain_ones),
        TRIBE_TEST(byte_ranges_should_yield_each_record_once_at_any_split),
        TRIBE_TEST(strides_should_share_records_exactly_once),
        TRIBE_TEST(long_files_should_split_like_short_ones),
        TRIBE_TEST(bad_files_should_fail_with_the_right_class),
        {NULL, NULL}};
    return tribe_test_main("csv", cases);
}
