/* Unit tests for tribe gen --blobs --periods 2 (src/io/gen_periods.c): the
 * two customers files and their truth side files are re-read, the customers
 * joined by id, and every count truth.json promises (sizes, the migration
 * matrix, the transitions) must follow from them. */
#include "testutil.h"
#include "tribe/gen.h"
#include "tribe/h5.h"
#include "tribe/spec.h"
#include "tribe/table.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N1 20000
#define KMAX 16

/* One period as written: the customers file and its truth side file. */
typedef struct {
    tribe_table *t;
    int64_t n;
    int64_t *tid;           /* /truth/id */
    int32_t *label, *other; /* /truth/label, /truth/next (period 1) or /truth/prev (period 2) */
    double *centers;        /* [k][d] */
    int64_t k;
} period;

/* truth.json, read back. */
typedef struct {
    int k[2], customers[2], new_customers, churned, migrated;
    int sizes[2][KMAX];
    int mig[KMAX + 1][KMAX + 1]; /* row k1 = new, column k2 = gone */
    int n_tr;
    char type[KMAX][16];
    int from[KMAX][2], nfrom[KMAX], to[KMAX][2], nto[KMAX];
} truth;

static void period_free(period *p)
{
    tribe_table_destroy(&p->t);
    free(p->tid);
    free(p->label);
    free(p->other);
    free(p->centers);
    memset(p, 0, sizeof *p);
}

static int load_period(tribe_par *par, const char *dir, int which, period *p)
{
    char path[700];
    tribe_h5 *h = NULL;
    int64_t cols = 0, kd = 0;
    memset(p, 0, sizeof *p);
    snprintf(path, sizeof path, "%s/period%d.h5", dir, which);
    if (tribe_store_read_customers(par, path, &p->t, NULL) != TRIBE_OK)
        return 0;
    p->n = p->t->n_global;
    snprintf(path, sizeof path, "%s/period%d.truth.h5", dir, which);
    int ok = tribe_h5_open(par, path, &h) == TRIBE_OK &&
             tribe_h5_read_rows(h, "/truth/id", TRIBE_H5_I64, p->n, 0, p->n, &cols, (void **)&p->tid) == TRIBE_OK &&
             tribe_h5_read_rows(h, "/truth/label", TRIBE_H5_I32, p->n, 0, p->n, &cols, (void **)&p->label) ==
                 TRIBE_OK &&
             tribe_h5_read_rows(h, which == 1 ? "/truth/next" : "/truth/prev", TRIBE_H5_I32, p->n, 0, p->n, &cols,
                                (void **)&p->other) == TRIBE_OK &&
             tribe_h5_read_small(h, "/truth/centers", TRIBE_H5_F64, &p->k, &kd, (void **)&p->centers) == TRIBE_OK &&
             kd == p->t->d;
    tribe_h5_close(&h);
    return ok;
}

/* Reads a transition's side `key` (1 or 2 ints) into v; its length in *n. */
static void read_side(tribe_spec *it, const char *key, int *v, int *n)
{
    *n = 0;
    if (!tribe_spec_has(it, key))
        return;
    if (tribe_spec_ints(it, key, 0, KMAX, 1, v) == TRIBE_OK)
        *n = 1;
    else if (tribe_spec_ints(it, key, 0, KMAX, 2, v) == TRIBE_OK)
        *n = 2;
}

static int load_truth(const char *dir, truth *tr)
{
    char path[700], *text = NULL;
    size_t len = 0;
    tribe_spec *s = NULL, *it = NULL;
    int n = 0, ok = 1;
    memset(tr, 0, sizeof *tr);
    snprintf(path, sizeof path, "%s/truth.json", dir);
    if (tribe_read_file(path, &text, &len) != TRIBE_OK || tribe_spec_parse(path, text, &s) != TRIBE_OK) {
        free(text);
        return 0;
    }
    ok &= tribe_spec_ints(s, "k", 1, KMAX, 2, tr->k) == TRIBE_OK;
    ok &= tribe_spec_ints(s, "customers", 0, 1e9, 2, tr->customers) == TRIBE_OK;
    ok &= tribe_spec_int(s, "new_customers", 0, 1e9, &tr->new_customers) == TRIBE_OK;
    ok &= tribe_spec_int(s, "churned", 0, 1e9, &tr->churned) == TRIBE_OK;
    ok &= tribe_spec_int(s, "migrated", 0, 1e9, &tr->migrated) == TRIBE_OK;
    ok &= tribe_spec_list(s, "periods", &n) == TRIBE_OK && n == 2;
    for (int p = 0; ok && p < 2; p++)
        ok &= tribe_spec_item(s, "periods", p, &it) == TRIBE_OK &&
              tribe_spec_ints(it, "sizes", 0, 1e9, tr->k[p], tr->sizes[p]) == TRIBE_OK;
    ok &= tribe_spec_list(s, "migration", &n) == TRIBE_OK && n == tr->k[0] + 1;
    for (int a = 0; ok && a <= tr->k[0]; a++)
        ok &= tribe_spec_item(s, "migration", a, &it) == TRIBE_OK &&
              tribe_spec_ints(it, "to", 0, 1e9, tr->k[1], tr->mig[a]) == TRIBE_OK &&
              tribe_spec_int(it, "gone", 0, 1e9, &tr->mig[a][tr->k[1]]) == TRIBE_OK;
    ok &= tribe_spec_list(s, "transitions", &tr->n_tr) == TRIBE_OK && tr->n_tr <= KMAX;
    for (int i = 0; ok && i < tr->n_tr; i++) {
        char *type = NULL;
        ok &= tribe_spec_item(s, "transitions", i, &it) == TRIBE_OK && tribe_spec_str(it, "type", &type) == TRIBE_OK;
        snprintf(tr->type[i], sizeof tr->type[i], "%s", type ? type : "");
        free(type);
        read_side(it, "from", tr->from[i], &tr->nfrom[i]);
        read_side(it, "to", tr->to[i], &tr->nto[i]);
    }
    tribe_spec_destroy(&s);
    free(text);
    return ok;
}

static const char *generate(tribe_par *par, uint64_t seed, int64_t customers)
{
    static char dir[600];
    snprintf(dir, sizeof dir, "%s", tribe_test_tmpdir());
    tribe_blobs_cfg cfg;
    tribe_blobs_defaults(&cfg);
    cfg.customers = customers;
    cfg.seed = seed;
    cfg.clusters = TRIBE_PERIODS_DEFAULT_K;
    tribe_status st = tribe_gen_periods(par, &cfg, dir);
    CU_ASSERT_EQUAL(st, TRIBE_OK);
    return st == TRIBE_OK ? dir : NULL;
}

/* ---- cases ---------------------------------------------------------------- */
static void files_should_hold_what_truth_json_counts(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = generate(par, 11, N1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    period p1, p2;
    truth tr;
    CU_ASSERT_FATAL(load_period(par, dir, 1, &p1));
    CU_ASSERT_FATAL(load_period(par, dir, 2, &p2));
    CU_ASSERT_FATAL(load_truth(dir, &tr));
    int K1 = tr.k[0], K2 = tr.k[1];
    CU_ASSERT_EQUAL(K1, TRIBE_PERIODS_DEFAULT_K);
    CU_ASSERT_EQUAL(p1.k, K1);
    CU_ASSERT_EQUAL(p2.k, K2);
    CU_ASSERT_EQUAL(p1.n, N1);
    CU_ASSERT_EQUAL(tr.customers[0], p1.n);
    CU_ASSERT_EQUAL(tr.customers[1], p2.n);
    CU_ASSERT_EQUAL(tr.new_customers, N1 / 5);
    /* ids: ascending, not contiguous, the truth's ids the file's */
    int gaps = 0, ascending = 1, same_ids = 1;
    for (int q = 0; q < 2; q++) {
        period *p = q ? &p2 : &p1;
        for (int64_t i = 0; i < p->n; i++) {
            same_ids &= p->tid[i] == p->t->id[i];
            if (i > 0) {
                ascending &= p->t->id[i] > p->t->id[i - 1];
                gaps += p->t->id[i] > p->t->id[i - 1] + 1;
            }
        }
    }
    CU_ASSERT(ascending);
    CU_ASSERT(same_ids);
    CU_ASSERT(gaps > N1 / 2);
    /* join by id (both ascending): the matrix from the files' labels */
    int64_t m[KMAX + 1][KMAX + 1] = {{0}}, size[2][KMAX] = {{0}};
    int links_agree = 1;
    int64_t j = 0;
    for (int64_t i = 0; i < p1.n; i++) {
        while (j < p2.n && p2.t->id[j] < p1.t->id[i]) {
            m[K1][p2.label[j]]++;
            links_agree &= p2.other[j] == -1;
            j++;
        }
        int stays = j < p2.n && p2.t->id[j] == p1.t->id[i];
        int to = stays ? p2.label[j] : K2;
        m[p1.label[i]][to]++;
        links_agree &= p1.other[i] == (stays ? p2.label[j] : -1);
        if (stays) {
            links_agree &= p2.other[j] == p1.label[i];
            j++;
        }
    }
    for (; j < p2.n; j++) {
        m[K1][p2.label[j]]++;
        links_agree &= p2.other[j] == -1;
    }
    CU_ASSERT(links_agree);
    int same = 1;
    for (int a = 0; a <= K1; a++)
        for (int c = 0; c <= K2; c++) {
            same &= m[a][c] == tr.mig[a][c];
            if (a < K1)
                size[0][a] += m[a][c];
            if (c < K2)
                size[1][c] += m[a][c];
        }
    CU_ASSERT(same);
    for (int a = 0; a < K1; a++)
        CU_ASSERT_EQUAL(size[0][a], tr.sizes[0][a]);
    for (int c = 0; c < K2; c++)
        CU_ASSERT_EQUAL(size[1][c], tr.sizes[1][c]);
    int64_t gone = 0;
    for (int a = 0; a < K1; a++)
        gone += m[a][K2];
    CU_ASSERT_EQUAL(gone, tr.churned);
    CU_ASSERT_EQUAL(p2.n, N1 - gone + N1 / 5);
    period_free(&p1);
    period_free(&p2);
    tribe_par_finalize(&par);
}

/* Index of the transition whose side lists segment a (-1 when none) and how
 * many transitions list it. */
static int find_side(const truth *tr, int to_side, int a, int *count)
{
    int at = -1;
    *count = 0;
    for (int i = 0; i < tr->n_tr; i++)
        for (int q = 0; q < (to_side ? tr->nto[i] : tr->nfrom[i]); q++)
            if ((to_side ? tr->to[i][q] : tr->from[i][q]) == a) {
                at = i;
                ++*count;
            }
    return at;
}

static void transitions_should_follow_from_the_migration_matrix(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = generate(par, 12, N1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    truth tr;
    CU_ASSERT_FATAL(load_truth(dir, &tr));
    int K1 = tr.k[0], K2 = tr.k[1], kinds[5] = {0};
    static const char *const names[5] = {"survived", "split", "merged", "disappeared", "emerged"};
    CU_ASSERT_EQUAL(tr.n_tr, K1 - 4 + 4);
    for (int a = 0; a < K1; a++) { /* every period-1 segment in exactly one transition */
        int n = 0;
        find_side(&tr, 0, a, &n);
        CU_ASSERT_EQUAL(n, 1);
    }
    for (int c = 0; c < K2; c++) { /* every period-2 segment too */
        int n = 0;
        find_side(&tr, 1, c, &n);
        CU_ASSERT_EQUAL(n, 1);
    }
    int64_t stay = 0, moved = 0, kept = 0, churn = 0;
    for (int i = 0; i < tr.n_tr; i++) {
        int kind = 0;
        while (kind < 5 && strcmp(tr.type[i], names[kind]) != 0)
            kind++;
        CU_ASSERT_FATAL(kind < 5);
        kinds[kind]++;
        const int *row = kind < 4 ? tr.mig[tr.from[i][0]] : NULL;
        int64_t in_row = 0, to_listed = 0;
        for (int c = 0; row && c <= K2; c++) {
            in_row += row[c];
            for (int q = 0; q < tr.nto[i]; q++)
                to_listed += c == tr.to[i][q] ? row[c] : 0;
        }
        if (kind == 0) { /* most stay; a few churn or migrate to other survivors */
            CU_ASSERT(tr.nfrom[i] == 1 && tr.nto[i] == 1);
            CU_ASSERT(to_listed > 0.85 * in_row);
            stay += to_listed;
            moved += in_row - to_listed - row[K2];
            kept += in_row - row[K2];
            churn += row[K2];
        } else if (kind == 1 || kind == 2) { /* every staying customer goes to the listed segments */
            CU_ASSERT(kind == 1 ? tr.nfrom[i] == 1 && tr.nto[i] == 2 : tr.nfrom[i] == 2 && tr.nto[i] == 1);
            for (int q = 0; q < tr.nfrom[i]; q++) {
                const int *r = tr.mig[tr.from[i][q]];
                int64_t all = 0, listed = 0;
                for (int c = 0; c < K2; c++) {
                    all += r[c];
                    listed += c == tr.to[i][0] || (tr.nto[i] == 2 && c == tr.to[i][1]) ? r[c] : 0;
                }
                CU_ASSERT(all > 0 && listed == all);
            }
            for (int q = 0; q < tr.nto[i]; q++) /* a split's children both get customers */
                CU_ASSERT(tr.mig[tr.from[i][0]][tr.to[i][q]] > 0);
        } else if (kind == 3) { /* every customer gone */
            CU_ASSERT(tr.nfrom[i] == 1 && tr.nto[i] == 0);
            CU_ASSERT(in_row > 0 && row[K2] == in_row);
        } else { /* only new customers */
            CU_ASSERT(tr.nfrom[i] == 0 && tr.nto[i] == 1);
            int64_t old = 0;
            for (int a = 0; a < K1; a++)
                old += tr.mig[a][tr.to[i][0]];
            CU_ASSERT_EQUAL(old, 0);
            CU_ASSERT(tr.mig[K1][tr.to[i][0]] > 0);
        }
    }
    CU_ASSERT_EQUAL(kinds[0], K1 - 4);
    for (int k = 1; k < 5; k++)
        CU_ASSERT_EQUAL(kinds[k], 1);
    /* ~5% of the staying survivors migrate, ~5% churn */
    CU_ASSERT_EQUAL(moved, tr.migrated);
    CU_ASSERT(moved > 0.035 * kept && moved < 0.065 * kept);
    CU_ASSERT(churn > 0.035 * (stay + moved + churn) && churn < 0.065 * (stay + moved + churn));
    tribe_par_finalize(&par);
}

static void planted_numbers_should_follow_descending_monetary(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = generate(par, 13, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    for (int q = 1; q <= 2; q++) {
        period p;
        CU_ASSERT_FATAL(load_period(par, dir, q, &p));
        int d = p.t->d;
        CU_ASSERT_EQUAL(d, 16);
        CU_ASSERT_STRING_EQUAL(p.t->names[0], "monetary");
        CU_ASSERT_STRING_EQUAL(p.t->names[1], "f02");
        CU_ASSERT_STRING_EQUAL(p.t->names[15], "f16");
        double mean[KMAX] = {0};
        int64_t cnt[KMAX] = {0};
        for (int64_t i = 0; i < p.n; i++) {
            mean[p.label[i]] += p.t->x[i * d];
            cnt[p.label[i]]++;
        }
        for (int k = 0; k < p.k; k++) {
            CU_ASSERT(cnt[k] > 0);
            mean[k] /= (double)(cnt[k] ? cnt[k] : 1);
            if (k > 0) {
                CU_ASSERT(p.centers[k * d] < p.centers[(k - 1) * d]);
                CU_ASSERT(mean[k] < mean[k - 1]);
            }
        }
        period_free(&p);
    }
    tribe_par_finalize(&par);
}

static int same_file(const char *d1, const char *d2, const char *name)
{
    char p1[700], p2[700], *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    snprintf(p1, sizeof p1, "%s/%s", d1, name);
    snprintf(p2, sizeof p2, "%s/%s", d2, name);
    int same = tribe_read_file(p1, &a, &la) == TRIBE_OK && tribe_read_file(p2, &b, &lb) == TRIBE_OK && la == lb &&
               memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return same;
}

static int same_period(tribe_par *par, const char *d1, const char *d2, int q)
{
    period a, b;
    int ok = load_period(par, d1, q, &a) && load_period(par, d2, q, &b) && a.n == b.n && a.t->d == b.t->d &&
             memcmp(a.t->x, b.t->x, (size_t)a.n * a.t->d * sizeof(float)) == 0 &&
             memcmp(a.t->id, b.t->id, (size_t)a.n * sizeof(int64_t)) == 0 &&
             memcmp(a.label, b.label, (size_t)a.n * sizeof(int32_t)) == 0 &&
             memcmp(a.other, b.other, (size_t)a.n * sizeof(int32_t)) == 0;
    period_free(&a);
    period_free(&b);
    return ok;
}

static void same_seed_and_any_thread_count_should_give_the_same_data(void)
{
    tribe_par *par = tribe_test_serial();
    char d1[600], d2[600], d3[600];
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    snprintf(d1, sizeof d1, "%s", generate(par, 14, 9000));
    omp_set_num_threads(3);
    snprintf(d2, sizeof d2, "%s", generate(par, 14, 9000));
    snprintf(d3, sizeof d3, "%s", generate(par, 15, 9000));
    omp_set_num_threads(threads);
    CU_ASSERT(same_file(d1, d2, "truth.json"));
    CU_ASSERT(same_period(par, d1, d2, 1));
    CU_ASSERT(same_period(par, d1, d2, 2));
    CU_ASSERT_FALSE(same_file(d1, d3, "truth.json"));
    CU_ASSERT_FALSE(same_period(par, d1, d3, 1));
    tribe_par_finalize(&par);
}

static void bad_settings_should_fail_with_usage_or_io(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = tribe_test_tmpdir();
    char file[700];
    tribe_blobs_cfg cfg;
    tribe_blobs_defaults(&cfg);
    cfg.clusters = 5;
    CU_ASSERT_EQUAL(tribe_gen_periods(par, &cfg, dir), TRIBE_ERR_USAGE);
    cfg.clusters = TRIBE_PERIODS_MAX_K + 1;
    CU_ASSERT_EQUAL(tribe_gen_periods(par, &cfg, dir), TRIBE_ERR_USAGE);
    cfg.clusters = 7;
    cfg.features = 1;
    CU_ASSERT_EQUAL(tribe_gen_periods(par, &cfg, dir), TRIBE_ERR_USAGE);
    cfg.features = 16;
    cfg.customers = 0;
    CU_ASSERT_EQUAL(tribe_gen_periods(par, &cfg, dir), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(access(dir, F_OK), 0);
    snprintf(file, sizeof file, "%s/period1.h5", dir);
    CU_ASSERT_NOT_EQUAL(access(file, F_OK), 0); /* nothing written */
    /* a file where the folder should be */
    cfg.customers = 100;
    snprintf(file, sizeof file, "%s/plain", dir);
    CU_ASSERT_EQUAL(tribe_write_file_atomic(file, "x", 1), TRIBE_OK);
    snprintf(file, sizeof file, "%s/plain/sub", dir);
    CU_ASSERT_EQUAL(tribe_gen_periods(par, &cfg, file), TRIBE_ERR_IO);
    tribe_par_finalize(&par);
}

static void a_tiny_base_should_still_make_both_periods(void)
{
    tribe_par *par = tribe_test_serial();
    const char *dir = generate(par, 16, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    truth tr;
    CU_ASSERT_FATAL(load_truth(dir, &tr));
    CU_ASSERT_EQUAL(tr.customers[0], 1);
    CU_ASSERT_EQUAL(tr.new_customers, 0);
    CU_ASSERT(tr.customers[1] == 0 || tr.customers[1] == 1);
    tribe_par_finalize(&par);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(files_should_hold_what_truth_json_counts),
        TRIBE_TEST(transitions_should_follow_from_the_migration_matrix),
        TRIBE_TEST(planted_numbers_should_follow_descending_monetary),
        TRIBE_TEST(same_seed_and_any_thread_count_should_give_the_same_data),
        TRIBE_TEST(bad_settings_should_fail_with_usage_or_io),
        TRIBE_TEST(a_tiny_base_should_still_make_both_periods),
        {NULL, NULL}};
    return tribe_test_main("gen_periods", cases);
}
