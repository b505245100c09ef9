/* tribe_import_csv: a ready feature table (id + numeric columns) from CSV,
 * distributed like tribe_ingest's output (tribe/ingest.h). */
#include "ingest_internal.h"
#include "tribe/csv.h"
#include "tribe/id.h"
#include "tribe/ingest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Row record for the shuffle: id, source line, with string ids the id's
 * text (ID_TEXT bytes, NUL-padded), then d floats (padded to 8 bytes). */
typedef struct {
    int64_t id, line;
} row_head;

#define ID_TEXT (TRIBE_ID_MAX + 8)

static size_t row_size(int d, int string_ids)
{
    return sizeof(row_head) + (string_ids ? ID_TEXT : 0) + (((size_t)d * sizeof(float) + 7) / 8) * 8;
}

static int is_nan_text(const char *s, size_t n)
{
    return n == 0 || (n == 3 && (s[0] == 'n' || s[0] == 'N') && (s[1] == 'a' || s[1] == 'A') &&
                      (s[2] == 'n' || s[2] == 'N'));
}

/* The error for the id cell s[0, n) of `line` that does not parse: names the
 * file, line and column and says what is wrong with the value ("'C-12' is
 * not an integer id (use --id-type string)"). Returns INPUT. */
static tribe_status bad_id(const tribe_csv *c, long long line, const char *s, size_t n, int string_ids)
{
    static const char word[] = "CustomerID "; /* tribe_id_check's subject: the column is named before it */
    char why[160] = "the customer id is empty";
    const char *what = why;
    if (n > 0) {
        /* "CustomerID '<text>' is longer than 64 bytes ...", "... is negative" */
        int64_t key;
        tribe_id_parse(s, n, string_ids, &key, why, sizeof why);
        if (strncmp(why, word, sizeof word - 1) == 0)
            what = why + sizeof word - 1;
        /* a text that would be a string id: say how to read it as one */
        if (!string_ids && tribe_id_check(s, n, NULL, 0))
            snprintf(why + strlen(why), sizeof why - strlen(why), " (use --id-type string)");
    }
    return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: column '%s': %s", tribe_csv_path(c), line,
                      tribe_csv_column_name(c, 0), what);
}

/* Parses this rank's share into rows[] (grown as needed). Not collective. */
static tribe_status read_rows(tribe_csv *c, int d, int string_ids, size_t rsize, char **rows, int64_t *n)
{
    tribe_status st = TRIBE_OK;
    int has = 0;
    int64_t cap = 0;
    const char *path = tribe_csv_path(c);
    *n = 0;
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        long long line = (long long)tribe_csv_line(c);
        if (tribe_csv_error(c))
            return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s", path, line, tribe_csv_error(c));
        if (tribe_csv_nfields(c) != d + 1)
            return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: expected %d fields, found %d", path, line, d + 1,
                              tribe_csv_nfields(c));
        if (*n == cap) {
            cap = cap ? 2 * cap : 4096;
            TRIBE_TRY(tribe_realloc((void **)rows, (size_t)cap * rsize));
        }
        char *r = *rows + (size_t)*n * rsize;
        row_head h;
        size_t len;
        const char *s = tribe_csv_field(c, 0, &len);
        ing_trim(&s, &len);
        if (tribe_id_parse(s, len, string_ids, &h.id, NULL, 0) != 1) /* as ingest reads ids */
            return bad_id(c, line, s, len, string_ids);
        h.line = (int64_t)line;
        memcpy(r, &h, sizeof h);
        if (string_ids) {
            memset(r + sizeof h, 0, ID_TEXT);
            memcpy(r + sizeof h, s, len);
        }
        float *x = (float *)(r + sizeof h + (string_ids ? ID_TEXT : 0));
        for (int j = 0; j < d; j++) {
            double v = NAN;
            s = tribe_csv_field(c, j + 1, &len);
            ing_trim(&s, &len);
            if (!is_nan_text(s, len)) {
                if (!ing_parse_double(s, len, &v))
                    return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: column '%s': '%.40s' is not a number", path, line,
                                      tribe_csv_column_name(c, j + 1), s);
                if (!isfinite((float)v))
                    return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: column '%s': '%.40s' is out of float range", path,
                                      line, tribe_csv_column_name(c, j + 1), s);
            }
            x[j] = (float)v;
        }
        (*n)++;
    }
cleanup:
    return st;
}

static int cmp_row(const void *a, const void *b)
{
    row_head x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    if (x.id != y.id)
        return (x.id > y.id) - (x.id < y.id);
    return (x.line > y.line) - (x.line < y.line);
}

/* Collective: with string ids, the texts of the n_local sorted rows into
 * t->id_text (width: the longest over all ranks + 1). Errors: NOMEM, agreed. */
static tribe_status import_texts(tribe_par *par, const char *got, size_t rsize, tribe_table *t)
{
    tribe_status st = TRIBE_OK;
    int64_t width = 1;
    for (int64_t i = 0; i < t->n_local; i++) {
        int64_t len = (int64_t)strnlen(got + (size_t)i * rsize + sizeof(row_head), ID_TEXT);
        width = len + 1 > width ? len + 1 : width;
    }
    TRIBE_TRY(tribe_par_max_i64(par, &width, 1));
    st = tribe_calloc((void **)&t->id_text, (size_t)(t->n_local > 0 ? t->n_local : 1), (size_t)width);
    TRIBE_TRY(tribe_par_agree(par, st));
    t->id_width = (int)width;
    for (int64_t i = 0; i < t->n_local; i++) {
        const char *s = got + (size_t)i * rsize + sizeof(row_head);
        memcpy(t->id_text + (size_t)i * (size_t)width, s, strnlen(s, ID_TEXT));
    }
cleanup:
    return st;
}

tribe_status tribe_import_csv(tribe_par *par, const char *path, tribe_table **out)
{
    return tribe_import_csv_ids(par, path, 0, out);
}

tribe_status tribe_import_csv_ids(tribe_par *par, const char *path, int string_ids, tribe_table **out)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    char *rows = NULL, *got = NULL;
    const char **names = NULL;
    int64_t n = 0, ngot = 0, *ids = NULL, *spl = NULL;
    tribe_table *t = NULL;
    *out = NULL;
    TRIBE_TRY(tribe_csv_open_shared(par, path, 0, &c));
    int d = tribe_csv_ncolumns(c) - 1;
    if (d < 1) { /* the header is the same on every rank */
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: expected a customer id column and at least one feature column", path);
        goto cleanup;
    }
    /* the header is the same on every rank: so is this check */
    for (int a = 0; a <= d; a++)
        for (int b = a + 1; b <= d; b++)
            if (strcmp(tribe_csv_column_name(c, a), tribe_csv_column_name(c, b)) == 0) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s: columns %d and %d are both named '%s' (a feature name must be "
                                "unique)", path, a + 1, b + 1, tribe_csv_column_name(c, a));
                goto cleanup;
            }
    size_t rsize = row_size(d, string_ids);
    st = read_rows(c, d, string_ids, rsize, &rows, &n);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&ids, (size_t)(n > 0 ? n : 1) * sizeof *ids);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < n; i++)
        memcpy(&ids[i], rows + (size_t)i * rsize, sizeof ids[i]);
    TRIBE_TRY(ing_splitters(par, ids, n, &spl));
    TRIBE_TRY(ing_shuffle(par, spl, rows, n, rsize, (void **)&got, &ngot));
    free(rows);
    rows = NULL;
    qsort(got, (size_t)ngot, rsize, cmp_row);
    /* every copy of an id lands on the same rank, next to each other */
    for (int64_t i = 1; i < ngot && st == TRIBE_OK; i++) {
        row_head a, b;
        memcpy(&a, got + (size_t)(i - 1) * rsize, sizeof a);
        memcpy(&b, got + (size_t)i * rsize, sizeof b);
        const char *ta = got + (size_t)(i - 1) * rsize + sizeof a, *tb = got + (size_t)i * rsize + sizeof b;
        if (a.id == b.id && string_ids && strncmp(ta, tb, ID_TEXT) != 0)
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: customer ids '%s' (line %lld) and '%s' (line %lld) have the same key "
                            "%lld (a hash collision of string ids): rename one of them", path, ta, (long long)a.line,
                            tb, (long long)b.line, (long long)a.id);
        else if (a.id == b.id && string_ids)
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: customer id %s appears twice (lines %lld and %lld)", path, ta,
                            (long long)a.line, (long long)b.line);
        else if (a.id == b.id)
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: customer id %lld appears twice (lines %lld and %lld)", path,
                            (long long)a.id, (long long)a.line, (long long)b.line);
    }
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&names, (size_t)d * sizeof *names);
    if (st == TRIBE_OK) {
        for (int j = 0; j < d; j++)
            names[j] = tribe_csv_column_name(c, j + 1);
        st = tribe_table_create(ngot, d, names, &t);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t i = 0; i < ngot; i++) {
        row_head h;
        memcpy(&h, got + (size_t)i * rsize, sizeof h);
        t->id[i] = h.id;
        memcpy(t->x + (size_t)i * (size_t)d, got + (size_t)i * rsize + sizeof h + (string_ids ? ID_TEXT : 0),
               (size_t)d * sizeof(float));
    }
    if (string_ids)
        TRIBE_TRY(import_texts(par, got, rsize, t));
    TRIBE_TRY(tribe_par_exscan_i64(par, ngot, &t->offset, &t->n_global));
    if (t->n_global == 0) { /* the same total on every rank */
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: no data row after the header (an import needs at least one customer)",
                        path);
        goto cleanup;
    }
    *out = t;
    t = NULL;
cleanup:
    tribe_csv_close(&c);
    free(rows);
    free(got);
    free(names);
    free(ids);
    free(spl);
    tribe_table_destroy(&t);
    return st;
}
