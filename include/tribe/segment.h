/* tribe/segment.h: what the clustering stage hands to rank 0's writers
 * (personas, report, CSV): per-segment profiles in raw (business) units, with
 * the figures later stages add (drivers, predicted value, outlier counts).
 *
 * Shapes: k segments, d numeric features, feature_names[d] shared by all.
 * Segment ids are 0..k-1, ordered by descending mean monetary value, so the
 * same data and seed give the same ids.
 *
 * Ownership: a tribe_segments owns every array it points to;
 * tribe_segments_destroy frees all, accepts NULL, sets the pointer to NULL.
 * Not collective: built collectively by the cluster stage (tribe/cluster.h),
 * then identical on every rank.
 */
#ifndef TRIBE_SEGMENT_H
#define TRIBE_SEGMENT_H

#include "tribe/core.h"
#include "tribe/currency.h"

typedef struct {
    char *name;         /* categorical column, e.g. "device" */
    int n_levels;
    char **levels;      /* [n_levels] */
    int64_t *count;     /* [k+1][n_levels]: per segment, last row = whole base */
} tribe_segmix;

/* Are the segments really different? (docs/clustering.md, "Are the segments
 * different?"; tribe_kw_test in tribe/kruskal.h). Per feature j, over the
 * customers whose value is not NaN: a Kruskal-Wallis H test across the
 * segments (tie-corrected), its chi-square(k_used - 1) p-value, the Holm
 * adjustment of those p over the features, the effect size epsilon^2 =
 * H / (n - 1), and Cliff's delta for every pair of segments. H, p, p_holm and
 * eps2 are NaN where the test is undefined: fewer than two segments with a
 * value, or every value equal (constant feature: no ranks to compare). */
typedef struct {
    int k, d;
    int64_t *n;      /* [d] values tested (non-NaN) */
    int *k_used;     /* [d] segments with at least one value (df = k_used - 1) */
    double *h;       /* [d] tie-corrected H */
    double *p;       /* [d] raw p-value */
    double *p_holm;  /* [d] Holm-adjusted p over the features with a p */
    double *eps2;    /* [d] epsilon^2 = H / (n - 1), in [0, 1] */
    double *delta;   /* [d][k][k] Cliff's delta of segment a against b: P(a > b) - P(a < b),
                        in [-1, 1]; delta[b][a] = -delta[a][b]; NaN when a or b has no value */
} tribe_segtest;

/* Allocates a NaN-filled tribe_segtest for k segments and d features (n and
 * k_used 0). Errors: NOMEM. Not collective. */
tribe_status tribe_segtest_create(int k, int d, tribe_segtest **out);
/* Frees t and its arrays; accepts NULL; sets *t = NULL. */
void tribe_segtest_destroy(tribe_segtest **t);

/* Drivers kept per segment (tribe_segment.driver_*). */
#define TRIBE_SEG_DRIVERS 5

/* Offers kept per segment (tribe_segment.offer, docs/offers.md). */
#define TRIBE_SEG_OFFERS 10

/* An item the segment buys more than the base (the offers stage). */
typedef struct {
    char name[96];      /* the item as a person reads it (product description or category), UTF-8 */
    double lift;        /* share / base_share */
    double share;       /* of the segment's customers who bought it */
    double base_share;  /* of all customers who bought it */
    int64_t customers;  /* the segment's customers who bought it */
} tribe_segoffer;

typedef struct {
    int id;
    char name[64];      /* RFM-style name, unique in the run ("Champions", "At Risk 2", ...) */
    int64_t size;       /* customers */
    double share;       /* size / n_total */
    double revenue_share; /* sum(monetary) in segment / sum over all; NaN without a monetary column */
    double *mean;       /* [d] raw feature means (NaN-skipping) */
    double *median;     /* [d] raw feature medians (exact, NaN-skipping) */
    double *q1, *q3;    /* [d] raw feature quartiles (exact, NaN-skipping, numpy's
                           'linear' rule: see tribe_xstats_quantiles) */
    double *centroid;   /* [d] centroid in the transformed (model) space */
    /* Top segment drivers (docs/gbdt.md): the features whose mean |SHAP| of
     * this segment's class output is largest, by that value descending, ties
     * by lower feature index; features with zero attribution are left out.
     * n_drivers = 0 when drivers were not computed (drivers.enabled false,
     * one segment). */
    int n_drivers;
    int driver_feature[TRIBE_SEG_DRIVERS]; /* index into feature_names */
    double driver_shap[TRIBE_SEG_DRIVERS]; /* mean |SHAP|, log-odds */
    /* Predicted lifetime value over the next ltv_horizon_days (tribe_segments)
     * when the run fitted the LTV model (docs/ltv.md), else NaN. */
    double ltv_mean, ltv_median, ltv_total;
    double ltv_lo, ltv_hi; /* 95% bootstrap interval of ltv_mean (docs/ltv.md), NaN without one */
    /* Churn (docs/churn.md): mean risk of no purchase over the next
     * churn_horizon_days and the share of customers at risk >= churn_high_risk
     * (tribe_segments), when the run fitted the churn model, else NaN. */
    double churn_mean, churn_high;
    /* Customers the outliers stage flagged in the segment, -1 when it did
     * not run (docs/clustering.md). */
    int64_t outliers;
    /* What the segment buys more than the base (offers stage, docs/offers.md):
     * by lift descending; n_offers 0 when not computed or none passed the
     * support thresholds. */
    int n_offers;
    tribe_segoffer offer[TRIBE_SEG_OFFERS];
} tribe_segment;

typedef struct {
    int k, d;
    int64_t n_total;
    char **feature_names;   /* [d] */
    tribe_segment *seg;     /* [k] */
    double *overall_mean;   /* [d] whole base */
    double *overall_median; /* [d] whole base */
    double *overall_q1, *overall_q3; /* [d] whole base quartiles */
    int n_mix;
    tribe_segmix *mix;      /* [n_mix] categorical mixes */
    double silhouette;      /* sampled mean silhouette, NaN if not computed */
    double silhouette_ci;   /* half-width of its 95% interval */
    double inertia;         /* sum of squared distances in model space */
    double ltv_horizon_days;  /* horizon of the seg[].ltv_* figures, NaN without an LTV model */
    double churn_horizon_days, churn_high_risk; /* of the seg[].churn_* figures, NaN without a churn model */
    tribe_currency currency;  /* of the money figures (the table's; the default when created) */
    int n_topics;             /* the text topics of `ingest --text` (stage text), 0 without */
    char **topics;            /* [n_topics] topic_t's top terms, space-separated, best first */
    tribe_segtest *kw;        /* Kruskal-Wallis and pairwise effect sizes, NULL when not computed */
} tribe_segments;

/* Allocates k segments with d-wide arrays (NaN-filled) and copies the names. */
tribe_status tribe_segments_create(int k, int d, const char *const *feature_names, tribe_segments **out);
/* Fills every segment's top drivers from mean_abs[k][m] (mean |SHAP| per
 * segment per model column, names[m] the model columns' names, which must
 * be features of s): at most TRIBE_SEG_DRIVERS a segment, by mean |SHAP|
 * descending, ties by lower feature index, non-positive or NaN values left
 * out. Returns TRIBE_ERR_INTERNAL (s unchanged) when k differs from s->k or
 * a name is not a feature of s. Not collective. */
tribe_status tribe_segments_set_drivers(tribe_segments *s, int k, int m, const char *const *names,
                                        const double *mean_abs);
/* Index of a feature by name, or -1. */
int tribe_segments_feature(const tribe_segments *s, const char *name);
void tribe_segments_destroy(tribe_segments **s);

/* segments.json (docs/outputs.md): the whole of s as JSON text (caller
 * frees): counts, names, every figure, the drivers (by feature name), the
 * predicted value, outlier counts, the whole base, the categorical mixes
 * (k + 1 rows of counts) and the run's silhouette, interval and inertia.
 * Doubles are printed with %.17g, so tribe_segments_from_json gives back the
 * same bits; non-finite numbers are written as null (read back as NaN).
 * Errors: NOMEM, INTERNAL for s NULL. Not collective; no shared state (safe
 * from any thread on distinct outputs). */
tribe_status tribe_segments_to_json(const tribe_segments *s, char **out);
/* segments.json text read back into a new *out (caller destroys): equal to
 * what was written field by field. Integers are exact up to 2^53. INPUT
 * naming the member at fault ("segments.json: segments[2].median is not an
 * array of d numbers") for anything that is not that schema; NOMEM. *out is
 * untouched on error. Not collective; no shared state. */
tribe_status tribe_segments_from_json(const char *text, tribe_segments **out);

#endif
