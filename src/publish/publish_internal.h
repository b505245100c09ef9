/* Internal to src/publish: the run a publish reads (run.c) and the slices of
 * per-customer outputs it streams to the server (publish.c). Not collective:
 * one process; results.h5 is opened with a serial context of its own. */
#ifndef TRIBE_PUBLISH_INTERNAL_H
#define TRIBE_PUBLISH_INTERNAL_H

#include "tribe/h5.h"
#include "tribe/persona.h"
#include "tribe/publish.h"
#include "tribe/record.h"

typedef struct {
    tribe_par *serial;     /* a one-process context for the HDF5 reads */
    tribe_h5 *h;           /* results.h5, open while the customers stream */
    char *results, *dir;   /* the resolved results.h5 and its directory */
    char *run_id, *created, *input, *tribe_version, *job_spec; /* created, job_spec, tribe_version may be NULL */
    char *run_json;        /* run.json's text, NULL when absent */
    tribe_rec *rec;        /* run.json parsed, NULL when absent */
    tribe_persona *personas;
    int n_personas;        /* 0 without personas.json */
    int k, d;              /* segments; features of the profile figures (0: none) */
    int64_t n;             /* customers */
    char **seg_names;      /* [k] */
    int64_t *seg_id, *size, *outliers;          /* [k]; outliers NULL when absent */
    double *share, *revenue_share;              /* [k], NULL when absent */
    double *ltv_mean, *ltv_median, *ltv_total;  /* [k], NULL when absent */
    char **feat;           /* [d] */
    double *stat[4];       /* mean, median, q1, q3: [k][d] each, NULL when absent */
    int has_outlier, has_oscore, has_memb, has_ltv; /* per-customer datasets present */
    int has_id_text;       /* /segments/id_text: string ids (tribe/id.h) */
} pub_run;

/* A slice of per-customer outputs (rows x 1, membership rows x k); the
 * optional arrays are NULL when the run lacks them. */
typedef struct {
    int64_t *id;
    char *id_text;  /* rows x id_width with string ids, else NULL */
    int id_width;
    int32_t *label;
    float *dist, *oscore, *memb, *ltv;
    uint8_t *outlier;
} pub_slice;

/* Resolves path (tribe_prev_resolve), opens results.h5 and reads everything
 * but the per-customer rows. *r is zeroed first and freed on error. */
tribe_status pub_run_open(const char *path, pub_run *r);
void pub_run_free(pub_run *r);
tribe_status pub_slice_alloc(const pub_run *r, int64_t rows, pub_slice *s);
/* Rows [off, off + rows) of every per-customer dataset the run has; INPUT
 * for a label outside 0..k-1. */
tribe_status pub_slice_read(pub_run *r, int64_t off, int64_t rows, pub_slice *s);
void pub_slice_free(pub_slice *s);

#endif
