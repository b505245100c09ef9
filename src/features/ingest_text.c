/* tribe_ingest_text: the text source -> per-customer sentiment and topic
 * shares, appended to the ingested table (tribe/ingest.h, docs/ingest.md
 * "Text source"; the kernels: tribe/text.h).
 *
 * Phases (collective, errors agreed before each step):
 *  1. parse: each rank reads its share of each file (tribe_csv_open_shared);
 *     a kept row becomes a document: its customer id, a key (file, line)
 *     that does not depend on the rank count, its sentiment, and its term
 *     counts over a local dictionary (stop words and numbers left out).
 *  2. vocabulary: the union of every rank's dictionary sorted by text
 *     (ing_levels_union), global document frequencies; terms kept by them.
 *  3. TF-IDF rows and the spherical K-Means topic model (tribe_topics_fit).
 *  4. per-customer partials (documents, negative ones, exact sentiment sum,
 *     documents per topic) move to the rank whose id range holds the
 *     customer and become columns of its rows.
 */
#include "ingest_internal.h"
#include "tribe/csv.h"
#include "tribe/id.h"
#include "tribe/ingest.h"
#include "tribe/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The text source's columns (the one place they are named). */
enum { TEXT_CUST, TEXT_DATE, TEXT_TEXT, TEXT_NCOL };
static const char *const text_cols[TEXT_NCOL] = {"CustomerID", "Date", "Text"};

/* Vocabulary rules: a term is kept when at least TEXT_MIN_DF documents and
 * at most TEXT_MAX_DF_SHARE of them contain it; then the TEXT_MAX_TERMS of
 * highest document frequency (ties: text order). */
#define TEXT_MIN_DF 2
#define TEXT_MAX_DF_SHARE 0.5
#define TEXT_MAX_TERMS 5000
#define TEXT_ITERS 50
#define TEXT_RESTARTS 5
#define TEXT_LEN_MAX (1 << 20) /* bytes of one text; longer is malformed */

/* ---- parse ----------------------------------------------------------------------- */

typedef struct {
    int64_t n, cap;
    int64_t *id;
    uint64_t *key;
    double *sent;
    int64_t *ptr;        /* [n + 1] into term / cnt */
    int64_t nnz, nnz_cap;
    int64_t *term;       /* local dictionary ids, ascending per document */
    double *cnt;         /* occurrences (then TF-IDF weights) */
} text_docs;

typedef struct {
    tribe_lexicon *lx;
    ing_dict dict;
    text_docs D;
    ing_rejects rej;
    int64_t cutoff;      /* INT64_MAX: none */
    int string_ids;      /* the table has string ids (tribe/id.h): ids are read as texts */
    const char *cols[TEXT_NCOL]; /* the header names (cfg->columns or text_cols) */
    int date_format;     /* TRIBE_DATE_* */
    int src;             /* file index */
    int64_t rows, malformed, after_cutoff;
    int64_t *tok;        /* one document's term ids */
    int64_t tok_cap;
} text_state;

static void docs_free(text_docs *D)
{
    free(D->id);
    free(D->key);
    free(D->sent);
    free(D->ptr);
    free(D->term);
    free(D->cnt);
    memset(D, 0, sizeof *D);
}

/* Room for ndoc documents and nnz terms in all arrays of D. */
static tribe_status docs_reserve(text_docs *D, int64_t ndoc, int64_t nnz)
{
    tribe_status st = TRIBE_OK;
    if (ndoc > D->cap) {
        int64_t c = D->cap ? 2 * D->cap : 256;
        c = c > ndoc ? c : ndoc;
        TRIBE_TRY(tribe_realloc((void **)&D->id, (size_t)c * sizeof *D->id));
        TRIBE_TRY(tribe_realloc((void **)&D->key, (size_t)c * sizeof *D->key));
        TRIBE_TRY(tribe_realloc((void **)&D->sent, (size_t)c * sizeof *D->sent));
        TRIBE_TRY(tribe_realloc((void **)&D->ptr, (size_t)(c + 1) * sizeof *D->ptr));
        if (D->cap == 0)
            D->ptr[0] = 0;
        D->cap = c;
    }
    if (nnz > D->nnz_cap) {
        int64_t c = D->nnz_cap ? 2 * D->nnz_cap : 1024;
        c = c > nnz ? c : nnz;
        TRIBE_TRY(tribe_realloc((void **)&D->term, (size_t)c * sizeof *D->term));
        TRIBE_TRY(tribe_realloc((void **)&D->cnt, (size_t)c * sizeof *D->cnt));
        D->nnz_cap = c;
    }
cleanup:
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Appends a document: its tokens' dictionary ids, counted. */
static tribe_status add_doc(text_state *T, int64_t id, uint64_t key, const char *s, size_t n)
{
    tribe_status st = TRIBE_OK;
    text_docs *D = &T->D;
    int64_t nt = 0;
    tribe_text_iter it = tribe_text_iter_of(s, n);
    while (tribe_text_next(&it)) {
        if (!tribe_text_topic_term(T->lx, it.tok, it.len))
            continue;
        if (nt == T->tok_cap) {
            int64_t c = T->tok_cap ? 2 * T->tok_cap : 256;
            TRIBE_TRY(tribe_realloc((void **)&T->tok, (size_t)c * sizeof *T->tok));
            T->tok_cap = c;
        }
        TRIBE_TRY(ing_dict_id(&T->dict, it.tok, it.len, &T->tok[nt]));
        nt++;
    }
    qsort(T->tok, (size_t)nt, sizeof *T->tok, cmp_i64);
    TRIBE_TRY(docs_reserve(D, D->n + 1, D->nnz + nt));
    for (int64_t i = 0; i < nt; i++) {
        if (D->nnz > D->ptr[D->n] && D->term[D->nnz - 1] == T->tok[i]) {
            D->cnt[D->nnz - 1] += 1;
            continue;
        }
        D->term[D->nnz] = T->tok[i];
        D->cnt[D->nnz++] = 1;
    }
    D->id[D->n] = id;
    D->key[D->n] = key;
    D->sent[D->n] = tribe_text_sentiment(T->lx, s, n);
    D->ptr[++D->n] = D->nnz;
cleanup:
    return st;
}

/* A customer id cell, parsed as the other sources do: 1 = parsed, 0 =
 * empty or malformed (why filled). */
static int text_id(const text_state *T, const char *s, size_t n, int64_t *id, char *why, size_t cap)
{
    if (n == 0) {
        snprintf(why, cap, "%s is empty", T->cols[TEXT_CUST]);
        return 0;
    }
    if (T->string_ids) { /* the key of the text, as for the table's ids */
        int ok = tribe_id_parse(s, n, 1, id, why, cap) == 1;
        if (!ok)
            ing_id_why_rename(why, cap, T->cols[TEXT_CUST]);
        return ok;
    }
    if (!ing_parse_int(s, n, id) || *id < 0) {
        snprintf(why, cap, "%s '%.*s'%s is not an integer id >= 0", T->cols[TEXT_CUST], (int)(n > 40 ? 40 : n), s,
                 n > 40 ? "..." : "");
        return 0;
    }
    return 1;
}

static const char *text_cell(const tribe_csv *c, int col, size_t *n)
{
    const char *s = tribe_csv_field(c, col, n);
    ing_trim(&s, n);
    return s;
}

/* Classifies one record; a kept one becomes a document. */
static tribe_status text_row(text_state *T, const tribe_csv *c, const int *col)
{
    char why[160];
    size_t ni, nd, nt;
    int64_t id = 0, day = 0;
    const char *err = tribe_csv_error(c);
    T->rows++;
    if (err) {
        snprintf(why, sizeof why, "%s", err);
        goto malformed;
    }
    if (tribe_csv_nfields(c) != tribe_csv_ncolumns(c)) {
        snprintf(why, sizeof why, "expected %d fields, found %d", tribe_csv_ncolumns(c), tribe_csv_nfields(c));
        goto malformed;
    }
    const char *s = text_cell(c, col[TEXT_CUST], &ni);
    if (!text_id(T, s, ni, &id, why, sizeof why))
        goto malformed;
    const char *d = text_cell(c, col[TEXT_DATE], &nd);
    if (!tribe_day_parse_as(d, nd, T->date_format, &day)) {
        snprintf(why, sizeof why, "%s '%.*s' is not a date%s%s%s", T->cols[TEXT_DATE], (int)(nd > 40 ? 40 : nd), d,
                 T->date_format ? " in format '" : "", T->date_format ? tribe_date_format_name(T->date_format) : "",
                 T->date_format ? "'" : "");
        goto malformed;
    }
    const char *txt = text_cell(c, col[TEXT_TEXT], &nt);
    if (nt > TEXT_LEN_MAX) {
        snprintf(why, sizeof why, "%s is longer than %d bytes", T->cols[TEXT_TEXT], TEXT_LEN_MAX);
        goto malformed;
    }
    if (day > T->cutoff) {
        T->after_cutoff++;
        return TRIBE_OK;
    }
    return add_doc(T, id, ((uint64_t)T->src << 40) | (uint64_t)tribe_csv_line(c), txt, nt);
malformed:
    T->malformed++;
    {
        size_t rawlen = 0;
        const char *raw = tribe_csv_raw(c, &rawlen);
        return ing_rejects_add(&T->rej, T->src, tribe_csv_line(c), why, raw, rawlen);
    }
}

/* Collective: every file, each rank its share, in order. */
static tribe_status read_text(tribe_par *par, const tribe_text_cfg *cfg, text_state *T)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    for (int i = 0; i < cfg->n_files; i++) {
        int col[TEXT_NCOL], has = 0;
        T->src = i;
        TRIBE_TRY(tribe_csv_open_shared(par, cfg->files[i], cfg->gz_block, &c));
        st = tribe_csv_require(c, T->cols, TEXT_NCOL, col);
        while (st == TRIBE_OK && (st = tribe_csv_next(c, &has)) == TRIBE_OK && has)
            st = text_row(T, c, col);
        tribe_csv_close(&c);
        TRIBE_TRY(tribe_par_agree(par, st));
    }
cleanup:
    tribe_csv_close(&c);
    return st;
}

/* ---- vocabulary and topics ---------------------------------------------------------- */

typedef struct {
    int64_t docs;        /* global */
    int v;               /* kept terms */
    char **levels;       /* every rank's terms, sorted */
    int n_levels;
    int64_t *remap;      /* local dictionary id -> level */
    int32_t *vocab;      /* level -> term of the model, or -1 */
    int32_t *level;      /* [v] term of the model -> level */
    double *idf;         /* [v] */
} text_vocab;

static void vocab_free(text_vocab *V)
{
    for (int i = 0; i < V->n_levels; i++)
        free(V->levels[i]);
    free(V->levels);
    free(V->remap);
    free(V->vocab);
    free(V->level);
    free(V->idf);
    memset(V, 0, sizeof *V);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Descending document frequency (ctx: df by level), ties by level. */
static int cmp_by_df(const void *a, const void *b, void *ctx)
{
    const int64_t *df = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (df[x] != df[y])
        return df[x] > df[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Collective: the vocabulary and its IDF from every rank's counts. */
static tribe_status build_vocab(tribe_par *par, const text_state *T, text_vocab *V)
{
    tribe_status st = TRIBE_OK;
    int64_t *df = NULL;
    int32_t *keep = NULL;
    int nkeep = 0;
    V->docs = T->D.n;
    TRIBE_TRY(tribe_par_sum_i64(par, &V->docs, 1));
    TRIBE_TRY(ing_levels_union(par, &T->dict, &V->levels, &V->n_levels, &V->remap));
    st = tribe_calloc((void **)&df, (size_t)V->n_levels + 1, sizeof *df);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&keep, (size_t)V->n_levels + 1, sizeof *keep);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&V->vocab, (size_t)V->n_levels + 1, sizeof *V->vocab);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int64_t j = 0; j < T->D.nnz; j++)
        df[V->remap[T->D.term[j]]]++; /* each term once per document */
    TRIBE_TRY(tribe_par_sum_i64(par, df, V->n_levels));
    for (int i = 0; i < V->n_levels; i++) {
        V->vocab[i] = -1;
        if (df[i] >= TEXT_MIN_DF && (double)df[i] <= TEXT_MAX_DF_SHARE * (double)V->docs)
            keep[nkeep++] = i;
    }
    if (nkeep > TEXT_MAX_TERMS) {
        qsort_r(keep, (size_t)nkeep, sizeof *keep, cmp_by_df, df);
        nkeep = TEXT_MAX_TERMS;
        qsort(keep, (size_t)nkeep, sizeof *keep, cmp_i32);
    }
    st = tribe_calloc((void **)&V->idf, (size_t)nkeep + 1, sizeof *V->idf);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int i = 0; i < nkeep; i++) {
        V->vocab[keep[i]] = i;
        V->idf[i] = tribe_text_idf(V->docs, df[keep[i]]);
    }
    V->v = nkeep;
    V->level = keep;
    keep = NULL;
cleanup:
    free(df);
    free(keep);
    return st;
}

/* This rank's documents as TF-IDF rows over the model's terms. */
typedef struct {
    int64_t *ptr;
    int32_t *term;
    double *w;
} text_rows;

typedef struct {
    int32_t t;
    double c;
} term_count;

static int cmp_term(const void *a, const void *b)
{
    const term_count *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static tribe_status build_rows(const text_docs *D, const text_vocab *V, text_rows *R)
{
    tribe_status st = TRIBE_OK;
    term_count *tc = NULL;
    int64_t nnz = 0;
    TRIBE_TRY(tribe_calloc((void **)&R->ptr, (size_t)D->n + 1, sizeof *R->ptr));
    TRIBE_TRY(tribe_calloc((void **)&R->term, (size_t)D->nnz + 1, sizeof *R->term));
    TRIBE_TRY(tribe_calloc((void **)&R->w, (size_t)D->nnz + 1, sizeof *R->w));
    TRIBE_TRY(tribe_calloc((void **)&tc, (size_t)D->nnz + 1, sizeof *tc));
    for (int64_t i = 0; i < D->n; i++) {
        int64_t m = 0;
        for (int64_t j = D->ptr[i]; j < D->ptr[i + 1]; j++) {
            int32_t t = V->vocab[V->remap[D->term[j]]];
            if (t >= 0) {
                tc[m].t = t;
                tc[m++].c = D->cnt[j];
            }
        }
        qsort(tc, (size_t)m, sizeof *tc, cmp_term); /* local ids are not in text order */
        for (int64_t j = 0; j < m; j++) {
            R->term[nnz + j] = tc[j].t;
            R->w[nnz + j] = tc[j].c;
        }
        tribe_text_tfidf_row(R->term + nnz, R->w + nnz, m, V->idf);
        nnz += m;
        R->ptr[i + 1] = nnz;
    }
cleanup:
    free(tc);
    return st;
}

static void rows_free(text_rows *R)
{
    free(R->ptr);
    free(R->term);
    free(R->w);
    memset(R, 0, sizeof *R);
}

/* Collective: the topic model and each document's topic (label[i], -1
 * without topic terms); topics->terms / docs filled. */
static tribe_status fit_topics(tribe_par *par, const tribe_text_cfg *cfg, const text_state *T, const text_vocab *V,
                               int32_t *label, tribe_text_topics *topics)
{
    tribe_status st = TRIBE_OK;
    text_rows R = {0};
    tribe_topic_model m = {0};
    const int k = cfg->topics;
    for (int64_t i = 0; i < T->D.n; i++)
        label[i] = -1;
    st = tribe_calloc((void **)&topics->terms, (size_t)k, sizeof *topics->terms);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&topics->docs, (size_t)k, sizeof *topics->docs);
    if (st == TRIBE_OK)
        st = build_rows(&T->D, V, &R);
    TRIBE_TRY(tribe_par_agree(par, st));
    topics->k = k;
    if (V->v > 0) {
        tribe_topic_docs docs = {T->D.n, R.ptr, R.term, R.w, T->D.key};
        TRIBE_TRY(tribe_topics_fit(par, &docs, V->v, k, cfg->seed, TEXT_ITERS, TEXT_RESTARTS, &m));
        memcpy(label, m.label, (size_t)T->D.n * sizeof *label);
    }
    for (int t = 0; t < k && st == TRIBE_OK; t++) {
        int32_t top[TRIBE_TEXT_TOP_TERMS];
        int n = V->v > 0 ? tribe_topic_top_terms(&m, t, TRIBE_TEXT_TOP_TERMS, top) : 0;
        size_t len = 1;
        for (int q = 0; q < n; q++)
            len += strlen(V->levels[V->level[top[q]]]) + 1;
        st = tribe_calloc((void **)&topics->terms[t], len, 1);
        for (int q = 0; q < n && st == TRIBE_OK; q++) {
            if (q)
                strcat(topics->terms[t], " ");
            strcat(topics->terms[t], V->levels[V->level[top[q]]]);
        }
        topics->docs[t] = V->v > 0 ? m.size[t] : 0;
    }
    st = tribe_par_agree(par, st);
cleanup:
    rows_free(&R);
    tribe_topic_model_free(&m);
    return st;
}

/* ---- per customer ------------------------------------------------------------------- */

/* A customer's partial: int64 words [id, docs, negative docs, sentiment
 * sum (tribe_xsum, two words), documents of topic 1..K]. */
enum { R_ID, R_DOCS, R_NEG, R_SENT, R_TOPIC = R_SENT + 2 };

/* Not collective: one partial per customer among this rank's documents. */
static tribe_status partials(const text_docs *D, const int32_t *label, int k, int64_t **out, int64_t *nout)
{
    tribe_status st = TRIBE_OK;
    ing_map cust = {0};
    int64_t *r = NULL, n = 0;
    const int64_t rw = R_TOPIC + k;
    TRIBE_TRY(ing_map_init(&cust, (size_t)D->n));
    TRIBE_TRY(tribe_calloc((void **)&r, (size_t)(D->n > 0 ? D->n : 1) * (size_t)rw, sizeof *r));
    for (int64_t i = 0; i < D->n; i++) {
        int64_t *v = NULL;
        int is_new = 0;
        TRIBE_TRY(ing_map_upsert(&cust, (uint64_t)D->id[i], 0, &v, &is_new));
        if (is_new)
            *v = n++;
        int64_t *p = r + *v * rw;
        tribe_xsum s;
        p[R_ID] = D->id[i];
        p[R_DOCS]++;
        p[R_NEG] += D->sent[i] <= TRIBE_TEXT_NEGATIVE;
        memcpy(&s, &p[R_SENT], sizeof s);
        s += tribe_xsum_of(D->sent[i]);
        memcpy(&p[R_SENT], &s, sizeof s);
        if (k > 0 && label[i] >= 0)
            p[R_TOPIC + label[i]]++;
    }
    *out = r;
    *nout = n;
    r = NULL;
cleanup:
    ing_map_free(&cust);
    free(r);
    return st;
}

/* Collective: splitters of the table's id ranges (rank r owns the ids in
 * (spl[r-1], spl[r]], as ing_shuffle wants). */
static tribe_status table_splitters(tribe_par *par, const tribe_table *t, int64_t **spl)
{
    tribe_status st = TRIBE_OK;
    int64_t mine[2] = {t->n_local, t->n_local > 0 ? t->id[t->n_local - 1] : 0}, *all = NULL, last = INT64_MIN;
    int size = tribe_par_size(par);
    size_t total = 0;
    *spl = NULL;
    TRIBE_TRY(tribe_par_allgatherv(par, mine, sizeof mine, (void **)&all, &total, NULL, NULL));
    st = tribe_calloc((void **)spl, (size_t)size, sizeof **spl);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int r = 0; r + 1 < size; r++) {
        if (all[2 * r] > 0)
            last = all[2 * r + 1];
        (*spl)[r] = last;
    }
cleanup:
    free(all);
    return st;
}

/* Not collective: the partials received become this rank's rows' sums
 * (acc, rw words per row); counts documents of ids not in the table. */
static void accumulate(const tribe_table *t, const int64_t *got, int64_t ngot, int64_t rw, int64_t *acc,
                       int64_t *unmatched)
{
    for (int64_t i = 0; i < ngot; i++) {
        const int64_t *p = got + i * rw;
        int64_t lo = 0, hi = t->n_local;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (t->id[mid] < p[R_ID])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == t->n_local || t->id[lo] != p[R_ID]) {
            *unmatched += p[R_DOCS];
            continue;
        }
        int64_t *a = acc + lo * rw;
        tribe_xsum s, ps;
        memcpy(&s, &a[R_SENT], sizeof s);
        memcpy(&ps, &p[R_SENT], sizeof ps);
        s += ps;
        memcpy(&a[R_SENT], &s, sizeof s);
        a[R_DOCS] += p[R_DOCS];
        a[R_NEG] += p[R_NEG];
        for (int64_t q = R_TOPIC; q < rw; q++)
            a[q] += p[q];
    }
}

/* Not collective: t gets the columns text_docs, sentiment, negative_share,
 * topic_1..topic_K from acc. Errors: NOMEM (t unchanged). */
static tribe_status append_columns(tribe_table *t, const int64_t *acc, int k)
{
    tribe_status st = TRIBE_OK;
    const int add = 3 + k, d2 = t->d + add;
    const int64_t rw = R_TOPIC + k;
    float *x = NULL;
    char **names = NULL;
    TRIBE_TRY(tribe_calloc((void **)&x, (size_t)(t->n_local > 0 ? t->n_local : 1) * (size_t)d2, sizeof *x));
    TRIBE_TRY(tribe_calloc((void **)&names, (size_t)d2, sizeof *names));
    for (int j = 0; j < add; j++) {
        char name[32];
        if (j < 3)
            snprintf(name, sizeof name, "%s", j == 0 ? "text_docs" : j == 1 ? "sentiment" : "negative_share");
        else
            snprintf(name, sizeof name, "topic_%d", j - 2);
        TRIBE_TRY(tribe_strdup(name, &names[t->d + j]));
    }
    for (int64_t i = 0; i < t->n_local; i++) {
        const int64_t *a = acc + i * rw;
        float *row = x + i * d2;
        tribe_xsum s;
        memcpy(row, t->x + i * t->d, (size_t)t->d * sizeof *row);
        memcpy(&s, &a[R_SENT], sizeof s);
        double n = (double)a[R_DOCS];
        row[t->d] = (float)n;
        row[t->d + 1] = n > 0 ? (float)(tribe_xsum_value(s) / n) : NAN;
        row[t->d + 2] = n > 0 ? (float)((double)a[R_NEG] / n) : NAN;
        for (int q = 0; q < k; q++)
            row[t->d + 3 + q] = n > 0 ? (float)((double)a[R_TOPIC + q] / n) : NAN;
    }
    memcpy(names, t->names, (size_t)t->d * sizeof *names);
    free(t->names);
    free(t->x);
    t->names = names;
    t->x = x;
    t->d = d2;
    names = NULL;
    x = NULL;
cleanup:
    if (names)
        for (int j = 0; j < add; j++)
            free(names[t->d + j]);
    free(names);
    free(x);
    return st;
}

/* Collective: partials to their owners, summed into columns of t; the
 * ledger's kept / unmatched / customers counts (summed). */
static tribe_status customer_columns(tribe_par *par, const text_docs *D, const int32_t *label, int k, tribe_table *t,
                                     tribe_ledger *led)
{
    tribe_status st = TRIBE_OK;
    int64_t *recs = NULL, *spl = NULL, *acc = NULL, nrec = 0, ngot = 0, v[3] = {0, 0, 0};
    void *got = NULL;
    const int64_t rw = R_TOPIC + k;
    st = partials(D, label, k, &recs, &nrec);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(table_splitters(par, t, &spl));
    TRIBE_TRY(ing_shuffle(par, spl, recs, nrec, (size_t)rw * sizeof *recs, &got, &ngot));
    st = tribe_calloc((void **)&acc, (size_t)(t->n_local > 0 ? t->n_local : 1) * (size_t)rw, sizeof *acc);
    TRIBE_TRY(tribe_par_agree(par, st));
    accumulate(t, got, ngot, rw, acc, &v[1]);
    for (int64_t i = 0; i < t->n_local; i++) {
        v[0] += acc[i * rw + R_DOCS];
        v[2] += acc[i * rw + R_DOCS] > 0;
    }
    TRIBE_TRY(tribe_par_sum_i64(par, v, 3));
    led->text_rows_kept = v[0];
    led->text_rows_unmatched = v[1];
    led->text_customers = v[2];
    st = append_columns(t, acc, k);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    free(recs);
    free(spl);
    free(got);
    free(acc);
    return st;
}

/* ---- driver ------------------------------------------------------------------------- */

void tribe_text_topics_free(tribe_text_topics *topics)
{
    if (!topics)
        return;
    for (int t = 0; topics->terms && t < topics->k; t++)
        free(topics->terms[t]);
    free(topics->terms);
    free(topics->docs);
    memset(topics, 0, sizeof *topics);
}

static void state_free(text_state *T)
{
    tribe_lexicon_destroy(&T->lx);
    ing_dict_free(&T->dict);
    docs_free(&T->D);
    ing_rejects_free(&T->rej);
    free(T->tok);
}

/* Collective: reads the files and appends the malformed rows to the
 * rejects; sums the row counts into the ledger. */
static tribe_status parse_text(tribe_par *par, const tribe_text_cfg *cfg, text_state *T, tribe_ledger *led)
{
    tribe_status st = tribe_lexicon_builtin(&T->lx);
    if (st == TRIBE_OK)
        st = ing_dict_init(&T->dict);
    if (st == TRIBE_OK)
        st = docs_reserve(&T->D, 1, 1);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(ing_rejects_open(par, &T->rej, cfg->rejects, cfg->files));
    T->rej.append = 1;
    T->rej.stream = ING_REJ_SHARED;
    T->cutoff = led->cutoff_day >= 0 ? led->cutoff_day : INT64_MAX;
    st = read_text(par, cfg, T);
    {
        tribe_status wst = ing_rejects_write(par, &T->rej); /* what was read, also after an error */
        int64_t v[3] = {T->rows, T->malformed, T->after_cutoff};
        tribe_status sst = tribe_par_sum_i64(par, v, 3);
        st = st != TRIBE_OK ? st : wst != TRIBE_OK ? wst : sst;
        led->text_rows = v[0];
        led->text_malformed = v[1];
        led->text_rows_after_cutoff = v[2];
    }
cleanup:
    return st;
}

tribe_status tribe_ingest_text(tribe_par *par, const tribe_text_cfg *cfg, tribe_table *t, tribe_ledger *ledger,
                               tribe_text_topics *topics)
{
    tribe_status st = TRIBE_OK;
    text_state T;
    text_vocab V;
    int32_t *label = NULL;
    memset(&T, 0, sizeof T);
    memset(&V, 0, sizeof V);
    memset(topics, 0, sizeof *topics);
    /* Config problems are the same on every rank: no agreement needed. */
    if (!cfg || cfg->n_files < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "ingest: no text file given");
    if (cfg->topics < 0 || cfg->topics > 100)
        return tribe_fail(TRIBE_ERR_USAGE, "ingest: %d text topics: need 0 to 100", cfg->topics);
    for (int i = 0; i < cfg->n_files; i++)
        if (!cfg->files[i] || !*cfg->files[i])
            return tribe_fail(TRIBE_ERR_USAGE, "ingest: text file %d of %d has an empty path", i + 1, cfg->n_files);
    ledger->has_text = 1;
    T.string_ids = t->id_text != NULL;
    for (int k = 0; k < TEXT_NCOL; k++)
        T.cols[k] = cfg->columns[k] ? cfg->columns[k] : text_cols[k];
    T.date_format = cfg->date_format;
    TRIBE_TRY(parse_text(par, cfg, &T, ledger));
    TRIBE_TRY(build_vocab(par, &T, &V));
    ledger->text_vocabulary = V.v;
    st = tribe_calloc((void **)&label, (size_t)(T.D.n > 0 ? T.D.n : 1), sizeof *label);
    TRIBE_TRY(tribe_par_agree(par, st));
    if (cfg->topics > 0)
        TRIBE_TRY(fit_topics(par, cfg, &T, &V, label, topics));
    TRIBE_TRY(customer_columns(par, &T.D, label, cfg->topics, t, ledger));
cleanup:
    if (st != TRIBE_OK)
        tribe_text_topics_free(topics);
    free(label);
    vocab_free(&V);
    state_free(&T);
    return st;
}
