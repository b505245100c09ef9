/* Grounding: every number a persona states must be one of its segment's
 * figures (ground.h). Written for any provider, so an LLM's text is held to
 * the same rule as the offline writer's. */
#include "digits.h"
#include "ground.h"
#include "tribe/numfmt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int tribe_segments_index(const tribe_segments *segs, int id)
{
    if (id >= 0 && id < segs->k && segs->seg[id].id == id)
        return id;
    for (int c = 0; c < segs->k; c++)
        if (segs->seg[c].id == id)
            return c;
    return -1;
}

void tribe_figures_free(tribe_figures *f)
{
    free(f->f);
    f->f = NULL;
    f->n = f->cap = 0;
}

static tribe_status add(tribe_figures *f, const char *id, double value, double shown, tribe_fig_kind kind)
{
    tribe_status st = TRIBE_OK;
    if (!isfinite(value))
        return TRIBE_OK;
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 64;
        st = tribe_realloc((void **)&f->f, (size_t)cap * sizeof *f->f);
        if (st != TRIBE_OK)
            return st;
        f->cap = cap;
    }
    tribe_figure *g = &f->f[f->n];
    /* Ids are labels only; a long level name is cut, never an error. */
    snprintf(g->id, sizeof g->id, "%s", id);
    g->value = value;
    g->shown = shown;
    g->kind = kind;
    f->n++;
    return TRIBE_OK;
}

/* Share of level l in row r of a mix (r = k for the whole base), NaN for an empty row. */
static double mix_share(const tribe_segmix *m, int r, int l)
{
    int64_t tot = 0;
    for (int j = 0; j < m->n_levels; j++)
        tot += m->count[(size_t)r * (size_t)m->n_levels + (size_t)j];
    if (tot <= 0)
        return NAN;
    return (double)m->count[(size_t)r * (size_t)m->n_levels + (size_t)l] / (double)tot;
}

static tribe_status add_profile(tribe_figures *f, const tribe_segments *segs, int row, const char *prefix,
                                const double *median, const double *mean, const double *q1, const double *q3)
{
    tribe_status st = TRIBE_OK;
    char id[160];
    for (int j = 0; j < segs->d; j++) {
        tribe_feat_kind fk = tribe_feature_kind(segs->feature_names[j]);
        tribe_fig_kind kind = fk == TRIBE_FEAT_MONEY ? TRIBE_FIG_MONEY : fk == TRIBE_FEAT_SHARE ? TRIBE_FIG_PCT : TRIBE_FIG_RAW;
        double sc = fk == TRIBE_FEAT_SHARE ? 100.0 : 1.0; /* a share is stated in percent */
        snprintf(id, sizeof id, "%smedian.%s", prefix, segs->feature_names[j]);
        TRIBE_TRY(add(f, id, median[j], sc * median[j], kind));
        snprintf(id, sizeof id, "%smean.%s", prefix, segs->feature_names[j]);
        TRIBE_TRY(add(f, id, mean[j], sc * mean[j], kind));
        snprintf(id, sizeof id, "%sq1.%s", prefix, segs->feature_names[j]);
        TRIBE_TRY(add(f, id, q1[j], sc * q1[j], kind));
        snprintf(id, sizeof id, "%sq3.%s", prefix, segs->feature_names[j]);
        TRIBE_TRY(add(f, id, q3[j], sc * q3[j], kind));
    }
    for (int m = 0; m < segs->n_mix; m++)
        for (int l = 0; l < segs->mix[m].n_levels; l++) {
            double sh = mix_share(&segs->mix[m], row, l);
            snprintf(id, sizeof id, "%smix.%s.%s", prefix, segs->mix[m].name, segs->mix[m].levels[l]);
            TRIBE_TRY(add(f, id, sh, 100.0 * sh, TRIBE_FIG_PCT));
        }
cleanup:
    return st;
}

tribe_status tribe_figures_collect(const tribe_segments *segs, int c, tribe_figures *out)
{
    tribe_status st = TRIBE_OK;
    const tribe_segment *g = &segs->seg[c];
    out->n = 0;
    TRIBE_TRY(add(out, "size", (double)g->size, (double)g->size, TRIBE_FIG_RAW));
    TRIBE_TRY(add(out, "share", g->share, 100.0 * g->share, TRIBE_FIG_PCT));
    TRIBE_TRY(add(out, "revenue_share", g->revenue_share, 100.0 * g->revenue_share, TRIBE_FIG_PCT));
    TRIBE_TRY(add_profile(out, segs, c, "", g->median, g->mean, g->q1, g->q3));
    /* Predicted lifetime value (NaN without an LTV model: add skips it). */
    TRIBE_TRY(add(out, "ltv.mean", g->ltv_mean, g->ltv_mean, TRIBE_FIG_MONEY));
    TRIBE_TRY(add(out, "ltv.median", g->ltv_median, g->ltv_median, TRIBE_FIG_MONEY));
    TRIBE_TRY(add(out, "ltv.total", g->ltv_total, g->ltv_total, TRIBE_FIG_MONEY));
    TRIBE_TRY(add(out, "ltv.horizon_days", segs->ltv_horizon_days, segs->ltv_horizon_days, TRIBE_FIG_RAW));
    /* What the segment buys more than the base (offers stage): "3.2x as often" */
    for (int q = 0; q < g->n_offers && q < TRIBE_SEG_OFFERS; q++) {
        const tribe_segoffer *o = &g->offer[q];
        char id[64];
        snprintf(id, sizeof id, "offer.%d.lift", q);
        TRIBE_TRY(add(out, id, o->lift, o->lift, TRIBE_FIG_RAW));
        snprintf(id, sizeof id, "offer.%d.share", q);
        TRIBE_TRY(add(out, id, o->share, 100.0 * o->share, TRIBE_FIG_PCT));
        snprintf(id, sizeof id, "offer.%d.base_share", q);
        TRIBE_TRY(add(out, id, o->base_share, 100.0 * o->base_share, TRIBE_FIG_PCT));
        snprintf(id, sizeof id, "offer.%d.customers", q);
        TRIBE_TRY(add(out, id, (double)o->customers, (double)o->customers, TRIBE_FIG_RAW));
    }
    /* Churn risk (NaN without a churn model: add skips it). */
    TRIBE_TRY(add(out, "churn.mean_risk", g->churn_mean, 100.0 * g->churn_mean, TRIBE_FIG_PCT));
    TRIBE_TRY(add(out, "churn.high_share", g->churn_high, 100.0 * g->churn_high, TRIBE_FIG_PCT));
    TRIBE_TRY(add(out, "churn.high_risk", segs->churn_high_risk, 100.0 * segs->churn_high_risk, TRIBE_FIG_PCT));
    TRIBE_TRY(add(out, "churn.horizon_days", segs->churn_horizon_days, segs->churn_horizon_days, TRIBE_FIG_RAW));
    /* The whole base, so a persona can say how its segment compares. */
    TRIBE_TRY(add(out, "base.size", (double)segs->n_total, (double)segs->n_total, TRIBE_FIG_RAW));
    TRIBE_TRY(add_profile(out, segs, segs->k, "base.", segs->overall_median, segs->overall_mean, segs->overall_q1,
                          segs->overall_q3));
cleanup:
    return st;
}

/* ---- scanning ------------------------------------------------------------ */

typedef struct {
    const char *const *protect; /* phrases whose digits are part of a name */
    int n_protect;
    long age[4];
    int n_age;
    const char *band;            /* the persona's age band text */
    const tribe_figures *figs;
    const tribe_currency *cur;   /* the run's: its symbol marks money */
    tribe_cite_fn fn;
    void *ctx;
} scan_ctx;

static int has_digit(const char *s)
{
    size_t n = strlen(s), len;
    for (size_t i = 0; i < n; i += len)
        if (tribe_digit_at(s, n, i, &len) >= 0)
            return 1;
    return 0;
}

static int match(const tribe_figures *figs, double v, int decimals, tribe_fig_kind want, int bare)
{
    if (!isfinite(v))
        return -2; /* a number too long to read is no figure */
    /* Half a unit of the last printed digit, plus slack for binary rounding. */
    double tol = 0.5 * pow(10.0, -decimals) * (1.0 + 1e-9) + 1e-9 * fabs(v);
    for (int i = 0; i < figs->n; i++) {
        const tribe_figure *g = &figs->f[i];
        if (!bare && g->kind != want)
            continue;
        if (fabs(g->shown - v) <= tol)
            return i;
    }
    return -2;
}

/* Bytes of `sign` if text ends with it just before pos, else 0. */
static size_t sign_before(const char *text, size_t pos, const char *sign)
{
    size_t n = strlen(sign);
    return n > 0 && pos >= n && memcmp(text + pos - n, sign, n) == 0 ? n : 0;
}

/* Bytes of a currency sign ending just before pos, else 0: the run's symbol
 * ("$", "CHF"), or it or its code and a space ("CHF 1,234", "USD 1,234", as
 * tribe_fmt_money writes letter symbols), or $, £, € or ¥ (UTF-8). *foreign
 * is 1 for one of these four that the run's symbol does not end with ("£"
 * in a dollar run): money, but not in the data's currency. */
static size_t currency_len_before(const scan_ctx *sc, const char *text, size_t pos, int *foreign)
{
    static const char *const SIGNS[] = {"$", "\xc2\xa3", "\xe2\x82\xac", "\xc2\xa5"};
    size_t n;
    *foreign = 0;
    if (sc->cur) {
        if ((n = sign_before(text, pos, sc->cur->symbol)) > 0)
            return n;
        if (pos >= 1 && text[pos - 1] == ' ' &&
            ((n = sign_before(text, pos - 1, sc->cur->symbol)) > 0 || (n = sign_before(text, pos - 1, sc->cur->code)) > 0))
            return n + 1;
    }
    for (size_t i = 0; i < sizeof SIGNS / sizeof *SIGNS; i++)
        if ((n = sign_before(text, pos, SIGNS[i])) > 0) {
            *foreign = sc->cur && !sign_before(sc->cur->symbol, strlen(sc->cur->symbol), SIGNS[i]);
            return n;
        }
    return 0;
}

static int is_num_char(const char *t, size_t i) { return isalnum((unsigned char)t[i]) || t[i] == '.' || t[i] == ','; }

/* Length of a protected name written at text[i] as a whole token, else 0.
 * The boundaries keep a level called "1" from swallowing the 1 of "1,294".
 * An underscore of the name also matches a space: the offline writer shows
 * a feature "var_12" as "var 12". */
static size_t protected_at(const scan_ctx *sc, const char *text, size_t i)
{
    if (i > 0 && is_num_char(text, i - 1))
        return 0;
    for (int q = 0; q < sc->n_protect; q++) {
        const char *name = sc->protect[q];
        size_t len = 0;
        while (name[len] && (text[i + len] == name[len] || (name[len] == '_' && text[i + len] == ' ')))
            len++;
        if (!len || name[len])
            continue;
        const char *after = text + i + len;
        if (isalnum((unsigned char)after[0]) ||
            ((after[0] == '.' || after[0] == ',') && isdigit((unsigned char)after[1])))
            continue;
        return len;
    }
    return 0;
}

/* 1 when the number text[start, end) is written as an age: inside the age band as written, after "aged" or
 * "age", or before "years old", "-year-old", "years of age". */
static int as_age(const char *text, size_t start, size_t end, const char *band)
{
    size_t bl = band ? strlen(band) : 0; /* inside the band as written: "a 35-44 year old" */
    for (const char *o = bl ? strstr(text, band) : NULL; o; o = strstr(o + 1, band))
        if ((size_t)(o - text) <= start && end <= (size_t)(o - text) + bl)
            return 1;
    static const char *const AFTER[] = {" years old", " year old", "-year-old", " years of age", "-years-old"};
    /* "aged 45", "Aged 35 to 44", "age 50": the word "age"/"aged" at most 12 characters before */
    for (size_t k = 4; k <= 16 && k <= start; k++) {
        const char *w = text + start - k;
        if ((strncasecmp(w, "aged ", 5) == 0 || strncasecmp(w, "age ", 4) == 0) &&
            (w == text || !isalpha((unsigned char)w[-1])))
            return 1;
    }
    for (size_t i = 0; i < sizeof AFTER / sizeof *AFTER; i++)
        if (strncmp(text + end, AFTER[i], strlen(AFTER[i])) == 0)
            return 1;
    return 0;
}

/* A number read from the text: its value in ASCII digits (num), where it
 * ends and how many decimals it has. */
typedef struct {
    char num[128]; /* "1234.5"; a longer number is not a figure (value NaN) */
    size_t o;
    int over, decimals;
} number;

static void put(number *nb, char c)
{
    if (nb->o + 1 < sizeof nb->num)
        nb->num[nb->o++] = c;
    else
        nb->over = 1;
}

/* Reads the digit run at text[i] (a digit of any script, digits.h), its
 * thousands groups (a comma followed by exactly three digits) and its
 * decimals; returns the end. */
static size_t read_number(const char *text, size_t n, size_t i, number *nb)
{
    size_t len;
    int d;
    while ((d = tribe_digit_at(text, n, i, &len)) >= 0) {
        put(nb, (char)('0' + d));
        i += len;
    }
    while (i < n && text[i] == ',') {
        char g[3];
        size_t j = i + 1;
        int k = 0;
        for (; k < 3 && (d = tribe_digit_at(text, n, j, &len)) >= 0; k++, j += len)
            g[k] = (char)('0' + d);
        if (k < 3 || tribe_digit_at(text, n, j, &len) >= 0)
            break;
        for (k = 0; k < 3; k++)
            put(nb, g[k]);
        i = j;
    }
    if (i + 1 < n && text[i] == '.' && tribe_digit_at(text, n, i + 1, &len) >= 0) {
        put(nb, '.');
        i++;
        while ((d = tribe_digit_at(text, n, i, &len)) >= 0) {
            put(nb, (char)('0' + d));
            i += len;
            nb->decimals++;
        }
    }
    nb->num[nb->o] = '\0';
    return i;
}

/* text[from, to) into buf, cut at a character boundary when it does not fit. */
static void copy_written(char *buf, size_t cap, const char *text, size_t from, size_t to)
{
    size_t len = to - from;
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)text[from + len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(buf, text + from, len);
    buf[len] = '\0';
}

/* Every run of decimal digits is a figure, whatever script its digits are
 * and whatever stands before it: "GBP987654", "x4321", "９８７６５４" and
 * "٤٣٢١" are numbers as much as "987654" and "4321". Only a protected name
 * (protected_at) keeps its digits. */
static tribe_status scan_text(scan_ctx *sc, const char *field, const char *text)
{
    tribe_status st = TRIBE_OK;
    if (!text)
        return TRIBE_OK;
    size_t i = 0, n = strlen(text), len;
    while (i < n) {
        size_t skip = protected_at(sc, text, i);
        if (skip) {
            i += skip;
            continue;
        }
        if (tribe_digit_at(text, n, i, &len) < 0) {
            i += len;
            continue;
        }
        number nb = {.o = 0};
        size_t start = i, end = read_number(text, n, i, &nb);
        i = end;
        double v = nb.over ? NAN : strtod(nb.num, NULL);
        int decimals = nb.decimals;
        /* The written token: optional sign, optional currency sign, digits,
         * optional percent sign. A minus counts only when it is not a range
         * dash ("35-44"). */
        size_t lead = start;
        int foreign = 0;
        size_t cur = currency_len_before(sc, text, lead, &foreign);
        int money = cur > 0, neg = 0;
        lead -= cur;
        if (lead >= 1 && text[lead - 1] == '-' && (lead == 1 || !isalnum((unsigned char)text[lead - 2]))) {
            neg = 1;
            lead--;
        }
        int pct = 0;
        if (text[end] == '%')
            pct = 1, end++;
        else if (text[end] == ' ' && text[end + 1] == '%')
            pct = 1, end += 2;
        else if (strncmp(text + end, " percent", 8) == 0 || strncmp(text + end, " per cent", 9) == 0)
            pct = 1;
        if (neg)
            v = -v;
        char written[64];
        copy_written(written, sizeof written, text, lead, end);
        int fig;
        if (pct)
            fig = match(sc->figs, v, decimals, TRIBE_FIG_PCT, 0);
        else if (money) /* money in another currency than the data's is no figure of it */
            fig = foreign ? -2 : match(sc->figs, v, decimals, TRIBE_FIG_MONEY, 0);
        else {
            fig = -2;
            /* a number of the age band is its own evidence only as an age: in
             * the band itself, or written as one ("aged 45", "45 years old") */
            for (int a = 0; a < sc->n_age && decimals == 0 && (strcmp(field, "age_band") == 0 ||
                                                                  as_age(text, lead, end, sc->band)); a++)
                if ((double)sc->age[a] == v)
                    fig = -1;
            if (fig == -2)
                fig = match(sc->figs, v, decimals, TRIBE_FIG_RAW, 1);
        }
        TRIBE_TRY(sc->fn(sc->ctx, field, written, fig));
        i = end > i ? end : i;
    }
cleanup:
    return st;
}

const char *const TRIBE_AGE_BANDS[TRIBE_N_AGE_BANDS] = {"18-24", "25-34", "35-44", "45-54", "55-64", "65+"};

tribe_status tribe_persona_scan(const tribe_persona *p, const tribe_segments *segs, const tribe_figures *figs,
                                tribe_cite_fn fn, void *ctx)
{
    tribe_status st = TRIBE_OK;
    const char **protect = NULL;
    int c = tribe_segments_index(segs, p->segment);
    if (c < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "persona refers to segment %d, which is not among the %d segments",
                          p->segment, segs->k);
    int cap = 2 + segs->d + TRIBE_SEG_OFFERS;
    for (int m = 0; m < segs->n_mix; m++)
        cap += segs->mix[m].n_levels + 1;
    TRIBE_TRY(tribe_calloc((void **)&protect, (size_t)cap, sizeof *protect));
    scan_ctx sc = {.protect = protect, .band = p->age_band, .figs = figs, .cur = &segs->currency, .fn = fn, .ctx = ctx};
    /* Longest first would matter only for nested names; names are short. */
    if (has_digit(segs->seg[c].name))
        protect[sc.n_protect++] = segs->seg[c].name;
    if (p->segment_name && has_digit(p->segment_name) && strcmp(p->segment_name, segs->seg[c].name) != 0)
        protect[sc.n_protect++] = p->segment_name;
    /* Feature names are the data's own names too ("f03", "var_12"). */
    for (int j = 0; j < segs->d; j++)
        if (has_digit(segs->feature_names[j]))
            protect[sc.n_protect++] = segs->feature_names[j];
    for (int m = 0; m < segs->n_mix; m++) {
        if (has_digit(segs->mix[m].name))
            protect[sc.n_protect++] = segs->mix[m].name;
        for (int l = 0; l < segs->mix[m].n_levels; l++)
            if (has_digit(segs->mix[m].levels[l]))
                protect[sc.n_protect++] = segs->mix[m].levels[l];
    }
    /* Offered items are the data's names too ("PACK OF 72 RETROSPOT CAKE CASES") */
    for (int q = 0; q < segs->seg[c].n_offers && q < TRIBE_SEG_OFFERS; q++)
        if (has_digit(segs->seg[c].offer[q].name))
            protect[sc.n_protect++] = segs->seg[c].offer[q].name;
    for (const char *a = p->age_band; a && *a && sc.n_age < 4;) {
        if (isdigit((unsigned char)*a)) {
            char *e;
            sc.age[sc.n_age++] = strtol(a, &e, 10);
            a = e;
        } else
            a++;
    }

    char field[32];
    TRIBE_TRY(scan_text(&sc, "name", p->name));
    TRIBE_TRY(scan_text(&sc, "age_band", p->age_band));
    TRIBE_TRY(scan_text(&sc, "occupation", p->occupation));
    TRIBE_TRY(scan_text(&sc, "bio", p->bio));
    for (int g = 0; g < p->n_goals; g++) {
        snprintf(field, sizeof field, "goals[%d]", g);
        TRIBE_TRY(scan_text(&sc, field, p->goals[g]));
    }
    for (int g = 0; g < p->n_frustrations; g++) {
        snprintf(field, sizeof field, "frustrations[%d]", g);
        TRIBE_TRY(scan_text(&sc, field, p->frustrations[g]));
    }
    for (int g = 0; g < p->n_channels; g++) {
        snprintf(field, sizeof field, "channels[%d]", g);
        TRIBE_TRY(scan_text(&sc, field, p->channels[g]));
    }
    TRIBE_TRY(scan_text(&sc, "quote", p->quote));
    TRIBE_TRY(scan_text(&sc, "email_subject", p->email_subject));
    TRIBE_TRY(scan_text(&sc, "email_body", p->email_body));
    TRIBE_TRY(scan_text(&sc, "tagline", p->tagline));
    TRIBE_TRY(scan_text(&sc, "image_prompt", p->image_prompt));
cleanup:
    free(protect);
    return st;
}

typedef struct {
    const tribe_persona *p;
} check_ctx;

static tribe_status check_one(void *ctx, const char *field, const char *written, int fig)
{
    const check_ctx *cc = ctx;
    if (fig != -2)
        return TRIBE_OK;
    return tribe_fail(TRIBE_ERR_INTERNAL,
                      "persona '%s' of segment %d (%s): %s states '%s', which is not a figure of the segment",
                      cc->p->name ? cc->p->name : "?", cc->p->segment,
                      cc->p->segment_name ? cc->p->segment_name : "?", field, written);
}

int tribe_age_band_ok(const char *band)
{
    int ok = !band;
    for (int b = 0; b < TRIBE_N_AGE_BANDS && band; b++)
        ok |= strcmp(band, TRIBE_AGE_BANDS[b]) == 0;
    return ok;
}

tribe_status tribe_persona_check_grounded(const tribe_persona *p, const tribe_segments *segs)
{
    tribe_status st = TRIBE_OK;
    tribe_figures figs = {0};
    int c = tribe_segments_index(segs, p->segment);
    if (c < 0)
        return tribe_fail(TRIBE_ERR_INTERNAL, "persona refers to segment %d, which is not among the %d segments",
                          p->segment, segs->k);
    if (!tribe_age_band_ok(p->age_band))
        return tribe_fail(TRIBE_ERR_INTERNAL, "persona '%s' of segment %d (%s): age_band '%.20s' is not one of 18-24, "
                          "25-34, 35-44, 45-54, 55-64, 65+", p->name ? p->name : "?", p->segment,
                          p->segment_name ? p->segment_name : "?", p->age_band);
    TRIBE_TRY(tribe_figures_collect(segs, c, &figs));
    check_ctx cc = {p};
    TRIBE_TRY(tribe_persona_scan(p, segs, &figs, check_one, &cc));
cleanup:
    tribe_figures_free(&figs);
    return st;
}
