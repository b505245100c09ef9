/* Internal to src/cli: the beyond-K-Means stage of `tribe run` (outliers,
 * soft membership, Ward tree; docs/clustering.md), kept out of cmd_run.c. */
#ifndef TRIBE_RUN_EXTRAS_H
#define TRIBE_RUN_EXTRAS_H

#include "tribe/cluster.h"
#include "tribe/job.h"
#include "tribe/results.h"

typedef struct {
    uint8_t *outlier;      /* [n_local], NULL when outliers are off */
    float *outlier_score;  /* [n_local] */
    tribe_outliers *out;
    float *membership;     /* [n_local][k], NULL when the mixture is off */
    tribe_gmm *gmm;
    tribe_ward *ward;      /* NULL when off or k < 2 */
    char *report_json;     /* rank 0: ", \"outliers\": {...}, ..." for the run record, or NULL */
} run_extras;

/* Collective. Runs what the job enables on the final model: z[n_local][m]
 * model rows (global rows [offset, offset + n_local) of n_global), label[n_local] in [0, k), dist[n_local] the Euclidean distance
 * to the own centre, centroids[k][m]. Fills x (free with run_extras_free). */
tribe_status run_extras_fit(tribe_par *par, const tribe_job *job, const float *z, int64_t n_local,
                            int64_t offset, int64_t n_global, int m, const int32_t *label, const float *dist,
                            const double *centroids, int k, run_extras *x);
/* Not collective. Points r's beyond-K-Means fields at x's arrays. */
void run_extras_results(const run_extras *x, const tribe_job *job, tribe_results *r);
/* Accepts a zeroed or filled x; leaves it zeroed. */
void run_extras_free(run_extras *x);

#endif
