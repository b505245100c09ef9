/* tribe/report.h: what rank 0 writes for the marketer besides personas.json:
 * segments.csv (one row per segment) and report.html (one self-contained
 * page: no scripts, fonts, images or styles from outside; inline CSS and SVG).
 * Formats and contents are documented in docs/outputs.md.
 *
 * Usage (rank 0, after the personas are written):
 *     TRIBE_TRY(tribe_segments_csv("out/segments.csv", segs, personas, NULL));
 *     TRIBE_TRY(tribe_report_html("out/report.html", segs, personas, proj, run_json));
 *
 * Ownership: nothing here keeps or frees the caller's data; the *_text
 * variants hand back a string the caller frees.
 * Not collective: rank 0 only.
 */
#ifndef TRIBE_REPORT_H
#define TRIBE_REPORT_H

#include "tribe/campaign.h"
#include "tribe/core.h"
#include "tribe/llm.h"
#include "tribe/persona.h"
#include "tribe/segment.h"

/* segments.csv as text: header segment_id,name,size,share,revenue_share,
 * then outliers when `outliers` (customers flagged per segment, [s->k] in
 * segment order) is not NULL, then
 * mean_<feature>,median_<feature> for each feature in order, then
 * persona_name,tagline (empty when p is NULL). RFC 4180: CRLF line ends,
 * fields with a comma, quote or line break are quoted with doubled quotes.
 * Numbers print with up to 10 significant digits; NaN is an empty field.
 * p, if not NULL, is an array of s->k personas (matched by segment id).
 * Errors: NOMEM; INTERNAL when a persona refers to no segment. */
tribe_status tribe_segments_csv_text(const tribe_segments *s, const tribe_persona *p, const int64_t *outliers,
                                     char **out);
/* Writes segments.csv atomically (tmp file + rename). Errors: as above, IO naming the path. */
tribe_status tribe_segments_csv(const char *path, const tribe_segments *s, const tribe_persona *p,
                                const int64_t *outliers);

/* report.html as text. p (array of s->k), proj and run_json may each be NULL;
 * the sections they feed then say so. run_json is a JSON object (run_id,
 * seed, input, k, ..., "ledger": {...}, "timings": {...}): scalar fields
 * become the run facts in the header, ledger and timings (and any other
 * object) become tables. The scatter shows at most 3,000 points of proj
 * (an even stride through the sample, so the picture is deterministic).
 * Errors: INPUT when run_json is not a JSON object; NOMEM. */
tribe_status tribe_report_html_text(const tribe_segments *s, const tribe_persona *p, const tribe_projection *proj,
                                    const char *run_json, char **out);
/* Writes report.html atomically. Errors: as above, IO naming the path. */
tribe_status tribe_report_html(const char *path, const tribe_segments *s, const tribe_persona *p,
                               const tribe_projection *proj, const char *run_json);

/* As the two above, plus a "Campaign plan" section (after the personas) when
 * plan (array of s->k, tribe/campaign.h) is not NULL. */
tribe_status tribe_report_html_campaign_text(const tribe_segments *s, const tribe_persona *p,
                                             const tribe_projection *proj, const char *run_json,
                                             const tribe_campaign_plan *plan, char **out);
tribe_status tribe_report_html_campaign(const char *path, const tribe_segments *s, const tribe_persona *p,
                                        const tribe_projection *proj, const char *run_json,
                                        const tribe_campaign_plan *plan);

/* As the campaign variants, plus each persona card's image when img (array
 * of s->k, tribe/llm.h, matched by segment id) is not NULL and the entry
 * holds a PNG or JPEG: embedded as a data: URI, so the page stays
 * self-contained. Entries without an image leave the card without one. */
tribe_status tribe_report_html_full_text(const tribe_segments *s, const tribe_persona *p,
                                         const tribe_projection *proj, const char *run_json,
                                         const tribe_campaign_plan *plan, const tribe_persona_image *img, char **out);
tribe_status tribe_report_html_full(const char *path, const tribe_segments *s, const tribe_persona *p,
                                    const tribe_projection *proj, const char *run_json,
                                    const tribe_campaign_plan *plan, const tribe_persona_image *img);

#endif
