/* Row transfers in bounded pieces: a shard moved in many small collective
 * calls (ranks with fewer pieces joining with empty selections) reads and
 * writes exactly what one big call does, for 1-D and 2-D datasets, string
 * rows (string customer ids), uneven shards and an empty shard. */
#include "testutil.h"
#include "tribe/h5.h"

#include <stdlib.h>
#include <string.h>

enum { N = 1009, D = 5, W = 12 };

/* The string of global row g, NUL-padded to W bytes. */
static void sval(int64_t g, char *out)
{
    memset(out, 0, W);
    snprintf(out, W, "C-%lld", (long long)(g * 31));
}

static float xval(int64_t g, int j) { return (float)(g * 7 + j) + 0.25f; }

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    /* Uneven shards; the last rank holds nothing when there are several. */
    int64_t lo = 0, hi = 0;
    if (size == 1) {
        hi = N;
    } else {
        int64_t cut[8] = {0};
        for (int r = 1; r < size; r++)
            cut[r] = r == size - 1 ? N : (int64_t)N * r * r / ((int64_t)(size - 1) * (size - 1));
        cut[size] = N;
        lo = cut[rank];
        hi = cut[rank + 1];
    }
    int64_t n = hi - lo;
    float *x = calloc((size_t)(n + 1) * D, sizeof *x);
    int64_t *id = calloc((size_t)n + 1, sizeof *id);
    char *txt = calloc((size_t)(n + 1), W);
    for (int64_t i = 0; i < n; i++) {
        id[i] = 100 + 2 * (lo + i);
        sval(lo + i, txt + i * W);
        for (int j = 0; j < D; j++)
            x[i * D + j] = xval(lo + i, j);
    }
    const char *dir = tribe_mpitest_tmpdir(par);
    char path[512];
    snprintf(path, sizeof path, "%s/chunked.h5", dir);

    /* 3 rows of 20 bytes a call for x, 8 ids a call: many calls, unequal
     * counts per rank. */
    tribe_h5_set_io_bytes(64);
    TRIBE_MPI_CHECK(par, tribe_h5_io_bytes() == 64, "budget set");
    tribe_h5 *h = NULL;
    TRIBE_MPI_CHECK(par, tribe_h5_create(par, path, &h) == TRIBE_OK, "create: %s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_write_rows(h, "/t/x", TRIBE_H5_F32, N, lo, n, D, x) == TRIBE_OK, "write x: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_write_rows(h, "/t/id", TRIBE_H5_I64, N, lo, n, 1, id) == TRIBE_OK, "write id: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_write_str_rows(h, "/t/text", N, lo, n, W, txt) == TRIBE_OK, "write text: %s",
                    tribe_errmsg());
    TRIBE_MPI_CHECK(par, tribe_h5_close(&h) == TRIBE_OK, "close");

    /* Read back with several budgets, including one row a call and one big
     * call, through the block split (not the split that wrote). */
    size_t budgets[] = {1, 20, 64, 4096, (size_t)1 << 26};
    int64_t blo, bhi;
    tribe_par_block(N, size, rank, &blo, &bhi);
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        tribe_h5_set_io_bytes(budgets[b]);
        TRIBE_MPI_CHECK(par, tribe_h5_open(par, path, &h) == TRIBE_OK, "open");
        float *rx = NULL;
        int64_t cols = 0;
        int64_t *rid = calloc((size_t)(bhi - blo) + 1, sizeof *rid);
        TRIBE_MPI_CHECK(par, tribe_h5_read_rows(h, "/t/x", TRIBE_H5_F32, N, blo, bhi - blo, &cols, (void **)&rx) ==
                                 TRIBE_OK && cols == D,
                        "read x with budget %zu: %s", budgets[b], tribe_errmsg());
        TRIBE_MPI_CHECK(par, tribe_h5_read_rows_into(h, "/t/id", TRIBE_H5_I64, N, blo, bhi - blo, 1, rid) == TRIBE_OK,
                        "read id with budget %zu: %s", budgets[b], tribe_errmsg());
        int bad = 0;
        for (int64_t i = 0; rx && i < bhi - blo; i++) {
            bad |= rid[i] != 100 + 2 * (blo + i);
            for (int j = 0; j < D; j++)
                bad |= memcmp(&rx[i * D + j], &(float){xval(blo + i, j)}, sizeof(float)) != 0;
        }
        TRIBE_MPI_CHECK(par, !bad, "values differ with budget %zu", budgets[b]);
        /* strings: with 5 rows a call (many calls, unequal counts) and in one call (cheap under ASan) */
        if (budgets[b] == 64 || budgets[b] == (size_t)1 << 26) {
            char *rt = NULL, want[W];
            int w = 0;
            TRIBE_MPI_CHECK(par, tribe_h5_read_str_rows(h, "/t/text", N, blo, bhi - blo, &w, &rt) == TRIBE_OK && w == W,
                            "read text with budget %zu: %s", budgets[b], tribe_errmsg());
            for (int64_t i = 0; rt && i < bhi - blo; i++) {
                sval(blo + i, want);
                bad |= memcmp(rt + i * W, want, W) != 0;
            }
            TRIBE_MPI_CHECK(par, !bad, "strings differ with budget %zu", budgets[b]);
            free(rt);
            /* numbers are not strings, and strings not numbers */
            TRIBE_MPI_CHECK(par, tribe_h5_read_str_rows(h, "/t/id", N, blo, bhi - blo, &w, &rt) == TRIBE_ERR_INPUT &&
                                     strstr(tribe_errmsg(), "fixed-length strings"),
                            "int64 read as strings: %s", tribe_errmsg());
            TRIBE_MPI_CHECK(par, tribe_h5_read_rows_into(h, "/t/text", TRIBE_H5_I64, N, blo, bhi - blo, 1, rid) ==
                                     TRIBE_ERR_INPUT,
                            "strings read as int64: %s", tribe_errmsg());
        }
        /* A width other than asked is an input error on every rank. */
        tribe_status st = tribe_h5_read_rows_into(h, "/t/x", TRIBE_H5_F32, N, blo, bhi - blo, D + 1, rx);
        TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT && strstr(tribe_errmsg(), "columns"), "width check: %s",
                        tribe_errmsg());
        free(rx);
        free(rid);
        TRIBE_MPI_CHECK(par, tribe_h5_close(&h) == TRIBE_OK, "close");
    }
    tribe_h5_set_io_bytes(0);
    free(x);
    free(id);
    free(txt);
    return tribe_mpitest_finish(&par);
}
