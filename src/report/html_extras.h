/* Internal to src/report: report.html sections for the beyond-K-Means
 * results (outliers, mixture crispness, Ward dendrogram). Not collective. */
#ifndef TRIBE_HTML_EXTRAS_H
#define TRIBE_HTML_EXTRAS_H

#include <cjson/cJSON.h>

#include "tribe/sbuf.h"
#include "tribe/segment.h"

/* Appends the "Unusual customers", "How crisp are the segments" and "How the
 * segments nest" sections for the run record's "outliers", "gmm" and "ward"
 * objects (written by tribe run), each only when its object is present, and
 * detaches those objects from run (so the run-details tables skip them). A
 * malformed object gives a note instead of a chart. run may be NULL.
 * Errors: NOMEM. */
tribe_status report_beyond_sections(tribe_sbuf *b, const tribe_segments *s, cJSON *run);

#endif
