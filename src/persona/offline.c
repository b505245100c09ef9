/* The offline persona writer: deterministic copy from a segment's figures, no
 * network. Randomness (names, template variants) comes from the counter RNG
 * keyed by the seed, so the same segments and seed give the same personas.
 *
 * Every number it writes is a figure of the segment (or the whole base, for
 * comparisons), printed with the shared convention of tribe/numfmt.h; templates in
 * offline_copy.h contain no digits. tribe_personas_write re-checks this. */
#include "tribe/numfmt.h"
#include "tribe/persona.h"
#include "tribe/sbuf.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "offline_copy.h"

/* RNG stream of the offline writer ("persona" in ASCII). */
#define STREAM_PERSONA 0x706572736f6e61ULL

typedef struct {
    uint64_t seed;
} offline_state;

/* RNG slots: what a draw is for. Draws of per-family copy are keyed by
 * (family, slot, rank within family); names by (slot, segment). */
enum { SLOT_GENDER = 1, SLOT_FIRST, SLOT_FIRST_STRIDE, SLOT_LAST, SLOT_LAST_STRIDE, SLOT_INTRO, SLOT_GOALS,
       SLOT_FRUST, SLOT_QUOTE, SLOT_SUBJ, SLOT_BODY, SLOT_TAG, SLOT_SCENE, SLOT_AGE, SLOT_OCC, SLOT_BIO };

static const char *const AGE_BANDS[] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};
#define N_AGE_BANDS 6

typedef struct {
    const tribe_segments *segs;
    int c;                 /* segment index */
    offline_family fam;
    int rank;              /* earlier segments of the same family */
    uint64_t seed;
    int female;
    const char *first, *last;
    const tribe_persona_inputs *in; /* a refine's inputs (checked, cleaned), NULL for a run's write */
    int tone_shift;                 /* rotates the e-mail and tagline variants: 0 without a tone */
    const tone_def *tone;           /* the tone's own wording, NULL for a tone we have none for */
} writer;

static uint64_t draw(const writer *w, int slot, uint64_t n)
{
    uint64_t counter = ((uint64_t)w->fam << 40) | ((uint64_t)slot << 32);
    return tribe_rng_below(w->seed, STREAM_PERSONA, counter, n);
}

/* Variant of a family's copy: a random start, rotated by the segment's rank
 * in its family, so two "At Risk" segments never get the same variant while
 * there are variants left. A refine's tone rotates the e-mail and tagline
 * wording further (tone_shift), so a tone always changes them. */
static int variant(const writer *w, int slot, int n)
{
    int toned = slot == SLOT_SUBJ || slot == SLOT_BODY || slot == SLOT_TAG;
    uint64_t shift = toned && w->tone_shift && n > 1 ? 1 + (uint64_t)w->tone_shift % (uint64_t)(n - 1) : 0;
    return (int)((draw(w, slot, (uint64_t)n) + (uint64_t)w->rank + shift) % (uint64_t)n);
}

static uint64_t draw_seg(const writer *w, int slot, uint64_t n)
{
    uint64_t counter = ((uint64_t)(w->fam + 1) << 48) | ((uint64_t)w->rank << 32) | ((uint64_t)slot << 24);
    return tribe_rng_below(w->seed, STREAM_PERSONA, counter, n);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Index for segment s in a list of n names: base + s * stride (mod n) with a
 * stride coprime to n, so segments get distinct names while k <= n. */
static size_t name_index(uint64_t seed, int slot_base, int slot_stride, int s, size_t n)
{
    uint64_t base = tribe_rng_below(seed, STREAM_PERSONA, (uint64_t)slot_base, n);
    uint64_t stride = 1 + tribe_rng_below(seed, STREAM_PERSONA, (uint64_t)slot_stride, n - 1);
    while (gcd(stride, n) != 1)
        stride = stride % (n - 1) + 1;
    return (size_t)((base + (uint64_t)s * stride) % n);
}

/* ---- reading the segment ------------------------------------------------- */

static double seg_median(const writer *w, const char *feature)
{
    int j = tribe_segments_feature(w->segs, feature);
    return j < 0 ? NAN : w->segs->seg[w->c].median[j];
}

static double base_median(const writer *w, const char *feature)
{
    int j = tribe_segments_feature(w->segs, feature);
    return j < 0 ? NAN : w->segs->overall_median[j];
}

/* Segment median over base median, NaN when either is missing or the base is 0. */
static double ratio(const writer *w, const char *feature)
{
    double a = seg_median(w, feature), b = base_median(w, feature);
    if (!isfinite(a) || !isfinite(b) || b <= 0)
        return NAN;
    return a / b;
}

static const tribe_segmix *find_mix(const tribe_segments *segs, const char *name)
{
    for (int m = 0; m < segs->n_mix; m++)
        if (strcasecmp(segs->mix[m].name, name) == 0)
            return &segs->mix[m];
    return NULL;
}

static int64_t mix_count(const tribe_segmix *m, int row, int l) { return m->count[(size_t)row * (size_t)m->n_levels + (size_t)l]; }

static int64_t mix_total(const tribe_segmix *m, int row)
{
    int64_t t = 0;
    for (int l = 0; l < m->n_levels; l++)
        t += mix_count(m, row, l);
    return t;
}

static int uninformative_level(const char *level)
{
    return level[0] == '\0' || strcasecmp(level, "unknown") == 0 || strcasecmp(level, "other") == 0 ||
           strcasecmp(level, "missing") == 0 || strcasecmp(level, "n/a") == 0;
}

/* Most common informative level of mix m in segment row c, or -1. */
static int top_level(const tribe_segmix *m, int c)
{
    int best = -1;
    for (int l = 0; l < m->n_levels; l++) {
        if (uninformative_level(m->levels[l]) || mix_count(m, c, l) <= 0)
            continue;
        if (best < 0 || mix_count(m, c, l) > mix_count(m, c, best))
            best = l;
    }
    return best;
}

static int name_has(const char *lower, const char *word)
{
    /* At the start of a word, so "new" does not match "renewal". */
    for (const char *p = strstr(lower, word); p; p = strstr(p + 1, word))
        if (p == lower || !isalpha((unsigned char)p[-1]))
            return 1;
    return 0;
}

static offline_family family_by_name(const char *name)
{
    char lower[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    if (name_has(lower, "champion") || name_has(lower, "vip") || name_has(lower, "big spender") ||
        name_has(lower, "whale"))
        return FAM_VIP;
    if (name_has(lower, "can't lose") || name_has(lower, "cant lose") || name_has(lower, "cannot lose") ||
        name_has(lower, "can\xe2\x80\x99t lose") || name_has(lower, "at risk") || name_has(lower, "at-risk") ||
        name_has(lower, "risk"))
        return FAM_AT_RISK;
    if (name_has(lower, "hibernat") || name_has(lower, "lost") || name_has(lower, "dormant") ||
        name_has(lower, "inactive") || name_has(lower, "churn") || name_has(lower, "lapsed"))
        return FAM_DORMANT;
    if (name_has(lower, "about to sleep") || name_has(lower, "need attention") ||
        name_has(lower, "needs attention") || name_has(lower, "cooling") || name_has(lower, "slipping"))
        return FAM_SLIPPING;
    if (name_has(lower, "potential") || name_has(lower, "promising"))
        return FAM_GROWTH;
    if (name_has(lower, "new"))
        return FAM_NEW;
    if (name_has(lower, "loyal"))
        return FAM_LOYAL;
    return FAM_GENERAL;
}

/* For names we do not know: read the RFM figures against the whole base. */
static offline_family family_by_figures(const writer *w)
{
    double r = ratio(w, "recency_days"), f = ratio(w, "frequency"), m = ratio(w, "monetary"),
           t = ratio(w, "tenure_days");
    if (isfinite(r)) {
        int more = (isfinite(f) && f > 1.0) || (isfinite(m) && m > 1.0);
        if (r >= 2.0 && !more)
            return FAM_DORMANT;
        if (r >= 1.3 && more)
            return FAM_AT_RISK;
        if (r <= 0.6 && isfinite(f) && f >= 1.5 && isfinite(m) && m >= 1.5)
            return FAM_VIP;
        if (isfinite(t) && t <= 0.5 && r <= 1.0)
            return FAM_NEW;
        if (r <= 0.8 && isfinite(f) && f >= 1.0)
            return FAM_LOYAL;
        if (r <= 1.0)
            return FAM_GROWTH;
        return FAM_SLIPPING;
    }
    if (isfinite(m))
        return m >= 1.5 ? FAM_VIP : m >= 1.0 ? FAM_LOYAL : FAM_GROWTH;
    return FAM_GENERAL;
}

static offline_family family_of(const tribe_segments *segs, int c, uint64_t seed)
{
    offline_family fam = family_by_name(segs->seg[c].name);
    if (fam != FAM_GENERAL)
        return fam;
    writer w = {.segs = segs, .c = c, .seed = seed};
    return family_by_figures(&w);
}

/* ---- templates ------------------------------------------------------------ */

static tribe_status expand(tribe_sbuf *b, const writer *w, const char *tpl)
{
    tribe_status st = TRIBE_OK;
    for (const char *p = tpl; *p;) {
        if (*p != '{') {
            const char *q = strchr(p, '{');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            TRIBE_TRY(tribe_sbuf_addn(b, p, n));
            p += n;
            continue;
        }
        const char *e = strchr(p, '}');
        if (!e)
            return tribe_fail(TRIBE_ERR_INTERNAL, "offline persona template has an unclosed '{': %.40s", p);
        size_t n = (size_t)(e - p + 1);
        const char *rep = NULL;
#define PH(tag, value)                                    \
    else if (n == sizeof(tag) - 1 && strncmp(p, tag, n) == 0) rep = (value);
        if (0) {
        }
        PH("{first}", w->first)
        PH("{last}", w->last)
        PH("{seg}", w->segs->seg[w->c].name)
        PH("{fn}", "{{first_name}}")
        PH("{he}", w->female ? "she" : "he")
        PH("{He}", w->female ? "She" : "He")
        PH("{his}", w->female ? "her" : "his")
        PH("{His}", w->female ? "Her" : "His")
        PH("{him}", w->female ? "her" : "him")
#undef PH
        if (!rep)
            return tribe_fail(TRIBE_ERR_INTERNAL, "offline persona template has an unknown placeholder %.*s",
                              (int)n, p);
        TRIBE_TRY(tribe_sbuf_add(b, rep));
        p = e + 1;
    }
cleanup:
    return st;
}

static tribe_status expand_dup(const writer *w, const char *tpl, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(expand(&b, w, tpl));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* Picks `want` distinct entries of a pool of n (partial Fisher-Yates). */
static tribe_status pick_list(const writer *w, int slot, const char *const *pool, int n, int want, char ***out,
                              int *n_out)
{
    tribe_status st = TRIBE_OK;
    int idx[8];
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 0; i < want; i++) {
        int j = i + (int)draw_seg(w, slot * 8 + i, (uint64_t)(n - i));
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    TRIBE_TRY(tribe_calloc((void **)out, (size_t)want, sizeof **out));
    *n_out = want;
    for (int i = 0; i < want; i++)
        TRIBE_TRY(expand_dup(w, pool[idx[i]], &(*out)[i]));
cleanup:
    return st;
}

/* ---- bio ------------------------------------------------------------------ */

typedef struct {
    const char *feature;
    const char *before, *after, *after_one; /* clause = before + figure + after (after_one for "1") */
    const char *label;                      /* what the figure is, for comparisons */
    const char *unit, *unit_one;            /* said after the figure in comparisons */
    int skip_zero; /* a zero means "no data" here (no web sessions, a single visit) */
    int core;      /* recency, frequency, monetary: preferred when something stands out */
} clause_def;

static const clause_def CLAUSES[] = {
    {"recency_days", "last ordered ", " days ago", " day ago", "time since the last order", " days", " day", 0, 1},
    {"frequency", "has placed ", " orders", " order", "number of orders", " orders", " order", 0, 1},
    {"monetary", "has spent ", " net of returns", " net of returns", "net spend", "", "", 0, 1},
    {"avg_order_value", "spends ", " per order", " per order", "average order value", "", "", 0, 0},
    {"tenure_days", "first bought ", " days ago", " day ago", "time as a customer", " days", " day", 0, 0},
    {"mean_days_between", "orders every ", " days or so", " day or so", "gap between orders", " days", " day", 1, 0},
    {"distinct_products", "has bought ", " different products", " product", "range of products bought",
     " products", " product", 1, 0},
    {"sessions", "has visited the site ", " times", " time", "number of site visits", " visits", " visit", 1, 0},
    {"pages_per_session", "views ", " pages per visit", " page per visit", "pages per visit", " pages",
     " page", 1, 0},
    {"minutes_on_site", "has spent ", " minutes on the site", " minute on the site", "time on site",
     " minutes", " minute", 1, 0},
};
#define N_CLAUSES (int)(sizeof CLAUSES / sizeof *CLAUSES)

static const clause_def *clause_of(const char *feature)
{
    for (int i = 0; i < N_CLAUSES; i++)
        if (strcmp(CLAUSES[i].feature, feature) == 0)
            return &CLAUSES[i];
    return NULL;
}

static tribe_status add_clauses(tribe_sbuf *b, const char *const *parts, int n)
{
    tribe_status st = TRIBE_OK;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            TRIBE_TRY(tribe_sbuf_add(b, i == n - 1 ? " and " : ", "));
        TRIBE_TRY(tribe_sbuf_add(b, parts[i]));
    }
cleanup:
    return st;
}

static void humanise(char *out, size_t cap, const char *feature)
{
    snprintf(out, cap, "%s", feature);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
}

/* Behaviour sentences from the medians: known features in a fixed order,
 * then any other numeric feature, generically. */
static tribe_status bio_behaviour(tribe_sbuf *b, const writer *w)
{
    tribe_status st = TRIBE_OK;
    const tribe_segments *s = w->segs;
    char parts[16][256];
    const char *ptr[16];
    int n = 0;
    char num[64], lab[96];
    for (int i = 0; i < N_CLAUSES && n < 16; i++) {
        double v = seg_median(w, CLAUSES[i].feature);
        if (!isfinite(v) || (CLAUSES[i].skip_zero && v < 0.5))
            continue;
        tribe_fmt_feature(num, sizeof num, &s->currency, CLAUSES[i].feature, v);
        snprintf(parts[n], sizeof parts[n], "%s%s%s", CLAUSES[i].before, num,
                 strcmp(num, "1") == 0 ? CLAUSES[i].after_one : CLAUSES[i].after);
        n++;
    }
    for (int j = 0; j < s->d && n < 16; j++) {
        const char *f = s->feature_names[j];
        double v = s->seg[w->c].median[j];
        if (clause_of(f) || strcmp(f, "age") == 0 || !isfinite(v))
            continue;
        humanise(lab, sizeof lab, f);
        tribe_fmt_feature(num, sizeof num, &s->currency, f, v);
        snprintf(parts[n], sizeof parts[n], "has a median %s of %s", lab, num);
        n++;
    }
    for (int i = 0; i < n; i++)
        ptr[i] = parts[i];
    if (n == 0)
        return TRIBE_OK;
    int first = n < 3 ? n : 3;
    /* "The typical Champions customer", but not "Loyal Customers customer". */
    const char *nm = s->seg[w->c].name;
    size_t ln = strlen(nm);
    if (ln >= 9 && strcasecmp(nm + ln - 9, "customers") == 0)
        TRIBE_TRY(tribe_sbuf_printf(b, " The typical customer in %s ", nm));
    else
        TRIBE_TRY(tribe_sbuf_printf(b, " The typical %s customer ", nm));
    TRIBE_TRY(add_clauses(b, ptr, first));
    TRIBE_TRY(tribe_sbuf_add(b, "."));
    if (n > first) {
        int more = n - first < 3 ? n - first : 3;
        TRIBE_TRY(tribe_sbuf_printf(b, " Like most of the segment, %s ", w->female ? "she" : "he"));
        TRIBE_TRY(add_clauses(b, ptr + first, more));
        TRIBE_TRY(tribe_sbuf_add(b, "."));
    }
cleanup:
    return st;
}

/* A feature's label and its segment and base medians as written, with
 * their units ("time since the last order", "142", " days", "51", " days"). */
typedef struct {
    char lab[96], va[64], vz[64];
    const char *ua, *uz;
} figure_pair;

static void pair_of(const writer *w, int j, figure_pair *fp)
{
    const tribe_segments *s = w->segs;
    const char *f = s->feature_names[j];
    const clause_def *cd = clause_of(f);
    if (cd)
        snprintf(fp->lab, sizeof fp->lab, "%s", cd->label);
    else
        humanise(fp->lab, sizeof fp->lab, f);
    tribe_fmt_feature(fp->va, sizeof fp->va, &s->currency, f, s->seg[w->c].median[j]);
    tribe_fmt_feature(fp->vz, sizeof fp->vz, &s->currency, f, s->overall_median[j]);
    fp->ua = !cd ? "" : strcmp(fp->va, "1") == 0 ? cd->unit_one : cd->unit;
    fp->uz = !cd ? "" : strcmp(fp->vz, "1") == 0 ? cd->unit_one : cd->unit;
}

/* The feature whose median differs most from the base's (at least 1.5x
 * either way), said with both figures; recency, frequency and monetary
 * first, as they are what a marketer plans around. */
static tribe_status bio_standout(tribe_sbuf *b, const writer *w)
{
    const tribe_segments *s = w->segs;
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; pass++) {
        double best_lr = log(1.5);
        for (int j = 0; j < s->d; j++) {
            const char *f = s->feature_names[j];
            const clause_def *cd = clause_of(f);
            if (strcmp(f, "age") == 0 || (pass == 0 && !(cd && cd->core)))
                continue;
            double a = s->seg[w->c].median[j], z = s->overall_median[j];
            if (!isfinite(a) || !isfinite(z) || a <= 0 || z <= 0)
                continue;
            double lr = fabs(log(a / z));
            if (lr >= best_lr) {
                best_lr = lr;
                best = j;
            }
        }
    }
    if (best < 0)
        return TRIBE_OK;
    figure_pair fp;
    pair_of(w, best, &fp);
    int above = s->seg[w->c].median[best] > s->overall_median[best];
    if (draw_seg(w, SLOT_BIO, 2) == 0)
        return tribe_sbuf_printf(b, " What sets the segment apart is its %s: %s%s against %s%s across all customers.",
                                 fp.lab, fp.va, fp.ua, fp.vz, fp.uz);
    return tribe_sbuf_printf(b, " Its %s is well %s the norm, at %s%s compared with %s%s for the customer base as a whole.",
                             fp.lab, above ? "above" : "below", fp.va, fp.ua, fp.vz, fp.uz);
}

/* Words a marketer may use for a feature in a refine's emphasis, tried in
 * this order (the first found wins); feature names themselves ("monetary",
 * "avg order value") are tried after them. */
static const struct {
    const char *word, *feature;
} EMPHASIS_WORDS[] = {
    {"spend", "monetary"},         {"revenue", "monetary"},           {"money", "monetary"},
    {"basket", "avg_order_value"}, {"order value", "avg_order_value"}, {"aov", "avg_order_value"},
    {"last order", "recency_days"}, {"recen", "recency_days"},        {"lapse", "recency_days"},
    {"frequen", "frequency"},      {"often", "frequency"},            {"order", "frequency"},
    {"purchase", "frequency"},
    {"tenure", "tenure_days"},     {"loyal", "tenure_days"},          {"product", "distinct_products"},
    {"range", "distinct_products"}, {"variety", "distinct_products"}, {"visit", "sessions"},
    {"session", "sessions"},       {"brows", "sessions"},             {"page", "pages_per_session"},
    {"time on site", "minutes_on_site"}, {"minutes", "minutes_on_site"}, {"age", "age"},
    {"value", "monetary"},
};

/* The feature a refine's emphasis points at (a word of EMPHASIS_WORDS or a
 * feature's name in it), else the segment's strongest driver, else the
 * first feature with a median; -1 when the segment has no median at all. */
static int emphasis_feature(const writer *w)
{
    const tribe_segments *s = w->segs;
    char lower[TRIBE_PERSONA_INPUT_MAX * 4 + 1], name[96];
    size_t i = 0;
    for (const char *p = w->in->emphasis; *p && i + 1 < sizeof lower; p++)
        lower[i++] = (char)tolower((unsigned char)*p);
    lower[i] = '\0';
    for (size_t e = 0; e < sizeof EMPHASIS_WORDS / sizeof *EMPHASIS_WORDS; e++) {
        int j = tribe_segments_feature(s, EMPHASIS_WORDS[e].feature);
        if (j >= 0 && isfinite(s->seg[w->c].median[j]) && name_has(lower, EMPHASIS_WORDS[e].word))
            return j;
    }
    for (int j = 0; j < s->d; j++) {
        humanise(name, sizeof name, s->feature_names[j]);
        if (isfinite(s->seg[w->c].median[j]) && (name_has(lower, s->feature_names[j]) || name_has(lower, name)))
            return j;
    }
    const tribe_segment *g = &s->seg[w->c];
    if (g->n_drivers > 0 && g->driver_feature[0] >= 0 && isfinite(g->median[g->driver_feature[0]]))
        return g->driver_feature[0];
    for (int j = 0; j < s->d; j++)
        if (isfinite(g->median[j]))
            return j;
    return -1;
}

/* A refine's emphasis: one sentence of the emphasised feature's figures
 * (the segment's median and the base's), so it stays grounded. */
static tribe_status bio_emphasis(tribe_sbuf *b, const writer *w)
{
    if (!w->in || !w->in->emphasis || !w->in->emphasis[0])
        return TRIBE_OK;
    int j = emphasis_feature(w);
    if (j < 0)
        return TRIBE_OK;
    figure_pair fp;
    pair_of(w, j, &fp);
    if (!isfinite(w->segs->overall_median[j]))
        return tribe_sbuf_printf(b, " Above all, keep in mind the %s: %s%s for the typical customer here.", fp.lab, fp.va,
                                 fp.ua);
    return tribe_sbuf_printf(b, " Above all, keep in mind the %s: %s%s for the typical customer here, against %s%s across "
                                "the whole base.",
                             fp.lab, fp.va, fp.ua, fp.vz, fp.uz);
}

/* The segment drivers in words: the (at most two) features that most set
 * the segment apart from the others, with a direction from the medians
 * (the profile's 10% rule), and no figure, so the grounding check holds. */
static tribe_status bio_drivers(tribe_sbuf *b, const writer *w)
{
    tribe_status st = TRIBE_OK;
    const tribe_segments *s = w->segs;
    const tribe_segment *g = &s->seg[w->c];
    char parts[2][160], lab[96];
    const char *ptr[2];
    int n = 0;
    for (int r = 0; r < g->n_drivers && r < TRIBE_SEG_DRIVERS && n < 2; r++) {
        int j = g->driver_feature[r];
        if (j < 0 || j >= s->d)
            continue;
        const char *f = s->feature_names[j];
        const clause_def *cd = clause_of(f);
        if (cd)
            snprintf(lab, sizeof lab, "%s", cd->label);
        else if (strcmp(f, "age") == 0)
            snprintf(lab, sizeof lab, "age");
        else
            humanise(lab, sizeof lab, f);
        double a = isfinite(g->median[j]) ? g->median[j] : g->mean[j];
        double z = isfinite(s->overall_median[j]) ? s->overall_median[j] : s->overall_mean[j];
        double tol = 0.1 * fabs(z) + 1e-9;
        /* "a longer time since the last order", "a wider range of
         * products", not "a higher" one. */
        int span = tribe_feature_kind(f) == TRIBE_FEAT_DAYS || strncmp(lab, "time ", 5) == 0 ||
                   strncmp(lab, "gap ", 4) == 0;
        int range = strncmp(lab, "range ", 6) == 0;
        const char *dir = !isfinite(a) || !isfinite(z) ? ""
                          : a > z + tol ? (span ? "longer " : range ? "wider " : "higher ")
                          : a < z - tol ? (span ? "shorter " : range ? "narrower " : "lower ")
                                        : "";
        snprintf(parts[n], sizeof parts[n], "%s%s", dir, lab);
        ptr[n] = parts[n];
        n++;
    }
    if (n == 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_add(b, " What most distinguishes the segment from the others is its "));
    TRIBE_TRY(add_clauses(b, ptr, n));
    TRIBE_TRY(tribe_sbuf_add(b, "."));
cleanup:
    return st;
}

static int needs_the(const char *country)
{
    static const char *const the[] = {"United ", "Netherlands", "Channel Islands", "Czech Republic", "USA", "UK",
                                      "Philippines", "UAE", "European Community", "RSA"};
    for (size_t i = 0; i < sizeof the / sizeof *the; i++)
        if (strncmp(country, the[i], strlen(the[i])) == 0)
            return 1;
    return 0;
}

static const char *device_phrase(const char *level)
{
    if (strcasecmp(level, "app") == 0)
        return "our app";
    if (strcasecmp(level, "mobile") == 0)
        return "a mobile phone";
    if (strcasecmp(level, "desktop") == 0)
        return "a desktop computer";
    if (strcasecmp(level, "tablet") == 0)
        return "a tablet";
    return level;
}

/* One sentence per categorical mix (occupation has its own field). */
static tribe_status bio_mixes(tribe_sbuf *b, const writer *w)
{
    tribe_status st = TRIBE_OK;
    char pct[32], lab[96];
    for (int m = 0; m < w->segs->n_mix; m++) {
        const tribe_segmix *mx = &w->segs->mix[m];
        if (strcasecmp(mx->name, "occupation") == 0)
            continue;
        int l = top_level(mx, w->c);
        int64_t tot = mix_total(mx, w->c);
        if (l < 0 || tot <= 0)
            continue;
        double sh = (double)mix_count(mx, w->c, l) / (double)tot;
        tribe_fmt_pct(pct, sizeof pct, sh);
        const char *lv = mx->levels[l];
        int most = sh > 0.5;
        if (strcasecmp(mx->name, "country") == 0)
            TRIBE_TRY(tribe_sbuf_printf(b, " %s based in %s%s (%s).", most ? "Most are" : "The largest group is",
                                        needs_the(lv) ? "the " : "", lv, pct));
        else if (strcasecmp(mx->name, "device") == 0)
            TRIBE_TRY(tribe_sbuf_printf(b, " %s %s (%s).", most ? "Most shop mainly on" : "The most common device is",
                                        device_phrase(lv), pct));
        else if (strcasecmp(mx->name, "subscription") == 0 && strcasecmp(lv, "none") == 0)
            TRIBE_TRY(tribe_sbuf_printf(b, " %s no subscription (%s).", most ? "Most have" : "The largest group has",
                                        pct));
        else if (strcasecmp(mx->name, "subscription") == 0)
            TRIBE_TRY(tribe_sbuf_printf(b, " %s on the %s plan (%s).", most ? "Most are" : "The largest group is", lv,
                                        pct));
        else {
            /* Flags coded 0/1 or yes/no read as a yes/no answer, not as "1". */
            static const char *const yes[] = {"1", "yes", "y", "true"}, *const no[] = {"0", "no", "n", "false"};
            for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(lv, yes[i]) == 0)
                    lv = "yes";
                else if (strcasecmp(lv, no[i]) == 0)
                    lv = "no";
            }
            humanise(lab, sizeof lab, mx->name);
            TRIBE_TRY(tribe_sbuf_printf(b, " The most common %s is %s (%s).", lab, lv, pct));
        }
    }
cleanup:
    return st;
}

/* What the segment's customers write about (ingest --text), in words only:
 * the three top terms of its largest topic (by the segment's mean share),
 * and whether its mean sentiment is above or below the base's by more than
 * 0.05. Nothing without text topics or when the segment wrote nothing. */
static tribe_status bio_text(tribe_sbuf *b, const writer *w)
{
    const tribe_segments *s = w->segs;
    const tribe_segment *g = &s->seg[w->c];
    int best = -1;
    double best_v = 0;
    for (int t = 0; t < s->n_topics; t++) {
        char name[32];
        snprintf(name, sizeof name, "topic_%d", t + 1);
        int j = tribe_segments_feature(s, name);
        if (j >= 0 && isfinite(g->mean[j]) && g->mean[j] > best_v && s->topics[t][0])
            best = t, best_v = g->mean[j];
    }
    if (best < 0)
        return TRIBE_OK;
    /* the first three terms without a digit (a figure the grounding check would ask for) */
    char terms[128] = "", word[40];
    int words = 0;
    for (const char *p = s->topics[best]; *p && words < 3;) {
        size_t k = strcspn(p, " ");
        int digit = 0;
        for (size_t i = 0; i < k; i++)
            digit |= p[i] >= '0' && p[i] <= '9';
        if (!digit && k > 0 && k < sizeof word) {
            memcpy(word, p, k);
            word[k] = '\0';
            size_t n = strlen(terms);
            snprintf(terms + n, sizeof terms - n, "%s%s", words == 0 ? "" : words == 1 ? ", " : " and ", word);
            words++;
        }
        p += k + (p[k] == ' ');
    }
    if (words == 0)
        return TRIBE_OK;
    int js = tribe_segments_feature(s, "sentiment");
    double d = js >= 0 ? g->mean[js] - s->overall_mean[js] : NAN;
    const char *tone = !isfinite(d) ? "" : d > 0.05 ? ", in a warmer tone than most customers"
                                         : d < -0.05 ? ", in a cooler tone than most customers" : "";
    return tribe_sbuf_printf(b, " In reviews and messages they write most about %s%s.", terms, tone);
}

/* What the segment buys more than the base (offers stage, docs/offers.md):
 * its best offer as a grounded figure ("offer.0.lift", "offer.0.share"), and
 * the second one's name. Nothing without offers. */
static tribe_status bio_offers(tribe_sbuf *b, const writer *w)
{
    tribe_status st = TRIBE_OK;
    const tribe_segment *g = &w->segs->seg[w->c];
    char lift[48], share[32];
    if (g->n_offers <= 0)
        return TRIBE_OK;
    tribe_fmt_feature(lift, sizeof lift, &w->segs->currency, "lift", g->offer[0].lift);
    tribe_fmt_pct(share, sizeof share, g->offer[0].share);
    TRIBE_TRY(tribe_sbuf_printf(b, " They buy %s %s times as often as the average customer (%s of them have bought it)",
                                g->offer[0].name, lift, share));
    if (g->n_offers > 1)
        TRIBE_TRY(tribe_sbuf_printf(b, ", and %s more often too", g->offer[1].name));
    TRIBE_TRY(tribe_sbuf_add(b, "."));
cleanup:
    return st;
}

/* Churn risk (docs/churn.md), only when the run fitted the churn model: the
 * figures are grounded (churn.high_share, churn.horizon_days, churn.mean_risk). */
static tribe_status bio_churn(tribe_sbuf *b, const writer *w)
{
    const tribe_segment *g = &w->segs->seg[w->c];
    char hi[32], mean[32];
    if (!isfinite(g->churn_mean) || !isfinite(g->churn_high) || !isfinite(w->segs->churn_horizon_days))
        return TRIBE_OK;
    tribe_fmt_pct(hi, sizeof hi, g->churn_high);
    tribe_fmt_pct(mean, sizeof mean, g->churn_mean);
    return tribe_sbuf_printf(b, " The churn model rates %s of them as likely to buy nothing in the next %.0f days "
                                "(mean risk %s).",
                             hi, w->segs->churn_horizon_days, mean);
}

static tribe_status write_bio(const writer *w, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    const tribe_segment *g = &w->segs->seg[w->c];
    char size[48], share[32], rev[32], age[48];
    TRIBE_TRY(expand(&b, w, COPY[w->fam].intro[variant(w, SLOT_INTRO, N_INTRO)]));
    tribe_fmt_count(size, sizeof size, (double)g->size);
    tribe_fmt_pct(share, sizeof share, g->share);
    tribe_fmt_pct(rev, sizeof rev, g->revenue_share);
    const char *noun = g->size == 1 ? "customer" : "customers";
    if (draw_seg(w, SLOT_BIO + 1, 2) == 0) {
        TRIBE_TRY(tribe_sbuf_printf(&b, " %s represents the %s %s of the %s segment", w->first, size, noun,
                                    g->name));
        if (isfinite(g->share))
            TRIBE_TRY(tribe_sbuf_printf(&b, " (%s of all customers)", share));
        if (isfinite(g->revenue_share))
            TRIBE_TRY(tribe_sbuf_printf(&b, ", who bring in %s of revenue", rev));
        TRIBE_TRY(tribe_sbuf_add(&b, "."));
    } else {
        TRIBE_TRY(tribe_sbuf_printf(&b, " The %s segment has %s %s", g->name, size, noun));
        if (isfinite(g->share))
            TRIBE_TRY(tribe_sbuf_printf(&b, ", %s of the base", share));
        if (isfinite(g->revenue_share))
            TRIBE_TRY(tribe_sbuf_printf(&b, ", and accounts for %s of revenue", rev));
        TRIBE_TRY(tribe_sbuf_printf(&b, "; %s is one of them.", w->first));
    }
    TRIBE_TRY(bio_behaviour(&b, w));
    TRIBE_TRY(bio_standout(&b, w));
    TRIBE_TRY(bio_emphasis(&b, w));
    TRIBE_TRY(bio_drivers(&b, w));
    TRIBE_TRY(bio_mixes(&b, w));
    TRIBE_TRY(bio_offers(&b, w));
    TRIBE_TRY(bio_text(&b, w));
    TRIBE_TRY(bio_churn(&b, w));
    double a = seg_median(w, "age");
    if (isfinite(a)) {
        tribe_fmt_feature(age, sizeof age, &w->segs->currency, "age", a);
        TRIBE_TRY(tribe_sbuf_printf(&b, " The median customer here is %s years old.", age));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* ---- the other fields ------------------------------------------------------ */

static const char *age_band(const writer *w)
{
    double a = seg_median(w, "age");
    if (isfinite(a)) {
        int i = a < 25 ? 0 : a < 35 ? 1 : a < 45 ? 2 : a < 55 ? 3 : a < 65 ? 4 : 5;
        return AGE_BANDS[i];
    }
    /* No age column: the family's usual band, or the next one up. */
    int i = COPY[w->fam].age_band + (int)draw_seg(w, SLOT_AGE, 2);
    return AGE_BANDS[i < N_AGE_BANDS ? i : N_AGE_BANDS - 1];
}

static tribe_status occupation(const writer *w, const char *band, char **out)
{
    const tribe_segmix *m = find_mix(w->segs, "occupation");
    int l = m ? top_level(m, w->c) : -1;
    if (l >= 0) {
        tribe_status st = tribe_strdup(m->levels[l], out);
        if (st == TRIBE_OK && islower((unsigned char)(*out)[0]))
            (*out)[0] = (char)toupper((unsigned char)(*out)[0]);
        return st;
    }
    if (strcmp(band, "65+") == 0)
        return tribe_strdup(OCC_RETIRED[draw_seg(w, SLOT_OCC, 3)], out);
    int tier = COPY[w->fam].value_tier;
    double r = ratio(w, "monetary");
    if (isfinite(r))
        tier = r >= 1.5 ? 2 : r >= 0.8 ? 1 : 0;
    return tribe_strdup(OCC_TIER[tier][draw_seg(w, SLOT_OCC, 6)], out);
}

static tribe_status add_channel(tribe_persona *p, const char *ch)
{
    for (int i = 0; i < p->n_channels; i++)
        if (strcasecmp(p->channels[i], ch) == 0)
            return TRIBE_OK;
    if (p->n_channels >= 5)
        return TRIBE_OK;
    tribe_status st = tribe_strdup(ch, &p->channels[p->n_channels]);
    if (st == TRIBE_OK)
        p->n_channels++;
    return st;
}

/* The segment's main device (and the runner-up when a quarter of the
 * segment uses it), then the channels that suit its RFM status. */
static tribe_status channels(const writer *w, tribe_persona *p)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_calloc((void **)&p->channels, 5, sizeof *p->channels));
    const tribe_segmix *m = find_mix(w->segs, "device");
    int64_t tot = m ? mix_total(m, w->c) : 0;
    if (m && tot > 0) {
        int used[64] = {0};
        for (int round = 0; round < m->n_levels && round < 2; round++) {
            int best = -1;
            for (int l = 0; l < m->n_levels && l < 64; l++)
                if (!used[l] && !uninformative_level(m->levels[l]) &&
                    (best < 0 || mix_count(m, w->c, l) > mix_count(m, w->c, best)))
                    best = l;
            if (best < 0)
                break;
            used[best] = 1;
            if (round > 0 && 4 * mix_count(m, w->c, best) < tot)
                break;
            const char *lv = m->levels[best];
            if (strcasecmp(lv, "app") == 0) {
                TRIBE_TRY(add_channel(p, "Push notifications"));
                TRIBE_TRY(add_channel(p, "In-app messages"));
            } else if (strcasecmp(lv, "mobile") == 0) {
                TRIBE_TRY(add_channel(p, "SMS"));
                TRIBE_TRY(add_channel(p, "Mobile e-mail"));
            } else {
                TRIBE_TRY(add_channel(p, "E-mail"));
                TRIBE_TRY(add_channel(p, "Web"));
            }
        }
    }
    for (int i = 0; i < N_EXTRA && COPY[w->fam].channels[i]; i++)
        TRIBE_TRY(add_channel(p, COPY[w->fam].channels[i]));
cleanup:
    return st;
}

static tribe_status image_prompt(const writer *w, const tribe_persona *p, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    char occ[128];
    snprintf(occ, sizeof occ, "%s", p->occupation);
    if (isupper((unsigned char)occ[0]) && islower((unsigned char)occ[1]))
        occ[0] = (char)tolower((unsigned char)occ[0]);
    int an = strchr("aeiouAEIOU", occ[0]) && occ[0] && strncasecmp(occ, "uni", 3) != 0 &&
             strncasecmp(occ, "use", 3) != 0 && strncasecmp(occ, "eu", 2) != 0;
    /* "retired" or "unemployed" is a state, not a job: no article. */
    const char *article = strcasecmp(occ, "retired") == 0 || strcasecmp(occ, "unemployed") == 0 ? ""
                          : an                                                                ? "an "
                                                                                              : "a ";
    TRIBE_TRY(tribe_sbuf_printf(&b, "Lifestyle photograph of %s aged %s, %s%s, %s. ", w->female ? "a woman" : "a man",
                                p->age_band, article, occ,
                                COPY[w->fam].scenes[variant(w, SLOT_SCENE, N_SCENE)]));
    TRIBE_TRY(tribe_sbuf_add(&b, "Natural light, candid and warm, muted brand colours, no text or logos."));
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* The tone's own wording: the first TONES entry one of whose words the
 * tone names, else NULL; *shift a hash of the whole tone (0 without one). */
static const tone_def *tone_of(const char *tone, int *shift)
{
    char lower[TRIBE_PERSONA_INPUT_MAX * 4 + 1];
    size_t i = 0;
    *shift = 0;
    if (!tone || !tone[0])
        return NULL;
    for (const char *p = tone; *p && i + 1 < sizeof lower; p++)
        lower[i++] = (char)tolower((unsigned char)*p);
    lower[i] = '\0';
    *shift = (int)(tribe_fnv1a(TRIBE_FNV_INIT, lower, i) % 1000003u) + 1;
    for (int t = 0; t < N_TONES; t++)
        for (int k = 0; k < 4 && TONES[t].words[k]; k++)
            if (name_has(lower, TONES[t].words[k]))
                return &TONES[t];
    return NULL;
}

/* The e-mail body, with the tone's sign-off when a refine names one: in
 * place of the template's own ("With thanks,\nThe team"), else after it. */
static tribe_status email_body(const writer *w, const char *tpl, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    TRIBE_TRY(expand(&b, w, tpl));
    if (w->segs->seg[w->c].n_offers > 0) { /* the segment's best offer, in words, before the sign-off */
        char *last = NULL;
        for (char *q = strstr(b.p, "\n\n"); q; q = strstr(q + 1, "\n\n"))
            last = q;
        char *tail = NULL;
        if (last)
            TRIBE_TRY(tribe_strdup(last, &tail));
        b.len = last ? (size_t)(last - b.p) : b.len;
        b.p[b.len] = '\0';
        st = tribe_sbuf_printf(&b, "\n\nPicked for you: %s, a favourite of customers like you.%s",
                               w->segs->seg[w->c].offer[0].name, tail ? tail : "");
        free(tail);
        TRIBE_TRY(st);
    }
    if (w->tone) {
        char *last = NULL;
        for (char *q = strstr(b.p, "\n\n"); q; q = strstr(q + 1, "\n\n"))
            last = q;
        if (last && strstr(last, "The team")) {
            b.len = (size_t)(last - b.p);
            b.p[b.len] = '\0';
        }
        TRIBE_TRY(tribe_sbuf_printf(&b, "\n\n%s", w->tone->sign_off));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

static tribe_status compose(const offline_state *os, const tribe_segments *segs, int c,
                            const tribe_persona_inputs *in, tribe_persona *p)
{
    tribe_status st = TRIBE_OK;
    if (c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "offline persona: segment index %d outside 0..%d", c, segs->k - 1);
    writer w = {.segs = segs, .c = c, .seed = os->seed, .in = in};
    w.tone = tone_of(in ? in->tone : NULL, &w.tone_shift);
    w.fam = family_of(segs, c, os->seed);
    for (int e = 0; e < c; e++)
        if (family_of(segs, e, os->seed) == w.fam)
            w.rank++;
    /* Genders alternate through the segments (from a random start) for a
     * balanced cast; segments of one gender then have ids of one parity, so
     * c / 2 walks that gender's names without repeats. */
    /* The name follows the segment's persistent id, so a segment that keeps
     * its id across runs keeps its persona's name. */
    int id = segs->seg[c].id;
    w.female = (int)((tribe_rng_below(os->seed, STREAM_PERSONA, (uint64_t)SLOT_GENDER << 32, 2) + (uint64_t)id) % 2);
    size_t nf = w.female ? sizeof FIRST_F / sizeof *FIRST_F : sizeof FIRST_M / sizeof *FIRST_M;
    w.first = (w.female ? FIRST_F : FIRST_M)[name_index(os->seed, SLOT_FIRST, SLOT_FIRST_STRIDE, id / 2, nf)];
    w.last = LAST[name_index(os->seed, SLOT_LAST, SLOT_LAST_STRIDE, id, sizeof LAST / sizeof *LAST)];

    const family_copy *fc = &COPY[w.fam];
    char name[128];
    TRIBE_TRY(tribe_fmt(name, sizeof name, "%s %s", w.first, w.last));
    p->segment = segs->seg[c].id;
    TRIBE_TRY(tribe_strdup(segs->seg[c].name, &p->segment_name));
    TRIBE_TRY(tribe_strdup(name, &p->name));
    TRIBE_TRY(tribe_strdup(age_band(&w), &p->age_band));
    TRIBE_TRY(occupation(&w, p->age_band, &p->occupation));
    TRIBE_TRY(write_bio(&w, &p->bio));
    TRIBE_TRY(pick_list(&w, SLOT_GOALS, fc->goals, N_GOALS, 3, &p->goals, &p->n_goals));
    TRIBE_TRY(pick_list(&w, SLOT_FRUST, fc->frustrations, N_FRUST, 3, &p->frustrations, &p->n_frustrations));
    TRIBE_TRY(channels(&w, p));
    TRIBE_TRY(expand_dup(&w, fc->quotes[variant(&w, SLOT_QUOTE, N_QUOTE)], &p->quote));
    TRIBE_TRY(expand_dup(&w, fc->subjects[variant(&w, SLOT_SUBJ, N_SUBJ)], &p->email_subject));
    /* Wording by the segment's order profile: no "recent orders" when most ordered once. */
    double orders = seg_median(&w, "frequency");
    int once = isfinite(orders) && orders < 2;
    const char *const *bodies = once && fc->bodies_one[0] ? fc->bodies_one : fc->bodies;
    const char *const *tags = once && fc->taglines_one[0] ? fc->taglines_one : fc->taglines;
    TRIBE_TRY(email_body(&w, bodies[variant(&w, SLOT_BODY, N_BODY)], &p->email_body));
    TRIBE_TRY(expand_dup(&w, tags[variant(&w, SLOT_TAG, N_TAG)], &p->tagline));
    TRIBE_TRY(image_prompt(&w, p, &p->image_prompt));
    TRIBE_TRY(tribe_strdup("offline", &p->provider));
cleanup:
    return st;
}

static tribe_status offline_write(tribe_persona_provider *self, const tribe_segments *segs, int c,
                                  tribe_persona *p)
{
    return compose(self->state, segs, c, NULL, p);
}

static tribe_status offline_refine(tribe_persona_provider *self, const tribe_segments *segs, int c,
                                   const tribe_persona_inputs *in, tribe_persona *p)
{
    return compose(self->state, segs, c, in, p);
}

static void offline_destroy(tribe_persona_provider *self) { free(self->state); }

tribe_status tribe_persona_offline_create(uint64_t seed, tribe_persona_provider **out)
{
    tribe_status st = TRIBE_OK;
    tribe_persona_provider *pp = NULL;
    offline_state *os = NULL;
    TRIBE_TRY(tribe_calloc((void **)&os, 1, sizeof *os));
    TRIBE_TRY(tribe_calloc((void **)&pp, 1, sizeof *pp));
    os->seed = seed;
    pp->name = "offline";
    pp->write = offline_write;
    pp->refine = offline_refine;
    pp->destroy = offline_destroy;
    pp->state = os;
    os = NULL;
    *out = pp;
    pp = NULL;
cleanup:
    free(os);
    free(pp);
    return st;
}
