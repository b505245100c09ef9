/* segments.csv: one row per segment (tribe/report.h, docs/outputs.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* Text cells: quoting and the formula rule of tribe_csv_cell (docs/outputs.md). */
static tribe_status field(tribe_sbuf *b, const char *v)
{
    return v ? tribe_sbuf_csv_cell(b, v) : TRIBE_OK;
}

static tribe_status number(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, ",%.10g", v) : tribe_sbuf_add(b, ",");
}

tribe_status tribe_segments_csv_text(const tribe_segments *s, const tribe_persona *p, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    char name[160];
    int outliers = 0;
    for (int c = 0; c < s->k; c++)
        outliers |= s->seg[c].outliers >= 0;
    TRIBE_TRY(tribe_sbuf_add(&b, outliers ? "segment_id,name,size,share,revenue_share,outliers"
                                          : "segment_id,name,size,share,revenue_share"));
    int churn = isfinite(s->churn_horizon_days); /* the churn model's columns (docs/churn.md) */
    if (churn)
        TRIBE_TRY(tribe_sbuf_add(&b, ",churn_risk_mean,churn_high_share"));
    for (int j = 0; j < s->d; j++) {
        snprintf(name, sizeof name, "mean_%s", s->feature_names[j]);
        TRIBE_TRY(tribe_sbuf_add(&b, ","));
        TRIBE_TRY(field(&b, name));
        snprintf(name, sizeof name, "median_%s", s->feature_names[j]);
        TRIBE_TRY(tribe_sbuf_add(&b, ","));
        TRIBE_TRY(field(&b, name));
    }
    TRIBE_TRY(tribe_sbuf_add(&b, ",persona_name,tagline,currency\r\n"));
    for (int c = 0; c < s->k; c++) {
        const tribe_segment *g = &s->seg[c];
        int pi = REPORT_ENTRY(p, s->k, c, g->id);
        const tribe_persona *pc = pi >= 0 ? &p[pi] : NULL;
        if (p && !pc) {
            st = tribe_fail(TRIBE_ERR_INTERNAL, "segments.csv: no persona for segment %d (%s)", g->id, g->name);
            goto cleanup;
        }
        TRIBE_TRY(tribe_sbuf_printf(&b, "%d,", g->id));
        TRIBE_TRY(field(&b, g->name));
        TRIBE_TRY(tribe_sbuf_printf(&b, ",%lld", (long long)g->size));
        TRIBE_TRY(number(&b, g->share));
        TRIBE_TRY(number(&b, g->revenue_share));
        if (outliers)
            TRIBE_TRY(tribe_sbuf_printf(&b, ",%lld", (long long)g->outliers));
        if (churn) {
            TRIBE_TRY(number(&b, g->churn_mean));
            TRIBE_TRY(number(&b, g->churn_high));
        }
        for (int j = 0; j < s->d; j++) {
            TRIBE_TRY(number(&b, g->mean[j]));
            TRIBE_TRY(number(&b, g->median[j]));
        }
        TRIBE_TRY(tribe_sbuf_add(&b, ","));
        TRIBE_TRY(field(&b, pc ? pc->name : NULL));
        TRIBE_TRY(tribe_sbuf_add(&b, ","));
        TRIBE_TRY(field(&b, pc ? pc->tagline : NULL));
        TRIBE_TRY(tribe_sbuf_add(&b, ","));
        TRIBE_TRY(field(&b, s->currency.code)); /* the unit of the money columns */
        TRIBE_TRY(tribe_sbuf_add(&b, "\r\n"));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

tribe_status tribe_segments_csv(const char *path, const tribe_segments *s, const tribe_persona *p)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL;
    TRIBE_TRY(tribe_segments_csv_text(s, p, &text));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
cleanup:
    free(text);
    return st;
}
