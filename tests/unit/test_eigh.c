/* Unit tests for the LAPACK eigen decomposition (tribe_eigh, tribe/cluster.h)
 * behind the PCA projection: small exact cases. */
#include "testutil.h"
#include "tribe/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEAR(a, b, tol) CU_ASSERT(fabs((a) - (b)) <= (tol))

static void eigh_should_sort_descending_and_fix_signs(void)
{
    double a[4] = {2, 1, 1, 2}, w[2], v[4];
    CU_ASSERT_EQUAL_FATAL(tribe_eigh(a, 2, w, v), TRIBE_OK);
    NEAR(w[0], 3, 1e-14);
    NEAR(w[1], 1, 1e-14);
    double h = sqrt(0.5);
    /* |components| tie: the lowest index is made positive */
    NEAR(v[0], h, 1e-14);
    NEAR(v[1], h, 1e-14);
    NEAR(v[2], h, 1e-14);
    NEAR(v[3], -h, 1e-14);
    /* input left untouched */
    CU_ASSERT(a[0] == 2 && a[1] == 1 && a[2] == 1 && a[3] == 2);
    CU_ASSERT_EQUAL(tribe_eigh(a, 0, w, v), TRIBE_ERR_USAGE);
}

/* A = Q diag(lambda) Q^T with Q the Householder reflection I - 2 u u^T / u.u
 * (u = 1..7, symmetric and orthogonal): the eigenvalues are lambda, sorted
 * descending, and the eigenvectors the columns of Q, each signed so its
 * largest-magnitude component is positive. */
static void eigh_should_find_the_eigenpairs_of_a_known_matrix(void)
{
    enum { N = 7 };
    static const double lambda[N] = {9, 5, 2, 1, -1, -3, -4};
    double q[N * N], a[N * N], w[N], v[N * N], uu = 0;
    for (int i = 0; i < N; i++)
        uu += (double)(i + 1) * (i + 1);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            q[i * N + j] = (i == j) - 2.0 * (i + 1) * (j + 1) / uu;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int e = 0; e < N; e++)
                s += q[i * N + e] * lambda[e] * q[j * N + e];
            a[i * N + j] = s;
        }
    CU_ASSERT_EQUAL_FATAL(tribe_eigh(a, N, w, v), TRIBE_OK);
    for (int e = 0; e < N; e++) {
        NEAR(w[e], lambda[e], 1e-12);
        int big = 0;
        for (int i = 1; i < N; i++)
            if (fabs(q[i * N + e]) > fabs(q[big * N + e]))
                big = i;
        double sign = q[big * N + e] < 0 ? -1 : 1;
        for (int i = 0; i < N; i++)
            NEAR(v[e * N + i], sign * q[i * N + e], 1e-12);
    }
}

static void eigh_should_diagonalise_a_random_symmetric_matrix(void)
{
    enum { N = 7 };
    double m[N * N], ww[N], vv[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++)
            m[i * N + j] = m[j * N + i] = tribe_rng_normal(2, 3, (uint64_t)(i * N + j));
    CU_ASSERT_EQUAL_FATAL(tribe_eigh(m, N, ww, vv), TRIBE_OK);
    for (int e = 0; e < N; e++) {
        if (e > 0)
            CU_ASSERT(ww[e - 1] >= ww[e]);
        for (int i = 0; i < N; i++) {
            double av = 0;
            for (int j = 0; j < N; j++)
                av += m[i * N + j] * vv[e * N + j];
            NEAR(av, ww[e] * vv[e * N + i], 1e-9);
        }
    }
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(eigh_should_sort_descending_and_fix_signs),
        TRIBE_TEST(eigh_should_find_the_eigenpairs_of_a_known_matrix),
        TRIBE_TEST(eigh_should_diagonalise_a_random_symmetric_matrix),
        {NULL, NULL}};
    return tribe_test_main("eigh", cases);
}
