/* tribe/gen.h: the synthetic data generator behind `tribe gen`.
 *
 * Writes an Online-Retail-like customer base with planted segments, in the raw
 * source formats of docs/ingest.md, plus the ground truth:
 *     outdir/transactions.csv  web_events.csv  demographics.csv   (".csv.gz" with cfg.gzip)
 *     outdir/truth.csv   customer_id,segment for every generated customer
 *     outdir/truth.json  segment parameters, exact dirt counts, expected kept rows
 *
 * Usage:
 *     tribe_gen_cfg cfg;
 *     tribe_gen_defaults(&cfg);
 *     cfg.customers = 100000;
 *     cfg.seed = 42;
 *     TRIBE_TRY(tribe_gen(par, &cfg, "data/synth"));     // collective
 *
 * Everything about customer i (segment, invoices, dirt, web sessions,
 * demographics) is a pure function of (seed, i), and the files are cut into
 * fixed customer chunks whose boundaries depend on `customers` only, so every
 * output file is byte-identical whatever the number of ranks or threads.
 * See docs/gen.md for the model, the dirt and the truth files.
 *
 * Ownership: tribe_gen keeps no pointer to cfg or outdir after it returns;
 * cfg->end_date is borrowed for the duration of the call.
 */
#ifndef TRIBE_GEN_H
#define TRIBE_GEN_H

#include "tribe/core.h"
#include "tribe/par.h"

/* Most planted segments the generator knows (cfg.segments is 1..this). */
#define TRIBE_GEN_MAX_SEGMENTS 8

typedef struct {
    int64_t customers;    /* customers to generate (>= 1) */
    uint64_t seed;        /* same seed, same bytes */
    int segments;         /* planted segments, 1..TRIBE_GEN_MAX_SEGMENTS, default 6; the first
                           * `segments` archetypes of docs/gen.md, shares renormalised */
    int web;              /* write web_events.csv (default 1) */
    int demographics;     /* write demographics.csv (default 1) */
    int reviews;          /* write reviews.csv, the text source (default 1) */
    double dirt;          /* scale of every dirt probability (default 1.0; 0 = clean data) */
    const char *end_date; /* last invoice day "YYYY-MM-DD" (default "2011-12-09"); the data
                           * spans the 730 days ending there */
    int gzip;             /* write the three sources gzip-compressed (default 0) */
    int layout;           /* TRIBE_GEN_RETAIL (default) or TRIBE_GEN_FINANCIAL */
} tribe_gen_cfg;

/* Source layouts tribe gen writes (docs/gen.md): the Online Retail export
 * (transactions.csv, web_events.csv, demographics.csv), or the card-payment
 * export of the financial brief (transactions_data.csv: `$` amounts, chip /
 * swipe / online use, merchant category codes, refunds as negative amounts;
 * users_data.csv: age, yearly income, total debt, credit score; no web file).
 * The same customers, segments and purchase days either way. */
enum { TRIBE_GEN_RETAIL = 0, TRIBE_GEN_FINANCIAL = 1 };

/* Fills cfg with the defaults above (customers 1000, seed 42). Not collective. */
void tribe_gen_defaults(tribe_gen_cfg *cfg);

/* Generates the data set into outdir (created if missing). Every rank must
 * pass the same cfg and outdir. Files are written under a ".part" name and
 * renamed into place once every rank has finished, so a failed run leaves no
 * half-written file under a final name.
 * Errors: TRIBE_ERR_USAGE for customers < 1, segments out of range, negative
 * dirt or a malformed end_date; TRIBE_ERR_IO naming the path when outdir or a
 * file cannot be created or written; TRIBE_ERR_NOMEM. The status is agreed
 * over ranks (all ranks return the same one).
 * Collective. */
tribe_status tribe_gen(tribe_par *par, const tribe_gen_cfg *cfg, const char *outdir);

/* ---- planted Gaussian blobs (tribe gen --blobs, docs/gen.md) -------------
 * A numeric benchmark table written straight to customers.h5: `clusters`
 * overlapping anisotropic Gaussian clusters in `features` dimensions. Row i
 * (customer id i + 1) is a pure function of (seed, i) drawn with the counter
 * RNG (streams 115-117), so the files do not depend on the rank or thread
 * count. The planted labels go to a side file (tribe_blobs_truth_path). */
typedef struct {
    int64_t customers; /* rows (>= 1) */
    int features;      /* 1..TRIBE_MAX_FEATURES, default 16 */
    int clusters;      /* 1..256, default 8 */
    uint64_t seed;     /* default 42 */
    double spread;     /* standard deviation of the centre coordinates (default 1.0; the
                          within-cluster standard deviations are 0.6..1.4 per dimension) */
} tribe_blobs_cfg;

/* Defaults above (customers 1000). Not collective. */
void tribe_blobs_defaults(tribe_blobs_cfg *cfg);

/* The truth file that goes with a blobs customers.h5: "x/customers.h5" ->
 * "x/customers.truth.h5" (".truth.h5" appended when the name does not end in
 * ".h5"). Not collective. TRIBE_ERR_USAGE when it does not fit in cap. */
tribe_status tribe_blobs_truth_path(const char *path, char *buf, size_t cap);

/* Collective. Writes the table to `path` (customers.h5 layout, features
 * f01..fNN, no categorical columns, /customers attr `source` = JSON of the
 * settings) and the truth to tribe_blobs_truth_path(path): /truth/label
 * int32[n] (planted cluster of each row), /truth/centers float64[K][d],
 * /truth/scale float64[K][d] (per-dimension standard deviations) and
 * /truth/share float64[K]. Each rank generates its block of rows
 * (tribe_par_block) with OpenMP. Errors: USAGE for bad settings, IO naming
 * the path, NOMEM; agreed over ranks. */
tribe_status tribe_gen_blobs(tribe_par *par, const tribe_blobs_cfg *cfg, const char *path);

/* ---- two planted periods (tribe gen --blobs --periods 2, docs/gen.md) -----
 * The resegmentation scenario: two customers files of well-separated planted
 * Gaussian segments where period 2 follows from period 1 by known MONIC
 * transitions (survivors, one split, one merge, one disappearance, one
 * emergence), ~5% migration between survivors, ~5% churn and new customers.
 * Written into dir: period1.h5, period2.h5 (customers.h5 layout, features
 * "monetary", f02..fNN), period1.truth.h5, period2.truth.h5 (per-customer
 * planted segment) and truth.json (true K, transitions, the exact migration
 * matrix). Planted segment numbers of a period are ordered by descending
 * centre monetary, as tribe orders its segment ids. Uses cfg's customers
 * (period-1 customers, >= 1), features (>= 2), clusters (period-1 segments,
 * 6..TRIBE_PERIODS_MAX_K; the CLI's default TRIBE_PERIODS_DEFAULT_K) and
 * seed; spread is fixed by the scenario and ignored. Everything about a
 * customer is a pure function of (seed, its index), so the files are the same
 * for any rank or thread count.
 * Errors: USAGE for bad settings, IO naming the path, NOMEM; agreed over
 * ranks. Collective. */
#define TRIBE_PERIODS_MAX_K 32
#define TRIBE_PERIODS_DEFAULT_K 7
tribe_status tribe_gen_periods(tribe_par *par, const tribe_blobs_cfg *cfg, const char *dir);

#endif
