/* Internal helpers shared by the ingest and import drivers (src/features/ingest*.c).
 * Not a public header: nothing outside src/features includes it.
 *
 *  - value parsers: integers, decimals, exact 64-bit keys of short texts
 *    (dates: tribe_day_parse / tribe_format_day in tribe/date.h)
 *  - ing_map: open-addressing hash map (u64, u64) -> i64, no per-entry allocation
 *  - ing_dict: string interning (text -> dense id)
 *  - splitters / shuffle: sample-sort ownership of customer ids and the
 *    all-to-all that moves fixed-size records to their owner rank
 *  - level union: the same sorted level list on every rank
 *  - several files per source: which rank reads which file
 *  - rejects: per-rank streams of rejected rows and the collective merge
 */
#ifndef TRIBE_INGEST_INTERNAL_H
#define TRIBE_INGEST_INTERNAL_H

#include "tribe/core.h"
#include "tribe/date.h"
#include "tribe/csv.h"
#include "tribe/par.h"
#include "tribe/items.h"
#include "tribe/mapping.h"
#include "tribe/table.h"

#include <stdio.h>

/* ---- values (Not collective; return 1 when parsed, 0 when not) ----------- */

/* Drops ASCII spaces and tabs at both ends. */
void ing_trim(const char **s, size_t *n);
/* Integer, optionally written with a zero fraction ("17850.0"). Sign allowed. */
int ing_parse_int(const char *s, size_t n, int64_t *v);
/* Finite decimal [+-]digits[.digits][e[+-]digits]; correctly rounded (the
 * same double as strtod) and locale-independent. */
int ing_parse_double(const char *s, size_t n, double *v);
/* A 64-bit key of a short text (invoice number, stock code). Exact (two
 * different texts never share a key) for texts of at most 7 bytes, for a
 * letter-or-nothing followed by up to 15 digits, and for up to 10 characters
 * of [0-9A-Za-z ]; other texts get a 60-bit hash in a key range of their own. */
uint64_t ing_key(const char *s, size_t n);

/* ---- hash map (Not collective) -------------------------------------------- */

typedef struct {
    uint64_t a, b;
    int64_t v;
} ing_ent;

typedef struct {
    ing_ent *t;
    size_t cap, n; /* cap is a power of two; load stays <= 1/2 */
    uint64_t seed; /* of the slot hash */
} ing_map;

#define ING_EMPTY UINT64_MAX /* a == ING_EMPTY marks a free slot: keys never use it */
#define ING_SEED 0x9e3779b97f4a7c15ULL /* the default hash seed */

tribe_status ing_map_init(ing_map *m, size_t expect);
/* With a hash seed of its own: use a seed other than ING_SEED for a table
 * filled by walking the slots of another table (see ingest_hash.c). */
tribe_status ing_map_init_seed(ing_map *m, size_t expect, uint64_t seed);
void ing_map_free(ing_map *m);
/* Finds (a, b) or inserts it with value 0; *val points at the value (valid
 * until the next insertion), *is_new says whether it was inserted.
 * Errors: NOMEM (the map is unchanged). */
tribe_status ing_map_upsert(ing_map *m, uint64_t a, uint64_t b, int64_t **val, int *is_new);
/* The value of (a, b), or NULL. */
int64_t *ing_map_find(const ing_map *m, uint64_t a, uint64_t b);

/* A set of (u64, u64) pairs: the per-customer sets hold one entry per kept
 * row or so, so they get 16-byte entries and a higher load (<= 0.7). */
typedef struct {
    uint64_t a, b;
} ing_pair;

typedef struct {
    ing_pair *t;
    size_t cap, n;
    uint64_t seed;
} ing_set;

tribe_status ing_set_init(ing_set *s, size_t expect);
tribe_status ing_set_init_seed(ing_set *s, size_t expect, uint64_t seed);
void ing_set_free(ing_set *s);
/* Adds (a, b) (a != ING_EMPTY); *is_new says whether it was absent.
 * Errors: NOMEM (the set is unchanged). */
tribe_status ing_set_add(ing_set *s, uint64_t a, uint64_t b, int *is_new);
/* Adds p[0..n) in order (all a != ING_EMPTY); is_new[i] says whether p[i]
 * was absent when its turn came. Faster than one ing_set_add per pair on a
 * set much bigger than the cache (the look-ups of a batch overlap).
 * Errors: NOMEM (pairs of earlier batches may have been added). */
#define ING_SET_BATCH 64
tribe_status ing_set_add_many(ing_set *s, const ing_pair *p, size_t n, unsigned char *is_new);
/* Adds v[i] to the value of p[i] (0 when new) for each i < n, in batches of
 * ING_SET_BATCH whose home slots are asked for first, as ing_set_add_many
 * does: the same values as n ing_map_upsert calls. is_new (NULL: not
 * wanted) gets, as ing_set_add_many's, whether p[i] was absent when its turn
 * came. Errors: NOMEM (pairs of earlier batches may have been added). */
tribe_status ing_map_add_many(ing_map *m, const ing_pair *p, const int64_t *v, size_t n, unsigned char *is_new);

/* ---- string interning (Not collective) ------------------------------------ */

typedef struct {
    char *text;        /* NUL-terminated strings back to back */
    size_t tlen, tcap;
    int64_t *off;      /* [n] start of string i in text */
    int64_t n, ncap;
    ing_map idx;       /* (hash, serial) -> id, see ing_dict_id */
} ing_dict;

tribe_status ing_dict_init(ing_dict *d);
void ing_dict_free(ing_dict *d);
/* Id of the text s[0, n) (truncated at a NUL byte), added when new. */
tribe_status ing_dict_id(ing_dict *d, const char *s, size_t n, int64_t *id);
static inline const char *ing_dict_str(const ing_dict *d, int64_t id) { return d->text + d->off[id]; }

/* ---- ownership and shuffles (Collective) ---------------------------------- */

/* Sample-sort splitters over every rank's ids (need not be sorted or unique):
 * *spl (caller frees) gets size-1 ascending values; rank r owns the ids in
 * (spl[r-1], spl[r]] (rank 0 from -inf, the last rank to +inf), so ids
 * owned by rank r are all below those of rank r+1. */
tribe_status ing_splitters(tribe_par *par, const int64_t *ids, int64_t n, int64_t **spl);
/* Owner rank of an id (Not collective). */
int ing_owner(const int64_t *spl, int size, int64_t id);
/* Sends each of the n records (rsize bytes, starting with an int64 id) to the
 * owner of its id. *out (caller frees) gets the *nout records received, in
 * source-rank order, each source's records in their original order. */
tribe_status ing_shuffle(tribe_par *par, const int64_t *spl, const void *recs, int64_t n, size_t rsize,
                         void **out, int64_t *nout);
/* Union of every rank's dictionary, sorted by strcmp: *levels (caller frees
 * each string and the array) with *n_levels entries, the same on every rank;
 * *remap (caller frees) maps each local id to its global level. */
tribe_status ing_levels_union(tribe_par *par, const ing_dict *d, char ***levels, int *n_levels,
                              int64_t **remap);

/* ---- the offers' items (ingest_items.c) ----------------------------------- */

/* What ingest holds of the items once the customers are with their owners. */
typedef struct {
    const ing_map *spend;      /* (owned customer index, item code) -> purchases in 1/unit */
    const int64_t *spend_remap; /* item code -> global item level (one rank: the local codes, a
                                 * permutation of the levels); NULL: the codes are the levels */
    const int64_t *desc_rows;  /* [n_desc] rows of each local (code, description) pair (NULL when n_desc is 0) */
    int64_t n_desc;
    char *const *item;         /* [n_item] item levels (codes), sorted, the same on every rank */
    int n_item;
    char *const *pair;         /* [n_pair] "code\x1fdescription" levels, sorted, the same on every rank */
    int n_pair;
    const int64_t *pair_remap; /* local pair id -> global pair level */
    int64_t n_owned;           /* owned customers (indices 0 .. n_owned - 1) */
    const int64_t *owned_items; /* [n_owned] each one's entries in spend (its n_item) */
    const int64_t *order;      /* [n_rows] the owned customer index of each table row */
    int64_t n_rows;
    double unit;               /* the fixed-point unit of spend (CAT_UNIT) */
    int categories;            /* 1: the items are categories */
} ing_items_src;

/* Collective (one sum-reduction over the pairs). The CSR of the table's rows
 * and the item names into *out (tribe/items.h). Errors: NOMEM, agreed. */
tribe_status ing_items_build(tribe_par *par, const ing_items_src *src, tribe_items *out);

/* ---- string customer ids (ingest_ids.c) ------------------------------------ */

/* The text of each key (tribe/id.h) a rank has seen. */
typedef struct {
    ing_map idx;              /* (key, 0) -> offset of its text in text */
    char *text;               /* NUL-terminated texts back to back */
    size_t len, cap;
    int64_t last_key, last_off; /* the last noted key (last_off -1: none) */
} ing_ids;

tribe_status ing_ids_init(ing_ids *m);
/* Accepts a zeroed struct. */
void ing_ids_free(ing_ids *m);
/* Not collective: notes that `key` is the key of text s[0, n), read at
 * file:line (file NULL: no place). Errors: INPUT when another text has that
 * key (naming both, and the place), NOMEM. */
tribe_status ing_ids_note(ing_ids *m, int64_t key, const char *s, size_t n, const char *file, int64_t line);
/* Not collective: the text of key, or NULL. */
const char *ing_ids_text(const ing_ids *m, int64_t key);
/* Collective: every (key, text) travels to the owner of its key (spl, as
 * ing_shuffle), which checks the texts it receives for collisions; *m then
 * holds the texts of the keys this rank owns. Errors: INPUT (a collision),
 * NOMEM; agreed. */
tribe_status ing_ids_shuffle(tribe_par *par, ing_ids *m, const int64_t *spl);
/* Collective: t->id_text and t->id_width (the longest text over all ranks
 * + 1) from m, which holds every row's key. Errors: INTERNAL (a row without
 * text), NOMEM; agreed. */
tribe_status ing_ids_fill(tribe_par *par, const ing_ids *m, tribe_table *t);

/* ---- several files per source ------------------------------------------ */

typedef struct {
    const char *const *path; /* borrowed */
    int n;
    int first;               /* source index of path[0] among all sources' files */
    int *owner;              /* [n] the rank reading file i alone, or -1: shared by all ranks */
} ing_files;

/* Collective: decides how ranks read the n files of one source. With two or
 * more files, rank 0 first opens each in order and checks that its header has
 * a header `check` accepts (every file's header is checked before any row is
 * read, so the error is the first bad file's whatever the rank count). gzip
 * files cannot be split, so with two or more of them and more than one rank
 * each is read whole by one rank: largest (compressed size) first, to the
 * rank with the fewest bytes so far (ties: lower file index, lower rank).
 * Every other file is shared by all ranks (tribe_csv_open_shared).
 * Errors: IO (a file missing or unreadable), INPUT (empty, or as check says),
 * naming the file; NOMEM. Agreed; f->owner is NULL on error. */
/* Checks a file's header (ctx: the caller's); an error names the file. */
typedef tribe_status (*ing_header_check)(const void *ctx, const tribe_csv *c);
tribe_status ing_files_plan(tribe_par *par, ing_files *f, ing_header_check check, const void *ctx);
void ing_files_free(ing_files *f);

/* ---- rejects -------------------------------------------------------------- */

/* The rejects file is streamed: each rank appends the rows it rejects, already
 * formatted as CSV, to part files of its own beside the rejects path, and at
 * the end rank 0 merges the parts by (source, line) into the file. No rank
 * holds rejected rows in memory, so memory does not grow with their number.
 * Every stream must receive its rows in ascending (source, line) order: a
 * rank reads the files it shares with all ranks in order, and the files it
 * reads alone in order, so it keeps one stream for each (ING_REJ_SHARED,
 * ING_REJ_SOLO). Part files are created on the first row (none when a stream
 * stays empty) and removed by ing_rejects_write / ing_rejects_free; their
 * names are `<path>.tmp.<pid of rank 0>.<rank>.<stream>`, so the directory
 * must be one all ranks see (as for customers.h5). */
enum { ING_REJ_SHARED = 0, ING_REJ_SOLO = 1, ING_REJ_STREAMS = 2 };

typedef struct {
    char *base;                     /* "<path>.tmp.<pid>" (NULL: rejects are not written) */
    char *path;                     /* the rejects file */
    const char *const *src_names;   /* source index -> name (borrowed) */
    FILE *part[ING_REJ_STREAMS];
    int64_t n[ING_REJ_STREAMS];     /* rows written to each stream */
    int stream;                     /* where ing_rejects_add writes */
    int rank;
    char *row;                      /* the row being formatted */
    size_t row_cap;
    int append;                     /* 1: ing_rejects_write appends the rows to an existing path
                                     * (a later source: the text rows after tribe_ingest's) */
} ing_rejects;

/* Longest raw text written per rejected row. */
#define ING_REJECT_RAW_MAX 4096

/* Collective: prepares the streams of `path` (NULL or "": nothing is written;
 * ing_rejects_add then does nothing). src_names is borrowed until
 * ing_rejects_free. Errors: NOMEM, agreed. */
tribe_status ing_rejects_open(tribe_par *par, ing_rejects *r, const char *path, const char *const *src_names);
/* Appends a rejected row of source `src` (an index into src_names) at `line`
 * to stream r->stream. Not collective. Errors: IO naming the part file, NOMEM. */
tribe_status ing_rejects_add(ing_rejects *r, int src, int64_t line, const char *reason, const char *raw,
                             size_t rawlen);
/* The same with an empty line cell, for a row that is no line of a file (a
 * customer with a string id); `order` stands for the line in the merge's
 * (source, line) order. */
tribe_status ing_rejects_add_unnumbered(ing_rejects *r, int src, int64_t order, const char *reason,
                                        const char *raw, size_t rawlen);
/* Collective: closes every rank's streams; rank 0 merges them into the CSV
 * `source,line,reason,raw` sorted by source then line, written to a temporary
 * name and renamed to the path; the parts are removed. Nothing happens
 * without a path. Errors: IO naming the file, agreed on all ranks. */
tribe_status ing_rejects_write(tribe_par *par, ing_rejects *r);
/* Closes and removes this rank's part files (if any), frees. Accepts a
 * zeroed struct. Not collective. */
void ing_rejects_free(ing_rejects *r);

/* ---- the columns messages name (ingest_ledger.c, ingest_ids.c) ----------- */

/* The header name of the transactions column a cleaning rule reads, as the
 * rules' labels and the ledger's summary name it (docs/mapping.md): role
 * TRIBE_TX_CUSTOMER_ID, TRIBE_TX_DATE, TRIBE_TX_QUANTITY (NULL when the mapping has no
 * quantity column: every row's is 1 or its constant) or TRIBE_TX_UNIT_PRICE
 * (the amount column when the mapping has one instead). map NULL: the
 * built-in layout's CustomerID, InvoiceDate, Quantity, UnitPrice. Not
 * collective. */
const char *ing_rule_column(const tribe_mapping *map, int role);
/* A message of tribe_id_parse (tribe/id.h), which names the id
 * "CustomerID", made to name the file's column `name` instead (why holds
 * cap bytes; unchanged when it does not start so or name is NULL). */
void ing_id_why_rename(char *why, size_t cap, const char *name);

/* ---- the currency of a source's amounts (ingest_currency.c) -------------- */

/* The first row (source file index, line) seen in each currency. */
typedef struct {
    char code[4];
    int32_t src; /* -1: the mapping's transactions.currency */
    int64_t line;
} ing_cur_seen;

#define ING_CUR_MAX 8

typedef struct {
    ing_cur_seen seen[ING_CUR_MAX]; /* [n], the first always the one of the last note */
    int n;
    char sym[8]; /* the first symbol seen in a cell ("" = none) */
} ing_currency;

/* Notes that row (src, line) names currency code (sym: its symbol as
 * written, or ""). Keeps the earliest row of each code, at most ING_CUR_MAX
 * codes (more are one conflict anyway). Not collective. */
void ing_currency_note(ing_currency *c, const char *code, const char *sym, int src, int64_t line);
/* Collective: the one currency of every rank's notes into code/sym: the
 * mapping's `fixed` ("" none) or the cells' ("XXX" and no symbol when
 * neither says). Errors: INPUT naming the first row in one currency and
 * the first row in another (file:line each, names[src]), or the mapping's
 * key and the first row in another currency; the same on every rank. */
tribe_status ing_currency_agree(tribe_par *par, const ing_currency *c, const char *const *names, const char *fixed,
                                char code[4], char sym[8]);

#endif
