/* Tokens and the lexicon sentiment of a text (tribe/text.h): a documented
 * subset of VADER's rules (Hutto & Gilbert 2014): lexicon valences, booster
 * and dampener words, negation within three tokens, the compound
 * normalisation. Left out: capitals emphasis, "but" weighting, punctuation
 * emphasis, idioms and emoticons (tokens are letters and digits only). */
#include "tribe/text.h"

#include <math.h>
#include <string.h>

static int tok_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

int tribe_text_next(tribe_text_iter *it)
{
    while (it->pos < it->n) {
        while (it->pos < it->n && !tok_byte((unsigned char)it->s[it->pos]))
            it->pos++;
        size_t len = 0, start = it->pos;
        int too_long = 0;
        while (it->pos < it->n && tok_byte((unsigned char)it->s[it->pos])) {
            unsigned char c = (unsigned char)it->s[it->pos++];
            if (c == '\'')
                continue;
            if (len == TRIBE_TEXT_TOKEN_MAX) {
                too_long = 1;
                continue;
            }
            it->tok[len++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        if (it->pos > start && len > 0 && !too_long) {
            it->tok[len] = '\0';
            it->len = len;
            return 1;
        }
    }
    it->len = 0;
    it->tok[0] = '\0';
    return 0;
}

/* VADER's negations (apostrophes dropped, as tokens have them) and its
 * one-word boosters (+) and dampeners (-), sorted for bsearch. */
static const char *const NEGATE[] = {
    "aint",    "arent",  "cannot",   "cant",   "couldnt", "darent",  "despite", "didnt",  "doesnt",
    "dont",    "hadnt",  "hasnt",    "havent", "isnt",    "mightnt", "mustnt",  "neednt", "neither",
    "never",   "none",   "nope",     "nor",    "not",     "nothing", "nowhere", "oughtnt", "rarely",
    "seldom",  "shant",  "shouldnt", "uhuh",   "wasnt",   "werent",  "without", "wont",   "wouldnt"};
static const char *const BOOST_UP[] = {
    "absolutely", "amazingly",    "awfully",    "completely", "considerably", "decidedly",   "deeply",
    "effing",     "enormously",   "entirely",   "especially", "exceptionally", "extremely",  "fabulously",
    "flippin",    "flipping",     "frickin",    "fricking",   "friggin",      "frigging",    "fucking",
    "fully",      "greatly",      "hella",      "highly",     "hugely",       "incredibly",  "intensely",
    "majorly",    "more",         "most",       "particularly", "purely",     "quite",       "really",
    "remarkably", "so",           "substantially", "thoroughly", "totally",   "tremendously", "uber",
    "unbelievably", "unusually",  "utterly",    "very"};
static const char *const BOOST_DOWN[] = {"almost",   "barely",       "hardly", "kinda",    "kindof",
                                         "less",     "little",       "marginally", "occasionally", "partly",
                                         "scarcely", "slightly",     "somewhat", "sorta",  "sortof"};

static int in_list(const char *const *list, size_t n, const char *tok)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(list[mid], tok);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
#define IN(list, tok) in_list(list, sizeof list / sizeof list[0], tok)

int tribe_text_is_modifier(const char *tok)
{
    return IN(NEGATE, tok) || IN(BOOST_UP, tok) || IN(BOOST_DOWN, tok);
}

/* English stop words (a short common list), sorted for bsearch: left out of
 * the topic vocabulary, not of the sentiment. */
static const char *const STOP[] = {
    "a",      "about", "after", "again", "all",   "also",  "am",    "an",    "and",   "any",   "are",
    "as",     "at",    "be",    "been",  "before", "being", "both",  "but",   "by",    "can",   "could",
    "did",    "do",    "does",  "doing", "down",  "during", "each", "even",  "for",   "from",  "further",
    "get",    "got",   "had",   "has",   "have",  "having", "he",   "her",   "here",  "hers",  "him",
    "his",    "how",   "i",     "if",    "im",    "in",    "into",  "is",    "it",    "its",   "ive",
    "just",   "me",    "my",    "myself", "of",   "off",   "on",    "once",  "one",   "only",  "or",
    "other",  "our",   "ours",  "out",   "over",  "own",   "same",  "she",   "should", "some", "such",
    "than",   "that",  "the",   "their", "them",  "then",  "there", "these", "they",  "this",  "those",
    "through", "to",   "too",   "under", "until", "up",    "us",    "was",   "we",    "were",  "what",
    "when",   "where", "which", "while", "who",   "whom",  "why",   "will",  "with",  "would", "you",
    "your",   "yours"};

int tribe_text_topic_term(const tribe_lexicon *lx, const char *tok, size_t len)
{
    double v;
    if (len < 2 || IN(STOP, tok) || tribe_text_is_modifier(tok) || tribe_lexicon_find(lx, tok, len, &v))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (tok[i] < '0' || tok[i] > '9')
            return 1;
    return 0;
}

double tribe_text_sentiment(const tribe_lexicon *lx, const char *s, size_t n)
{
    /* the three tokens before the current one: negations and the booster */
    int neg[3] = {0, 0, 0};
    double boost = 0, sum = 0;
    tribe_text_iter it = tribe_text_iter_of(s, n);
    while (tribe_text_next(&it)) {
        double v;
        if (tribe_lexicon_find(lx, it.tok, it.len, &v) && v != 0) {
            if (boost != 0)
                v += v > 0 ? boost : -boost;
            if (neg[0] || neg[1] || neg[2])
                v *= TRIBE_TEXT_NEGATE;
            sum += v;
        }
        neg[2] = neg[1];
        neg[1] = neg[0];
        neg[0] = IN(NEGATE, it.tok);
        boost = IN(BOOST_UP, it.tok) ? TRIBE_TEXT_BOOST : IN(BOOST_DOWN, it.tok) ? -TRIBE_TEXT_BOOST : 0;
    }
    if (sum == 0)
        return 0;
    double c = sum / sqrt(sum * sum + TRIBE_TEXT_ALPHA);
    return c < -1 ? -1 : c > 1 ? 1 : c;
}
