/* tribe/report.h: what rank 0 writes for the marketer besides personas.json:
 * segments.csv (one row per segment) and report.html (one self-contained
 * page: no scripts, fonts, images or styles from outside; inline CSS and SVG).
 * Formats and contents are documented in docs/outputs.md.
 *
 * The page is built from sections. Each stage of the pipeline (tribe/stage.h)
 * appends its own sections to a buffer, by calling the section writers below
 * on its own structs (or, for a new stage, with the building blocks at the
 * end); tribe_report_html wraps them in the page: header with the run facts,
 * navigation (one link per section), the run details and footer.
 *
 * A section is `<section id="ID" data-nav="Label">` ... `</section>`: the id
 * is its anchor, data-nav its label in the navigation bar.
 *
 * Ownership: nothing here keeps or frees the caller's data; *out strings are
 * the caller's. Not collective: rank 0 only.
 */
#ifndef TRIBE_REPORT_H
#define TRIBE_REPORT_H

#include "tribe/campaign.h"
#include "tribe/cluster.h"
#include "tribe/continuity.h"
#include "tribe/core.h"
#include "tribe/drivers.h"
#include "tribe/llm.h"
#include "tribe/ltv.h"
#include "tribe/churn.h"
#include "tribe/persona.h"
#include "tribe/record.h"
#include "tribe/sbuf.h"
#include "tribe/segment.h"

/* ---- segments.csv --------------------------------------------------------- */

/* segments.csv as text: header segment_id,name,size,share,revenue_share,
 * then outliers when any segment has an outlier count (seg.outliers >= 0),
 * then mean_<feature>,median_<feature> for each feature in order, then
 * persona_name,tagline (empty when p is NULL). RFC 4180: CRLF line ends,
 * fields with a comma, quote or line break are quoted with doubled quotes.
 * Numbers print with up to 10 significant digits; NaN is an empty field.
 * p, if not NULL, is an array of s->k personas (matched by segment id).
 * Errors: NOMEM; INTERNAL when a persona refers to no segment. */
tribe_status tribe_segments_csv_text(const tribe_segments *s, const tribe_persona *p, char **out);
/* Writes segments.csv atomically (tmp file + rename). Errors: as above, IO naming the path. */
tribe_status tribe_segments_csv(const char *path, const tribe_segments *s, const tribe_persona *p);

/* ---- the page ------------------------------------------------------------- */

typedef struct {
    const tribe_segments *segs; /* the headline figures (customers, segments); may be NULL */
    const tribe_rec *record;    /* run facts (its scalars) in the header; "ledger", "timings" and
                                   "memory" in the run details; may be NULL */
    const char *sections;       /* the sections, in page order */
} tribe_report_page;

/* report.html as text. Errors: NOMEM. */
tribe_status tribe_report_html(const tribe_report_page *page, char **out);

/* ---- the sections of tribe's stages (each appends whole <section>s) ------- */

/* Key figures, "Segments at a glance" and "What makes each segment different". */
/* The executive summary ("In brief") and, with a previous run (c not NULL),
 * "What changed since the last run". */
tribe_status tribe_report_changes(tribe_sbuf *b, const tribe_segments *s, const tribe_changes *c);
tribe_status tribe_report_segments(tribe_sbuf *b, const tribe_segments *s);
/* "Choosing the number of segments" for a sweep of 2 or more K (nothing for one). */
tribe_status tribe_report_ksweep(tribe_sbuf *b, const tribe_ksweep *ks);
/* "Unusual customers". */
tribe_status tribe_report_outliers(tribe_sbuf *b, const tribe_segments *s, const tribe_outliers *o);
/* "How crisp are the segments": g the mixture, c the memberships' summary. */
tribe_status tribe_report_crispness(tribe_sbuf *b, const tribe_segments *s, const tribe_gmm *g,
                                    const tribe_gmm_crispness *c);
/* "How the segments nest": the Ward tree as a dendrogram. */
tribe_status tribe_report_nesting(tribe_sbuf *b, const tribe_segments *s, const tribe_ward *w);
/* "Segment map": at most 3,000 points of the projection sample (an even
 * stride, so the picture is deterministic). */
tribe_status tribe_report_map(tribe_sbuf *b, const tribe_segments *s, const tribe_projection *p);
/* "What drives each segment": features[dr->m] the model columns' names. */
tribe_status tribe_report_drivers(tribe_sbuf *b, const tribe_segments *s, const tribe_drivers *dr,
                                  const char *const *features);
/* "What customers write about": the topics' top terms (topics[n_topics],
 * space-separated; n_topics may be 0) and, per segment of at least k_min
 * customers, its mean sentiment, negative share and two largest topics
 * (from the segment means of the features sentiment, negative_share,
 * topic_<n>). */
tribe_status tribe_report_text(tribe_sbuf *b, const tribe_segments *s, int n_topics, const char *const *topics,
                               int64_t k_min);
/* "What each segment buys more than the base" (docs/offers.md): per segment
 * of at least k_min customers its offers (s->seg[].offer); categories = 1
 * when the items are categories. */
tribe_status tribe_report_offers(tribe_sbuf *b, const tribe_segments *s, int categories, int64_t k_min);
/* "Lifetime value". */
tribe_status tribe_report_ltv(tribe_sbuf *b, const tribe_segments *s, const tribe_ltv *lv);
/* Churn (docs/churn.md): both models' test-window metrics, the calibration
 * table, the per-segment risk. Rank 0. */
tribe_status tribe_report_churn(tribe_sbuf *b, const tribe_segments *s, const tribe_churn *ch);
/* "Personas": one card per segment (p[s->k], or a note when p is NULL), with
 * the segment's campaign (plan[s->k], may be NULL) and image (img[s->k], may
 * be NULL: PNG or JPEG entries embedded as data: URIs). */
tribe_status tribe_report_personas(tribe_sbuf *b, const tribe_segments *s, const tribe_persona *p,
                                   const tribe_campaign_plan *plan, const tribe_persona_image *img);
/* "Campaign plan" (plan[s->k]). */
tribe_status tribe_report_campaign(tribe_sbuf *b, const tribe_segments *s, const tribe_campaign_plan *plan);

/* ---- building blocks for a section ---------------------------------------- */

/* Appends s with &, <, >, " and ' escaped for HTML text and attribute values
 * (NULL appends nothing). NOMEM. */
tribe_status tribe_html_esc(tribe_sbuf *b, const char *s);
/* The colour of segment c as CSS (buf is used beyond the palette). */
const char *tribe_html_color(int c, char buf[32]);
/* A feature's label for a marketer ("recency_days" -> "Days since last order"). */
const char *tribe_html_feature_label(const char *f, char *buf, size_t cap);
/* Opens a section: <section id="id" data-nav="nav"><h2>title</h2> (title
 * escaped). Close it with tribe_sbuf_add(b, "</section>\n"). NOMEM. */
tribe_status tribe_html_section(tribe_sbuf *b, const char *id, const char *nav, const char *title);

#endif
