#include "testutil.h"
#include "tribe/cluster.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tribe_mpitest_failures;

/* Cases skipped by tribe_test_skip, and their reasons for the final summary. */
static unsigned skipped_cases;
static CU_pTest last_skipped;
static char skip_notes[4096];

/* This process's folder under TRIBE_TEST_TMP ("" until the first temporary
 * folder is asked for) and how many folders were made in it. */
static char tmp_root[512];
static int tmp_count;

double tribe_test_silhouette(const float *z, const int32_t *lab, int64_t n, int d, int k, int squared)
{
    double total = 0;
    int64_t *cnt = calloc((size_t)k, sizeof *cnt);
    double *sum = malloc((size_t)k * sizeof *sum);
    for (int64_t i = 0; i < n; i++)
        cnt[lab[i]]++;
    for (int64_t i = 0; i < n; i++) {
        for (int c = 0; c < k; c++)
            sum[c] = 0;
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int l = 0; l < d; l++)
                s += ((double)z[i * d + l] - z[j * d + l]) * ((double)z[i * d + l] - z[j * d + l]);
            sum[lab[j]] += squared ? s : sqrt(s);
        }
        if (cnt[lab[i]] == 1)
            continue;
        double a = sum[lab[i]] / (double)(cnt[lab[i]] - 1), b = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != lab[i] && cnt[c] > 0 && sum[c] / (double)cnt[c] < b)
                b = sum[c] / (double)cnt[c];
        total += (b - a) / fmax(a, b);
    }
    free(cnt);
    free(sum);
    return total / (double)n;
}

int tribe_test_main(const char *suite_name, const tribe_test_case *cases)
{
    tribe_blas_init(); /* BLAS on one thread, once, as the CLI does */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    if (!suite) {
        CU_cleanup_registry();
        return 1;
    }
    for (const tribe_test_case *c = cases; c->name; c++)
        if (!CU_add_test(suite, c->name, c->fn)) {
            CU_cleanup_registry();
            return 1;
        }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (failed > 0 || run == 0)
        return 1;
    if (skipped_cases > 0) {
        printf("SKIP: %u of %u case(s) skipped:\n%s", skipped_cases, run, skip_notes);
        return TRIBE_TEST_SKIP;
    }
    return 0;
}

void tribe_test_skip(const char *why)
{
    CU_pTest t = CU_is_test_running() ? CU_get_current_test() : NULL;
    if (!t) {
        printf("SKIP: %s\n", why);
        exit(TRIBE_TEST_SKIP);
    }
    printf("SKIPPED (%s) ", why);
    if (t != last_skipped)
        skipped_cases++;
    last_skipped = t;
    size_t used = strlen(skip_notes);
    snprintf(skip_notes + used, sizeof skip_notes - used, "  %s: %s\n", t->pName, why);
}

int tribe_test_need_python(const char *modules)
{
    char cmd[512], why[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import %s' 2>/dev/null", modules);
    if (access("/usr/bin/python3", X_OK) == 0 && system(cmd) == 0)
        return 1;
    snprintf(why, sizeof why, "/usr/bin/python3 cannot import %s", modules);
    tribe_test_skip(why);
    return 0;
}

tribe_par *tribe_test_serial(void)
{
    tribe_par *par = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_par_serial(&par), TRIBE_OK);
    return par;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* atexit: removes this process's temporary folders unless TRIBE_TEST_KEEP_TMP. */
static void remove_tmp_root(void)
{
    const char *keep = getenv("TRIBE_TEST_KEEP_TMP");
    if (keep && *keep && strcmp(keep, "0") != 0)
        fprintf(stderr, "temporary folders kept in %s\n", tmp_root);
    else if (nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
}

/* Makes a fresh folder <tmp_root>/<n> into buf (tmp_root made on first use);
 * -1 with errno on failure. */
static int make_tmpdir(char *buf, size_t cap)
{
    if (!tmp_root[0]) {
        if (mkdir(TRIBE_TEST_TMP, 0755) != 0 && errno != EEXIST)
            return -1;
        snprintf(tmp_root, sizeof tmp_root, "%s/run-XXXXXX", TRIBE_TEST_TMP);
        if (!mkdtemp(tmp_root)) {
            tmp_root[0] = 0;
            return -1;
        }
        atexit(remove_tmp_root);
    }
    int len = snprintf(buf, cap, "%s/%d", tmp_root, ++tmp_count);
    if (len < 0 || (size_t)len >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdir(buf, 0700);
}

const char *tribe_test_tmpdir(void)
{
    static char buf[600];
    if (make_tmpdir(buf, sizeof buf) != 0) {
        perror("temporary folder under " TRIBE_TEST_TMP);
        abort();
    }
    return buf;
}

const char *tribe_test_data(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", TRIBE_TEST_DATA, name);
    return buf;
}

/* Where shared data sets are looked for: $TRIBE_SHARED_DATA, else the
 * folder configured at build time. */
static const char *shared_dir(void)
{
    const char *dir = getenv("TRIBE_SHARED_DATA");
    return dir && *dir ? dir : TRIBE_SHARED_DATA;
}

const char *tribe_test_shared_data(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", shared_dir(), name);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

tribe_par *tribe_mpitest_init(int *argc, char ***argv)
{
    tribe_par *par = NULL;
    tribe_blas_init();
    if (tribe_par_init(argc, argv, &par) != TRIBE_OK) {
        fprintf(stderr, "MPI init failed: %s\n", tribe_errmsg());
        exit(1);
    }
    tribe_log_setup(tribe_par_rank(par), TRIBE_LOG_WARN, 0);
    return par;
}

/* Agrees on failures, prints one line on rank 0, finalises MPI; returns the
 * exit code: 1 when a check failed on any rank, else TRIBE_TEST_SKIP when
 * `skip` gives a reason, else 0. */
static int mpitest_end(tribe_par **par, const char *skip)
{
    int64_t fails = tribe_mpitest_failures;
    if (tribe_par_sum_i64(*par, &fails, 1) != TRIBE_OK)
        fails = 1;
    int size = tribe_par_size(*par);
    if (tribe_par_rank(*par) == 0) {
        if (skip && !fails)
            printf("SKIP on %d rank(s): %s\n", size, skip);
        else
            printf("%s on %d rank(s): %lld failed check(s)\n", fails ? "FAIL" : "PASS", size, (long long)fails);
        fflush(stdout);
    }
    tribe_par_finalize(par);
    return fails ? 1 : skip ? TRIBE_TEST_SKIP : 0;
}

int tribe_mpitest_finish(tribe_par **par) { return mpitest_end(par, NULL); }

void tribe_mpitest_skip(tribe_par **par, const char *why) { exit(mpitest_end(par, why)); }

const char *tribe_mpitest_shared_data(tribe_par **par, const char *name)
{
    const char *path = tribe_test_shared_data(name);
    int64_t missing = path == NULL;
    if (tribe_par_max_i64(*par, &missing, 1) != TRIBE_OK)
        missing = 1;
    if (missing) {
        char why[1200];
        snprintf(why, sizeof why, "%s not readable in %s on every rank (set TRIBE_SHARED_DATA, or configure with "
                 "-DTRIBE_SHARED_DATA=<folder>)", name, shared_dir());
        tribe_mpitest_skip(par, why);
    }
    return path;
}

const char *tribe_mpitest_tmpdir(tribe_par *par)
{
    static char buf[600];
    int rank = tribe_par_rank(par);
    buf[0] = 0;
    if (rank == 0 && make_tmpdir(buf, sizeof buf) != 0) {
        perror("temporary folder under " TRIBE_TEST_TMP);
        buf[0] = 0;
    }
    if (tribe_par_bcast(par, buf, sizeof buf, 0) != TRIBE_OK || !buf[0]) {
        fprintf(stderr, "rank %d: no temporary folder\n", rank);
        abort();
    }
    return buf;
}
