/* What a run leaves behind: results.h5 (the run's own objects, then every
 * stage's), the run record (run.json), report.html and the stages' files,
 * staged in <output>/.staging-<run_id> and moved into place at the end. */
#include "checkpoint.h"

#include "tribe/report.h"

#include <dirent.h>
#include <sys/stat.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESULTS_FORMAT "tribe-results"
#define RESULTS_FORMAT_VERSION 1

void pipeline_unstage(tribe_pipeline *pl)
{
    if (!pl->staging[0])
        return;
    checkpoint_rmdir(pl->staging);
    pl->staging[0] = '\0';
}

/* Rank 0. A run id names one run of the output directory's history for
 * good: a finished run is never overwritten. */
static tribe_status in_history(const tribe_pipeline *pl)
{
    char dir[4096 + 320];
    struct stat sb;
    tribe_status st = tribe_fmt(dir, sizeof dir, "%s/runs/%s", pl->job->output, pl->job->run_id);
    if (st == TRIBE_OK && stat(dir, &sb) == 0)
        st = tribe_fail(TRIBE_ERR_USAGE,
                        "%s: run id '%s' is already in the history of %s (%s); a finished run is never "
                        "overwritten: give the job another run_id (or leave it out for a fresh one)",
                        pl->job->path ? pl->job->path : "job spec", pl->job->run_id, pl->job->output, dir);
    return st;
}

/* Rank 0. A default run id (time and seed) that the history or a live run
 * holds already, e.g. two runs started in the same second, gets the first
 * free suffix -2, -3, ...; an id the job gave is never changed. */
static tribe_status fresh_run_id(tribe_pipeline *pl)
{
    char dir[4096 + 320], id[320];
    struct stat sb;
    tribe_status st = TRIBE_OK;
    if (!pl->job->run_id_default)
        return TRIBE_OK;
    snprintf(id, sizeof id, "%s", pl->job->run_id);
    for (int n = 2; st == TRIBE_OK && n < 1000; n++) {
        char staging[4096 + 320];
        st = tribe_fmt(dir, sizeof dir, "%s/runs/%s", pl->job->output, id);
        if (st == TRIBE_OK)
            st = tribe_fmt(staging, sizeof staging, "%s/.staging-%s", pl->job->output, id);
        if (st != TRIBE_OK || (stat(dir, &sb) != 0 && stat(staging, &sb) != 0))
            break;
        st = tribe_fmt(id, sizeof id, "%s-%d", pl->job->run_id, n);
    }
    if (st == TRIBE_OK && strcmp(id, pl->job->run_id) != 0) {
        char *copy = NULL;
        st = tribe_strdup(id, &copy);
        if (st == TRIBE_OK) {
            TRIBE_INFO("run id %s is in the history of %s already: this run is %s", pl->job->run_id, pl->job->output,
                       copy);
            free(pl->job->run_id);
            pl->job->run_id = copy;
        }
    }
    return st;
}

void pipeline_unlock(tribe_pipeline *pl)
{
    tribe_lock_release(&pl->dir_lock);
}

/* Rank 0. <output>/.lock, held until the run ends (published, failed or
 * stopped): a second run into the directory meanwhile, of any run id, stops
 * with IO naming this one; the file stays (removing a lock file lets a
 * waiter lock a file nobody else sees). Its previous holder is gone. */
static tribe_status lock_output(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 16], subject[4096 + 32], what[400], pid[32], *prev = NULL;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/.lock", pl->job->output));
    TRIBE_TRY(tribe_fmt(subject, sizeof subject, "output directory %s", pl->job->output));
    TRIBE_TRY(tribe_fmt(what, sizeof what, "run %s", pl->job->run_id));
    TRIBE_TRY(tribe_lock_take(path, subject, what, 0, &prev, &pl->dir_lock));
    tribe_owner_field(prev ? prev : "", "pid", pid, sizeof pid);
    pl->prev_owner_pid = strtol(pid, NULL, 10);
cleanup:
    free(prev);
    return st;
}

/* Rank 0. The output directory, locked and cleaned of killed runs'
 * leftovers, and the staging directory: an interrupted run's (checkpoint.h)
 * or a new one. */
static tribe_status make_staging(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_mkdirs(pl->job->output));
    TRIBE_TRY(lock_output(pl));
    TRIBE_TRY(checkpoint_scan(pl));
    if (!pl->staging[0]) {
        TRIBE_TRY(fresh_run_id(pl));
        TRIBE_TRY(in_history(pl));
        TRIBE_TRY(checkpoint_new_staging(pl));
    }
    TRIBE_TRY(checkpoint_claim(pl));
cleanup:
    return st;
}

tribe_status pipeline_staging(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = pl->run.par;
    /* The output directory must be writable before any work is done. */
    if (tribe_par_rank(par) == 0) {
        st = make_staging(pl);
        if (st != TRIBE_OK)
            pipeline_unstage(pl);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_bcast(par, pl->staging, sizeof pl->staging, 0));
    TRIBE_TRY(tribe_par_bcast_str(par, &pl->job->run_id, 0)); /* a resumed run's id */
    TRIBE_TRY(tribe_par_bcast(par, pl->resumed_input, sizeof pl->resumed_input, 0));
cleanup:
    return st;
}

/* The timings so far as {"read": s, "<stage>": s, ..., "total": s}. */
static tribe_status timings(const tribe_pipeline *pl, tribe_rec *parent)
{
    tribe_rec *o = NULL;
    double total = 0;
    tribe_status st = tribe_rec_obj(parent, "timings", &o);
    for (int i = 0; st == TRIBE_OK && i < pl->n_steps; i++) {
        st = tribe_rec_num(o, pl->step[i], round(pl->seconds[i] * 1000) / 1000);
        total += pl->seconds[i];
    }
    return st == TRIBE_OK ? tribe_rec_num(o, "total", round(total * 1000) / 1000) : st;
}

/* Collective. The record's "memory" object into pl->memory on every rank:
 * {"peak_rss_bytes_max": M, "peak_rss_bytes": [per rank], "peak_rss_bytes_after":
 * {"<step>": max over ranks of the peak when it ended}}; rank 0 logs the
 * per-rank peaks. */
static tribe_status memory(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_par *par = pl->run.par;
    int size = tribe_par_size(par), n = pl->n_steps;
    int64_t *all = NULL, *smax = NULL, mx = 0;
    tribe_rec *m = NULL, *after = NULL;
    TRIBE_TRY(tribe_calloc((void **)&all, (size_t)size, sizeof *all));
    TRIBE_TRY(tribe_calloc((void **)&smax, (size_t)n + 1, sizeof *smax));
    all[tribe_par_rank(par)] = pipeline_peak_rss();
    TRIBE_TRY(tribe_par_sum_i64(par, all, size)); /* one slot per rank, zero elsewhere: the sum is the gather */
    memcpy(smax, pl->rss, (size_t)n * sizeof *smax);
    TRIBE_TRY(tribe_par_max_i64(par, smax, n));
    for (int r = 0; r < size; r++)
        mx = all[r] > mx ? all[r] : mx;
    TRIBE_TRY(tribe_rec_create(&pl->memory));
    m = pl->memory;
    TRIBE_TRY(tribe_rec_int(m, "peak_rss_bytes_max", mx));
    TRIBE_TRY(tribe_rec_ints(m, "peak_rss_bytes", all, size));
    TRIBE_TRY(tribe_rec_obj(m, "peak_rss_bytes_after", &after));
    for (int s = 0; s < n; s++)
        if (smax[s] > 0) /* steps without a measurement are left out */
            TRIBE_TRY(tribe_rec_int(after, pl->step[s], smax[s]));
    if (tribe_par_rank(par) == 0) {
        char line[1024];
        size_t k = (size_t)snprintf(line, sizeof line, "peak RSS per rank (MB):");
        for (int r = 0; r < size && k < sizeof line; r++)
            k += (size_t)snprintf(line + k, sizeof line - k, " %.0f", (double)all[r] / 1048576.0);
        TRIBE_INFO("%s", line);
    }
cleanup:
    free(all);
    free(smax);
    return st;
}

/* A sub-object of the record printed as JSON text (for /runs/<id> attributes). */
static tribe_status printed(const tribe_rec *o, char **out)
{
    return tribe_rec_print(o, 0, out);
}

/* Collective. /runs/<run_id>: what the run was and how it went. */
static tribe_status write_run_group(tribe_pipeline *pl, tribe_h5 *h, const char *created)
{
    tribe_status st = TRIBE_OK;
    const tribe_run *r = &pl->run;
    const char *g = r->run_group;
    tribe_rec *t = NULL;
    char *tj = NULL, *mj = NULL;
    TRIBE_TRY(tribe_rec_create(&t));
    TRIBE_TRY(timings(pl, t));
    TRIBE_TRY(tribe_par_agree(r->par, printed(tribe_rec_get(t, "timings"), &tj)));
    /* Every rank must write the same attribute value: each measured its own
     * steps, rank 0's timings are the run's (its log says the same). */
    TRIBE_TRY(tribe_par_bcast_str(r->par, &tj, 0));
    TRIBE_TRY(printed(pl->memory, &mj));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "job_spec", pl->job->spec_json ? pl->job->spec_json : "{}"));
    TRIBE_TRY(tribe_h5_attr_i64(h, g, "seed", (int64_t)pl->job->seed));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "input", pl->job->input));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "input_hash", r->input_hash));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "version", TRIBE_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "created", created));
    TRIBE_TRY(tribe_h5_attr_i64(h, g, "ranks", tribe_par_size(r->par)));
    TRIBE_TRY(tribe_h5_attr_i64(h, g, "threads", omp_get_max_threads()));
    TRIBE_TRY(tribe_h5_attr_i64(h, g, "customers", r->rows.n_global));
    TRIBE_TRY(tribe_h5_attr_i64(h, g, "k", r->k));
    TRIBE_TRY(tribe_h5_attr_f64(h, g, "silhouette", r->silhouette));
    TRIBE_TRY(tribe_h5_attr_f64(h, g, "silhouette_ci95", r->silhouette_ci));
    TRIBE_TRY(tribe_h5_attr_f64(h, g, "inertia", r->inertia));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "ledger", r->ledger ? r->ledger : "{}"));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "timings", tj));
    TRIBE_TRY(tribe_h5_attr_str(h, g, "memory", mj));
cleanup:
    tribe_rec_destroy(&t);
    free(tj);
    free(mj);
    return st;
}

tribe_status pipeline_write_results(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    tribe_h5 *h = NULL;
    char path[4096 + 32], *created = pl->created;
    time_t now = time(NULL);
    struct tm tmv;
    strftime(created, sizeof pl->created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    /* Every rank must write identical attribute values: rank 0's clock wins. */
    TRIBE_TRY(tribe_par_bcast(r->par, created, sizeof pl->created, 0));
    TRIBE_TRY(memory(pl));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/results.h5", pl->staging));
    st = tribe_par_agree(r->par, tribe_h5_create(r->par, path, &h));
    if (st != TRIBE_OK)
        goto cleanup;
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_format", RESULTS_FORMAT));
    TRIBE_TRY(tribe_h5_attr_i64(h, "/", "tribe_format_version", RESULTS_FORMAT_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "tribe_version", TRIBE_VERSION));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "input", pl->job->input));
    TRIBE_TRY(tribe_h5_attr_str(h, "/", "run_id", pl->job->run_id));
    TRIBE_TRY(tribe_store_write_currency(h, &r->t->currency));
    TRIBE_TRY(tribe_h5_write_rows(h, "/segments/id", TRIBE_H5_I64, r->rows.n_global, r->rows.offset, r->rows.n_local,
                                  1, r->t->id));
    if (r->t->id_text) /* string ids (tribe/id.h) */
        TRIBE_TRY(tribe_h5_write_str_rows(h, "/segments/id_text", r->rows.n_global, r->rows.offset,
                                          r->rows.n_local, r->t->id_width, r->t->id_text));
    for (int i = 0; i < pl->n; i++)
        if (pl->ran[i] && pl->def[i]->write)
            TRIBE_TRY(pl->def[i]->write(pl->state[i], r, h));
    TRIBE_TRY(write_run_group(pl, h, created));
cleanup:
    st = tribe_h5_close_after(&h, st);
    return tribe_par_agree(r->par, st);
}

/* Rank 0. The run record: the run's facts, then every stage's object. */
static tribe_status record(tribe_pipeline *pl, tribe_rec **out)
{
    tribe_status st = TRIBE_OK;
    const tribe_run *r = &pl->run;
    tribe_rec *rec = NULL, *o = NULL;
    TRIBE_TRY(tribe_rec_create(&rec));
    TRIBE_TRY(tribe_rec_str(rec, "run_id", pl->job->run_id));
    TRIBE_TRY(tribe_rec_str(rec, "created", pl->created));
    TRIBE_TRY(tribe_rec_int(rec, "seed", (int64_t)pl->job->seed));
    TRIBE_TRY(tribe_rec_str(rec, "input", pl->job->input));
    TRIBE_TRY(tribe_rec_str(rec, "input_hash", r->input_hash));
    TRIBE_TRY(tribe_rec_int(rec, "customers", r->rows.n_global));
    TRIBE_TRY(tribe_rec_int(rec, "k", r->k));
    TRIBE_TRY(tribe_rec_int(rec, "ranks", tribe_par_size(r->par)));
    TRIBE_TRY(tribe_rec_int(rec, "threads", omp_get_max_threads()));
    TRIBE_TRY(tribe_rec_num(rec, "silhouette", r->silhouette));
    TRIBE_TRY(tribe_rec_obj(rec, "currency", &o));
    TRIBE_TRY(tribe_rec_str(o, "code", r->t->currency.code));
    TRIBE_TRY(tribe_rec_str(o, "symbol", r->t->currency.symbol));
    TRIBE_TRY(tribe_rec_int(o, "decimals", r->t->currency.decimals));
    if (r->ledger)
        TRIBE_TRY(tribe_rec_json(rec, "ledger", r->ledger));
    else
        TRIBE_TRY(tribe_rec_obj(rec, "ledger", &o));
    TRIBE_TRY(tribe_spec_settings(pl->job->spec, rec, "settings"));
    TRIBE_TRY(timings(pl, rec));
    if (pl->memory) {
        char *text = NULL;
        TRIBE_TRY(printed(pl->memory, &text));
        st = tribe_rec_json(rec, "memory", text);
        free(text);
        TRIBE_TRY(st);
    }
    for (int i = 0; i < pl->n; i++)
        if (pl->ran[i] && pl->def[i]->record) {
            TRIBE_TRY(tribe_rec_obj(rec, pl->def[i]->name, &o));
            TRIBE_TRY(pl->def[i]->record(pl->state[i], r, o));
        }
    *out = rec;
    rec = NULL;
cleanup:
    tribe_rec_destroy(&rec);
    return st;
}

/* Rank 0. report.html: the stages' sections by report_order (then
 * registration order), inside the page. */
static tribe_status report(tribe_pipeline *pl, const tribe_rec *rec, const char *path)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf body = {0};
    char *html = NULL;
    int *order = NULL, n = 0;
    TRIBE_TRY(tribe_calloc((void **)&order, (size_t)pl->n + 1, sizeof *order));
    for (int i = 0; i < pl->n; i++) {
        if (!pl->ran[i] || !pl->def[i]->report)
            continue;
        int at = n++;
        while (at > 0 && pl->def[order[at - 1]]->report_order > pl->def[i]->report_order) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    for (int j = 0; j < n; j++)
        TRIBE_TRY(pl->def[order[j]]->report(pl->state[order[j]], &pl->run, &body));
    tribe_report_page page = {pl->run.segs, rec, body.p ? body.p : ""};
    TRIBE_TRY(tribe_report_html(&page, &html));
    TRIBE_TRY(tribe_write_file_atomic(path, html, strlen(html)));
cleanup:
    tribe_sbuf_free(&body);
    free(html);
    free(order);
    return st;
}

/* Rank 0. <output>/<name> becomes the run's file: a hard link (a copy where
 * the file system has none) under a temporary name, renamed into place. */
static tribe_status publish_one(const tribe_pipeline *pl, const char *run_dir, const char *name)
{
    char from[4096 + 512], tmp[4096 + 512], to[4096 + 256];
    tribe_status st = tribe_fmt(from, sizeof from, "%s/%s", run_dir, name);
    if (st == TRIBE_OK)
        st = tribe_fmt(to, sizeof to, "%s/%s", pl->job->output, name);
    if (st == TRIBE_OK)
        st = tribe_fmt(tmp, sizeof tmp, "%s/.%s.tmp.%ld", pl->job->output, name, (long)getpid());
    if (st != TRIBE_OK)
        return st;
    unlink(tmp);
    if (link(from, tmp) != 0) {
        char *data = NULL;
        size_t len = 0;
        st = tribe_read_file(from, &data, &len);
        if (st == TRIBE_OK)
            st = tribe_write_file_atomic(tmp, data, len);
        free(data);
        if (st != TRIBE_OK)
            return st;
    }
    if (rename(tmp, to) != 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move into place", to);
        unlink(tmp);
    }
    return st;
}

/* Rank 0. The staging directory becomes <output>/runs/<run_id> (one
 * rename), <output>/latest points at it (a symlink swapped atomically), and
 * the top-level files become the latest run's: the stages' files, then
 * segments.json (when the run has segments), the report and the record,
 * results.h5 last so it always describes complete siblings. */
static tribe_status publish(tribe_pipeline *pl)
{
    static const char *const OWN[] = {"segments.json", "report.html", "run.json", "results.h5"};
    tribe_status st = TRIBE_OK;
    char runs[4096 + 16], run_dir[4096 + 320], rel[320 + 8], tmp[4096 + 64], latest[4096 + 16];
    TRIBE_TRY(tribe_fmt(runs, sizeof runs, "%s/runs", pl->job->output));
    TRIBE_TRY(tribe_fmt(run_dir, sizeof run_dir, "%s/%s", runs, pl->job->run_id));
    TRIBE_TRY(tribe_fmt(rel, sizeof rel, "runs/%s", pl->job->run_id));
    TRIBE_TRY(tribe_fmt(tmp, sizeof tmp, "%s/.latest.tmp.%ld", pl->job->output, (long)getpid()));
    TRIBE_TRY(tribe_fmt(latest, sizeof latest, "%s/latest", pl->job->output));
    TRIBE_TRY(tribe_mkdirs(runs));
    TRIBE_TRY(in_history(pl)); /* another run of the same id may have finished meanwhile */
    checkpoint_drop(pl->staging); /* the checkpoints are no results */
    if (rename(pl->staging, run_dir) != 0)
        TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the finished run into place", run_dir));
    pl->staging[0] = '\0';
    checkpoint_unlock(run_dir); /* only now: a staging directory without its lock looks like a killed run's */
    unlink(tmp);
    if (symlink(rel, tmp) != 0 || rename(tmp, latest) != 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot point at %s", latest, rel);
        unlink(tmp);
        goto cleanup;
    }
    for (int i = 0; i < pl->n; i++)
        for (const char *const *f = pl->def[i]->outputs; pl->ran[i] && f && *f; f++)
            TRIBE_TRY(publish_one(pl, run_dir, *f));
    for (size_t i = pl->run.segs ? 0 : 1; i < sizeof OWN / sizeof *OWN; i++)
        TRIBE_TRY(publish_one(pl, run_dir, OWN[i]));
cleanup:
    return st;
}

/* Rank 0. segments.json: the segments as every stage left them (drivers,
 * predicted value, outlier counts included), so a reader of the run (tribe
 * serve) rebuilds a persona's grounding input without results.h5. */
static tribe_status segments_json(const tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *json = NULL;
    TRIBE_TRY(tribe_segments_to_json(pl->run.segs, &json));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/segments.json", pl->staging));
    TRIBE_TRY(tribe_write_file_atomic(path, json, strlen(json)));
cleanup:
    free(json);
    return st;
}

tribe_status pipeline_outputs(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_rec *rec = NULL;
    char *text = NULL, path[4096 + 32];
    for (int i = 0; i < pl->n; i++)
        if (pl->ran[i] && pl->def[i]->files)
            TRIBE_TRY(pl->def[i]->files(pl->state[i], &pl->run, pl->staging));
    pipeline_lap(pl, "outputs");
    if (pl->run.segs)
        TRIBE_TRY(segments_json(pl));
    TRIBE_TRY(record(pl, &rec));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/report.html", pl->staging));
    TRIBE_TRY(report(pl, rec, path));
    TRIBE_TRY(tribe_rec_print(rec, 1, &text));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/run.json", pl->staging));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
    TRIBE_TRY(publish(pl));
cleanup:
    tribe_rec_destroy(&rec);
    free(text);
    return st;
}
