/* The statistics of a holdout experiment (tribe/experiment.h,
 * docs/experiments.md): intervals for the difference and the ratio of
 * conversion rates and of mean spend between treatment and control. Plain
 * arithmetic on counts and sums, no allocation. */
#include "tribe/experiment.h"

#include <math.h>

void tribe_exp_arm_add(tribe_exp_arm *a, int converted, double spend)
{
    a->n++;
    a->conv += converted != 0;
    double d = spend - a->mean;
    a->mean += d / (double)a->n;
    a->m2 += d * (spend - a->mean);
}

double tribe_exp_norm_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return NAN;
    /* Phi(x) = erfc(-x / sqrt 2) / 2 is increasing: bisect to the last bit. */
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 0; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid == lo || mid == hi)
            break;
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double tribe_exp_t_quantile(double p, double df)
{
    double z = tribe_exp_norm_quantile(p);
    if (!isfinite(z))
        return z;
    if (!(df >= 1))
        df = 1;
    if (isinf(df))
        return z;
    double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    double g1 = (z3 + z) / 4;
    double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
    double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
    double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
    return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}

static double z_of(double conf) { return tribe_exp_norm_quantile(0.5 + 0.5 * conf); }

static tribe_exp_ci ci_nan(void) { return (tribe_exp_ci){NAN, NAN, NAN}; }

static tribe_exp_ci wilson_z(int64_t x, int64_t n, double z)
{
    if (n <= 0)
        return ci_nan();
    double nn = (double)n, p = (double)x / nn, z2 = z * z;
    double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    double lo = centre - half, hi = centre + half;
    /* exact ends at x = 0 and x = n (the formula gives them up to rounding) */
    return (tribe_exp_ci){p, x == 0 ? 0 : lo, x == n ? 1 : hi};
}

tribe_exp_ci tribe_exp_wilson(int64_t x, int64_t n, double conf) { return wilson_z(x, n, z_of(conf)); }

tribe_exp_ci tribe_exp_newcombe(int64_t x1, int64_t n1, int64_t x0, int64_t n0, double conf)
{
    if (n1 <= 0 || n0 <= 0)
        return ci_nan();
    double z = z_of(conf);
    tribe_exp_ci a = wilson_z(x1, n1, z), b = wilson_z(x0, n0, z);
    double d = a.est - b.est;
    double dl = sqrt((a.est - a.lo) * (a.est - a.lo) + (b.hi - b.est) * (b.hi - b.est));
    double du = sqrt((a.hi - a.est) * (a.hi - a.est) + (b.est - b.lo) * (b.est - b.lo));
    return (tribe_exp_ci){d, d - dl, d + du};
}

tribe_exp_ci tribe_exp_welch(const tribe_exp_arm *t, const tribe_exp_arm *c, double conf, double *df)
{
    *df = NAN;
    if (t->n < 2 || c->n < 2)
        return t->n > 0 && c->n > 0 ? (tribe_exp_ci){t->mean - c->mean, NAN, NAN} : ci_nan();
    double vt = t->m2 / (double)(t->n - 1) / (double)t->n, vc = c->m2 / (double)(c->n - 1) / (double)c->n;
    double se2 = vt + vc, d = t->mean - c->mean;
    if (!(se2 > 0)) /* no spread in either arm: the difference is what it is */
        return (tribe_exp_ci){d, d, d};
    *df = se2 * se2 / (vt * vt / (double)(t->n - 1) + vc * vc / (double)(c->n - 1));
    double h = tribe_exp_t_quantile(0.5 + 0.5 * conf, *df) * sqrt(se2);
    return (tribe_exp_ci){d, d - h, d + h};
}

/* exp(log ratio +- z se) - 1: the interval of a relative lift. */
static tribe_exp_ci log_ratio(double ratio, double se, double z)
{
    if (!(ratio > 0) || !isfinite(se))
        return ci_nan();
    double l = log(ratio);
    return (tribe_exp_ci){ratio - 1, exp(l - z * se) - 1, exp(l + z * se) - 1};
}

static tribe_exp_ci scaled(tribe_exp_ci a, double k) { return (tribe_exp_ci){a.est * k, a.lo * k, a.hi * k}; }

void tribe_exp_compare(const tribe_exp_arm *t, const tribe_exp_arm *c, double conf, double cost_per_message,
                       tribe_exp_result *r)
{
    const double z = z_of(conf);
    r->t = *t;
    r->c = *c;
    r->conv_t = t->n ? (double)t->conv / (double)t->n : NAN;
    r->conv_c = c->n ? (double)c->conv / (double)c->n : NAN;
    r->spend_t = t->n ? t->mean : NAN;
    r->spend_c = c->n ? c->mean : NAN;
    r->conv_abs = tribe_exp_newcombe(t->conv, t->n, c->conv, c->n, conf);
    /* Katz's log risk ratio: var = 1/x1 - 1/n1 + 1/x0 - 1/n0 */
    r->conv_rel = t->conv > 0 && c->conv > 0
                      ? log_ratio(r->conv_t / r->conv_c,
                                  sqrt(1.0 / (double)t->conv - 1.0 / (double)t->n + 1.0 / (double)c->conv -
                                       1.0 / (double)c->n),
                                  z)
                      : ci_nan();
    r->spend_abs = tribe_exp_welch(t, c, conf, &r->welch_df);
    /* delta method: var log(mt / mc) = s_t^2 / (n_t mt^2) + s_c^2 / (n_c mc^2) */
    r->spend_rel = ci_nan();
    if (t->n >= 2 && c->n >= 2 && t->mean > 0 && c->mean > 0) {
        double vt = t->m2 / (double)(t->n - 1) / (double)t->n, vc = c->m2 / (double)(c->n - 1) / (double)c->n;
        r->spend_rel = log_ratio(t->mean / c->mean, sqrt(vt / (t->mean * t->mean) + vc / (c->mean * c->mean)), z);
    }
    r->incr_conversions = scaled(r->conv_abs, (double)t->n);
    r->incr_revenue = scaled(r->spend_abs, (double)t->n);
    r->cost = cost_per_message * (double)t->n;
    if (r->cost > 0) /* ROI is linear in the revenue: its interval is the revenue's, mapped */
        r->roi = (tribe_exp_ci){(r->incr_revenue.est - r->cost) / r->cost, (r->incr_revenue.lo - r->cost) / r->cost,
                                (r->incr_revenue.hi - r->cost) / r->cost};
    else
        r->roi = ci_nan();
    r->small = t->conv < 10 || c->conv < 10 || t->n - t->conv < 10 || c->n - c->conv < 10;
}
