/* tribe/continuity.h: a run compared with the one before it
 * (docs/resegmentation.md). Four parts:
 *  - the previous run: its model, segment ids and names, drift reference
 *    (tribe_prev_read), and each current customer's previous segment
 *    (tribe_prev_labels);
 *  - drift: reference bins of the raw model features written by every run,
 *    and the population stability index of a new base against them;
 *  - matching (a serial kernel on the overlap counts): which segment
 *    survived, split, was absorbed, disappeared or emerged (MONIC,
 *    Spiliopoulou et al. 2006), and which persistent id and name each new
 *    segment carries;
 *  - the comparison of two finished runs (tribe_runs_diff, `tribe diff`).
 *
 * Usage (the continuity stage):
 *     tribe_prev *p = NULL;
 *     TRIBE_TRY(tribe_prev_read(par, "out/latest", &p));           // collective
 *     TRIBE_TRY(tribe_prev_labels(&rows, ids, p, prev_label, gone));  // collective
 *     ... overlap counts ...
 *     tribe_match mt;
 *     TRIBE_TRY(tribe_match_segments(&in, &cfg, &mt));              // serial
 *     tribe_match_free(&mt);
 *     tribe_prev_destroy(&p);
 *
 * Ownership: tribe_prev and tribe_match own their arrays (destroy / free
 * accept NULL or zeroed structs).
 */
#ifndef TRIBE_CONTINUITY_H
#define TRIBE_CONTINUITY_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/segment.h"

/* Reference bins per feature for drift: deciles of the run's raw values. */
#define TRIBE_DRIFT_BINS 10
/* Above twice this many customers the bin edges come from a sample of about
 * this many (drawn by global row: the same for any rank count). */
#define TRIBE_DRIFT_SAMPLE 200000
/* The share a PSI term floors an empty bin at (both sides). */
#define TRIBE_PSI_FLOOR 1e-4

/* What a job reads of an earlier run's results.h5. */
typedef struct {
    char *path;          /* the results.h5 read */
    char *dir;           /* its directory (personas.json beside it) */
    char *run_id;        /* its run id ("" when unknown) */
    char *created;       /* its /runs/<id> created attribute ("" when unknown) */
    int m, k;
    int64_t n;           /* customers in it */
    char **names;        /* [m] model columns */
    char **seg_names;    /* [k] segment names */
    int64_t *seg_id;     /* [k] persistent segment ids (0..k-1 for a run that wrote none) */
    int64_t next_id;     /* the first id never used in its history */
    int64_t *size;       /* [k] customers per segment */
    double *centroids;   /* [k][m] in its model space */
    double *mean, *std, *impute; /* [m] its scaler */
    int *log1p;          /* [m] */
    int has_ref;         /* 1 when it holds drift reference bins */
    double *edges;       /* [m][TRIBE_DRIFT_BINS - 1] bin edges (NaN-padded), when has_ref */
    double *ref_share;   /* [m][TRIBE_DRIFT_BINS + 1] shares per bin, the last = missing, when has_ref */
    int k_lo, k_hi;      /* its K range (k_lo = k_hi = k for a fixed K) */
} tribe_prev;

/* Not collective. The results.h5 that `path` names: a results.h5 itself, a
 * run directory holding one, or an output directory (its `latest` run, else
 * its top-level results.h5). *out: caller frees. INPUT naming the path when
 * none is found. */
tribe_status tribe_prev_resolve(const char *path, char **out);
/* Collective. Reads the previous run (path as tribe_prev_resolve). INPUT
 * naming the file and object for anything missing or inconsistent (not a
 * tribe results file, damaged shapes, non-finite centres); IO when it cannot
 * be read. *out untouched on error. */
tribe_status tribe_prev_read(tribe_par *par, const char *path, tribe_prev **out);
void tribe_prev_destroy(tribe_prev **p);
/* Not collective. Index of model column `name` in p, or -1. */
int tribe_prev_column(const tribe_prev *p, const char *name);

/* Collective. For each of this rank's customers (ids ascending over the
 * ranks, rows as `rows`), its segment index in the previous run (-1: new to
 * the base), and per previous segment the customers gone from the base
 * (gone[p->k], summed over ranks: every rank gets the totals). Only the
 * previous ids and labels that fall in this rank's id range are read.
 * INPUT naming the file when its ids are not ascending or a label is out of
 * range. */
tribe_status tribe_prev_labels(const tribe_rows *rows, const int64_t *id, const tribe_prev *p, int32_t *prev_label,
                               int64_t *gone);

/* ---- drift ---------------------------------------------------------------- */
/* Collective. Reference bins of columns cols[m] of x (this rank's rows,
 * leading dimension ldx): edges[m][B-1] are the exact deciles of the
 * non-missing values (above 2 TRIBE_DRIFT_SAMPLE customers: of a sample of
 * about TRIBE_DRIFT_SAMPLE of them) with repeats removed (NaN-padded), share[m][B+1] the
 * share of all customers in each bin (v <= e1, e1 < v <= e2, ..., > e_last)
 * and, last, the missing ones. */
tribe_status tribe_drift_ref(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m, double *edges,
                             double *share);
/* Collective. The shares of x's columns in given bins (shapes as above). */
tribe_status tribe_drift_shares(const tribe_rows *rows, const float *x, int ldx, const int *cols, int m,
                                const double *edges, double *share);
/* Not collective. Population stability index sum (a - e) ln(a / e) over
 * nb bins, each share floored at TRIBE_PSI_FLOOR. */
double tribe_psi(const double *expected, const double *actual, int nb);

/* ---- matching --------------------------------------------------------------- */
typedef enum {
    TRIBE_TR_SURVIVED = 0, /* one old segment -> one new (keeps id and name) */
    TRIBE_TR_SPLIT,        /* one old -> several new (new ids) */
    TRIBE_TR_ABSORBED,     /* old segment absorbed into a new one that also holds others */
    TRIBE_TR_DISAPPEARED,  /* old segment with no successor */
    TRIBE_TR_EMERGED       /* new segment with no predecessor */
} tribe_transition_type;

#define TRIBE_TR_MAX_TO 8

typedef struct {
    int type;                 /* tribe_transition_type */
    int from;                 /* old segment index, -1 for emerged */
    int n_to;                 /* new segment indexes (0 for disappeared) */
    int to[TRIBE_TR_MAX_TO];
    double share;             /* of the old segment's continuing customers that went to `to` (NaN for emerged) */
} tribe_transition;

typedef struct {
    double survive;      /* an old segment survives as / is absorbed into a new one holding at least this share
                            of its continuing customers (0.5) */
    double split;        /* a split part holds at least this share (0.2), the parts together `survive` */
    int64_t min_overlap; /* below this many continuing customers an old segment is matched by centre (30) */
    double centre_max;   /* centre matches need mutual nearest centres within this distance (1.0, model units) */
} tribe_match_cfg;

typedef struct {
    int ko, kn;
    const int64_t *overlap; /* [ko + 1][kn + 1]: customers from old i (row ko: new to the base) to new j
                               (column kn: gone from the base) */
    const double *cdist;    /* [ko][kn] distance of new centre j to old centre i in the old model space;
                               NULL or NaN where unknown */
    const int64_t *old_id;  /* [ko] persistent ids */
    int64_t next_id;        /* first id never used */
} tribe_match_in;

typedef struct {
    int n;                   /* transitions: one per old segment, then one per emerged new segment */
    tribe_transition *tr;    /* [n] */
    int64_t *id;             /* [kn] persistent id of each new segment */
    int *heir;               /* [kn] old segment whose id and name it keeps, -1 for a new id */
    int64_t next_id;         /* first id never used after this run */
} tribe_match;

void tribe_match_cfg_default(tribe_match_cfg *cfg);
/* Not collective. The transitions and ids (docs/resegmentation.md,
 * "Matching"). USAGE for bad settings, NOMEM. */
tribe_status tribe_match_segments(const tribe_match_in *in, const tribe_match_cfg *cfg, tribe_match *out);
void tribe_match_free(tribe_match *m);
/* "survived", "split", "absorbed", "disappeared", "emerged". */
const char *tribe_transition_name(int type);

/* ---- what changed between two runs ------------------------------------------ */
typedef struct {
    const tribe_prev *prev;   /* the earlier run (not owned) */
    const double *psi;        /* [prev->m] PSI per previous model column (not owned; may be NULL) */
    int ko, kn;
    int64_t *overlap;         /* [(ko + 1)][(kn + 1)] migration counts (tribe_match_in.overlap) */
    double *revenue;          /* same shape: the customers' monetary in the later run (0 for gone, NaN
                                 without a monetary column) */
    double *cdist;            /* [ko][kn] centre distances in the earlier model space */
    tribe_match match;
    int n_warn;
    char (*warn)[256];        /* [n_warn] drift and change warnings */
    int *keep_persona;        /* [kn] 1: a survivor whose centre moved at most continuity.persona_shift */
} tribe_changes;

/* Collective. c->overlap and c->revenue (c->ko and c->kn set): the
 * customers of this rank's rows (prev_label: their previous segment, -1 =
 * new; label: their segment now) counted and summed over ranks, with
 * gone[c->ko] (totals) in the last column. Revenue is column `money` of
 * x[n][ldx] summed exactly (NaN everywhere when x is NULL or money < 0; 0
 * for gone customers otherwise). NOMEM, ENV. */
tribe_status tribe_changes_migration(tribe_par *par, tribe_changes *c, const int32_t *prev_label,
                                     const int32_t *label, int64_t n, const float *x, int ldx, int money,
                                     const int64_t *gone);
/* Not collective. Appends a warning. NOMEM. */
tribe_status tribe_changes_warn(tribe_changes *c, const char *line);
/* Not collective. One transition in words, e.g. "#2 Champions survived as
 * #2 Champions (91% of its continuing customers)", into buf. */
void tribe_changes_describe(const tribe_changes *c, const tribe_segments *segs, const tribe_transition *t, char *buf,
                            size_t cap);
/* Not collective. Continuing customers (in both runs), those who stayed in
 * a segment of the same id, new and gone customers. */
void tribe_changes_counts(const tribe_changes *c, int64_t *continuing, int64_t *stayed, int64_t *added,
                          int64_t *gone);
/* Not collective. The changes as JSON text (schema in
 * docs/resegmentation.md; caller frees). segs: the later run's segments
 * (ids already the persistent ones). */
tribe_status tribe_changes_json(const tribe_changes *c, const tribe_segments *segs, char **out);
/* Not collective. migration.csv (long format; only the header when c->prev
 * is NULL), written atomically. */
tribe_status tribe_changes_csv(const char *path, const tribe_changes *c, const tribe_segments *segs);
void tribe_changes_free(tribe_changes *c);

#endif
