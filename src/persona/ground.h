/* Internal to src/persona: the figures a persona may state and the scanner
 * that finds every number in a persona's text (used by
 * tribe_persona_check_grounded and by the "evidence" of personas.json).
 *
 * A number written in the text is grounded when it equals, within the
 * rounding of the precision it is printed with, a figure of its segment:
 *   - "12.3%" (or "12.3 percent") must be a share: size share, revenue
 *     share, or the share of a categorical level (segment or whole base);
 *   - "£1,234" (the run's currency symbol, or $, £, €, ¥) must be a money
 *     feature's mean or median (segment or base); $, £, €, ¥ other than the
 *     run's symbol ("£" in a dollar run) match nothing;
 *   - a bare number may be any figure (counts, means, medians, shares x 100);
 *   - or, bare and whole, a number of the persona's age band ("35-44").
 * A number is any run of decimal digits of any script (Unicode category Nd:
 * "９８７６５４" is 987654), wherever it stands: "GBP987654" and "x4321" are
 * numbers too. Digits inside the segment's name ("At Risk 2"), a feature's
 * name ("f03") or a categorical level name, written as a whole token, are
 * part of that name, not figures, and are skipped. Numbers in words
 * ("forty-five") are not read: a documented limit (docs/personas-llm.md).
 *
 * Not collective.
 */
#ifndef TRIBE_PERSONA_GROUND_H
#define TRIBE_PERSONA_GROUND_H

#include "tribe/persona.h"

typedef enum { TRIBE_FIG_RAW = 0, TRIBE_FIG_MONEY, TRIBE_FIG_PCT } tribe_fig_kind;

typedef struct {
    char id[160];        /* "size", "share", "revenue_share", "median.monetary",
                            "mean.frequency", "mix.country.France", "base.size",
                            "base.median.monetary", "base.mix.device.app" */
    double value;        /* as stored in tribe_segments (shares as fractions) */
    double shown;        /* as written in text (shares x 100) */
    tribe_fig_kind kind;
} tribe_figure;

typedef struct {
    int n, cap;
    tribe_figure *f; /* segment's own figures first, then the whole base's */
} tribe_figures;

/* Index of the segment whose id is `id`, or -1. */
int tribe_segments_index(const tribe_segments *segs, int id);
/* Collects the finite figures of segment index c. */
tribe_status tribe_figures_collect(const tribe_segments *segs, int c, tribe_figures *out);
void tribe_figures_free(tribe_figures *f);

/* 1 when band is one of TRIBE_AGE_BANDS (NULL is no band: 1). */
int tribe_age_band_ok(const char *band);

/* Called for every number found, in text order. `written` is the number as
 * printed (with its currency sign or percent sign); fig is the index of the
 * first matching figure, -1 for an age-band number, -2 when nothing matches.
 * A non-OK return stops the scan and is returned. */
typedef tribe_status (*tribe_cite_fn)(void *ctx, const char *field, const char *written, int fig);
tribe_status tribe_persona_scan(const tribe_persona *p, const tribe_segments *segs, const tribe_figures *figs,
                                tribe_cite_fn fn, void *ctx);

#endif
