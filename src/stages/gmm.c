/* Stage "gmm": soft membership, a diagonal Gaussian mixture fitted by EM
 * from the K-Means solution (docs/clustering.md, "Soft membership"). Writes
 * /segments/membership and /model/gmm; the report says how crisp the
 * segments are. */
#include "tribe/cluster.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>

typedef struct {
    tribe_gmm_cfg cfg;  /* the job's gmm.* keys, same names */
    float *membership;  /* [n_local][k] */
    tribe_gmm *gmm;
    tribe_gmm_crispness *crisp;
} gmm_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    gmm_stage *s = state;
    tribe_spec *g = NULL;
    tribe_status st = TRIBE_OK;
    tribe_gmm_cfg_default(&s->cfg);
    s->cfg.sample_size = 100000;
    s->cfg.seed = job->seed;
    TRIBE_TRY(tribe_spec_object(spec, "gmm", &g));
    TRIBE_TRY(tribe_spec_bool(g, "enabled", enabled));
    TRIBE_TRY(tribe_spec_int(g, "max_iter", 1, 10000, &s->cfg.max_iter));
    TRIBE_TRY(tribe_spec_num(g, "tol", 0, 1e9, &s->cfg.tol));
    TRIBE_TRY(tribe_spec_num(g, "reg_covar", 0, 1e6, &s->cfg.reg_covar));
    TRIBE_TRY(tribe_spec_i64(g, "sample_size", 0, 1e12, &s->cfg.sample_size));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    gmm_stage *s = state;
    tribe_status st = TRIBE_OK;
    int64_t n = r->rows.n_local;
    int k = r->k;
    TRIBE_DEBUG("gmm: %d components, max_iter %d, tol %g, reg_covar %g, EM sample %lld", k, s->cfg.max_iter,
                s->cfg.tol, s->cfg.reg_covar, (long long)s->cfg.sample_size);
    TRIBE_TRY(tribe_par_agree(r->par, tribe_alloc((void **)&s->membership,
                                                  ((size_t)n * (size_t)k + 1) * sizeof *s->membership)));
    tribe_dmat z = tribe_run_z(r);
    TRIBE_TRY(tribe_gmm_fit(&z, r->label, k, r->centroids, &s->cfg, s->membership, &s->gmm));
    TRIBE_TRY(tribe_gmm_crispness_compute(r->par, s->membership, r->label, n, k, &s->crisp));
    TRIBE_INFO("gmm: %d EM iterations (%s) on %lld customers, mean log-likelihood %.6g", s->gmm->iterations,
               s->gmm->converged ? "converged" : "max_iter reached", (long long)s->gmm->rows, s->gmm->loglik);
cleanup:
    return st;
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    gmm_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_rows *rw = &r->rows;
    const tribe_gmm *g = s->gmm;
    int k = r->k, m = r->m;
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/membership", TRIBE_H5_F32, rw->n_global, rw->offset, rw->n_local, k,
                                  s->membership));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/weights", TRIBE_H5_F64, k, 1, g->weight));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/means", TRIBE_H5_F64, k, m, g->mean));
    TRIBE_TRY(tribe_h5_write_small(h, "/model/gmm/variances", TRIBE_H5_F64, k, m, g->var));
    TRIBE_TRY(tribe_h5_attr_strs(h, "/model/gmm/means", "feature_names", m, r->model_name));
    TRIBE_TRY(tribe_h5_attr_str(h, "/model/gmm", "covariance_type", "diag"));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "iterations", g->iterations));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "converged", g->converged));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "loglik", g->loglik));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "lower_bound", g->lower_bound));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "tol", s->cfg.tol));
    TRIBE_TRY(tribe_h5_attr_f64(h, "/model/gmm", "reg_covar", s->cfg.reg_covar));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/model/gmm", "em_rows", g->rows));
    TRIBE_TRY(tribe_h5_attr_f64(h, r->run_group, "gmm_loglik", g->loglik));
    TRIBE_TRY(tribe_h5_attr_i64(h, r->run_group, "gmm_iterations", g->iterations));
cleanup:
    return st;
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    gmm_stage *s = state;
    tribe_status st = TRIBE_OK;
    const tribe_gmm *g = s->gmm;
    const tribe_gmm_crispness *c = s->crisp;
    int k = r->k;
    TRIBE_TRY(tribe_rec_int(obj, "iterations", g->iterations));
    TRIBE_TRY(tribe_rec_bool(obj, "converged", g->converged));
    TRIBE_TRY(tribe_rec_num(obj, "loglik", g->loglik));
    TRIBE_TRY(tribe_rec_int(obj, "em_rows", g->rows));
    TRIBE_TRY(tribe_rec_num(obj, "crisp_threshold", c->threshold));
    TRIBE_TRY(tribe_rec_ints(obj, "size", c->size, k));
    TRIBE_TRY(tribe_rec_ints(obj, "crisp", c->crisp, k));
    TRIBE_TRY(tribe_rec_ints(obj, "agree", c->agree, k));
    TRIBE_TRY(tribe_rec_nums(obj, "mean_max", c->mean_max, k));
    TRIBE_TRY(tribe_rec_nums(obj, "weights", g->weight, k));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    gmm_stage *s = state;
    return tribe_report_crispness(b, r->segs, s->gmm, s->crisp);
}

static void destroy(void *state)
{
    gmm_stage *s = state;
    free(s->membership);
    tribe_gmm_destroy(&s->gmm);
    tribe_gmm_crispness_destroy(&s->crisp);
}

const tribe_stage_def tribe_stage_gmm = {
    .name = "gmm", .state_size = sizeof(gmm_stage), .uses_z = 1, .report_order = 60, .configure = configure,
    .run = run, .write = write, .record = record, .report = report, .destroy = destroy};
