/* Internal to src/report (not a public header): helpers shared by the
 * segments.csv writer and the HTML sections. Not collective. */
#ifndef TRIBE_REPORT_INTERNAL_H
#define TRIBE_REPORT_INTERNAL_H

#include "tribe/report.h"

#include <stddef.h>

/* Appends to `b`; on failure jumps to the function's cleanup. */
#define OUT(...) TRIBE_TRY(tribe_sbuf_printf(b, __VA_ARGS__))
#define PUT(s) TRIBE_TRY(tribe_sbuf_add(b, (s)))
#define ESC(s) TRIBE_TRY(tribe_html_esc(b, (s)))

/* "ltv.seg_mean" -> "Ltv seg mean": a key as a label. */
void report_pretty_key(const char *k, char *buf, size_t cap);

/* A silhouette in words, Kaufman & Rousseeuw's bands: "strong structure"
 * (> 0.70), "reasonable structure" (0.51-0.70), "weak structure, could be
 * artificial" (0.26-0.50), "no substantial structure" (<= 0.25). */
const char *report_silhouette_band(double silhouette);

/* The swatch and name of segment c as a table cell. NOMEM. */
tribe_status report_seg_cell(tribe_sbuf *b, const tribe_segments *s, int c);

/* Index of the entry of segment `id` among the k entries of an array
 * (personas, plan rows, images: `size` bytes each, the int segment id at
 * byte offset `off`), or -1 (also when arr is NULL). Entries usually come in
 * segment order, so index c is tried first. REPORT_ENTRY takes the array. */
int report_entry_of(const void *arr, size_t size, size_t off, int k, int c, int id);
#define REPORT_ENTRY(arr, k, c, id)                                                                              \
    report_entry_of((arr), sizeof *(arr), offsetof(__typeof__(*(arr)), segment), (k), (c), (id))

#endif
