/* tribe/transform.h: the feature transform between raw customer features and
 * the model space the clustering works in: per column an optional log1p,
 * then standardisation with GLOBAL moments, missing values imputed.
 *
 * Usage:
 *     int cols[] = {rec, freq, mon};  int logs[] = {0, 1, 1};
 *     tribe_scaler *sc = NULL;
 *     TRIBE_TRY(tribe_scaler_fit(par, t, cols, 3, logs, &sc));          // collective
 *     TRIBE_TRY(tribe_scaler_apply_table(sc, t, &z));                   // z[n_local][3]
 *     ...
 *     free(z);
 *     tribe_scaler_destroy(&sc);
 *
 * The transform of raw value x in column j:
 *     v = log1p[j] ? log1p(x) : x           (log1p needs x > -1, else an error)
 *     z = (v - mean[j]) / std[j]            (x missing (NaN): z = 0)
 * mean and std are the population mean and standard deviation (divisor n,
 * like sklearn's StandardScaler) of v over the non-missing values of the
 * WHOLE table, computed from exact fixed-point sums (tribe/xstats.h) in two
 * passes (mean, then squared deviations), so the scaler, and therefore every
 * z, is bit-identical on any number of ranks and threads.
 * Missing values are imputed with the column's global mean in the v space,
 * i.e. z = 0; impute[j] records the raw value that maps to it
 * (expm1(mean) for a log1p column, else mean).
 * A zero-variance column (all present values equal) gets std = 1, so its z is
 * 0 everywhere, and a warning (rank 0). A column with no present value at all
 * gets mean 0, std 1 and a warning.
 *
 * Ownership: a tribe_scaler owns its arrays; tribe_scaler_destroy frees all,
 * accepts NULL and sets the pointer to NULL.
 */
#ifndef TRIBE_TRANSFORM_H
#define TRIBE_TRANSFORM_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/table.h"

typedef struct {
    int d;          /* model columns */
    int *col;       /* [d] source column of each in the table's x */
    char **names;   /* [d] feature names (copies) */
    int *log1p;     /* [d] 1 = log1p before standardising */
    double *mean;   /* [d] global mean of v (after log1p) */
    double *std;    /* [d] global population std of v; 1 for zero variance */
    double *impute; /* [d] raw value that imputes a missing one (maps to z = 0) */
} tribe_scaler;

/* Collective. Fits the scaler on columns cols[0..ncols) of t (log1p_flags may
 * be NULL: no log1p). Errors: TRIBE_ERR_USAGE for a column index out of range
 * or ncols < 1; TRIBE_ERR_INPUT naming the customer id and feature for an
 * infinite value or a value <= -1 in a log1p column (the lowest such row on
 * the lowest rank with one); TRIBE_ERR_NOMEM; TRIBE_ERR_ENV. *out untouched
 * on error. */
tribe_status tribe_scaler_fit(tribe_par *par, const tribe_table *t, const int *cols, int ncols,
                              const int *log1p_flags, tribe_scaler **out);

/* Not collective. Kernel: z[n][s->d] from raw rows x[n][ldx] (columns
 * s->col). id (may be NULL) names rows in messages, else the row index.
 * OpenMP over rows. Errors: TRIBE_ERR_INPUT for an infinite value or a value
 * <= -1 in a log1p column (lowest row, then column); z is then partly
 * written. */
tribe_status tribe_scaler_apply(const tribe_scaler *s, const float *x, int64_t n, int ldx,
                                const int64_t *id, float *z);

/* Not collective. Allocates *z (caller frees) and applies s to t's rows.
 * Errors as tribe_scaler_apply, plus TRIBE_ERR_NOMEM; *z NULL on error. */
tribe_status tribe_scaler_apply_table(const tribe_scaler *s, const tribe_table *t, float **z);

/* Not collective. A scaler from stored moments (results.h5 /model/scaler,
 * for `tribe assign`): column j of the model reads table column cols[j];
 * arrays are copied; impute may be NULL (derived from mean). Errors:
 * TRIBE_ERR_INPUT for d < 1 or a non-finite mean or std, or std <= 0;
 * TRIBE_ERR_NOMEM. *out untouched on error. */
tribe_status tribe_scaler_from_model(int d, const int *cols, const char *const *names, const int *log1p_flags,
                                     const double *mean, const double *std, const double *impute,
                                     tribe_scaler **out);

/* Not collective. k points of one standardisation (mean_from, std_from) in
 * another's (mean_to, std_to), both of the same m columns and log1p: per
 * column out = (in * std_from + mean_from - mean_to) / std_to, exact for
 * means of points (the map is affine). in and out are [k][m]. */
void tribe_scaler_remap(int m, const double *mean_from, const double *std_from, const double *mean_to,
                        const double *std_to, int k, const double *in, double *out);

void tribe_scaler_destroy(tribe_scaler **s);

#endif
