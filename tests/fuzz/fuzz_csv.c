/* libFuzzer harness: the CSV reader (src/io/csv.c) on any bytes as a file.
 * Beyond "no crash, no leak, no UB", it checks what tribe/csv.h promises
 * and ingest relies on: reading the file in byte ranges (as ranks do, with
 * the newline and quote counts before each range) or in record strides
 * returns exactly the records of one serial read, with the same lines and
 * fields, also with a short maximum record length. */
#include "fuzzutil.h"

#include "tribe/csv.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t *h;
    size_t n, cap;
} digests;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static void push(digests *d, uint64_t h)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->h = realloc(d->h, d->cap * sizeof *d->h);
        if (!d->h)
            abort();
    }
    d->h[d->n++] = h;
}

/* One digest per record: line, malformed or not, every field. */
static uint64_t record_digest(const tribe_csv *c)
{
    int64_t line = tribe_csv_line(c);
    int nf = tribe_csv_nfields(c);
    uint64_t h = mix(0xcbf29ce484222325ULL, &line, sizeof line);
    h = mix(h, &nf, sizeof nf);
    size_t rl = 0;
    const char *raw = tribe_csv_raw(c, &rl);
    FZ_CHECK(raw != NULL);
    if (tribe_csv_error(c)) {
        FZ_CHECK(nf == 0);
        return mix(h, "!", 1);
    }
    for (int i = 0; i < nf; i++) {
        size_t len = 0;
        const char *f = tribe_csv_field(c, i, &len);
        FZ_CHECK(f != NULL && strlen(f) <= len);
        h = mix(mix(h, &len, sizeof len), f, len);
    }
    size_t len = 1;
    FZ_CHECK(*tribe_csv_field(c, nf, &len) == '\0' && len == 0);
    return h;
}

/* Reads one share; 0 when the open failed (its status is then compared). */
static tribe_status read_share(const char *path, const tribe_csv_opts *o, digests *d)
{
    tribe_csv *c = NULL;
    tribe_status st = tribe_csv_open(path, o, &c);
    fz_note("tribe_csv_open", st);
    if (st != TRIBE_OK) {
        FZ_CHECK(c == NULL);
        return st;
    }
    for (int i = 0; i < tribe_csv_ncolumns(c); i++)
        FZ_CHECK(tribe_csv_column_name(c, i) != NULL);
    int has = 0;
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has)
        push(d, record_digest(c));
    tribe_csv_close(&c);
    FZ_CHECK(c == NULL);
    return st;
}

static int same(const digests *a, const digests *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->h, b->h, a->n * sizeof *a->h) == 0);
}

static void check_ranges(const char *path, size_t size, size_t max_record, const digests *whole)
{
    size_t cuts[4] = {0, size / 3, size / 2, size};
    digests d = {0};
    for (int r = 0; r < 3; r++) {
        tribe_csv_opts o = {0};
        o.begin = (int64_t)cuts[r];
        o.end = r == 2 ? -1 : (int64_t)cuts[r + 1];
        o.max_record = max_record;
        if (o.begin > 0)
            FZ_CHECK(tribe_csv_count_range(path, 0, o.begin, &o.newlines_before, &o.quotes_before) == TRIBE_OK);
        FZ_CHECK(read_share(path, &o, &d) == TRIBE_OK);
    }
    FZ_CHECK(same(&d, whole));
    free(d.h);
}

static void check_strides(const char *path, size_t max_record, int64_t block, const digests *whole)
{
    /* Stride shares interleave: compare as multisets by sorting both. */
    digests d = {0}, w = {0};
    for (int part = 0; part < 2; part++) {
        tribe_csv_opts o = {0};
        o.end = -1;
        o.block = block;
        o.part = part;
        o.nparts = 2;
        o.max_record = max_record;
        FZ_CHECK(read_share(path, &o, &d) == TRIBE_OK);
    }
    for (size_t i = 0; i < whole->n; i++)
        push(&w, whole->h[i]);
    FZ_CHECK(d.n == w.n);
    for (size_t i = 0; i < d.n; i++) { /* small inputs: a quadratic match is fine */
        size_t j = i;
        while (j < w.n && w.h[j] != d.h[i])
            j++;
        FZ_CHECK(j < w.n);
        uint64_t t = w.h[i];
        w.h[i] = w.h[j];
        w.h[j] = t;
    }
    free(d.h);
    free(w.h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file("in.csv", data, size);
    int is_gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    size_t max_records[2] = {0, 8 + (size ? data[size - 1] % 64 : 0)};
    for (int m = 0; m < 2; m++) {
        digests whole = {0};
        tribe_csv_opts o = {0};
        o.end = -1;
        o.max_record = max_records[m];
        tribe_status st = read_share(path, &o, &whole);
        if (st == TRIBE_OK && !is_gz)
            check_ranges(path, size, max_records[m], &whole);
        if (st == TRIBE_OK)
            check_strides(path, max_records[m], 1 + (size ? data[0] % 3 : 0), &whole);
        free(whole.h);
    }
    return 0;
}
