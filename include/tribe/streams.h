/* tribe/streams.h: the registry of counter-RNG streams.
 *
 * Every random draw of the job is tribe_rng_*(seed, stream, counter) with
 * the job's seed, one of the streams below and a counter that is a GLOBAL
 * row index (or a draw number), so a draw never depends on the rank or
 * thread count. Two uses of one stream with the same seed would draw the
 * same numbers and correlate silently; every stream is therefore listed
 * here, once, and tests/unit/test_core.c checks they are distinct.
 * New stages take the next free number of their block.
 *
 * Draws keyed by something other than the job seed live in their own
 * namespaces and are not listed as numbers here:
 *  - tribe gen's raw-data model: key tribe_hash2(seed, customer), streams
 *    per source (src/io/gen_model.c);
 *  - the CLV simulators (tests, benchmarks): blocks kind << 40
 *    (src/predict/clv.c);
 *  - the offline persona writer (stream "persona" in ASCII), the LLM
 *    backoff jitter (0x6c6c6d00 + segment) and the campaign retry jitter
 *    (key = hash of the batch's idempotency key, stream 7). */
#ifndef TRIBE_STREAMS_H
#define TRIBE_STREAMS_H

enum {
    /* 101-119: K-Means and segmentation (src/cluster) */
    TRIBE_STREAM_KMEANS_SAMPLE = 101,   /* rows of the k-means++ sample */
    TRIBE_STREAM_KMEANS_PP = 102,       /* k-means++ draws */
    TRIBE_STREAM_KMEANS_BATCH = 103,    /* mini-batch rows */
    TRIBE_STREAM_KMEANS_REASSIGN = 104, /* new positions of starving centres */
    TRIBE_STREAM_SILHOUETTE = 105,      /* the sampled silhouette's rows */
    TRIBE_STREAM_PROJECTION = 106,      /* rows of the PCA scatter sample */
    TRIBE_STREAM_KSELECT_SPLIT = 110,   /* split-half stability: which half a row joins */
    TRIBE_STREAM_PERIODS_PARAMS = 111,  /* tribe gen --blobs --periods 2: centres, scales */
    TRIBE_STREAM_PERIODS_FATE = 112,    /* tribe gen --periods 2: segment, churn, migration, id of a customer */
    TRIBE_STREAM_PERIODS_NOISE1 = 113,  /* tribe gen --periods 2: a customer's period-1 noise */
    TRIBE_STREAM_PERIODS_NOISE2 = 114,  /* tribe gen --periods 2: a customer's period-2 noise */
    TRIBE_STREAM_BLOBS_PARAMS = 115,    /* tribe gen --blobs: cluster parameters */
    TRIBE_STREAM_BLOBS_LABEL = 116,     /* tribe gen --blobs: planted label of a row */
    TRIBE_STREAM_BLOBS_NOISE = 117,     /* tribe gen --blobs: a row's noise */
    TRIBE_STREAM_KMEANS_PAR = 118,      /* k-means|| first centre and oversampling draws */
    TRIBE_STREAM_KMEANS_PAR_PP = 119,   /* weighted k-means++ over the k-means|| candidates */
    /* 120-129: beyond K-Means */
    TRIBE_STREAM_GMM_SAMPLE = 120,      /* rows EM iterates on (tribe_gmm_cfg.sample_size) */
    TRIBE_STREAM_DRIFT_SAMPLE = 121,    /* rows whose deciles are the drift reference's bin edges */
    TRIBE_STREAM_DBSCAN_SAMPLE = 122,   /* rows DBSCAN finds its core points on (outliers.sample_size) */
    /* 130-139: bounding memory at scale */
    TRIBE_STREAM_DRIVERS_TRAIN = 130,   /* the driver model's training rows (drivers.train_rows) */
    /* 201-219: gradient boosting and what uses it */
    TRIBE_STREAM_GBDT_BIN = 201,        /* rows of the bin-edge sample */
    TRIBE_STREAM_GBDT_BAG = 202,        /* row subsampling, keyed by hash(global row, tree) */
    TRIBE_STREAM_DRIVERS_SAMPLE = 203,  /* rows TreeSHAP explains for the segment drivers */
    TRIBE_STREAM_LTV_VALID = 204,       /* the LTV model's validation rows */
    TRIBE_STREAM_BENCH_GBDT_X = 205,    /* bench/gbdt_bench.c: features */
    TRIBE_STREAM_BENCH_GBDT_NOISE = 206, /* bench/gbdt_bench.c: target noise */
    TRIBE_STREAM_BENCH_GBDT_MISS = 207, /* bench/gbdt_bench.c: missing values */
    TRIBE_STREAM_CHURN_VALID = 208,     /* the churn model's validation rows */
    TRIBE_STREAM_LTV_SELECT = 209,      /* the LTV selection's paired bootstrap weights (row, replicate) */
    TRIBE_STREAM_LTV_BOOT = 218         /* the LTV per-segment bootstrap's Poisson weights (row, replicate) */
};

/* Every stream above, for the distinctness test. */
#define TRIBE_STREAMS_ALL                                                                                          \
    TRIBE_STREAM_KMEANS_SAMPLE, TRIBE_STREAM_KMEANS_PP, TRIBE_STREAM_KMEANS_BATCH, TRIBE_STREAM_KMEANS_REASSIGN,  \
        TRIBE_STREAM_SILHOUETTE, TRIBE_STREAM_PROJECTION, TRIBE_STREAM_KSELECT_SPLIT, TRIBE_STREAM_BLOBS_PARAMS,  \
        TRIBE_STREAM_BLOBS_LABEL, TRIBE_STREAM_BLOBS_NOISE, TRIBE_STREAM_KMEANS_PAR, TRIBE_STREAM_KMEANS_PAR_PP,  \
        TRIBE_STREAM_GMM_SAMPLE, TRIBE_STREAM_DRIVERS_TRAIN, TRIBE_STREAM_GBDT_BIN, TRIBE_STREAM_GBDT_BAG, TRIBE_STREAM_DRIVERS_SAMPLE,       \
        TRIBE_STREAM_LTV_VALID, TRIBE_STREAM_BENCH_GBDT_X, TRIBE_STREAM_BENCH_GBDT_NOISE,                         \
        TRIBE_STREAM_BENCH_GBDT_MISS, TRIBE_STREAM_PERIODS_PARAMS, TRIBE_STREAM_PERIODS_FATE,                     \
        TRIBE_STREAM_PERIODS_NOISE1, TRIBE_STREAM_PERIODS_NOISE2, TRIBE_STREAM_DRIFT_SAMPLE,                       \
        TRIBE_STREAM_LTV_BOOT, TRIBE_STREAM_CHURN_VALID, TRIBE_STREAM_LTV_SELECT

#endif
