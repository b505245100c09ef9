/* customers.h5: the customer table on disk (docs/hdf5-layout.md). */
#include "tribe/h5.h"
#include "tribe/id.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

tribe_status tribe_tmp_name(tribe_par *par, const char *path, char *buf, size_t cap)
{
    int64_t pid = (int64_t)getpid();
    tribe_status st = tribe_par_bcast(par, &pid, sizeof pid, 0);
    if (st != TRIBE_OK)
        return st;
    return tribe_fmt(buf, cap, "%s.tmp.%lld", path, (long long)pid);
}

/* Renames the finished temporary file into place on rank 0 and agrees. */
static tribe_status publish(tribe_par *par, tribe_status st, const char *tmp, const char *path)
{
    st = tribe_par_agree(par, st);
    if (tribe_par_rank(par) == 0) {
        if (st == TRIBE_OK && rename(tmp, path) != 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the finished file into place", path);
        if (st != TRIBE_OK)
            unlink(tmp);
    }
    return tribe_par_agree(par, st);
}

tribe_status tribe_store_write_customers_at(tribe_par *par, const char *path, const tribe_table *t,
                                            const char *ledger_json, const char *source_json)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    char dname[512];
    st = tribe_h5_create(par, path, &h);
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", TRIBE_CUSTOMERS_FORMAT));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", TRIBE_CUSTOMERS_FORMAT_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_version", TRIBE_VERSION));
    TRIBE_TRY(tribe_store_write_currency(h, &t->currency));
    TRIBE_TRY(tribe_h5_write_rows(h, "/customers/id", TRIBE_H5_I64, t->n_global, t->offset, t->n_local, 1, t->id));
    if (t->id_text)
        TRIBE_TRY(tribe_h5_write_str_rows(h, "/customers/id_text", t->n_global, t->offset, t->n_local, t->id_width,
                                          t->id_text));
    TRIBE_TRY(tribe_h5_write_rows(h, "/customers/features", TRIBE_H5_F32, t->n_global, t->offset, t->n_local, t->d,
                                  t->x));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/customers/features", "feature_names", t->d, (const char *const *)t->names));
    if (t->n_model_default > 0)
        TRIBE_TRY(tribe_h5_attr_strs(h, "/customers/features", "model_default", t->n_model_default,
                                     (const char *const *)t->model_default));
    {
        const char **cats = NULL;
        TRIBE_TRY(tribe_calloc((void **)&cats, (size_t)(t->n_cat + 1), sizeof *cats));
        for (int c = 0; c < t->n_cat; c++)
            cats[c] = t->cat[c].name;
        st = tribe_h5_attr_strs(h, "/customers", "categorical", t->n_cat, cats);
        free(cats);
        if (st != TRIBE_OK)
            goto cleanup;
    }
    for (int c = 0; c < t->n_cat; c++) {
        TRIBE_TRY(tribe_fmt(dname, sizeof dname, "/customers/%s", t->cat[c].name));
        TRIBE_TRY(tribe_h5_write_rows(h, dname, TRIBE_H5_I32, t->n_global, t->offset, t->n_local, 1, t->cat[c].code));
        TRIBE_TRY(tribe_h5_attr_strs(h, dname, "levels", t->cat[c].n_levels, (const char *const *)t->cat[c].levels));
    }
    TRIBE_TRY(tribe_h5_attr_i64(h, "/customers", "n", t->n_global));
    if (ledger_json)
        TRIBE_TRY(tribe_h5_attr_str(h, "/customers", "ledger", ledger_json));
    if (source_json)
        TRIBE_TRY(tribe_h5_attr_str(h, "/customers", "source", source_json));
cleanup:
    return tribe_h5_close_after(&h, st);
}

tribe_status tribe_store_write_currency(tribe_h5 *h, const tribe_currency *cur)
{
    tribe_status st = tribe_h5_attr_str(h, "/", "currency", cur->code);
    if (st == TRIBE_OK)
        st = tribe_h5_attr_str(h, "/", "currency_symbol", cur->symbol);
    return st;
}

tribe_status tribe_store_read_currency(tribe_h5 *h, tribe_currency *out)
{
    tribe_status st = TRIBE_OK;
    char *code = NULL, *sym = NULL;
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "currency", &code));
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "currency_symbol", &sym));
    if (code)
        TRIBE_TRY(tribe_currency_from_attrs(tribe_h5_path(h), code, sym, out));
    else
        *out = tribe_currency_default();
cleanup:
    free(code);
    free(sym);
    return st;
}

tribe_status tribe_store_write_customers(tribe_par *par, const char *path, const tribe_table *t,
                                         const char *ledger_json, const char *source_json)
{
    char tmp[4096] = "";
    tribe_status st = tribe_tmp_name(par, path, tmp, sizeof tmp);
    if (st != TRIBE_OK)
        return st;
    return publish(par, tribe_store_write_customers_at(par, tmp, t, ledger_json, source_json), tmp, path);
}

/* Collective. /customers/id must be unique and ascending (the row order every
 * stage keys on): within the shard, and across shard boundaries through each
 * rank's first and last id. INPUT naming the first offending id. */
static tribe_status check_ids(tribe_par *par, const char *path, const int64_t *id, int64_t n, int64_t lo)
{
    tribe_status st = TRIBE_OK;
    int64_t bad = -1; /* global row of the first id not above its predecessor */
    int64_t ends[3] = {n > 0, n > 0 ? id[0] : 0, n > 0 ? id[n - 1] : 0};
    int64_t *all = NULL;
    for (int64_t i = 1; i < n && bad < 0; i++)
        if (id[i] <= id[i - 1])
            bad = lo + i;
    size_t total = 0;
    TRIBE_TRY(tribe_par_allgatherv(par, ends, sizeof ends, (void **)&all, &total, NULL, NULL));
    /* The last id of the nearest non-empty rank before this one. */
    int have = 0;
    int64_t prev = 0;
    for (int r = 0; r < tribe_par_rank(par); r++)
        if (all[3 * r]) {
            have = 1;
            prev = all[3 * r + 2];
        }
    if (n > 0 && have && id[0] <= prev)
        bad = lo;
    /* The lowest bad row over all ranks names the problem everywhere. */
    int64_t first = bad < 0 ? INT64_MAX : bad;
    TRIBE_TRY(tribe_par_min_i64(par, &first, 1));
    /* Only the rank holding that row fails; the agreement spreads its message. */
    if (bad == first && bad >= 0) {
        int64_t i = bad - lo;
        int64_t before = i > 0 ? id[i - 1] : prev;
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "%s: /customers/id is not unique and ascending: customer id %lld at row %lld follows %lld "
                        "(ids must be unique; re-create the file with 'tribe import' or 'tribe ingest')",
                        path, (long long)id[i], (long long)bad, (long long)before);
    }
cleanup:
    free(all);
    return tribe_par_agree(par, st);
}

tribe_status tribe_store_check_id_text(const char *path, const char *dname, const char *text, int width,
                                       const int64_t *id, int64_t n, int64_t lo)
{
    char why[160];
    for (int64_t i = 0; i < n; i++) {
        const char *s = text + (size_t)i * (size_t)width;
        size_t len = strnlen(s, (size_t)width);
        if (len == (size_t)width)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: %s of row %lld fills its %d bytes: tribe stores each id with a "
                              "NUL after it (docs/hdf5-layout.md)", path, dname, (long long)(lo + i), width);
        if (!tribe_id_check(s, len, why, sizeof why))
            return tribe_fail(TRIBE_ERR_INPUT, "%s: %s of row %lld: %s", path, dname, (long long)(lo + i), why);
        if (tribe_id_key(s, len) != id[i])
            return tribe_fail(TRIBE_ERR_INPUT, "%s: %s of row %lld is '%s', whose key is not the row's id %lld "
                              "(the file was changed after tribe wrote it)", path, dname, (long long)(lo + i), s,
                              (long long)id[i]);
    }
    return TRIBE_OK;
}

static void free_names(char **names, int n)
{
    if (!names)
        return;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

tribe_status tribe_store_read_customers(tribe_par *par, const char *path, tribe_table **out, char **ledger_json)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    tribe_table *t = NULL;
    char *format = NULL;
    char **names = NULL, **cats = NULL, **levels = NULL, **md = NULL;
    int d = 0, ncat = 0, nlev = 0, nmd = 0;
    int64_t n = 0, cols = 0, lo = 0, hi = 0;
    int64_t *id = NULL;
    float *x = NULL;
    int32_t *code = NULL;
    char dname[512];

    if (ledger_json)
        *ledger_json = NULL;
    st = tribe_h5_open(par, path, &h);
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &format));
    if (!format || strcmp(format, TRIBE_CUSTOMERS_FORMAT) != 0) {
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "%s: not a tribe customers file (no tribe_format='%s' attribute); "
                        "create one with 'tribe ingest' or 'tribe import'",
                        path, TRIBE_CUSTOMERS_FORMAT);
        goto cleanup;
    }
    TRIBE_TRY(tribe_h5_shape(h, "/customers/features", &n, &cols));
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/customers/features", "feature_names", &d, &names));
    if (d != cols) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: /customers/features has %lld columns but %d feature names", path,
                        (long long)cols, d);
        goto cleanup;
    }
    tribe_par_block(n, tribe_par_size(par), tribe_par_rank(par), &lo, &hi);
    TRIBE_TRY(tribe_h5_read_rows(h, "/customers/id", TRIBE_H5_I64, n, lo, hi - lo, NULL, (void **)&id));
    TRIBE_TRY(tribe_h5_read_rows(h, "/customers/features", TRIBE_H5_F32, n, lo, hi - lo, NULL, (void **)&x));
    TRIBE_TRY(check_ids(par, path, id, hi - lo, lo));
    TRIBE_TRY(tribe_table_create(0, d, (const char *const *)names, &t));
    TRIBE_TRY(tribe_store_read_currency(h, &t->currency));
    if (tribe_h5_exists(h, "/customers/id_text")) { /* string ids (tribe/id.h) */
        TRIBE_TRY(tribe_h5_read_str_rows(h, "/customers/id_text", n, lo, hi - lo, &t->id_width, &t->id_text));
        st = tribe_store_check_id_text(path, "/customers/id_text", t->id_text, t->id_width, id, hi - lo, lo);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
    free(t->id);
    free(t->x);
    t->id = id;
    t->x = x;
    id = NULL;
    x = NULL;
    t->n_global = n;
    t->offset = lo;
    t->n_local = hi - lo;
    TRIBE_TRY(tribe_h5_read_attr_strs_opt(h, "/customers/features", "model_default", &nmd, &md));
    {   /* names the file no longer has as features (a renamed column) drop out of the default */
        int keep = 0;
        for (int k = 0; k < nmd; k++) {
            if (tribe_table_feature(t, md[k]) >= 0) {
                char *v = md[k];
                md[k] = md[keep];
                md[keep++] = v;
            }
        }
        TRIBE_TRY(tribe_table_set_model_default_names(t, keep, (const char *const *)md));
    }
    TRIBE_TRY(tribe_h5_read_attr_strs_opt(h, "/customers", "categorical", &ncat, &cats));
    for (int c = 0; c < ncat; c++) {
        tribe_catcol *col = NULL;
        TRIBE_TRY(tribe_fmt(dname, sizeof dname, "/customers/%s", cats[c]));
        TRIBE_TRY(tribe_h5_read_attr_strs(h, dname, "levels", &nlev, &levels));
        TRIBE_TRY(tribe_h5_read_rows(h, dname, TRIBE_H5_I32, n, lo, hi - lo, NULL, (void **)&code));
        for (int64_t i = 0; i < hi - lo; i++)
            if (code[i] < -1 || code[i] >= nlev) {
                st = tribe_fail(TRIBE_ERR_INPUT, "%s: %s code %d of row %lld is outside its %d levels", path, dname,
                                code[i], (long long)(lo + i), nlev);
                goto cleanup;
            }
        TRIBE_TRY(tribe_table_add_cat(t, cats[c], nlev, (const char *const *)levels, &col));
        free(col->code);
        col->code = code;
        code = NULL;
        free_names(levels, nlev);
        levels = NULL;
    }
    if (ledger_json)
        TRIBE_TRY(tribe_h5_read_attr_str_opt(h, "/customers", "ledger", ledger_json));
    *out = t;
    t = NULL;
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(format);
    free_names(names, d);
    free_names(cats, ncat);
    free_names(md, nmd);
    free_names(levels, nlev);
    free(id);
    free(x);
    free(code);
    tribe_table_destroy(&t);
    return tribe_par_agree(par, st);
}

tribe_status tribe_table_hash(tribe_par *par, const tribe_table *t, char hex[17])
{
    /* Sum (mod 2^64) of per-row hashes keyed by the global row index: the
     * same rows in the same order hash the same on any number of ranks. */
    int64_t acc[2] = {0, 0};
    uint64_t sum = 0;
    for (int64_t i = 0; i < t->n_local; i++) {
        uint64_t h = tribe_fnv1a(TRIBE_FNV_INIT, &t->id[i], sizeof t->id[i]);
        h = tribe_fnv1a(h, t->x + i * t->d, (size_t)t->d * sizeof *t->x);
        for (int c = 0; c < t->n_cat; c++)
            h = tribe_fnv1a(h, &t->cat[c].code[i], sizeof(int32_t));
        sum += tribe_hash2(h, (uint64_t)(t->offset + i));
    }
    /* Split into two halves so the int64 sum cannot overflow. */
    acc[0] = (int64_t)(sum & 0xffffffffu);
    acc[1] = (int64_t)(sum >> 32);
    tribe_status st = tribe_par_sum_i64(par, acc, 2);
    if (st != TRIBE_OK)
        return st;
    uint64_t total = ((uint64_t)acc[1] << 32) + (uint64_t)acc[0];
    snprintf(hex, 17, "%016llx", (unsigned long long)total);
    return TRIBE_OK;
}
