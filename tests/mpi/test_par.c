/* The reductions in src/par give the same answer on 1, 2 and 4 ranks. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    tribe_par *par = tribe_mpitest_init(&argc, &argv);
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    const int64_t n = 10007;
    int64_t lo, hi;
    tribe_par_block(n, size, rank, &lo, &hi);

    /* Exact sums of a fixed global vector, split by blocks, are bit-identical
     * to the serial sum whatever the rank count. */
    tribe_xsum s = 0, serial = 0;
    for (int64_t i = lo; i < hi; i++)
        s += tribe_xsum_of(tribe_rng_normal(5, 1, (uint64_t)i) * 1e3);
    for (int64_t i = 0; i < n; i++)
        serial += tribe_xsum_of(tribe_rng_normal(5, 1, (uint64_t)i) * 1e3);
    TRIBE_MPI_CHECK(par, tribe_par_sum_xsum(par, &s, 1) == TRIBE_OK, "%s", tribe_errmsg());
    TRIBE_MPI_CHECK(par, s == serial, "exact sum differs from serial");

    int64_t before = -1, total = -1;
    TRIBE_MPI_CHECK(par, tribe_par_exscan_i64(par, hi - lo, &before, &total) == TRIBE_OK, "exscan");
    TRIBE_MPI_CHECK(par, before == lo && total == n, "exscan %lld %lld", (long long)before, (long long)total);

    /* Agreement: one rank's input error becomes everyone's, with its message. */
    tribe_status st = TRIBE_OK;
    if (rank == size - 1)
        st = tribe_fail(TRIBE_ERR_INPUT, "row %d is bad", rank);
    st = tribe_par_agree(par, st);
    char want[64];
    snprintf(want, sizeof want, "row %d is bad", size - 1);
    TRIBE_MPI_CHECK(par, st == TRIBE_ERR_INPUT, "agreed status %d", st);
    TRIBE_MPI_CHECK(par, strcmp(tribe_errmsg(), want) == 0, "message '%s'", tribe_errmsg());

    /* allgatherv: rank r contributes r+1 bytes of value r. */
    char mine[8];
    memset(mine, rank, sizeof mine);
    void *all = NULL;
    size_t tot = 0, counts[8], displs[8];
    TRIBE_MPI_CHECK(par, tribe_par_allgatherv(par, mine, (size_t)rank + 1, &all, &tot, counts, displs) == TRIBE_OK, "gather");
    TRIBE_MPI_CHECK(par, tot == (size_t)(size * (size + 1) / 2), "gathered %zu bytes", tot);
    for (int r = 0; r < size; r++)
        TRIBE_MPI_CHECK(par, ((char *)all)[displs[r]] == r && counts[r] == (size_t)r + 1, "block %d", r);
    free(all);

    /* alltoallv: rank r sends (r*10 + dest) to each dest. */
    int64_t sendv[8];
    size_t sc[8], sd[8], rc[8], rd[8];
    for (int r = 0; r < size; r++) {
        sendv[r] = rank * 10 + r;
        sc[r] = sizeof(int64_t);
        sd[r] = (size_t)r * sizeof(int64_t);
    }
    void *got = NULL;
    TRIBE_MPI_CHECK(par, tribe_par_alltoallv(par, sendv, sc, sd, &got, &tot, rc, rd) == TRIBE_OK, "a2a");
    for (int r = 0; r < size; r++)
        TRIBE_MPI_CHECK(par, ((int64_t *)got)[r] == r * 10 + rank, "a2a from %d", r);
    free(got);

    /* sum_scatter: rank q's element i of a 3 * size + 5 vector is q * 1000 + i
     * (minus 2^60 for odd i, so the sums need more than 32 bits); blocks of unequal
     * sizes (rank r gets r + 1 values, the last rank the rest, one gets none on
     * 1 rank: 0). Pairwise and MPI_Reduce_scatter give the same integers. */
    {
        int cnt[8], nv = 3 * size + 5, o = 0;
        int64_t sv[64], rv[64], tmp[64];
        for (int r = 0; r < size; r++)
            o += cnt[r] = r == size - 1 ? nv - o : r + 1;
        for (int i = 0; i < nv; i++)
            sv[i] = rank * 1000 + i - ((i & 1) ? (int64_t)1 << 60 : 0);
        int off = 0;
        for (int r = 0; r < rank; r++)
            off += cnt[r];
        for (int algo = 0; algo < 2; algo++) {
            tribe_par_set_pairwise_max(par, algo == 0 ? TRIBE_PAR_PAIRWISE_MAX : 1);
            memset(rv, 0, sizeof rv);
            TRIBE_MPI_CHECK(par, tribe_par_sum_scatter_i64(par, sv, cnt, rv, tmp) == TRIBE_OK, "%s", tribe_errmsg());
            for (int i = 0; i < cnt[rank]; i++) {
                int64_t want_i = 0;
                for (int q = 0; q < size; q++)
                    want_i += q * 1000 + off + i;
                want_i -= ((off + i) & 1) ? (int64_t)size << 60 : 0;
                TRIBE_MPI_CHECK(par, rv[i] == want_i, "sum_scatter (algorithm %d) element %d", algo, off + i);
            }
        }
        tribe_par_set_pairwise_max(par, TRIBE_PAR_PAIRWISE_MAX);
        /* allgather: 3 bytes of value r from each rank r */
        char g3[3] = {(char)rank, (char)rank, (char)rank}, ga[3 * 8];
        TRIBE_MPI_CHECK(par, tribe_par_allgather(par, g3, 3, ga) == TRIBE_OK, "allgather");
        for (int r = 0; r < size; r++)
            TRIBE_MPI_CHECK(par, ga[3 * r] == r && ga[3 * r + 2] == r, "allgather block %d", r);
    }

    char *str = NULL;
    if (rank == 0)
        tribe_strdup("hello ranks", &str);
    TRIBE_MPI_CHECK(par, tribe_par_bcast_str(par, &str, 0) == TRIBE_OK && strcmp(str, "hello ranks") == 0, "bcast_str");
    free(str);
    return tribe_mpitest_finish(&par);
}
