/* The in-memory customer shard (tribe/table.h). */
#include "tribe/table.h"
#include "tribe/id.h"

#include <stdlib.h>
#include <string.h>

static tribe_status copy_strings(const char *const *src, int n, char ***out)
{
    tribe_status st = TRIBE_OK;
    char **dst = NULL;
    TRIBE_TRY(tribe_calloc((void **)&dst, (size_t)(n > 0 ? n : 1), sizeof *dst));
    for (int i = 0; i < n; i++)
        TRIBE_TRY(tribe_strdup(src[i], &dst[i]));
    *out = dst;
    dst = NULL;
cleanup:
    tribe_free_strs(dst, n);
    return st;
}

tribe_status tribe_table_create(int64_t n_local, int d, const char *const *names, tribe_table **out)
{
    tribe_status st = TRIBE_OK;
    tribe_table *t = NULL;
    size_t nx;
    if (n_local < 0 || d < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "table shape %lld x %d is negative", (long long)n_local, d);
    TRIBE_TRY(tribe_calloc((void **)&t, 1, sizeof *t));
    t->n_local = n_local;
    t->n_global = n_local;
    t->d = d;
    t->currency = tribe_currency_default();
    TRIBE_TRY(copy_strings(names, d, &t->names));
    TRIBE_TRY(tribe_calloc((void **)&t->id, (size_t)n_local, sizeof *t->id));
    TRIBE_TRY(tribe_mul_size((size_t)n_local, (size_t)d, &nx));
    TRIBE_TRY(tribe_calloc((void **)&t->x, nx, sizeof *t->x));
    *out = t;
    t = NULL;
cleanup:
    tribe_table_destroy(&t);
    return st;
}

tribe_status tribe_table_add_cat(tribe_table *t, const char *name, int n_levels,
                                 const char *const *levels, tribe_catcol **out)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_realloc((void **)&t->cat, (size_t)(t->n_cat + 1) * sizeof *t->cat));
    tribe_catcol *c = &t->cat[t->n_cat];
    memset(c, 0, sizeof *c);
    TRIBE_TRY(tribe_strdup(name, &c->name));
    t->n_cat++; /* counted now so destroy frees partial columns */
    c->n_levels = n_levels;
    TRIBE_TRY(copy_strings(levels, n_levels, &c->levels));
    TRIBE_TRY(tribe_alloc((void **)&c->code, (size_t)(t->n_local > 0 ? t->n_local : 1) * sizeof *c->code));
    for (int64_t i = 0; i < t->n_local; i++)
        c->code[i] = -1;
    if (out)
        *out = c;
cleanup:
    return st;
}

tribe_status tribe_table_set_model_default_names(tribe_table *t, int n, const char *const *names)
{
    tribe_status st = TRIBE_OK;
    char **copy = NULL;
    for (int i = 0; i < n; i++)
        if (tribe_table_feature(t, names[i]) < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "default model column '%s' is not a feature of the table", names[i]);
    if (n > 0) {
        TRIBE_TRY(tribe_calloc((void **)&copy, (size_t)n, sizeof *copy));
        for (int i = 0; i < n; i++)
            TRIBE_TRY(tribe_strdup(names[i], &copy[i]));
    }
    tribe_free_strs(t->model_default, t->n_model_default);
    t->model_default = copy;
    t->n_model_default = n;
    copy = NULL;
cleanup:
    tribe_free_strs(copy, n);
    return st;
}

tribe_status tribe_table_set_model_default(tribe_table *t)
{
    static const char *const core[] = {"recency_days",      "frequency",         "monetary",
                                       "avg_order_value",   "tenure_days",       "mean_days_between",
                                       "distinct_products", "sessions",          "pages_per_session",
                                       "minutes_on_site",   "age"};
    const char *have[sizeof core / sizeof core[0]];
    int n = 0;
    for (int j = 0; j < t->d; j++) /* in the table's order */
        for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
            if (strcmp(t->names[j], core[i]) == 0)
                have[n++] = core[i];
    return tribe_table_set_model_default_names(t, n, have);
}

const char *tribe_table_id(const tribe_table *t, int64_t i, char *buf)
{
    return tribe_id_format(tribe_table_id_text(t, i), t->id[i], buf);
}

/* Row of key in the ascending ids, or -1. */
static int64_t find_key(const int64_t *id, int64_t n, int64_t key)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (id[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && id[lo] == key ? lo : -1;
}

int64_t tribe_table_find_id(const tribe_table *t, const char *name)
{
    int64_t keys[2];
    int nk = tribe_id_lookup_keys(name, t->id_text != NULL, keys);
    size_t n = strlen(name);
    while (n > 0 && (*name == ' ' || *name == '\t')) {
        name++;
        n--;
    }
    while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
        n--;
    for (int k = 0; k < nk; k++) {
        int64_t i = find_key(t->id, t->n_local, keys[k]);
        /* with texts, the first key's row must hold the text itself (a hashed
         * key may be another text's); the second is a number's exact key */
        const char *txt = i >= 0 ? tribe_table_id_text(t, i) : NULL;
        if (i >= 0 && (k > 0 || !txt || (strlen(txt) == n && memcmp(txt, name, n) == 0)))
            return i;
    }
    return -1;
}

int tribe_table_feature(const tribe_table *t, const char *name)
{
    for (int j = 0; j < t->d; j++)
        if (strcmp(t->names[j], name) == 0)
            return j;
    return -1;
}

int tribe_table_cat(const tribe_table *t, const char *name)
{
    for (int j = 0; j < t->n_cat; j++)
        if (strcmp(t->cat[j].name, name) == 0)
            return j;
    return -1;
}

void tribe_table_destroy(tribe_table **tp)
{
    if (!tp || !*tp)
        return;
    tribe_table *t = *tp;
    tribe_free_strs(t->names, t->d);
    tribe_free_strs(t->model_default, t->n_model_default);
    free(t->id);
    free(t->x);
    for (int j = 0; j < t->n_cat; j++) {
        free(t->cat[j].name);
        tribe_free_strs(t->cat[j].levels, t->cat[j].n_levels);
        free(t->cat[j].code);
    }
    free(t->cat);
    free(t->id_text);
    free(t);
    *tp = NULL;
}
