/* tribe/table.h: one rank's shard of the customer table, in memory.
 *
 * Rows are customers sorted by ascending id across the whole job: rank r holds
 * global rows [offset, offset + n_local) of n_global. Numeric features are a
 * row-major float matrix x[n_local][d]; categorical columns are int32 codes
 * into a per-column list of level names (code -1 = missing).
 *
 * Ownership: a tribe_table owns everything it points to; tribe_table_destroy
 * frees it all, accepts NULL and sets the pointer to NULL.
 * Not collective.
 */
#ifndef TRIBE_TABLE_H
#define TRIBE_TABLE_H

#include "tribe/core.h"
#include "tribe/currency.h"

typedef struct {
    char *name;      /* column name, e.g. "country" */
    int n_levels;
    char **levels;   /* level names [n_levels] */
    int32_t *code;   /* [n_local]; -1 = missing */
} tribe_catcol;

typedef struct {
    int64_t n_global;   /* customers in the whole table */
    int64_t offset;     /* global index of this rank's first row */
    int64_t n_local;    /* rows on this rank */
    int d;              /* numeric features */
    char **names;       /* feature names [d] */
    int64_t *id;        /* customer ids [n_local], ascending */
    float *x;           /* features [n_local][d], row-major; NaN = missing */
    int n_cat;
    tribe_catcol *cat;  /* categorical columns [n_cat] */
    /* The model's columns when a job names none (docs/job-spec.md,
     * features.columns): 0 = every numeric feature. Names of features of t. */
    int n_model_default;
    char **model_default;
    tribe_currency currency; /* of the money features (tribe_currency_default() when created) */
    /* String ids (tribe/id.h): row i's text at id_text + i * id_width,
     * NUL-padded (id_width - 1 bytes at most); id[i] is its key. NULL (and
     * id_width 0) with integer ids. id_width is the same on every rank. */
    char *id_text;
    int id_width;
} tribe_table;

/* Allocates an empty table with d named features and room for n_local rows
 * (ids and x zeroed, no categorical columns, the default currency). Copies
 * the names. */
tribe_status tribe_table_create(int64_t n_local, int d, const char *const *names, tribe_table **out);
/* Adds a categorical column (copies name and levels; codes zeroed to -1). */
tribe_status tribe_table_add_cat(tribe_table *t, const char *name, int n_levels,
                                 const char *const *levels, tribe_catcol **out);
/* Sets t's default model columns to ingest's behaviour features that t has
 * (recency_days, frequency, monetary, avg_order_value, tenure_days,
 * mean_days_between, distinct_products, sessions, pages_per_session,
 * minutes_on_site, age): the other features ingest makes (returns,
 * seasonality, categories, channels, financial status, text) are carried
 * but model only when a job names them. Errors: NOMEM. */
tribe_status tribe_table_set_model_default(tribe_table *t);
/* Replaces t's default model columns by names[0..n) (copied; n = 0: every
 * feature). Errors: INPUT when a name is not a feature of t; NOMEM. */
tribe_status tribe_table_set_model_default_names(tribe_table *t, int n, const char *const *names);
/* Row i's text (string ids), or NULL (integer ids). */
static inline const char *tribe_table_id_text(const tribe_table *t, int64_t i)
{
    return t->id_text ? t->id_text + (size_t)i * (size_t)t->id_width : NULL;
}
/* Row i's printed id (tribe_id_format) in buf (TRIBE_ID_BUF bytes). */
const char *tribe_table_id(const tribe_table *t, int64_t i, char *buf);
/* Local row of the customer a user names (tribe_id_lookup_keys against
 * t->id, then the text when the table has texts), or -1 when not on this
 * rank. */
int64_t tribe_table_find_id(const tribe_table *t, const char *name);
/* Index of a feature by name, or -1. */
int tribe_table_feature(const tribe_table *t, const char *name);
/* Index of a categorical column by name, or -1. */
int tribe_table_cat(const tribe_table *t, const char *name);
void tribe_table_destroy(tribe_table **t);

#endif
