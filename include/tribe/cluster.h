/* tribe/cluster.h: K-Means segmentation of the transformed customer matrix,
 * its quality (silhouette), per-segment statistics, RFM-style segment names,
 * a 2-D projection for plots, and beyond K-Means: outliers, soft membership
 * (diagonal Gaussian mixture) and the Ward tree of the segments.
 *
 * Usage (one rank's shard: z[n_local][d] from tribe/transform.h, rows
 * [offset, offset + n_local) of n_global, described once by a tribe_rows):
 *     tribe_rows rows;  TRIBE_TRY(tribe_rows_init(par, n, off, N, &rows));   // checked once, here
 *     tribe_dmat zm = {&rows, z, d};                                          // the matrix on those rows
 *     tribe_kmeans_cfg cfg;  tribe_kmeans_cfg_default(&cfg);  cfg.k = 6;  cfg.seed = 42;
 *     cfg.init = TRIBE_KMEANS_INIT_PARALLEL; cfg.algorithm = TRIBE_KMEANS_LLOYD; cfg.n_init = 3;  // optional
 *     TRIBE_TRY(tribe_kmeans_fit(&zm, &cfg, cent, &info));                         // cent[k][d]
 *     tribe_kmeans_assign(z, n, d, cent, k, label, dist2);                        // local
 *     TRIBE_TRY(tribe_kmeans_relabel(par, t, mon_col, k, d, cent, label, perm));  // stable ids
 *     TRIBE_TRY(tribe_silhouette_sample(&zm, label, k, 5000, seed, &sil, &ci));    // zm: tribe_dmat of z
 *     TRIBE_TRY(tribe_segments_build(par, t, label, k, cent, cols, d, mon_col, &segs));
 *     segs->silhouette = sil; segs->silhouette_ci = ci; segs->inertia = info.inertia;
 *     tribe_segments_name(segs);
 *     TRIBE_TRY(tribe_projection_fit(&zm, label, 2000, seed, &proj));
 *     // beyond K-Means (dist = Euclidean distance to the own centre):
 *     TRIBE_TRY(tribe_outliers_fit(par, dist, label, n, k, 3.0, flag, score, &outl));
 *     TRIBE_TRY(tribe_gmm_fit(&zm, label, k, cent, &gcfg, memb, &gmm));
 *     TRIBE_TRY(tribe_ward_fit(par, label, n, cent, k, d, &tree));
 *
 * Determinism: every function here returns bit-identical results for the
 * same data and seed on any number of ranks and OpenMP threads. Samples and
 * mini-batches are drawn by the counter RNG keyed by GLOBAL row index; every
 * reduction that feeds a result is exact (integer counts, tribe_xsum
 * fixed-point sums, max/min); serial steps (k-means++ seeding, eigen
 * decomposition, naming) run identically on every rank. See docs/clustering.md.
 *
 * Structure: kernels (tribe_kmeans_assign, tribe_kmeans_sums,
 * tribe_kmeanspp, tribe_eigh) are Not collective and work on plain arrays
 * with OpenMP inside; drivers are Collective and only add sampling and
 * reductions around them.
 *
 * Ownership: outputs passed as pointers to caller arrays are caller-sized
 * (shapes given per function); objects returned through ** are owned by the
 * caller and freed with their destroy function (tribe/segment.h).
 */
#ifndef TRIBE_CLUSTER_H
#define TRIBE_CLUSTER_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/segment.h"
#include "tribe/streams.h"
#include "tribe/table.h"

/* RNG streams: tribe/streams.h (TRIBE_STREAM_KMEANS_*, SILHOUETTE, ...). */

/* tribe_kmeans_cfg.init and .algorithm */
enum { TRIBE_KMEANS_INIT_PP = 0, TRIBE_KMEANS_INIT_PARALLEL = 1, TRIBE_KMEANS_INIT_PP_LLOYD = 2 };
enum { TRIBE_KMEANS_MINIBATCH = 0, TRIBE_KMEANS_LLOYD = 1 };

/* The assignment pass's kernels (tribe_kmeans_cfg.kernel; docs/clustering.md).
 * All give the same bits; they differ in speed. AUTO: the best direct kernel
 * allowed (tribe_simd_level) when nsets*k*d is small enough, else the SGEMM. */
enum {
    TRIBE_KMEANS_KERNEL_AUTO = -1,
    TRIBE_KMEANS_KERNEL_GEMM = 0,   /* SGEMM nominates, exact re-check (portable) */
    TRIBE_KMEANS_KERNEL_AVX512 = 1, /* direct AVX-512 (F, DQ, BW, VL) */
    TRIBE_KMEANS_KERNEL_AVX2 = 2    /* direct AVX2 + FMA nominator */
};

/* Not collective. 1 when the kernel can run here: the SGEMM always, a
 * direct kernel when the CPU has its instructions and TRIBE_SIMD allows them
 * (tribe_simd_level in tribe/core.h). */
int tribe_kmeans_kernel_available(int kernel);

/* Not collective. Sets the BLAS library (OpenBLAS) to one thread: the
 * kernels' threads are OpenMP's, and a threaded BLAS called from each of
 * them would oversubscribe the cores. Process-wide: call once at start-up,
 * before any kernel runs (the CLI's main, the test fixtures, the benchmark
 * programs). Results do not depend on it, only speed. */
void tribe_blas_init(void);

/* ---- kernels (Not collective) -------------------------------------------- */

/* Nearest centre of each row by squared Euclidean distance (computed in
 * double), ties to the lowest centre index. z[n][d], centroids[k][d];
 * label[n] and dist2[n] (dist2 may be NULL). A fast kernel nominates, an
 * exact double re-check decides (docs/clustering.md), so the result equals
 * the plain double loop's bit for bit. OpenMP over row blocks (the automatic
 * kernel, omp_get_max_threads() threads, a workspace allocated per call: a
 * one-off pass; the fit's passes share one); each row's result does not
 * depend on the thread count, block or kernel. */
void tribe_kmeans_assign(const float *z, int64_t n, int d, const double *centroids, int k,
                         int32_t *label, float *dist2);

/* Per-centre exact sums of the rows of each label: sum[k][d] (tribe_xsum of
 * z values) and count[k], both zeroed first. Rows with a label outside
 * [0, k) are skipped. OpenMP over columns (no shared cells). */
void tribe_kmeans_sums(const float *z, int64_t n, int d, const int32_t *label, int k,
                       tribe_xsum *sum, int64_t *count);

/* Greedy k-means++ seeding on m sample rows s[m][d] (serial, deterministic
 * for (seed, stream)): the first centre is a uniform draw, each next one the
 * best (lowest potential) of 2 + floor(ln k) draws proportional to the
 * squared distance to the nearest chosen centre. Never picks a row at
 * distance 0 from a chosen centre, so centres are distinct. Writes
 * centroids[k][d] and returns how many distinct centres it found (< k when
 * the sample has fewer than k distinct rows; the rest are left untouched),
 * or -1 when out of memory for its work copy of the sample (about
 * m * (4 d + 16) bytes, malloc'd: it may run on several threads at once).
 * d2 is a caller work array [m]. */
int tribe_kmeanspp(const float *s, int64_t m, int d, int k, uint64_t seed, uint64_t stream,
                   double *centroids, double *d2);

/* ---- K-Means (Collective) ------------------------------------------------ */
typedef struct {
    int k;               /* clusters (>= 1) */
    uint64_t seed;
    int64_t batch_size;  /* rows per mini-batch step (1024); when the whole
                            table fits in one batch, full Lloyd steps are used */
    int max_steps;       /* mini-batch (or Lloyd) steps at most (300) */
    int64_t init_sample; /* rows (about) in the k-means++ sample (10000) */
    double tol;          /* stop when the largest squared centre shift of a
                            step, in model units, is below tol for 5 steps in
                            a row (Lloyd: for one pass) (1e-6) */
    int n_init;          /* restarts (seeded hash2(seed, r)); every full pass serves
                            all of them at once; lowest inertia wins (1) */
    int lloyd_passes;    /* full passes polishing the mini-batch result (3) */
    int init;            /* TRIBE_KMEANS_INIT_PP: greedy k-means++ on the init_sample
                            rows (default); TRIBE_KMEANS_INIT_PARALLEL: k-means|| over
                            all rows (par_rounds passes, oversampling l = par_oversample * k,
                            then weighted k-means++ and Lloyd on the candidates);
                            TRIBE_KMEANS_INIT_PP_LLOYD: per restart k-means++ then Lloyd
                            on the init_sample rows, and only the restart of lowest
                            sample inertia goes on to the full passes (no scoring pass) */
    int algorithm;       /* TRIBE_KMEANS_MINIBATCH (default: mini-batch, then lloyd_passes
                            full passes) or TRIBE_KMEANS_LLOYD (full-batch Lloyd from the
                            init, up to max_steps fused passes) */
    int par_rounds;      /* k-means|| rounds (5) */
    double par_oversample; /* k-means|| l / k (2) */
    double inertia_tol;  /* Lloyd (either algorithm's full passes) also stops when the
                            inertia fell by less than this fraction in a pass (1e-4;
                            0 = only tol) */
    int kernel;          /* TRIBE_KMEANS_KERNEL_* of every pass (AUTO); the same bits
                            whichever runs */
    const double *start; /* warm start (NULL: none): the fit starts from these centres [k][d]
                            (one restart, no initialisation, no mini-batch; under
                            kmeans++-lloyd they are first moved by Lloyd on the init_sample
                            rows) and runs full Lloyd passes (up to max_steps, tol and
                            inertia_tol) */
} tribe_kmeans_cfg;

typedef struct {
    int steps;           /* mini-batch or Lloyd steps run (best init) */
    int converged;       /* stopped on tol rather than max_steps */
    int best_init;       /* which initialisation won */
    int64_t reassigned;  /* starving or empty centres moved (best init) */
    double inertia;      /* sum of squared distances to the returned centres */
    int64_t passes;      /* full passes over the data (all n_init restarts share each) */
} tribe_kmeans_info;

/* Defaults above (k = 8, seed = 0). Not collective. */
void tribe_kmeans_cfg_default(tribe_kmeans_cfg *cfg);

/* Collective (over z->rows->par). Fits k centres to the rows of z (this
 * rank's z->x[n_local][d], global rows [offset, offset + n_local) of
 * n_global, tiling checked when the rows were made), writing
 * centroids[k][d] and info (may be NULL). Every cluster is non-empty for
 * the returned centres (assigning the rows with tribe_kmeans_assign gives k
 * non-empty clusters). One pass workspace serves every pass of the fit
 * (cfg->kernel, omp_get_max_threads() threads).
 * Errors: TRIBE_ERR_USAGE for k < 1, d outside 1..TRIBE_MAX_FEATURES or bad
 * cfg values; TRIBE_ERR_INPUT
 * "K=8 but only 5 customers" when k > n_global, or "... only 5 distinct
 * customer rows" when the model space has fewer than k distinct points, or a
 * non-finite z value; TRIBE_ERR_NOMEM, TRIBE_ERR_ENV. centroids untouched on
 * error. */
tribe_status tribe_kmeans_fit(const tribe_dmat *z, const tribe_kmeans_cfg *cfg, double *centroids,
                              tribe_kmeans_info *info);

/* Collective. Renumbers clusters so ids are stable for the same data and
 * seed: by descending mean of raw column `col` of t (NaN-skipping, exact;
 * the runner passes monetary), then descending size, then old id; col = -1
 * orders by descending size, then old id. Clusters without a value of col
 * come last. Permutes centroids[k][d] and the local label[t->n_local] in
 * place and writes perm[k] with perm[old] = new. Errors: TRIBE_ERR_USAGE for
 * col out of range, TRIBE_ERR_INPUT for an infinite value, NOMEM, ENV. */
tribe_status tribe_kmeans_relabel(tribe_par *par, const tribe_table *t, int col, int k, int d,
                                  double *centroids, int32_t *label, int *perm);

/* ---- sampling (Collective) ------------------------------------------------ */

/* The global rows of this rank's block [offset, offset + n_local) of rows
 * that are in the sample of about `size` rows which tribe_sample_rows draws
 * for (seed, stream): ascending, into *pos[*count] (caller frees; never NULL
 * on success). Each global row is in it with probability size / n_global,
 * independently of the others and of the rank count; O(size) work, no
 * communication but the error agreement. Errors: NOMEM. */
tribe_status tribe_sample_local(const tribe_rows *rows, int64_t size, uint64_t seed, uint64_t stream, int64_t **pos,
                                int64_t *count);

/* Draws about `size` rows of z: each global row independently with
 * probability size / n_global (every row when size >= n_global), drawn as
 * geometric gaps keyed by (seed, stream) and the gap's index, so the sample
 * does not depend on the rank count and costs O(size), not a draw per row.
 * Gathers them to every rank in global order: rows[m][d] (caller frees),
 * labels[m] from label[n_local] if label is not NULL (else *lab may be
 * NULL), gidx[m] if asked (may be NULL). Errors: NOMEM, ENV. */
tribe_status tribe_sample_rows(const tribe_dmat *z, const int32_t *label, int64_t size, uint64_t seed,
                               uint64_t stream, float **rows, int32_t **lab, int64_t **gidx, int64_t *m);

/* ---- quality (Collective) -------------------------------------------------- */

/* Sampled silhouette: for about sample_size rows drawn by global index (all
 * rows when sample_size >= n_global: then the exact silhouette), the exact
 * silhouette against EVERY row of the table, s = (b - a) / max(a, b) with a
 * the mean distance to the other members of its cluster and b the lowest mean
 * distance to another non-empty cluster; a row alone in its cluster has
 * s = 0 (sklearn's convention). label[z->rows->n_local] in [0, k). *mean is
 * the sample mean, *ci95 the half-width of its 95% normal interval with the
 * finite-population correction (0 when every row is sampled). Fewer than 2
 * non-empty clusters: *mean = *ci95 = NaN and TRIBE_OK. Errors:
 * TRIBE_ERR_USAGE for k < 1 or d outside 1..TRIBE_MAX_FEATURES;
 * TRIBE_ERR_INPUT for a label outside [0, k); NOMEM, ENV. */
tribe_status tribe_silhouette_sample(const tribe_dmat *z, const int32_t *label, int k, int64_t sample_size,
                                     uint64_t seed, double *mean, double *ci95);

/* ---- segment profiles (Collective) ----------------------------------------- */

/* Builds k segment profiles over ALL raw features of t: size, share, exact
 * NaN-skipping mean and median per feature (tribe/xstats.h; even counts: mean
 * of the two middles), whole-base mean and median, revenue share from
 * monetary_col (sum of the column in the segment over its sum in the base;
 * NaN when monetary_col is -1 or the base sum is 0), and for every
 * categorical column of t the level counts per segment (missing codes not
 * counted; last row = whole base). Centroids: model column c of
 * centroids[k][d_model] goes to seg.centroid[model_cols[c]] (model_cols may
 * be NULL when the model uses every column in order); features outside the
 * model keep NaN. Names are left empty (see tribe_segments_name); silhouette,
 * silhouette_ci and inertia are left NaN for the caller to set.
 * Errors: TRIBE_ERR_USAGE for a bad column index or k < 1; TRIBE_ERR_INPUT
 * for a label outside [0, k) or an infinite feature value (naming the
 * customer id and feature); NOMEM, ENV. *out NULL on error. */
tribe_status tribe_segments_build(tribe_par *par, const tribe_table *t, const int32_t *label, int k,
                                  const double *centroids, const int *model_cols, int d_model,
                                  int monetary_col, tribe_segments **out);

/* Not collective. Gives every segment a unique RFM-style name ("Champions",
 * "At Risk", ...) from its recency_days, frequency and monetary medians
 * relative to the whole base's (rules in docs/clustering.md); without those
 * three features, "Segment 1", "Segment 2", ... by id. */
void tribe_segments_name(tribe_segments *s);

/* ---- projection (Collective) -------------------------------------------------- */

/* A 2-D projection sample for plots. */
typedef struct {
    int64_t m;          /* sampled customers */
    float *xy;          /* [m][2] projection coordinates */
    int32_t *label;     /* [m] segment of each */
    char axis[2][64];   /* axis titles, e.g. "PC1 (41%)" */
    /* The PCA behind the coordinates (tribe_projection_fit; zero when d is 0):
     * xy = (x - mean) . components[c] for model-space rows x. */
    int d;                                /* model features */
    double mean[TRIBE_MAX_FEATURES];                     /* [d] */
    double components[2][TRIBE_MAX_FEATURES];            /* [2][d] unit axes (PC2 zero when d == 1) */
    double explained_variance[TRIBE_MAX_FEATURES];       /* [d] every covariance eigenvalue, descending */
    double explained_variance_ratio[TRIBE_MAX_FEATURES]; /* [d] each over their sum (the trace) */
} tribe_projection;

/* 2-D PCA of z[n_local][d]: covariance reduced exactly over all rows, its top
 * two eigenvectors (tribe_eigh), and the coordinates of about sample_size
 * rows drawn by global index, on every rank, in global order, with their
 * labels (label may be NULL: labels -1). Axis titles "PC1 (41% of variance)".
 * d == 1: PC2 is 0. Errors: TRIBE_ERR_USAGE for d < 1 or d > TRIBE_MAX_FEATURES,
 * NOMEM, ENV. *out NULL on error. */
tribe_status tribe_projection_fit(const tribe_dmat *z, const int32_t *label, int64_t sample_size, uint64_t seed,
                                  tribe_projection **out);
/* Accepts NULL; sets *p = NULL. */
void tribe_projection_destroy(tribe_projection **p);

/* ---- cluster quality and K selection (src/cluster/quality.c, kselect.c) ---- */


/* Not collective. Calinski-Harabasz from per-cluster count[k], mean[k][d] and
 * var[k] (as above): between-cluster over within-cluster dispersion, each
 * divided by its degrees of freedom (q − 1, n − q; q = non-empty clusters).
 * NaN when q < 2 or n <= q; 1 when the within dispersion is 0 (sklearn). */
double tribe_quality_ch(const int64_t *count, const double *mean, const double *var, int k, int d);

/* Not collective. Davies-Bouldin from count[k], mean[k][d] and spread[k] (the
 * mean Euclidean distance of a cluster's members to its mean): the mean over
 * non-empty clusters of max over others of (S_a + S_b)/‖μ_a − μ_b‖, with
 * coincident centres contributing 0 (sklearn). NaN when q < 2. */
double tribe_quality_db(const int64_t *count, const double *mean, const double *spread, int k, int d);

/* Not collective. Adjusted Rand index from a contingency table[ka][kb] of
 * counts (Hubert and Arabie); 1 for identical trivial partitions. */
double tribe_ari_from_table(const int64_t *table, int ka, int kb);

/* Collective. Adjusted Rand index between two labelings of the same local
 * rows (la in [0, ka), lb in [0, kb)): the contingency table is reduced over
 * ranks as integer counts. Errors: TRIBE_ERR_USAGE for ka, kb < 1 or a table
 * over 2^20 cells; TRIBE_ERR_INPUT for a label out of range; NOMEM, ENV.
 * *ari NaN on error. */
tribe_status tribe_ari(tribe_par *par, const int32_t *la, int ka, const int32_t *lb, int kb, int64_t n_local,
                       double *ari);

typedef struct {
    double ch;            /* Calinski-Harabasz (higher is better) */
    double db;            /* Davies-Bouldin (lower is better) */
    double silhouette_sq; /* exact mean silhouette over ALL rows, squared Euclidean distance */
    int clusters;         /* non-empty clusters */
} tribe_cluster_quality;

/* Collective. Calinski-Harabasz, Davies-Bouldin and the exact squared-Euclidean
 * silhouette of the labeling label[z->rows->n_local] (in [0, k)), in two
 * passes (moments, then spreads and silhouettes) with exact reductions:
 * bit-identical for any rank and thread count. Each is NaN with fewer than 2
 * non-empty clusters. Errors: TRIBE_ERR_USAGE for k < 1 or d outside
 * 1..TRIBE_MAX_FEATURES; TRIBE_ERR_INPUT for a label outside [0, k); NOMEM,
 * ENV. */
tribe_status tribe_cluster_quality_compute(const tribe_dmat *z, const int32_t *label, int k,
                                           tribe_cluster_quality *q);

/* Split-half ARI a K needs to compete in tribe_ksweep_recommend (the
 * default of tribe_ksweep_cfg.stability_min and of the job key
 * kmeans.stability_min). */
#define TRIBE_KSWEEP_STABLE_ARI 0.8
/* Most K values of one sweep. */
#define TRIBE_KSWEEP_MAX 256

/* One row of a K sweep (NaN where a measure is undefined or skipped). */
typedef struct {
    int k;
    int steps;            /* K-Means steps of the fit */
    int64_t passes;       /* full passes over the data of the fit */
    double inertia;       /* sum of squared distances to the fitted centres */
    double silhouette;    /* sampled silhouette (Euclidean), tribe_silhouette_sample */
    double silhouette_ci; /* its 95% half-width */
    double silhouette_sq; /* exact silhouette over all rows, squared Euclidean */
    double ch;            /* Calinski-Harabasz */
    double db;            /* Davies-Bouldin */
    double stability;     /* split-half ARI (NaN when skipped) */
} tribe_ksweep_row;

typedef struct {
    int n;                 /* rows (K values tried, ascending) */
    tribe_ksweep_row *row; /* [n] */
    int recommended_k;
    int elbow_k;           /* 0 with fewer than 3 K values */
    double stability_ari;  /* the stability of recommended_k's row */
    double stability_min;  /* the split-half ARI a K needed to compete */
    int k_stable;          /* 1: recommended_k's stability >= stability_min; -1: below it (no K of the
                              sweep was stable: the choice is not reliable); 0: not measured */
    char stability_note[512]; /* when k_stable is -1: what that means, in plain words; else "" */
    char reason[512];      /* one line: "K=6: 4 of 5 criteria agree (...)..." */
    double fit_seconds, score_seconds; /* K-Means fits; scoring and stability */
    double silhouette_seconds, quality_seconds, stability_seconds; /* the parts of score_seconds */
    int k_max, d;
    double *centroids;     /* [n][k_max][d]: the fit of row i in its first row[i].k rows */
} tribe_ksweep;

/* Not collective. The elbow of row[n] (ascending K) by the chord rule: with
 * K and inertia each scaled to [0, 1], the K whose point lies furthest below
 * the straight line from the first point to the last (the first K when no
 * point lies below it; row[0].k when n < 3). */
int tribe_ksweep_elbow(const tribe_ksweep_row *row, int n);

/* Not collective. The recommended K of row[n] (n <= TRIBE_KSWEEP_MAX) and a one-line
 * reason (written to reason[cap]). Candidates are the K with split-half
 * stability >= stability_min (NaN counts as stable; every K when none is
 * stable). Among them five criteria vote: best sampled silhouette,
 * best exact squared silhouette, highest Calinski-Harabasz, lowest
 * Davies-Bouldin, and elbow_k (of all rows) when n >= 3 and it is a
 * candidate; the K with most votes wins, ties to the higher sampled
 * silhouette, then the smaller K. A single row is "fixed by the job". */
int tribe_ksweep_recommend_at(const tribe_ksweep_row *row, int n, int elbow_k, double stability_min, char *reason,
                              size_t cap);
/* The same with stability_min = TRIBE_KSWEEP_STABLE_ARI. */
int tribe_ksweep_recommend(const tribe_ksweep_row *row, int n, int elbow_k, char *reason, size_t cap);

/* Optional checkpoint hook of a sweep (tribe_ksweep_cfg.hook; all NULL:
 * none). The library knows nothing of what the caller does with it.
 *   saved(ctx, k, centroids, row): before fitting K, 1 when the caller holds
 *     K's fit (a saved one), copied into centroids [k][d] and row's fit fields
 *     (steps, passes, inertia); the sweep then uses it instead of fitting: a
 *     fit is deterministic per K, so the results are those of a refit. Not
 *     collective; must answer the same on every rank.
 *   fitted(ctx, k, centroids, row, stop): after each K fitted (not after a
 *     saved one), with its centroids [k][d] and row (k, steps, passes,
 *     inertia filled; the scores not yet); *stop = 1 ends the sweep there.
 *     Collective: every rank calls it at the same points; it must set the
 *     same *stop on every rank (an agreement) and agree on its errors. */
typedef struct {
    void *ctx;
    tribe_status (*fitted)(void *ctx, int k, const double *centroids, const tribe_ksweep_row *row, int *stop);
    int (*saved)(void *ctx, int k, double *centroids, tribe_ksweep_row *row);
} tribe_ksweep_hook;

/* What a sweep tries and measures. */
typedef struct {
    int k_lo, k_hi;          /* the K range; k_lo == k_hi: a fixed K */
    tribe_kmeans_cfg kmeans; /* every fit's settings (k replaced); its seed also draws the samples */
    int64_t sil_sample;      /* rows of the sampled silhouette; 0 skips it (NaN) */
    int stability;           /* 1: the split-half stability of every K; 0: skipped (NaN) */
    double stability_min;    /* the ARI a K needs to compete and to count as reliable, in (0, 1];
                                0 = TRIBE_KSWEEP_STABLE_ARI */
    tribe_ksweep_hook hook;  /* optional: fits saved and restored by the caller */
} tribe_ksweep_cfg;

/* Collective. Fits K-Means (cfg->kmeans with k replaced) for every K in
 * [k_lo, k_hi] on z, assigns the rows, and scores each K (cfg->sil_sample
 * rows for the sampled silhouette) and, when cfg->stability, by its
 * split-half stability: two disjoint halves of min(n/2, 100000) rows drawn
 * by the counter RNG (TRIBE_STREAM_KSELECT_SPLIT), a fit on each, every row
 * assigned with both, the ARI of the two labelings; then picks the elbow and
 * the recommended K (tribe_ksweep_recommend_at with cfg->stability_min); when
 * its stability was measured and is below stability_min (no K was stable),
 * sets k_stable = -1 and stability_note and logs a warning. Up to TRIBE_LABELINGS_MAX (8)
 * K values are fitted before they are scored together: their labels take 2
 * bytes a row per K (none for a single K). label[z->rows->n_local] is a
 * caller work array (its content is undefined on return). Bit-identical for
 * any rank and thread count, and to scoring each K alone. Errors:
 * TRIBE_ERR_USAGE for a bad range (k_lo < 1, k_hi < k_lo, more than
 * TRIBE_KSWEEP_MAX K values, k_hi > 65535 in a range) or d; those of
 * tribe_kmeans_fit, cfg->hook.fitted's; NOMEM, ENV. *out (free with
 * tribe_ksweep_destroy) NULL on error, and also when cfg->hook.fitted asked
 * to stop (TRIBE_OK: the sweep ended after that K's fit, unscored). */
tribe_status tribe_ksweep_run(const tribe_dmat *z, const tribe_ksweep_cfg *cfg, int32_t *label, tribe_ksweep **out);

/* The sweep as a table (results.h5 /model/k_sweep, the run record, the
 * report): its columns in order, and row r's values under them. */
#define TRIBE_KSWEEP_COLS 8
extern const char *const TRIBE_KSWEEP_COLUMNS[TRIBE_KSWEEP_COLS]; /* k, inertia, silhouette, ..., stability_ari */
void tribe_ksweep_row_values(const tribe_ksweep_row *r, double v[TRIBE_KSWEEP_COLS]);

/* Not collective. The centroids [k][d] fitted for K = k in s, or NULL. */
const double *tribe_ksweep_centroids(const tribe_ksweep *s, int k);

/* Not collective. Frees *p (NULL allowed) and sets it to NULL. */
void tribe_ksweep_destroy(tribe_ksweep **p);

/* ==== beyond K-Means: outliers, soft membership, nested segments, PCA ====
 * (docs/clustering.md). Same rules as above: kernels Not collective on plain
 * arrays, drivers Collective and bit-identical on any number of ranks. */

/* RNG streams 120-129 (tribe/streams.h) are this section's. */

/* ---- eigen decomposition through LAPACK (Not collective) ------------------ */

/* Eigen decomposition of the symmetric a[n][n] (read only) by LAPACK dsyevd
 * (the LAPACK inside OpenBLAS): eigenvalues w[n] descending, eigenvectors as
 * the ROWS of v[n][n], each with its largest-magnitude component positive
 * (lowest index on ties). Deterministic for the same input
 * on the same build. Errors: TRIBE_ERR_USAGE for n < 1, NOMEM,
 * TRIBE_ERR_INTERNAL when dsyevd reports a failure (info != 0). */
tribe_status tribe_eigh(const double *a, int n, double *w, double *v);

/* ---- outliers (src/cluster/outliers.c) ------------------------------------ */

/* Per-segment outlier rule on the distance to the segment centre (Tukey's
 * far-out fence): customer i of segment c is an outlier when
 *     score_i = (dist_i - Q3_c) / (Q3_c - Q1_c) > threshold
 * with Q1_c, Q3_c the exact quartiles of the distances in segment c (numpy's
 * 'linear' rule). A segment whose distances have no spread (IQR 0) flags
 * nobody (score 0). Why this rule is the default and when DBSCAN noise
 * (tribe/dbscan.h) fits better: docs/clustering.md. */
typedef struct {
    int k;
    double threshold;   /* in IQRs above Q3 (job key outliers.threshold, default 3) */
    double *q1, *q3;    /* [k] distance quartiles per segment (NaN: empty segment) */
    double *fence;      /* [k] Q3 + threshold * IQR (+inf when IQR is 0 or NaN) */
    int64_t *count;     /* [k] outliers per segment */
    int64_t total;      /* all segments */
    /* outliers.method "dbscan" (tribe/dbscan.h): the model whose noise the
     * counts are (not owned; q1, q3, fence NULL, threshold NaN); NULL for "iqr" */
    const struct tribe_dbscan *dbscan;
} tribe_outliers;

/* Not collective. Flags rows from the fences above: flag[n] (1 = outlier),
 * score[n] (see the rule; NaN for a label outside [0, k) or a NaN distance,
 * never flagged), count[k] (zeroed first) receives the flagged rows. */
void tribe_outliers_flag(const float *dist, const int32_t *label, int64_t n, int k, const double *q1,
                         const double *q3, double threshold, uint8_t *flag, float *score, int64_t *count);

/* Collective. Exact per-segment quartiles of dist[n_local] (distance to the
 * own centre, label[n_local] in [0, k)), then tribe_outliers_flag on the
 * local rows and counts summed over ranks. flag[n_local], score[n_local]
 * caller-sized; *out (caller frees with tribe_outliers_destroy) holds the
 * fences and counts, identical on every rank. Errors: TRIBE_ERR_USAGE for
 * k < 1 or a threshold that is negative or not finite, TRIBE_ERR_INPUT for an
 * infinite distance, NOMEM, ENV. *out NULL on error. */
tribe_status tribe_outliers_fit(tribe_par *par, const float *dist, const int32_t *label, int64_t n_local, int k,
                                double threshold, uint8_t *flag, float *score, tribe_outliers **out);
/* Accepts NULL; sets *o = NULL. */
void tribe_outliers_destroy(tribe_outliers **o);

/* ---- soft membership: diagonal Gaussian mixture (src/cluster/gmm.c) -------- */

typedef struct {
    int max_iter;      /* EM iterations at most (100) */
    double tol;        /* stop when the mean log-likelihood per row changes by less (1e-3) */
    double reg_covar;  /* added to every variance, the floor (1e-6), as scikit-learn's reg_covar */
    int64_t sample_size; /* EM iterates on about this many rows drawn by global index (0 = every
                            row, the default); the final memberships cover every row */
    uint64_t seed;     /* of that sample */
} tribe_gmm_cfg;

typedef struct {
    int k, d;
    double *weight;    /* [k] mixing weights, sum 1 */
    double *mean;      /* [k][d] */
    double *var;       /* [k][d] diagonal variances (>= reg_covar) */
    int iterations;    /* EM iterations run */
    int converged;     /* stopped on tol rather than max_iter */
    double loglik;     /* mean log-likelihood per row under the returned parameters */
    double lower_bound; /* scikit-learn's lower_bound_: the mean log-likelihood of the last EM
                           iteration, under the parameters before its M-step */
    int64_t rows;      /* rows EM iterated on (all ranks) */
} tribe_gmm;

/* Defaults above. Not collective. */
void tribe_gmm_cfg_default(tribe_gmm_cfg *cfg);
/* A model with zeroed arrays. NOMEM. Not collective. */
tribe_status tribe_gmm_create(int k, int d, tribe_gmm **out);
/* Accepts NULL; sets *g = NULL. */
void tribe_gmm_destroy(tribe_gmm **g);

/* The E-step's buffers for k components in d features and a team of
 * `threads` (per thread k (1 + 2d) + 1 exact sums): created once per fit,
 * so EM iterations allocate nothing. Not collective. Create: INTERNAL for
 * k, d or threads < 1, NOMEM; *out NULL on error. Destroy accepts NULL and
 * sets *ws = NULL. */
typedef struct tribe_gmm_ws tribe_gmm_ws;
tribe_status tribe_gmm_ws_create(int k, int d, int threads, tribe_gmm_ws **out);
void tribe_gmm_ws_destroy(tribe_gmm_ws **ws);

/* Not collective. One E-step over the finite z[n][d] with the model g: stats[k][1+2d]
 * (zeroed first) receives per component the exact sums of r, r*x_j and
 * r*x_j^2 (j = 0..d-1) where r is the row's responsibility; *loglik the
 * exact sum of the rows' log-likelihoods log sum_c w_c N(x | mu_c, var_c)
 * (log-sum-exp). resp[n][k], if not NULL, receives the responsibilities as
 * float. OpenMP over rows (the workspace's team; one thread below
 * TRIBE_OMP_MIN_WORK operations) with per-thread exact partial sums, so the
 * result does not depend on the thread count. Allocates nothing. Errors:
 * INTERNAL when ws was made for another k or d. */
tribe_status tribe_gmm_estep(tribe_gmm_ws *ws, const float *z, int64_t n, int d, const tribe_gmm *g,
                             tribe_xsum *stats, tribe_xsum *loglik, float *resp);

/* Not collective. M-step from reduced stats[k][1+2d] over n_total rows:
 * weight = (S0 + 10 eps) / n_total, mean = S1 / (S0 + 10 eps),
 * var = S2 / (S0 + 10 eps) - mean^2 + reg_covar (never below reg_covar), as
 * scikit-learn's diagonal GaussianMixture. */
void tribe_gmm_mstep(const tribe_xsum *stats, int64_t n_total, double reg_covar, tribe_gmm *g);

/* Collective. Fits a diagonal Gaussian mixture to the rows of z (this rank's
 * z->x[n_local][d]; finite values, as tribe_kmeans_fit requires) by EM from
 * the K-Means solution:
 * weights from the cluster sizes, means = centroids[k][d], variances = the
 * exact within-cluster variances about the centroids + reg_covar
 * (label[n_local] in [0, k); all three over every row). EM then iterates on
 * every row, or on the cfg->sample_size sample; every iteration reduces the
 * k*(1+2d) sufficient statistics and the log-likelihood exactly
 * (tribe_par_sum_xsum), so the model is bit-identical on any number of
 * ranks. A last E-step over EVERY row with the returned model writes
 * membership[n_local][k] (may be NULL) and g->loglik.
 * The E-step's buffers are made once (tribe_gmm_ws, omp_get_max_threads()).
 * Errors: TRIBE_ERR_USAGE for k < 1, d outside 1..TRIBE_MAX_FEATURES or bad
 * cfg values, TRIBE_ERR_INPUT for a label outside [0, k), NOMEM, ENV. *out
 * NULL on error. */
tribe_status tribe_gmm_fit(const tribe_dmat *z, const int32_t *label, int k, const double *centroids,
                           const tribe_gmm_cfg *cfg, float *membership, tribe_gmm **out);

/* ---- nested segments: Ward over the centres (src/cluster/ward.c) ----------- */

/* The merge tree of k weighted points as scipy.cluster.hierarchy.linkage
 * returns it: step t merges clusters merges[t][0] < merges[t][1] (ids < k are
 * the leaves, k + s the cluster made at step s) at height heights[t], giving
 * a cluster of sizes[t] customers. Z = [merges | heights | sizes] is a scipy
 * linkage matrix (with sizes = 1 per leaf it equals linkage(method='ward')). */
typedef struct {
    int k;
    int32_t *merges;   /* [k-1][2] */
    double *heights;   /* [k-1] sqrt(2 * n_a n_b / (n_a + n_b)) * ||c_a - c_b||, non-decreasing */
    int64_t *sizes;    /* [k-1] customers (the sum of the leaf weights) under the new cluster */
    int64_t *leaf_size; /* [k] the leaf weights */
} tribe_ward;

/* Not collective. Ward agglomeration of the k points c[k][d] with weights
 * w[k] (>= 1): repeatedly merges the pair with the smallest Ward cost
 * n_a n_b / (n_a + n_b) ||c_a - c_b||^2, distances updated by the
 * Lance-Williams formula; ties to the pair with the lowest first id, then the
 * lowest second id (ids as in tribe_ward). O(k^3) time, O(k^2) work memory.
 * Errors: TRIBE_ERR_USAGE for k < 1 or a weight < 1, NOMEM. *out NULL on error. */
tribe_status tribe_ward_build(const double *c, const int64_t *w, int k, int d, tribe_ward **out);

/* Collective. Counts the customers of each segment (label[n_local], exact
 * integer sums) and builds the Ward tree of centroids[k][d] weighted by those
 * sizes, identical on every rank. Errors: as tribe_ward_build, INPUT for a
 * label outside [0, k) or an empty segment, ENV. */
tribe_status tribe_ward_fit(tribe_par *par, const int32_t *label, int64_t n_local, const double *centroids, int k,
                            int d, tribe_ward **out);
/* Accepts NULL; sets *w = NULL. */
void tribe_ward_destroy(tribe_ward **w);

/* ---- how crisp the segments are (src/cluster/crispness.c) ------------------ */

/* Membership above this counts as a sure member of a segment. */
#define TRIBE_CRISP_THRESHOLD 0.9

typedef struct {
    int k;
    double threshold;  /* TRIBE_CRISP_THRESHOLD */
    int64_t *size;     /* [k] customers of each segment (the K-Means label) */
    int64_t *crisp;    /* [k] of them whose membership of their own segment is above threshold */
    int64_t *agree;    /* [k] of them whose most likely mixture component is their segment */
    double *mean_max;  /* [k] their mean highest membership (NaN for an empty segment) */
} tribe_gmm_crispness;

/* Collective. Summarises memberships memb[n_local][k] against the segments
 * label[n_local] in [0, k) with exact integer and fixed-point sums, identical
 * on every rank. Errors: NOMEM, ENV. *out (free with
 * tribe_gmm_crispness_destroy) NULL on error. */
tribe_status tribe_gmm_crispness_compute(tribe_par *par, const float *memb, const int32_t *label, int64_t n_local,
                                         int k, tribe_gmm_crispness **out);
/* Accepts NULL; sets *c = NULL. */
void tribe_gmm_crispness_destroy(tribe_gmm_crispness **c);

#endif
