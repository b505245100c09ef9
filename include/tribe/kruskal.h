/* tribe/kruskal.h: are the segments really different? Per feature, a
 * Kruskal-Wallis H test across the segments, its effect size epsilon^2, and
 * Cliff's delta for every pair of segments, all from exact global mid-ranks
 * (docs/clustering.md, "Are the segments different?").
 *
 * Usage (this rank's rows of the raw table, labels in [0, k)):
 *     tribe_segtest *kw = NULL;
 *     TRIBE_TRY(tribe_kw_test(par, t->x, t->n_local, t->d, t->d, label, k, &kw));   // collective
 *     printf("%s: H %.1f, eps2 %.3f (%s), Holm p %.3g\n", name, kw->h[j], kw->eps2[j],
 *            tribe_kw_magnitude(kw->eps2[j]), kw->p_holm[j]);
 *     tribe_segtest_destroy(&kw);
 *
 * Exactness: every figure follows from integer sums over the distinct
 * values v of a feature: the count c_g(v) of segment g at v and the counts
 * below it. Twice a mid-rank, 2 N(<v) + N(v) + 1, is an integer, and so are
 * twice the rank sums, twice the Mann-Whitney U of every pair and the tie
 * term sum(t^3 - t); they are summed in 128-bit integers and reduced exactly,
 * so the results are bit-identical on any number of ranks. The distributed
 * driver never gathers values: it moves (value, segment, count) runs by
 * value range (an all-to-all), so each rank sees every copy of the values in
 * its range, and the counts below a range come from the other ranks' totals.
 *
 * Ownership: outputs are caller-sized arrays or a new tribe_segtest the
 * caller destroys (tribe/segment.h).
 */
#ifndef TRIBE_KRUSKAL_H
#define TRIBE_KRUSKAL_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/segment.h"

/* Length of one feature's integer sums for k segments (tribe_kw_sums):
 * [n(k) | 2 R(k) | 2 U(k*k) | sum(t^3 - t)]. */
#define TRIBE_KW_SUMS(k) ((size_t)(k) * (size_t)(k) + 2 * (size_t)(k) + 1)

/* Length of tribe_kw_runs's workspace for nth threads (int64 entries). */
#define TRIBE_KW_HIST(nth) ((size_t)(nth) * 2048)

/* Not collective. Sorts the non-NaN values of column x[i * ldx] (n rows)
 * with their segments label[i] (in [0, k), k <= 2^24) and collapses them into
 * runs: on return key[0..*nruns) holds (tribe_f32_key(value) << 32 | segment)
 * ascending and count[r] the rows of run r. key and count are caller
 * workspaces of n entries each (count doubles as the sort's scratch), hist
 * one of TRIBE_KW_HIST(nth); the sort runs on up to nth OpenMP threads, with
 * the same result for any nth. Allocates nothing. */
void tribe_kw_runs(const float *x, int64_t n, int ldx, const int32_t *label, int k, int nth, int64_t *hist,
                   uint64_t *key, uint64_t *count, int64_t *nruns);

/* Length of tribe_kw_sums's workspace for k segments (int64 entries). */
#define TRIBE_KW_WORK(k) ((size_t)(k) * (size_t)(k) + (size_t)(k))

/* Not collective. Adds the runs key[0..nruns), count[] (ascending by key:
 * value, then segment; a (value, segment) may repeat, as runs from several
 * ranks do; every copy of a value in the base must be among them) to
 * sums[TRIBE_KW_SUMS(k)]. below[k] holds, per segment, the values below the
 * first run's (over the whole base) and is advanced past the runs. work is
 * a zeroed workspace of TRIBE_KW_WORK(k) entries (left zeroed). Allocates
 * nothing. */
void tribe_kw_sums(const uint64_t *key, const uint64_t *count, int64_t nruns, int k, int64_t *below, int64_t *work,
                   tribe_xsum *sums);

/* Not collective. One feature's statistics from its reduced sums (see
 * tribe_segtest in tribe/segment.h for the meaning and NaN rules): n, the
 * segments used, H, p, epsilon^2 and delta[k][k]. */
void tribe_kw_finish(int k, const tribe_xsum *sums, int64_t *n, int *k_used, double *h, double *p, double *eps2,
                     double *delta);

/* Not collective. Holm's step-down adjustment of the m p-values p[] into
 * adj[] (may alias p): with the finite ones sorted ascending p(1) <= ... <=
 * p(q), adj(i) = max over j <= i of min(1, (q - j + 1) p(j)). NaN stays NaN
 * and does not count in q. */
void tribe_kw_holm(int m, const double *p, double *adj);

/* Not collective. The regularized upper incomplete gamma function
 * Q(a, x) = Gamma(a, x) / Gamma(a) for a > 0, x >= 0 (series below a + 1,
 * Lentz's continued fraction above; relative error about 1e-14), so the
 * chi-square(df) upper tail of h is tribe_kw_gamma_q(df / 2, h / 2). NaN for
 * a <= 0, x < 0 or NaN. */
double tribe_kw_gamma_q(double a, double x);

/* Not collective. The words for an epsilon^2 (Cohen's bands for eta^2, of
 * which epsilon^2 of ranks is the rank version): "negligible" below 0.01,
 * "small" below 0.06, "medium" below 0.14, else "large"; "n/a" for NaN. */
const char *tribe_kw_magnitude(double eps2);

/* Not collective. The words for a Cliff's delta |d| (Romano et al. 2006):
 * "negligible" below 0.147, "small" below 0.33, "medium" below 0.474, else
 * "large"; "n/a" for NaN. */
const char *tribe_kw_delta_magnitude(double delta);

/* Collective. The test over columns [0, ncol) of this rank's rows
 * x[n][ldx], segments label[n] in [0, k) (1 <= k <= 2^24): a new *out with
 * d = ncol (caller destroys), identical on every rank and for every rank
 * count. Errors: USAGE for k out of range or ldx < ncol, INPUT for a label
 * outside [0, k) (naming the local row), NOMEM, ENV; the ranks agree, *out
 * is NULL on error. */
tribe_status tribe_kw_test(tribe_par *par, const float *x, int64_t n, int ldx, int ncol, const int32_t *label, int k,
                           tribe_segtest **out);

#endif
