/* tribe/dbscan.h: DBSCAN noise as the outlier rule (job key
 * outliers.method "dbscan"; docs/clustering.md, "Outliers").
 *
 * Usage (z: the model matrix of tribe/cluster.h on this rank's rows):
 *     tribe_dbscan_cfg cfg = {.sample_size = 20000, .min_samples = 0, .eps = 0, .seed = 42};
 *     TRIBE_TRY(tribe_dbscan_fit(&zm, &cfg, cluster, flag, score, &db));    // collective
 *     ... db->eps, db->n_core, db->n_clusters, db->cluster_size ...
 *     tribe_dbscan_destroy(&db);
 *
 * What it computes. DBSCAN (Ester et al. 1996, scikit-learn's definitions) on
 * a sample of about sample_size customers drawn by GLOBAL row index (the same
 * sample on any number of ranks), gathered to every rank:
 *   - a sample point is a CORE point when at least min_samples sample points,
 *     itself included, lie within eps of it (Euclidean, squared distances
 *     summed in double over the columns in order, compared with eps * eps);
 *   - DBSCAN clusters are the connected components of core points within eps
 *     of each other, numbered 0, 1, ... by their first core point in global
 *     row order;
 *   - every customer (the sample's and all others, each on its own rank) is
 *     labelled by its NEAREST core point: within eps, that core point's
 *     cluster; otherwise noise (cluster -1), flagged as an outlier. score =
 *     distance to the nearest core point / eps (> 1 exactly for noise).
 * On the sample this gives scikit-learn's core points and noise set exactly;
 * a border point (not core, within eps of cores of two clusters) takes the
 * nearest core's cluster, where scikit-learn takes whichever cluster reached
 * it first.
 *
 * eps when not given (cfg.eps 0): the knee of the k-distance curve, k =
 * min_samples: each sample point's distance to its min_samples-th nearest
 * sample point counting itself (so a point is core exactly when its
 * k-distance is <= eps), sorted ascending; both axes scaled to [0, 1]; the
 * knee is the point furthest below the chord from the first to the last
 * point (Kneedle's difference curve x - y, lowest index on ties); eps is its
 * k-distance (rounded up to the smallest double whose square reaches it).
 *
 * Search: exact nearest core points by a scan outward along the sample's
 * first principal axis, pruned by Cauchy-Schwarz (src/cluster/dbscan.c);
 * the cost is set by how many core points project within reach.
 *
 * Determinism: the sample, the core points, the clusters and eps are the
 * same on every rank and any rank or thread count; each customer's label and
 * score depend on its own row only (ties between core points at the same
 * distance go to the lower sample index). Bit-identical on 1, 2, 4 ranks.
 *
 * Ownership: tribe_dbscan objects are the caller's, freed by
 * tribe_dbscan_destroy; per-customer outputs are caller-sized arrays.
 */
#ifndef TRIBE_DBSCAN_H
#define TRIBE_DBSCAN_H

#include "tribe/cluster.h"

typedef struct {
    int64_t sample_size; /* customers sampled, in expectation (job key outliers.sample_size, 20000) */
    int min_samples;     /* 0 = 2 x columns (Sander et al. 1998) */
    double eps;          /* 0 = from the k-distance knee */
    uint64_t seed;       /* of the sample */
} tribe_dbscan_cfg;

/* The fitted model: the core points and what the labelling found. */
typedef struct tribe_dbscan {
    int d;                  /* columns */
    int min_samples;
    double eps, eps2;       /* eps2 = eps * eps, the comparison made */
    int eps_from_knee;      /* 1: eps was chosen by the knee */
    int64_t m;              /* sample points */
    int64_t knee;           /* index of the knee on the sorted curve (-1: eps given) */
    int64_t n_core;         /* core points of the sample */
    int n_clusters;         /* DBSCAN clusters (>= 1) */
    float *core;            /* [n_core][d] core points, ascending by key (then sample index) */
    double *key;            /* [n_core] their projection on axis */
    double *axis;           /* [d] the sample's first principal axis (unit): the search order */
    double tol;             /* rounding allowance of the sample's projections */
    int64_t *core_index;    /* [n_core] sample index of each (with tribe_dbscan_fit: global row) */
    int32_t *core_cluster;  /* [n_core] cluster of each */
    int64_t *core_count;    /* [n_clusters] core points per cluster */
    /* tribe_dbscan_fit only (zero otherwise): over all customers */
    int64_t *cluster_size;  /* [n_clusters] customers labelled with each cluster */
    int64_t noise;          /* customers that are noise (flagged) */
} tribe_dbscan;

/* Not collective. The knee of a k-distance curve y[m]
 * (ascending): the index i maximising i / (m - 1) - (y[i] - y[0]) /
 * (y[m-1] - y[0]), lowest on ties; m - 1 when the curve is flat or m < 3. */
int64_t tribe_dbscan_knee(const double *y, int64_t m);

/* Not collective; OpenMP inside. kd2[m] = squared distance from each point
 * of s[m][d] to its k-th nearest point of s counting itself (k = 1: 0),
 * exact (a sort on the first principal axis prunes, it never approximates).
 * Errors: USAGE for k < 1 or k > m, NOMEM. */
tribe_status tribe_dbscan_kdist(const float *s, int64_t m, int d, int k, double *kd2);

/* Not collective; OpenMP inside. DBSCAN of the points s[m][d] (see the top of
 * this file): eps > 0 as given, or eps 0 for the knee; min_samples >= 1.
 * *out (caller frees) has the core points and clusters. Errors: USAGE for
 * min_samples < 1 or > m, eps negative or not finite; INPUT when no point is
 * core (eps given too small for min_samples: the message says so); NOMEM. */
tribe_status tribe_dbscan_fit_sample(const float *s, int64_t m, int d, int min_samples, double eps,
                                     tribe_dbscan **out);

/* Not collective; OpenMP over the rows; allocates nothing. Labels x[n][d]
 * (d = db->d) by the nearest core point: cluster[n] (-1 = noise), flag[n]
 * (1 = noise), score[n] = distance to the nearest core / eps. Any of the
 * three outputs may be NULL. */
void tribe_dbscan_assign(const tribe_dbscan *db, const float *x, int64_t n, int32_t *cluster, uint8_t *flag,
                         float *score);

/* Collective. Draws the sample (RNG stream TRIBE_STREAM_DBSCAN_SAMPLE, by
 * global row), gathers it to every rank, fits it (tribe_dbscan_fit_sample,
 * on every rank alike; core_index then holds global rows), labels this
 * rank's rows z->x into cluster[n_local], flag[n_local], score[n_local]
 * (caller-sized) and sums cluster_size and noise over ranks. min_samples 0
 * means 2 x d. Errors: those of fit_sample (identical on every rank), INPUT
 * also when the sample has fewer than min_samples rows, NOMEM, ENV. *out
 * NULL on error. */
tribe_status tribe_dbscan_fit(const tribe_dmat *z, const tribe_dbscan_cfg *cfg, int32_t *cluster, uint8_t *flag,
                              float *score, tribe_dbscan **out);

/* Accepts NULL; sets *p = NULL. */
void tribe_dbscan_destroy(tribe_dbscan **p);

#endif
