/* The previous run a job builds on: its model, segment ids and names, drift
 * reference (tribe/continuity.h), and each customer's segment in it. */
#include "tribe/continuity.h"
#include "tribe/h5.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The file's real path (the run directory behind a `latest` link). */
static tribe_status real(const char *path, char **out)
{
    char *r = realpath(path, NULL);
    if (!r)
        return tribe_fail_errno(TRIBE_ERR_IO, "previous run '%s'", path);
    *out = r;
    return TRIBE_OK;
}

tribe_status tribe_prev_resolve(const char *path, char **out)
{
    char buf[4096 + 64];
    if (is_file(path))
        return real(path, out);
    if (!is_dir(path))
        return tribe_fail(TRIBE_ERR_IO, "previous run '%s': no such file or directory", path);
    static const char *const TRY[] = {"latest/results.h5", "results.h5"};
    for (size_t i = 0; i < sizeof TRY / sizeof *TRY; i++)
        if (snprintf(buf, sizeof buf, "%s/%s", path, TRY[i]) < (int)sizeof buf && is_file(buf))
            return real(buf, out);
    return tribe_fail(TRIBE_ERR_INPUT,
                      "previous run '%s': a directory without results.h5 or latest/results.h5 (name a results.h5, "
                      "a run directory or an output directory of tribe run)",
                      path);
}

void tribe_prev_destroy(tribe_prev **pp)
{
    if (!pp || !*pp)
        return;
    tribe_prev *p = *pp;
    free(p->path);
    free(p->dir);
    free(p->run_id);
    free(p->created);
    tribe_free_strs(p->names, p->m);
    tribe_free_strs(p->seg_names, p->k);
    free(p->seg_id);
    free(p->size);
    free(p->centroids);
    free(p->mean);
    free(p->std);
    free(p->impute);
    free(p->log1p);
    free(p->edges);
    free(p->ref_share);
    free(p);
    *pp = NULL;
}

int tribe_prev_column(const tribe_prev *p, const char *name)
{
    for (int j = 0; j < p->m; j++)
        if (strcmp(p->names[j], name) == 0)
            return j;
    return -1;
}

/* Collective. A small dataset of exactly rows x cols (INPUT naming it otherwise). */
static tribe_status read_exact(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t rows, int64_t cols,
                               void **out)
{
    int64_t r = 0, c = 0;
    tribe_status st = tribe_h5_shape(h, name, &r, &c);
    if (st == TRIBE_OK && (r != rows || c != cols))
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' is %lldx%lld, expected %lldx%lld (a damaged results file?)",
                        tribe_h5_path(h), name, (long long)r, (long long)c, (long long)rows, (long long)cols);
    if (st == TRIBE_OK)
        st = tribe_h5_read_rows(h, name, type, rows, 0, rows, NULL, out);
    return st;
}

/* Collective. The run's identity: run id, created, customers, K range. */
static tribe_status read_identity(tribe_h5 *h, tribe_prev *p)
{
    tribe_status st = TRIBE_OK;
    double *sweep = NULL;
    int64_t rows = 0, cols = 0, *range = NULL;
    char group[320];
    TRIBE_TRY(tribe_h5_read_attr_str(h, "/", "run_id", &p->run_id));
    if (tribe_fmt(group, sizeof group, "/runs/%s", p->run_id) != TRIBE_OK)
        tribe_clear_error();
    else
        TRIBE_TRY(tribe_h5_read_attr_str_opt(h, group, "created", &p->created));
    if (!p->created)
        TRIBE_TRY(tribe_strdup("", &p->created));
    TRIBE_TRY(tribe_h5_shape(h, "/segments/id", &p->n, &cols));
    p->k_lo = p->k_hi = p->k;
    if (tribe_h5_exists(h, "/model/k_range")) {
        TRIBE_TRY(read_exact(h, "/model/k_range", TRIBE_H5_I64, 2, 1, (void **)&range));
        p->k_lo = (int)range[0];
        p->k_hi = (int)range[1];
    } else if (tribe_h5_exists(h, "/model/k_sweep")) {
        TRIBE_TRY(tribe_h5_read_small(h, "/model/k_sweep", TRIBE_H5_F64, &rows, &cols, (void **)&sweep));
        for (int64_t i = 0; i < rows && cols > 0; i++) {
            int k = (int)sweep[i * cols];
            p->k_lo = i == 0 || k < p->k_lo ? k : p->k_lo;
            p->k_hi = i == 0 || k > p->k_hi ? k : p->k_hi;
        }
    }
cleanup:
    free(sweep);
    free(range);
    return st;
}

/* Collective. Segment names, persistent ids, sizes. */
static tribe_status read_segments(tribe_h5 *h, tribe_prev *p)
{
    tribe_status st = TRIBE_OK;
    int nseg = 0;
    int64_t *next = NULL;
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/segments", "names", &nseg, &p->seg_names));
    if (nseg != p->k) {
        int k = p->k;
        p->k = nseg; /* what destroy must free */
        return tribe_fail(TRIBE_ERR_INPUT, "%s: %d segment names for %d centroids", p->path, nseg, k);
    }
    TRIBE_TRY(read_exact(h, "/segments/size", TRIBE_H5_I64, p->k, 1, (void **)&p->size));
    if (tribe_h5_exists(h, "/segments/segment_id")) {
        TRIBE_TRY(read_exact(h, "/segments/segment_id", TRIBE_H5_I64, p->k, 1, (void **)&p->seg_id));
        TRIBE_TRY(read_exact(h, "/continuity/next_id", TRIBE_H5_I64, 1, 1, (void **)&next));
        p->next_id = next[0];
    } else { /* a run before persistent ids: its positions were its ids */
        TRIBE_TRY(tribe_calloc((void **)&p->seg_id, (size_t)p->k, sizeof *p->seg_id));
        for (int c = 0; c < p->k; c++)
            p->seg_id[c] = c;
        p->next_id = p->k;
    }
    for (int c = 0; c < p->k; c++)
        if (p->seg_id[c] < 0 || p->seg_id[c] >= p->next_id) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/segment_id[%d] = %lld is outside 0..next_id-1 (%lld)",
                            p->path, c, (long long)p->seg_id[c], (long long)p->next_id - 1);
            goto cleanup;
        }
cleanup:
    free(next);
    return st;
}

/* Collective. The model: columns, scaler, centroids, drift reference. */
static tribe_status read_model(tribe_h5 *h, tribe_prev *p)
{
    tribe_status st = TRIBE_OK;
    int32_t *lg = NULL;
    int64_t k = 0, cols = 0;
    TRIBE_TRY(tribe_h5_read_attr_strs(h, "/model", "feature_names", &p->m, &p->names));
    TRIBE_TRY(tribe_h5_shape(h, "/model/centroids", &k, &cols));
    if (p->m < 1 || k < 1 || cols != p->m)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: /model/centroids is %lldx%lld but the model has %d columns", p->path,
                          (long long)k, (long long)cols, p->m);
    p->k = (int)k;
    TRIBE_TRY(read_exact(h, "/model/centroids", TRIBE_H5_F64, k, p->m, (void **)&p->centroids));
    TRIBE_TRY(read_exact(h, "/model/scaler/mean", TRIBE_H5_F64, p->m, 1, (void **)&p->mean));
    TRIBE_TRY(read_exact(h, "/model/scaler/std", TRIBE_H5_F64, p->m, 1, (void **)&p->std));
    TRIBE_TRY(read_exact(h, "/model/scaler/impute", TRIBE_H5_F64, p->m, 1, (void **)&p->impute));
    TRIBE_TRY(read_exact(h, "/model/scaler/log1p", TRIBE_H5_I32, p->m, 1, (void **)&lg));
    TRIBE_TRY(tribe_calloc((void **)&p->log1p, (size_t)p->m, sizeof *p->log1p));
    for (int j = 0; j < p->m; j++)
        p->log1p[j] = lg[j] != 0;
    for (int64_t i = 0; i < k * p->m; i++)
        if (!isfinite(p->centroids[i]))
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /model/centroids holds a non-finite value", p->path);
    for (int j = 0; j < p->m; j++)
        if (!isfinite(p->mean[j]) || !(p->std[j] > 0) || !isfinite(p->std[j]))
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /model/scaler of column '%s' is not finite and positive",
                              p->path, p->names[j]);
    p->has_ref = tribe_h5_exists(h, "/model/drift/edges");
    if (p->has_ref) {
        TRIBE_TRY(read_exact(h, "/model/drift/edges", TRIBE_H5_F64, p->m, TRIBE_DRIFT_BINS - 1, (void **)&p->edges));
        TRIBE_TRY(read_exact(h, "/model/drift/share", TRIBE_H5_F64, p->m, TRIBE_DRIFT_BINS + 1,
                             (void **)&p->ref_share));
    }
cleanup:
    free(lg);
    return st;
}

tribe_status tribe_prev_read(tribe_par *par, const char *path, tribe_prev **out)
{
    tribe_status st = TRIBE_OK;
    tribe_prev *p = NULL;
    tribe_h5 *h = NULL;
    char *format = NULL, *copy = NULL;
    TRIBE_TRY(tribe_par_agree(par, tribe_calloc((void **)&p, 1, sizeof *p)));
    TRIBE_TRY(tribe_par_agree(par, tribe_prev_resolve(path, &p->path)));
    st = tribe_strdup(p->path, &copy);
    if (st == TRIBE_OK)
        st = tribe_strdup(dirname(copy), &p->dir);
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open(par, p->path, &h)));
    st = tribe_h5_read_attr_str_opt(h, "/", "tribe_format", &format);
    if (st == TRIBE_OK && (!format || strcmp(format, "tribe-results") != 0))
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "%s: not a tribe results file (no tribe_format='tribe-results' attribute); name the "
                        "results.h5 of a 'tribe run'",
                        p->path);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = read_model(h, p);
    if (st == TRIBE_OK)
        st = read_segments(h, p);
    if (st == TRIBE_OK)
        st = read_identity(h, p);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(format);
    free(copy);
    st = tribe_par_agree(par, st);
    if (st == TRIBE_OK)
        *out = p;
    else
        tribe_prev_destroy(&p);
    return st;
}

/* Collective. The upper end hi of this rank's id range over the whole id
 * line: rank r takes the ids after the ranks before it (their largest hi) up
 * to its own last id (the last rank up to the end); an empty rank's range is
 * empty (hi = the ranks before it's). */
static tribe_status id_upper(const tribe_rows *rows, const int64_t *id, int64_t *hi)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    int size = tribe_par_size(par), rank = tribe_par_rank(par);
    int64_t *last = NULL;
    TRIBE_TRY(tribe_calloc((void **)&last, (size_t)size, sizeof *last));
    /* The last id of each rank (INT64_MIN for none), by a max-reduction of one slot per rank. */
    for (int r = 0; r < size; r++)
        last[r] = INT64_MIN;
    if (rows->n_local > 0)
        last[rank] = id[rows->n_local - 1];
    TRIBE_TRY(tribe_par_max_i64(par, last, size));
    int64_t before = INT64_MIN;
    for (int r = 0; r < rank; r++)
        before = last[r] > before ? last[r] : before;
    *hi = rank == size - 1 ? INT64_MAX : (last[rank] > before ? last[rank] : before);
cleanup:
    free(last);
    return st;
}

/* Collective. The previous rows [*start, *end) whose ids fall in this rank's
 * range (the rank before's hi, hi]: the previous ids are read in blocks over
 * the ranks, each counts how many of its block lie at or below every rank's
 * hi, and a sum gives the bounds. */
static tribe_status prev_bounds(tribe_par *par, tribe_h5 *h, int64_t n_prev, int64_t hi, int64_t *start,
                                int64_t *end)
{
    tribe_status st = TRIBE_OK;
    int size = tribe_par_size(par), rank = tribe_par_rank(par);
    int64_t *his = NULL, *below = NULL, *ids = NULL, b0 = 0, b1 = 0;
    TRIBE_TRY(tribe_calloc((void **)&his, (size_t)size, sizeof *his));
    TRIBE_TRY(tribe_calloc((void **)&below, (size_t)size + 1, sizeof *below));
    for (int r = 0; r < size; r++)
        his[r] = r == rank ? hi : INT64_MIN;
    TRIBE_TRY(tribe_par_max_i64(par, his, size));
    tribe_par_block(n_prev, size, rank, &b0, &b1);
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, n_prev, b0, b1 - b0, NULL, (void **)&ids));
    for (int64_t i = 1; i < b1 - b0; i++)
        if (ids[i] <= ids[i - 1]) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/id is not strictly ascending at row %lld (id %lld)",
                            tribe_h5_path(h), (long long)(b0 + i), (long long)ids[i]);
            break;
        }
    for (int r = 0; r < size && st == TRIBE_OK; r++) {
        int64_t a = 0, b = b1 - b0; /* first index with id > his[r] */
        while (a < b) {
            int64_t mid = a + (b - a) / 2;
            if (ids[mid] <= his[r])
                a = mid + 1;
            else
                b = mid;
        }
        below[r + 1] = a;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_i64(par, below + 1, size));
    *start = rank == 0 ? 0 : below[rank];
    *end = below[rank + 1];
cleanup:
    free(his);
    free(below);
    free(ids);
    return st;
}

/* Not collective. Merges the sorted previous rows with this rank's sorted
 * customers. */
static tribe_status merge_rows(const tribe_prev *p, const int64_t *pid, const int32_t *plab, int64_t np,
                               const int64_t *id, int64_t n, int32_t *prev_label, int64_t *gone)
{
    int64_t a = 0;
    for (int64_t i = 0; i < np; i++)
        if (plab[i] < 0 || plab[i] >= p->k)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: /segments/label of customer %lld is %d, outside 0..%d", p->path,
                              (long long)pid[i], plab[i], p->k - 1);
    for (int64_t i = 0; i < n; i++) {
        while (a < np && pid[a] < id[i])
            gone[plab[a++]]++;
        prev_label[i] = a < np && pid[a] == id[i] ? plab[a++] : -1;
    }
    while (a < np)
        gone[plab[a++]]++;
    return TRIBE_OK;
}

tribe_status tribe_prev_labels(const tribe_rows *rows, const int64_t *id, const tribe_prev *p, int32_t *prev_label,
                               int64_t *gone)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = rows->par;
    tribe_h5 *h = NULL;
    int64_t hi = 0, start = 0, end = 0;
    int64_t *pid = NULL;
    int32_t *plab = NULL;
    memset(gone, 0, (size_t)p->k * sizeof *gone);
    TRIBE_TRY(id_upper(rows, id, &hi));
    TRIBE_TRY(tribe_par_agree(par, tribe_h5_open(par, p->path, &h)));
    TRIBE_TRY(prev_bounds(par, h, p->n, hi, &start, &end));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/id", TRIBE_H5_I64, p->n, start, end - start, NULL, (void **)&pid));
    TRIBE_TRY(tribe_h5_read_rows(h, "/segments/label", TRIBE_H5_I32, p->n, start, end - start, NULL, (void **)&plab));
    TRIBE_TRY(tribe_par_agree(par, merge_rows(p, pid, plab, end - start, id, rows->n_local, prev_label, gone)));
    TRIBE_TRY(tribe_par_sum_i64(par, gone, p->k));
cleanup:
    st = tribe_h5_close_after(&h, st);
    free(pid);
    free(plab);
    return tribe_par_agree(par, st);
}
