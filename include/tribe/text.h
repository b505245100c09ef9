/* tribe/text.h: text signals (reviews, tickets, survey answers) as numbers:
 * tokens, lexicon sentiment, TF-IDF vectors and a spherical K-Means topic
 * model (docs/ingest.md, "Text source").
 *
 * Usage:
 *     tribe_lexicon *lx = NULL;
 *     tribe_lexicon_builtin(&lx);                       // VADER, compiled in
 *     double c = tribe_text_sentiment(lx, s, n);        // compound in [-1, 1]
 *     tribe_text_iter it = tribe_text_iter_of(s, n);
 *     while (tribe_text_next(&it)) ... it.tok[0, it.len) ...
 *     tribe_lexicon_destroy(&lx);
 *
 *     tribe_topic_docs D = {...};                       // this rank's documents (CSR)
 *     tribe_topic_model m = {0};
 *     tribe_topics_fit(par, &D, V, K, seed, iters, restarts, &m);   // collective
 *     tribe_topic_model_free(&m);
 *
 * Ownership: the caller owns what a function allocates (destroy / free
 * functions accept NULL or zeroed structs); inputs are only read.
 */
#ifndef TRIBE_TEXT_H
#define TRIBE_TEXT_H

#include "tribe/core.h"
#include "tribe/par.h"

/* ---- tokens (Not collective) ---------------------------------------------- */

/* Longest token kept, in bytes; longer runs are skipped whole. */
#define TRIBE_TEXT_TOKEN_MAX 32

/* A token is a maximal run of ASCII letters and digits, apostrophes and
 * bytes >= 0x80 (UTF-8 letters pass unchanged), with ASCII letters lowered
 * and apostrophes dropped ("Don't" -> "dont"). Everything else separates. */
typedef struct {
    const char *s;
    size_t n, pos;
    char tok[TRIBE_TEXT_TOKEN_MAX + 1]; /* the current token, NUL-terminated */
    size_t len;
} tribe_text_iter;

static inline tribe_text_iter tribe_text_iter_of(const char *s, size_t n)
{
    tribe_text_iter it;
    it.s = s;
    it.n = n;
    it.pos = 0;
    it.tok[0] = '\0';
    it.len = 0;
    return it;
}
/* Advances to the next token: 1 (it->tok, it->len set) or 0 at the end. */
int tribe_text_next(tribe_text_iter *it);

/* ---- sentiment (Not collective) -------------------------------------------- */

typedef struct tribe_lexicon tribe_lexicon;

/* Parses "token<TAB>valence" lines (other columns ignored; a token that
 * appears twice keeps its later valence). Errors: INPUT naming the line of
 * a line without a tab or with an unparseable valence; NOMEM. */
tribe_status tribe_lexicon_parse(const char *text, size_t n, tribe_lexicon **out);
/* The VADER lexicon compiled into the binary (data/lexicon/README.md). */
tribe_status tribe_lexicon_builtin(tribe_lexicon **out);
/* Entries of the lexicon. */
int64_t tribe_lexicon_size(const tribe_lexicon *lx);
/* The valence of a token (as tribe_text_next yields it): 1 and *v when
 * listed, 0 when not. */
int tribe_lexicon_find(const tribe_lexicon *lx, const char *tok, size_t len, double *v);
void tribe_lexicon_destroy(tribe_lexicon **lx);

/* VADER's rule constants used (Hutto & Gilbert 2014). */
#define TRIBE_TEXT_BOOST 0.293    /* booster/dampener word before a sentiment word */
#define TRIBE_TEXT_NEGATE (-0.74) /* a negation among the 3 tokens before it */
#define TRIBE_TEXT_ALPHA 15.0     /* compound = s / sqrt(s^2 + alpha) */
#define TRIBE_TEXT_NEGATIVE (-0.05) /* a document is negative when compound <= this */

/* 1 when tok is one of the negation, booster or dampener words the rules
 * use ("not", "very", "slightly", ...), else 0. */
int tribe_text_is_modifier(const char *tok);

/* 1 when tok (len bytes, NUL-terminated, as tribe_text_next yields it) is a
 * topic term: two bytes or more, not one of 112 English stop words, not a
 * sentiment word (in lx, or a negation, booster or dampener: topics say what
 * customers write about, the sentiment how they feel), not all digits. */
int tribe_text_topic_term(const tribe_lexicon *lx, const char *tok, size_t len);

/* The compound sentiment of a text in [-1, 1] (0 without sentiment words):
 * the sum over tokens of their valence, each moved by 0.293 away from (a
 * booster: "very") or towards (a dampener: "slightly") zero when the token
 * before it is one, and multiplied by -0.74 when a negation ("not", "never",
 * "dont", ...) is among the 3 tokens before it; then s / sqrt(s^2 + 15). */
double tribe_text_sentiment(const tribe_lexicon *lx, const char *s, size_t n);

/* ---- TF-IDF and topics -------------------------------------------------------- */

/* This rank's documents as sparse rows (CSR): document i has the terms
 * term[ptr[i] .. ptr[i+1]) (ascending vocabulary indices, each once) with
 * weights w[...] (L2-normalised TF-IDF, or any unit vectors), and a key
 * unique in the whole job that does not depend on the rank count (source
 * file and line): the seeding draws by key. Rows with no term are allowed
 * (never seeded, labelled -1). */
typedef struct {
    int64_t n;
    const int64_t *ptr;   /* [n + 1] */
    const int32_t *term;  /* [ptr[n]] */
    const double *w;      /* [ptr[n]] */
    const uint64_t *key;  /* [n] */
} tribe_topic_docs;

/* IDF of a term in `docs` documents of which `df` contain it (the smoothed
 * form: log((1 + docs) / (1 + df)) + 1). Not collective. */
double tribe_text_idf(int64_t docs, int64_t df);
/* Replaces w[0, nnz) (raw counts on entry) by count * idf[term], divided by
 * the L2 norm of the row (a row of zeros stays zero). Not collective. */
void tribe_text_tfidf_row(const int32_t *term, double *w, int64_t nnz, const double *idf);

typedef struct {
    int k, v;            /* topics, vocabulary size */
    double *centroid;    /* [k][v] unit vectors (a topic that never got a document: zeros) */
    int64_t *size;       /* [k] documents per topic */
    int32_t *label;      /* [docs.n] this rank's documents' topic, -1 for an empty row */
    int iterations;      /* Lloyd steps run */
} tribe_topic_model;

/* Collective. Spherical K-Means on the unit rows of every rank's docs:
 * seeds by k-means++ over cosine distance with keyed draws (seed, key) and
 * an exponential race, so the seeds are the same whatever the rank count;
 * then at most `iters` steps of: each document to the centroid of highest
 * cosine (ties: lowest topic), each centroid = the normalised exact
 * (fixed-point) sum of its documents, until no label changes. Run
 * `restarts` times (restart 0 from `seed`, restart r from
 * tribe_hash2(seed, r)); the run with the highest exact sum of cosines is
 * kept (ties: the earlier). The model is identical on every rank and for
 * every rank count. Fewer non-empty distinct documents than k: the topics
 * past them stay empty.
 * Errors (agreed; *m freed): USAGE k < 1, restarts < 1 or v < 1; NOMEM. */
tribe_status tribe_topics_fit(tribe_par *par, const tribe_topic_docs *docs, int v, int k, uint64_t seed, int iters,
                              int restarts, tribe_topic_model *m);
/* The `top` vocabulary indices of topic t by descending centroid weight
 * (ties: lower index), only those with weight > 0; returns how many. */
int tribe_topic_top_terms(const tribe_topic_model *m, int t, int top, int32_t *out);
void tribe_topic_model_free(tribe_topic_model *m);

#endif
