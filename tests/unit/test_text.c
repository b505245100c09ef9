/* Unit tests for src/text: tokens, the lexicon and its sentiment rules,
 * TF-IDF weights and the spherical K-Means topic model (serial context). */
#include "testutil.h"
#include "tribe/text.h"

#include <math.h>
#include <string.h>

/* The tokens of s joined by '|'. */
static void tokens(const char *s, char *out, size_t cap)
{
    tribe_text_iter it = tribe_text_iter_of(s, strlen(s));
    out[0] = '\0';
    while (tribe_text_next(&it)) {
        if (out[0])
            strncat(out, "|", cap - strlen(out) - 1);
        strncat(out, it.tok, cap - strlen(out) - 1);
    }
}

static void tokens_should_be_lowered_words_without_apostrophes(void)
{
    char buf[256];
    tokens("Don't STOP -- the caf\xc3\xa9's 2nd, \"ok\"!!", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "dont|stop|the|caf\xc3\xa9s|2nd|ok");
    tokens("", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "");
    tokens(" ,;' '' ", buf, sizeof buf); /* apostrophes alone make no token */
    CU_ASSERT_STRING_EQUAL(buf, "");
    /* 32 bytes is a token, 33 is skipped whole (not cut) */
    tokens("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb c", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|c");
}

static void a_lexicon_should_keep_the_later_of_two_lines_and_refuse_a_bad_one(void)
{
    tribe_lexicon *lx = NULL;
    double v = 0;
    const char *txt = "good\t1.9\t0.5\t[1, 2]\nbad\t-2.5\n\ngood\t2.0\r\n";
    CU_ASSERT_EQUAL_FATAL(tribe_lexicon_parse(txt, strlen(txt), &lx), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_lexicon_size(lx), 2);
    CU_ASSERT_TRUE(tribe_lexicon_find(lx, "good", 4, &v));
    CU_ASSERT_EQUAL(v, 2.0);
    CU_ASSERT_TRUE(tribe_lexicon_find(lx, "bad", 3, &v));
    CU_ASSERT_EQUAL(v, -2.5);
    CU_ASSERT_FALSE(tribe_lexicon_find(lx, "goo", 3, &v));
    CU_ASSERT_FALSE(tribe_lexicon_find(lx, "goods", 5, &v));
    tribe_lexicon_destroy(&lx);
    CU_ASSERT_PTR_NULL(lx);
    tribe_lexicon_destroy(&lx);
    const char *bad = "good\t1.9\nbad -2.5\n";
    CU_ASSERT_EQUAL(tribe_lexicon_parse(bad, strlen(bad), &lx), TRIBE_ERR_INPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "line 2"));
    CU_ASSERT_PTR_NULL(lx);
}

/* The builtin lexicon is VADER's: 7,517 lines, 14 tokens twice. */
static void the_builtin_lexicon_should_be_vaders(void)
{
    tribe_lexicon *lx = NULL;
    double v = 0;
    CU_ASSERT_EQUAL_FATAL(tribe_lexicon_builtin(&lx), TRIBE_OK);
    CU_ASSERT_EQUAL(tribe_lexicon_size(lx), 7517 - 14);
    CU_ASSERT_TRUE(tribe_lexicon_find(lx, "good", 4, &v));
    CU_ASSERT_EQUAL(v, 1.9);
    CU_ASSERT_TRUE(tribe_lexicon_find(lx, "lol", 3, &v));
    CU_ASSERT_EQUAL(v, 1.8); /* the later of its two lines */
    tribe_lexicon_destroy(&lx);
}

static double compound(double s) { return s / sqrt(s * s + 15.0); }

/* Exact values of the documented rules (good = 1.9, bad = -2.5, great = 3.1
 * in the lexicon); "good" alone is VADER's own 0.4404. */
static void sentiment_should_follow_the_documented_rules(void)
{
    tribe_lexicon *lx = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_lexicon_builtin(&lx), TRIBE_OK);
#define S(txt) tribe_text_sentiment(lx, txt, strlen(txt))
    CU_ASSERT_DOUBLE_EQUAL(S("Good."), 0.4404, 5e-5);
    CU_ASSERT_EQUAL(S("good"), compound(1.9));
    CU_ASSERT_EQUAL(S("not good"), compound(1.9 * -0.74));
    CU_ASSERT_EQUAL(S("NOT at all good"), compound(1.9 * -0.74));   /* negation 3 tokens before */
    CU_ASSERT_EQUAL(S("not one two three good"), compound(1.9));    /* 4 tokens before: no */
    CU_ASSERT_EQUAL(S("very good"), compound(1.9 + 0.293));
    CU_ASSERT_EQUAL(S("slightly bad"), compound(-2.5 + 0.293));
    CU_ASSERT_EQUAL(S("don't very good"), compound((1.9 + 0.293) * -0.74));
    CU_ASSERT_EQUAL(S("good and bad, great"), compound(1.9 + -2.5 + 3.1));
    CU_ASSERT_EQUAL(S("the parcel arrived"), 0.0);
    CU_ASSERT_EQUAL(S(""), 0.0);
    CU_ASSERT_EQUAL(S("bad bad bad bad bad bad bad bad"), compound(8 * -2.5)); /* -0.98, inside [-1, 1] */
#undef S
    tribe_lexicon_destroy(&lx);
}

static void topic_terms_should_leave_out_stop_sentiment_and_number_words(void)
{
    tribe_lexicon *lx = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_lexicon_builtin(&lx), TRIBE_OK);
#define T(tok) tribe_text_topic_term(lx, tok, strlen(tok))
    CU_ASSERT_TRUE(T("parcel"));
    CU_ASSERT_TRUE(T("2nd"));
    CU_ASSERT_FALSE(T("the"));   /* stop word */
    CU_ASSERT_FALSE(T("yours")); /* the last stop word */
    CU_ASSERT_FALSE(T("very"));  /* booster */
    CU_ASSERT_FALSE(T("dont"));  /* negation */
    CU_ASSERT_FALSE(T("good"));  /* in the lexicon */
    CU_ASSERT_FALSE(T("2011"));  /* a number */
    CU_ASSERT_FALSE(T("x"));     /* one byte */
#undef T
    tribe_lexicon_destroy(&lx);
}

static void tfidf_rows_should_be_unit_vectors_of_count_times_idf(void)
{
    CU_ASSERT_EQUAL(tribe_text_idf(3, 1), log(4.0 / 2.0) + 1.0);
    CU_ASSERT_EQUAL(tribe_text_idf(3, 3), 1.0);
    const int32_t term[3] = {0, 2, 3};
    const double idf[4] = {1.0, 9.0, 2.0, 0.5};
    double w[3] = {1, 1, 4}; /* counts */
    tribe_text_tfidf_row(term, w, 3, idf);
    /* (1, 2, 2) / 3 */
    CU_ASSERT_DOUBLE_EQUAL(w[0], 1.0 / 3.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w[1], 2.0 / 3.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(w[2], 2.0 / 3.0, 1e-15);
    double z[1] = {0};
    tribe_text_tfidf_row(term, z, 1, (const double[]){0.0});
    CU_ASSERT_EQUAL(z[0], 0.0); /* a zero row stays zero */
}

/* Six documents over terms 0..5: three about {0,1,2}, three about {3,4,5},
 * one empty; two topics must split them so. */
static void spherical_kmeans_should_split_a_tiny_corpus_by_its_terms(void)
{
    tribe_par *par = tribe_test_serial();
    const int64_t ptr[8] = {0, 2, 4, 7, 7, 9, 11, 13};
    const int32_t term[13] = {0, 1, 1, 2, 0, 1, 2, 3, 4, 4, 5, 3, 5};
    double w[13];
    const uint64_t key[7] = {11, 12, 13, 14, 15, 16, 17};
    for (int i = 0; i < 7; i++)
        for (int64_t j = ptr[i]; j < ptr[i + 1]; j++)
            w[j] = 1.0 / sqrt((double)(ptr[i + 1] - ptr[i]));
    tribe_topic_docs d = {7, ptr, term, w, key};
    tribe_topic_model m;
    CU_ASSERT_EQUAL_FATAL(tribe_topics_fit(par, &d, 6, 2, 1, 50, 3, &m), TRIBE_OK);
    CU_ASSERT_EQUAL(m.label[3], -1);
    CU_ASSERT_TRUE(m.label[0] >= 0);
    CU_ASSERT_EQUAL(m.label[0], m.label[1]);
    CU_ASSERT_EQUAL(m.label[0], m.label[2]);
    CU_ASSERT_EQUAL(m.label[4], m.label[5]);
    CU_ASSERT_EQUAL(m.label[4], m.label[6]);
    CU_ASSERT_NOT_EQUAL(m.label[0], m.label[4]);
    CU_ASSERT_EQUAL(m.size[0] + m.size[1], 6);
    for (int t = 0; t < 2; t++) {
        double ss = 0;
        for (int j = 0; j < 6; j++)
            ss += m.centroid[t * 6 + j] * m.centroid[t * 6 + j];
        CU_ASSERT_DOUBLE_EQUAL(ss, 1.0, 1e-12);
    }
    int32_t top[6];
    int a = m.label[0];
    CU_ASSERT_EQUAL(tribe_topic_top_terms(&m, a, 6, top), 3); /* only terms with weight */
    CU_ASSERT_EQUAL(top[0], 1);                               /* in 3 of its documents */
    /* terms 0 and 2 tie (2 documents each): the lower index first */
    CU_ASSERT_EQUAL(top[1], 0);
    CU_ASSERT_EQUAL(top[2], 2);
    /* more topics than distinct documents: the extra topics stay empty */
    tribe_topic_model big;
    CU_ASSERT_EQUAL_FATAL(tribe_topics_fit(par, &d, 6, 9, 1, 50, 1, &big), TRIBE_OK);
    int64_t docs = 0, empty = 0;
    for (int t = 0; t < 9; t++) {
        docs += big.size[t];
        empty += big.size[t] == 0;
    }
    CU_ASSERT_EQUAL(docs, 6);
    CU_ASSERT_TRUE(empty >= 3);
    tribe_topic_model_free(&big);
    tribe_topic_model_free(&m);
    tribe_topic_model_free(&m); /* a freed model may be freed again */
    CU_ASSERT_EQUAL(tribe_topics_fit(par, &d, 6, 0, 1, 50, 1, &m), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(m.centroid);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(tokens_should_be_lowered_words_without_apostrophes),
        TRIBE_TEST(a_lexicon_should_keep_the_later_of_two_lines_and_refuse_a_bad_one),
        TRIBE_TEST(the_builtin_lexicon_should_be_vaders),
        TRIBE_TEST(sentiment_should_follow_the_documented_rules),
        TRIBE_TEST(topic_terms_should_leave_out_stop_sentiment_and_number_words),
        TRIBE_TEST(tfidf_rows_should_be_unit_vectors_of_count_times_idf),
        TRIBE_TEST(spherical_kmeans_should_split_a_tiny_corpus_by_its_terms),
        {NULL, NULL}};
    return tribe_test_main("text", cases);
}
