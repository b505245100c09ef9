/* Shared helpers for tribe's tests: the one serial-context fixture, the one
 * temporary-folder helper, fixture paths, skips, and the MPI check macros.
 *
 * CUnit suites (tests/unit/test_<module>.c):
 *     static void kmeans_should_recover_planted_centroids(void)
 *     {
 *         tribe_par *par = tribe_test_serial();     // fresh per case; the case frees it
 *         CU_ASSERT(...);
 *         tribe_par_finalize(&par);
 *     }
 *     int main(void) {
 *         static const tribe_test_case cases[] = {
 *             TRIBE_TEST(kmeans_should_recover_planted_centroids), {NULL, NULL}};
 *         return tribe_test_main("kmeans", cases);
 *     }
 *
 * MPI tests (tests/mpi/test_<name>.c) run under mpiexec -n 1, 2, 4:
 *     tribe_par *par = tribe_mpitest_init(&argc, &argv);
 *     const char *dir = tribe_mpitest_tmpdir(par);  // one folder, the same on every rank
 *     TRIBE_MPI_CHECK(par, cond, "what went wrong %d", x);
 *     return tribe_mpitest_finish(&par);   // agrees on failures, exit code
 *
 * Skipping. A test that cannot run here (a data set, a Python peer missing)
 * exits TRIBE_TEST_SKIP (77) with the reason printed; every unit, MPI and e2e
 * test has SKIP_RETURN_CODE 77 in tests/CMakeLists.txt, so ctest reports it
 * as "Skipped", never as passed. mpiexec passes the code on (Open MPI returns
 * the first non-zero exit code; every rank exits 77). A failure always wins
 * over a skip. Unit suites: tribe_test_skip(why) from main skips the suite;
 * inside a case it skips that case (the case then returns), the other cases
 * still run, and the suite exits 77 if none failed. MPI tests: every rank
 * calls tribe_mpitest_skip (or tribe_mpitest_shared_data, which agrees first).
 *
 * Temporary folders live under the build tree (<build>/tests/tmp, a folder
 * per test process; on a cluster that is usually shared by the nodes, unlike
 * /tmp) and are removed, with their contents, when the process exits
 * normally (main returns, exit, a skip). A crash or abort leaves them
 * under <build>/tests/tmp, not in /tmp; TRIBE_TEST_KEEP_TMP=1 keeps them.
 * Tests need not delete what they write there.
 */
#ifndef TRIBE_TESTUTIL_H
#define TRIBE_TESTUTIL_H

#include <CUnit/Basic.h>

#include "tribe/core.h"
#include "tribe/par.h"

typedef struct {
    const char *name;
    void (*fn)(void);
} tribe_test_case;

#define TRIBE_TEST(fn) {#fn, fn}

/* Exit code of a skipped test (SKIP_RETURN_CODE in tests/CMakeLists.txt). */
#define TRIBE_TEST_SKIP 77

/* Runs the cases as one CUnit suite; returns 0 when all pass, 1 when one
 * failed (or none ran), TRIBE_TEST_SKIP when none failed and some case was
 * skipped (the reasons are printed again at the end). */
int tribe_test_main(const char *suite, const tribe_test_case *cases);

/* From main (before tribe_test_main): prints "SKIP: <why>" and exits
 * TRIBE_TEST_SKIP. Inside a running case: marks the case skipped with the
 * reason and returns; the case returns without asserting more. */
void tribe_test_skip(const char *why);

/* 1 when /usr/bin/python3 can import `modules` (as written after "import",
 * e.g. "sklearn" or "numpy, xgboost"); otherwise skips the running case
 * (tribe_test_skip) and returns 0:
 *     if (!tribe_test_need_python("sklearn")) return; */
int tribe_test_need_python(const char *modules);

/* A fresh serial context (rank 0 of 1, collectives are local no-ops) for one
 * case, which frees it with tribe_par_finalize. Call inside a case: if it
 * cannot be made, the case fails there (CUnit fatal assertion). */
tribe_par *tribe_test_serial(void);

/* The layout of n rows all held by the serial context par (trivially tiled,
 * so not checked), and the matrix z[n][d] on them: compound literals, valid
 * in the enclosing block, for the drivers that take a tribe_rows or a
 * tribe_dmat (tribe/par.h):  tribe_kmeans_fit(TRIBE_TEST_DMAT(par, z, n, d), ...). */
#define TRIBE_TEST_ROWS(par, n) (&(tribe_rows){(par), (n), 0, (n)})
#define TRIBE_TEST_DMAT(par, z, n, d) (&(tribe_dmat){TRIBE_TEST_ROWS(par, n), (z), (d)})

/* A fresh, empty temporary folder under <build>/tests/tmp, removed with its
 * contents at exit (see the top of this file). Static buffer, valid until the
 * next call; aborts if the folder cannot be made. */
const char *tribe_test_tmpdir(void);
/* Path of a fixture in tests/data (static buffer). */
const char *tribe_test_data(const char *name);
/* Path of ../shared/data/<name> if it exists, else NULL (caller skips). */
const char *tribe_test_shared_data(const char *name);

/* Brute-force mean silhouette of n rows z[n][d] with labels in [0, k), in
 * double over every pair (Euclidean, or squared Euclidean with `squared`); a
 * row alone in its cluster scores 0. The reference the exact kernels are
 * tested against. */
double tribe_test_silhouette(const float *z, const int32_t *lab, int64_t n, int d, int k, int squared);

/* Initialises MPI and warnings-only logging; exits 1 if MPI cannot start. */
tribe_par *tribe_mpitest_init(int *argc, char ***argv);
extern int tribe_mpitest_failures;
#define TRIBE_MPI_CHECK(par, cond, ...)                                                        \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", tribe_par_rank(par), __FILE__, \
                    __LINE__, #cond);                                                          \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fprintf(stderr, "\n");                                                             \
            tribe_mpitest_failures++;                                                          \
        }                                                                                      \
    } while (0)
/* Collective. Agrees on failures across ranks, prints one summary line on
 * rank 0, finalises MPI and returns the exit code (0 = all ranks passed). */
int tribe_mpitest_finish(tribe_par **par);
/* Collective: every rank calls it. Ends the test as skipped: rank 0 prints
 * "SKIP on <n> rank(s): <why>", MPI is finalised and every rank exits
 * TRIBE_TEST_SKIP; but if a check already failed on some rank, it ends as
 * tribe_mpitest_finish does (exit 1): a skip never hides a failure. */
_Noreturn void tribe_mpitest_skip(tribe_par **par, const char *why);
/* Collective. The path of a shared data set (tribe_test_shared_data) when
 * every rank can read it; otherwise skips the test on every rank
 * (tribe_mpitest_skip), naming the file and TRIBE_SHARED_DATA. */
const char *tribe_mpitest_shared_data(tribe_par **par, const char *name);
/* Collective. One fresh temporary folder for all ranks: made by rank 0 (as
 * tribe_test_tmpdir, removed by rank 0 at exit), its path broadcast. Static
 * buffer, valid until the next call; aborts on every rank if it cannot be made. */
const char *tribe_mpitest_tmpdir(tribe_par *par);

#endif
