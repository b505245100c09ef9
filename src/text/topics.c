/* TF-IDF weights and the spherical K-Means topic model (tribe/text.h).
 *
 * Every number the model keeps is the same whatever the rank count: a
 * document's draws are keyed by its own key, its dot products are summed in
 * its term order, centroid sums are exact fixed-point sums (tribe_xsum), and
 * the global choices (the seeding race, the convergence test) are min/sum
 * reductions of values each rank computed alone. */
#include "tribe/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The RNG stream of the seeding draws (counter = seeding step). */
#define TOPIC_STREAM 0x7e47u

double tribe_text_idf(int64_t docs, int64_t df) { return log((1.0 + (double)docs) / (1.0 + (double)df)) + 1.0; }

void tribe_text_tfidf_row(const int32_t *term, double *w, int64_t nnz, const double *idf)
{
    double ss = 0;
    for (int64_t j = 0; j < nnz; j++) {
        w[j] *= idf[term[j]];
        ss += w[j] * w[j];
    }
    if (ss > 0) {
        double inv = 1.0 / sqrt(ss);
        for (int64_t j = 0; j < nnz; j++)
            w[j] *= inv;
    }
}

static double dot_row(const tribe_topic_docs *d, int64_t i, const double *c)
{
    double s = 0;
    for (int64_t j = d->ptr[i]; j < d->ptr[i + 1]; j++)
        s += d->w[j] * c[d->term[j]];
    return s;
}

void tribe_topic_model_free(tribe_topic_model *m)
{
    if (!m)
        return;
    free(m->centroid);
    free(m->size);
    free(m->label);
    memset(m, 0, sizeof *m);
}

/* Collective. k-means++ seeding over cosine distance: document i is drawn
 * at step j with probability proportional to dist_i = 1 - max cos to the
 * seeds so far, by an exponential race (the least -log(u_i) / dist_i wins,
 * u keyed by (seed, key_i, j); ties: lower key), so the draw needs only a
 * global minimum. Sets *nseed (fewer than k when documents run out). */
static tribe_status seed_topics(tribe_par *par, const tribe_topic_docs *d, tribe_topic_model *m, uint64_t seed,
                                double *dist, int *nseed)
{
    tribe_status st = TRIBE_OK;
    const int64_t V = m->v;
    *nseed = 0;
    for (int64_t i = 0; i < d->n; i++)
        dist[i] = d->ptr[i + 1] > d->ptr[i] ? 1.0 : 0.0;
    for (int j = 0; j < m->k; j++) {
        double best = INFINITY;
        int64_t bi = -1;
        for (int64_t i = 0; i < d->n; i++) {
            if (!(dist[i] > 0))
                continue;
            double u = 1.0 - tribe_rng_unif(seed, TOPIC_STREAM ^ d->key[i], (uint64_t)j); /* (0, 1] */
            double r = -log(u) / dist[i];
            if (r < best || (r == best && d->key[i] < d->key[bi])) {
                best = r;
                bi = i;
            }
        }
        double gbest = best;
        TRIBE_TRY(tribe_par_min_f64(par, &gbest, 1));
        if (!isfinite(gbest))
            break; /* every document is a copy of a seed */
        int64_t key = bi >= 0 && best == gbest ? (int64_t)d->key[bi] : INT64_MAX;
        int64_t gkey = key;
        TRIBE_TRY(tribe_par_min_i64(par, &gkey, 1));
        double *c = m->centroid + (size_t)j * (size_t)V;
        if (key == gkey) /* this rank holds the winner; the others add zeros: exact */
            for (int64_t t = d->ptr[bi]; t < d->ptr[bi + 1]; t++)
                c[d->term[t]] = d->w[t];
        TRIBE_TRY(tribe_par_sum_f64(par, c, V));
        for (int64_t i = 0; i < d->n; i++)
            if (dist[i] > 0) {
                double dd = 1.0 - dot_row(d, i, c);
                dist[i] = dd < dist[i] ? (dd > 0 ? dd : 0) : dist[i];
            }
        (*nseed)++;
    }
cleanup:
    return st;
}

/* Each document to the seeded centroid of highest cosine (ties: lower
 * topic); returns how many labels changed, *fit gets the exact sum of the
 * documents' cosines to their centroid. Not collective. */
static int64_t assign(const tribe_topic_docs *d, const tribe_topic_model *m, int nseed, tribe_xsum *fit)
{
    int64_t changed = 0;
    tribe_xsum total = 0;
#pragma omp parallel
    {
        tribe_xsum part = 0; /* integer sums: any combining order gives the same total */
#pragma omp for schedule(static) reduction(+ : changed)
        for (int64_t i = 0; i < d->n; i++) {
            int32_t lab = -1;
            double best = -INFINITY;
            if (d->ptr[i + 1] > d->ptr[i]) {
                for (int t = 0; t < nseed; t++) {
                    double s = dot_row(d, i, m->centroid + (size_t)t * (size_t)m->v);
                    if (s > best) {
                        best = s;
                        lab = t;
                    }
                }
            }
            if (lab >= 0)
                part += tribe_xsum_of(best);
            changed += lab != m->label[i];
            m->label[i] = lab;
        }
#pragma omp critical
        total += part;
    }
    *fit = total;
    return changed;
}

/* Collective: centroids = normalised exact sums of their documents; a topic
 * left without documents keeps its centroid. */
static tribe_status update(tribe_par *par, const tribe_topic_docs *d, tribe_topic_model *m, tribe_xsum *sum)
{
    tribe_status st = TRIBE_OK;
    const size_t V = (size_t)m->v;
    memset(sum, 0, (size_t)m->k * V * sizeof *sum);
    memset(m->size, 0, (size_t)m->k * sizeof *m->size);
    for (int64_t i = 0; i < d->n; i++) {
        if (m->label[i] < 0)
            continue;
        tribe_xsum *s = sum + (size_t)m->label[i] * V;
        m->size[m->label[i]]++;
        for (int64_t j = d->ptr[i]; j < d->ptr[i + 1]; j++)
            s[d->term[j]] += tribe_xsum_of(d->w[j]);
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, sum, (int64_t)((size_t)m->k * V)));
    TRIBE_TRY(tribe_par_sum_i64(par, m->size, m->k));
    for (int t = 0; t < m->k; t++) {
        if (m->size[t] == 0)
            continue;
        double *c = m->centroid + (size_t)t * V, ss = 0;
        for (size_t j = 0; j < V; j++) {
            c[j] = tribe_xsum_value(sum[(size_t)t * V + j]);
            ss += c[j] * c[j];
        }
        double inv = ss > 0 ? 1.0 / sqrt(ss) : 0;
        for (size_t j = 0; j < V; j++)
            c[j] *= inv;
    }
cleanup:
    return st;
}

static tribe_status model_alloc(tribe_topic_model *m, int64_t n, int k, int v)
{
    tribe_status st = TRIBE_OK;
    memset(m, 0, sizeof *m);
    m->k = k;
    m->v = v;
    TRIBE_TRY(tribe_calloc((void **)&m->centroid, (size_t)k * (size_t)v, sizeof *m->centroid));
    TRIBE_TRY(tribe_calloc((void **)&m->size, (size_t)k, sizeof *m->size));
    TRIBE_TRY(tribe_calloc((void **)&m->label, (size_t)(n > 0 ? n : 1), sizeof *m->label));
cleanup:
    return st;
}

/* Collective: one run from the seeds of `seed`; *fit = the exact sum of the
 * documents' cosines to their centroid (the objective, higher is better). */
static tribe_status fit_once(tribe_par *par, const tribe_topic_docs *d, tribe_topic_model *m, uint64_t seed,
                             int iters, double *dist, tribe_xsum *sum, tribe_xsum *fit)
{
    tribe_status st = TRIBE_OK;
    int nseed = 0;
    memset(m->centroid, 0, (size_t)m->k * (size_t)m->v * sizeof *m->centroid);
    for (int64_t i = 0; i < d->n; i++)
        m->label[i] = -1;
    TRIBE_TRY(seed_topics(par, d, m, seed, dist, &nseed));
    for (m->iterations = 0; m->iterations < iters;) {
        int64_t changed = assign(d, m, nseed, fit);
        m->iterations++;
        TRIBE_TRY(tribe_par_sum_i64(par, &changed, 1));
        TRIBE_TRY(update(par, d, m, sum));
        if (changed == 0)
            break;
    }
    TRIBE_TRY(tribe_par_sum_xsum(par, fit, 1));
cleanup:
    return st;
}

tribe_status tribe_topics_fit(tribe_par *par, const tribe_topic_docs *d, int v, int k, uint64_t seed, int iters,
                              int restarts, tribe_topic_model *m)
{
    tribe_status st = TRIBE_OK;
    double *dist = NULL;
    tribe_xsum *sum = NULL, best = 0;
    tribe_topic_model run;
    memset(m, 0, sizeof *m);
    memset(&run, 0, sizeof run);
    if (k < 1 || v < 1 || restarts < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "topics: need k >= 1, restarts >= 1 and a vocabulary (k = %d, %d "
                                           "restarts, %d terms)", k, restarts, v);
    st = model_alloc(m, d->n, k, v);
    if (st == TRIBE_OK)
        st = model_alloc(&run, d->n, k, v);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&dist, (size_t)(d->n > 0 ? d->n : 1), sizeof *dist);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&sum, (size_t)k * (size_t)v, sizeof *sum);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int r = 0; r < restarts; r++) {
        tribe_xsum fit = 0;
        /* restart 0 draws from `seed` itself; the others from derived seeds */
        TRIBE_TRY(fit_once(par, d, &run, r == 0 ? seed : tribe_hash2(seed, (uint64_t)r), iters, dist, sum, &fit));
        if (r == 0 || fit > best) { /* the same integer on every rank: the same choice */
            tribe_topic_model t = *m;
            *m = run;
            run = t;
            best = fit;
        }
    }
cleanup:
    free(dist);
    free(sum);
    tribe_topic_model_free(&run);
    if (st != TRIBE_OK)
        tribe_topic_model_free(m);
    return st;
}

int tribe_topic_top_terms(const tribe_topic_model *m, int t, int top, int32_t *out)
{
    const double *c = m->centroid + (size_t)t * (size_t)m->v;
    int n = 0;
    /* top is small (a label): repeated selection of the next best */
    while (n < top) {
        int32_t best = -1;
        for (int32_t j = 0; j < m->v; j++) {
            if (!(c[j] > 0))
                continue;
            int taken = 0;
            for (int q = 0; q < n && !taken; q++)
                taken = out[q] == j;
            if (taken)
                continue;
            if (best < 0 || c[j] > c[best])
                best = j;
        }
        if (best < 0)
            break;
        out[n++] = best;
    }
    return n;
}
