/* Module-internal parts of the K scoring (src/cluster/silhouette.c,
 * quality.c, kselect.c): several labelings of the same rows scored in shared
 * passes, and the test hook of the silhouette kernels. Not API. */
#ifndef TRIBE_SILHOUETTE_INTERNAL_H
#define TRIBE_SILHOUETTE_INTERNAL_H

#include "tribe/cluster.h"

/* The most labelings one shared pass scores (a K sweep scores its K values
 * in batches of this many). */
#define TRIBE_LABELINGS_MAX 8

/* n labelings of the rows of one tribe_dmat (a K sweep's batch): labeling l
 * puts local row i in cluster lab16[l * n_local + i] of k[l], or, for a
 * single caller's labeling (n == 1), lab32[i]. Exactly one of lab16, lab32
 * is set. coff[l] is the first cell of labeling l in the concatenation of
 * every labeling's clusters (coff[0] = 0, coff[n] = cells). */
typedef struct {
    int n;
    int k[TRIBE_LABELINGS_MAX];
    int coff[TRIBE_LABELINGS_MAX + 1];
    int64_t n_local;
    const uint16_t *lab16;
    const int32_t *lab32;
} tribe_labelings;

/* Not collective. One labeling: the caller's label[n_local] with k clusters. */
void tribe_labelings_one(tribe_labelings *ls, const int32_t *label, int k, int64_t n_local);

/* Not collective. Label of local row i under labeling l. */
static inline int tribe_labelings_at(const tribe_labelings *ls, int l, int64_t i)
{
    return ls->lab32 ? ls->lab32[i] : ls->lab16[(size_t)l * (size_t)ls->n_local + (size_t)i];
}

/* Collective. Checks every label is in [0, k[l]) (TRIBE_ERR_INPUT naming
 * `who`, the global row and the label) and that k and d are in range
 * (TRIBE_ERR_USAGE); the ranks agree on the result. */
tribe_status tribe_labelings_check(const tribe_dmat *z, const tribe_labelings *ls, const char *who);

/* ---- tuples: the joint clusters of several labelings within a chunk -----
 * Rows that share their cluster under every labeling l0..l1-1 form one
 * tuple; a pass that adds per-row values into per-cluster sums of every
 * labeling can add each row once into its tuple's sum and then each tuple's
 * sum into its clusters ("fold"), which is exact for integer sums. */
typedef struct {
    int cap;         /* most tuples of one chunk */
    int hcap;        /* hash slots (a power of two >= 2 cap) */
    int32_t *rid;    /* [rows] tuple of each chunk row */
    int32_t *nrid;   /* [rows] scratch */
    uint64_t *hkey;  /* [hcap] */
    int32_t *hval;   /* [hcap] */
    int32_t *map;    /* [cap] the first labeling's cluster -> tuple (-1 between chunks) */
    int32_t *cell;   /* [cap][TRIBE_LABELINGS_MAX] the cells (coff[l] + label) of each tuple */
    int32_t *ncell;  /* [cap][TRIBE_LABELINGS_MAX] scratch */
    int64_t *count;  /* [cap] rows of each tuple */
    int64_t *ncount; /* [cap] scratch */
} tribe_tuples;

/* Not collective. Workspace for chunks of up to `rows` rows and at most
 * max(cap, largest k) tuples. Errors: NOMEM (*t zeroed). */
tribe_status tribe_tuples_init(tribe_tuples *t, int64_t rows, int cap, const tribe_labelings *ls);
void tribe_tuples_free(tribe_tuples *t);

/* Not collective. The tuples of local rows [i0, i1) under labelings l0, l0+1,
 * ... as many as keep them within t->cap tuples (always at least l0) and,
 * when lanes > 0, within 2 (i1 - i0) rows once each tuple is padded to a
 * multiple of `lanes`: writes t->rid, t->cell (l - l0 per tuple), t->count and
 * *ntup; returns the end l1 of the labelings covered. */
int tribe_tuples_build(tribe_tuples *t, const tribe_labelings *ls, int64_t i0, int64_t i1, int l0, int lanes,
                       int *ntup);

/* Collective. The sampled silhouette of every labeling of ls (as
 * tribe_silhouette_sample: the same sample rows, so each labeling's mean[l]
 * and ci95[l] are the bits tribe_silhouette_sample gives for it alone), the
 * distances of each (sampled row, row) pair computed once for all. */
tribe_status tribe_silhouette_multi(const tribe_dmat *z, const tribe_labelings *ls, int64_t sample_size,
                                    uint64_t seed, double *mean, double *ci95);

/* Collective. tribe_cluster_quality_compute for every labeling of ls, the
 * moments of all in one pass and the distances of all in another. */
tribe_status tribe_quality_multi(const tribe_dmat *z, const tribe_labelings *ls, tribe_cluster_quality *q);

/* The silhouette distance kernels, lowest first. */
enum {
    TRIBE_SIL_PORTABLE_BASE = 0, /* the portable C compiled for the build's baseline ISA */
    TRIBE_SIL_PORTABLE = 1,      /* the same C compiled for the best ISA the CPU has (x86-64-v3 with AVX2 + FMA) */
    TRIBE_SIL_AVX2 = 2,          /* hand-written AVX2 + FMA intrinsics */
    TRIBE_SIL_AVX512 = 3         /* hand-written AVX-512F intrinsics */
};

/* Chooses the distance kernel (a TRIBE_SIL_* level; -1: the best the CPU
 * has, the default); a level the CPU lacks falls back to the best it has.
 * The intrinsics kernels obey TRIBE_SIMD (tribe_simd_level: `portable`
 * leaves the portable C, built for x86-64-v3 when the CPU has it) and are
 * absent from a -DTRIBE_PORTABLE=ON build.
 * Returns the level in use (tests assert every level gives the same bits).
 * Not thread-safe. */
int tribe_silhouette_kernel(int level);

#endif
