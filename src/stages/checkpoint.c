/* Checkpoints of `tribe run` and the cleaning of killed runs' leftovers
 * (checkpoint.h). Rank 0 does the file-system work; the ranks share its
 * decisions through agreements and broadcasts. */
#include "checkpoint.h"

#include "tribe/owner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAGING_PREFIX ".staging-"
#define CHECKPOINT_FORMAT "tribe-checkpoint 1"

typedef char ckpt_path[4096 + 256];

/* The file dir/name as text (NULL when missing or unreadable). */
static char *read_text(const char *dir, const char *name)
{
    ckpt_path path;
    char *text = NULL;
    if (tribe_fmt(path, sizeof path, "%s/%s", dir, name) != TRIBE_OK || tribe_read_file(path, &text, NULL) != TRIBE_OK)
        return NULL;
    return text;
}

/* 1 when the staging directory's owner may still be running; "pid P on host
 * H" into who. Under the output directory's lock (outputs.c) no live run
 * other than this one makes staging directories; this judgement is what
 * remains on a file system without locks, and for staging directories of
 * runs from before the lock. */
static int owner_alive(const char *dir, char *who, size_t cap)
{
    char *lock = read_text(dir, "lock");
    ckpt_path path;
    struct stat sb;
    snprintf(who, cap, "an unknown run");
    if (!lock) /* killed before it wrote its lock (it does so first), or a run that has just made it */
        return stat(dir, &sb) == 0 && time(NULL) - sb.st_mtime < CHECKPOINT_FRESH_SECONDS;
    time_t touched = tribe_fmt(path, sizeof path, "%s/lock", dir) == TRIBE_OK && stat(path, &sb) == 0 ? sb.st_mtime : 0;
    int alive = tribe_owner_alive(lock, touched, who, cap);
    free(lock);
    return alive;
}

void checkpoint_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        ckpt_path path;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                tribe_fmt(path, sizeof path, "%s/%s", dir, e->d_name) == TRIBE_OK)
                unlink(path);
        closedir(d);
    }
    rmdir(dir);
}

void checkpoint_drop(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        ckpt_path path;
        while ((e = readdir(d)))
            if ((strcmp(e->d_name, "checkpoint") == 0 || strncmp(e->d_name, "checkpoint-", 11) == 0) &&
                tribe_fmt(path, sizeof path, "%s/%s", dir, e->d_name) == TRIBE_OK)
                unlink(path);
        closedir(d);
    }
}

void checkpoint_unlock(const char *dir)
{
    ckpt_path path;
    if (tribe_fmt(path, sizeof path, "%s/lock", dir) == TRIBE_OK)
        unlink(path);
}

/* FNV-1a of the running executable: two builds of one version differ. */
static void binary_id(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    uint64_t h = TRIBE_FNV_INIT;
    char buf[65536];
    size_t n;
    if (!f) {
        snprintf(out, cap, "tribe %s (executable unreadable)", TRIBE_VERSION);
        return;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = tribe_fnv1a(h, buf, n);
    fclose(f);
    snprintf(out, cap, "tribe %s (executable %016llx)", TRIBE_VERSION, (unsigned long long)h);
}

/* What pass one of the scan found. */
typedef struct {
    ckpt_path best;          /* the newest killed run of this spec and binary ("" none) */
    time_t best_time;
    char foreign[4096 + 512];      /* one killed run's checkpoint of another spec or binary */
    int foreign_n;
    int other_host_alive;    /* a live run on another host shares the directory */
} scan_result;

/* Pass one: no file is touched. */
static void scan_find(tribe_pipeline *pl, DIR *d, scan_result *sr)
{
    struct dirent *e;
    ckpt_path dir;
    char who[512], hash[32], bin[128], me[256 + 16];
    tribe_owner_host(me, sizeof me);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) != 0 ||
            tribe_fmt(dir, sizeof dir, "%s/%s", pl->job->output, e->d_name) != TRIBE_OK)
            continue;
        if (owner_alive(dir, who, sizeof who)) {
            sr->other_host_alive |= strstr(who, me) == NULL; /* who ends "on host H" */
            continue;
        }
        char *ck = read_text(dir, "checkpoint");
        if (!ck)
            continue;
        tribe_owner_field(ck, "spec_hash", hash, sizeof hash);
        tribe_owner_field(ck, "binary", bin, sizeof bin);
        free(ck);
        if (strcmp(hash, pl->spec_hash) == 0 && strcmp(bin, pl->binary) == 0) {
            ckpt_path f;
            struct stat sb;
            time_t t = tribe_fmt(f, sizeof f, "%s/checkpoint", dir) == TRIBE_OK && stat(f, &sb) == 0 ? sb.st_mtime : 0;
            if (!sr->best[0] || t > sr->best_time) {
                memcpy(sr->best, dir, sizeof dir);
                sr->best_time = t;
            }
        } else if (sr->foreign_n++ == 0) {
            snprintf(sr->foreign, sizeof sr->foreign, "%s holds a checkpoint of job spec %s made by %s", dir, hash,
                     bin);
        }
    }
}

/* 1 for a top-level temporary file whose writer is provably gone: no live
 * process with its pid here, and either the previous holder of the output
 * directory's lock (which this run now holds) or untouched for
 * TRIBE_TMP_STALE_SECONDS while no live run of another host shares the
 * directory (a pid alone says nothing about another host's writers). */
static int stale_tmp(const tribe_pipeline *pl, const scan_result *sr, const char *path, const char *name)
{
    return tribe_tmp_stale(path, name, pl->prev_owner_pid, !sr->other_host_alive);
}

/* Pass two: killed runs' staging directories (but the adopted one) and
 * temporary files go. */
static void scan_clean(tribe_pipeline *pl, DIR *d, const scan_result *sr)
{
    struct dirent *e;
    ckpt_path path;
    char who[512];
    while ((e = readdir(d))) {
        if (tribe_fmt(path, sizeof path, "%s/%s", pl->job->output, e->d_name) != TRIBE_OK)
            continue;
        if (strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0) {
            if (strcmp(path, sr->best) == 0 || owner_alive(path, who, sizeof who))
                continue;
            TRIBE_WARN("removing %s, left by a killed run (%s)", path, who);
            checkpoint_rmdir(path);
        } else if (stale_tmp(pl, sr, path, e->d_name)) {
            TRIBE_WARN("removing %s, a killed writer's temporary file", path);
            unlink(path);
        }
    }
}

/* Takes over the killed run's staging directory sr->best. */
static tribe_status adopt(tribe_pipeline *pl, const char *dir)
{
    tribe_status st = TRIBE_OK;
    char *ck = read_text(dir, "checkpoint"), id[256], *id_copy = NULL;
    if (!ck)
        return tribe_fail(TRIBE_ERR_IO, "%s/checkpoint: cannot read", dir);
    tribe_owner_field(ck, "run_id", id, sizeof id);
    tribe_owner_field(ck, "input_hash", pl->resumed_input, sizeof pl->resumed_input);
    for (int i = 0; i < pl->n; i++) {
        char line[128];
        snprintf(line, sizeof line, "\nstage %s\n", pl->def[i]->name);
        pl->saved[i] = pl->def[i]->load && strstr(ck, line) != NULL;
        snprintf(line, sizeof line, "\npartial %s\n", pl->def[i]->name);
        pl->partial[i] = strstr(ck, line) != NULL;
    }
    TRIBE_TRY(tribe_strdup(id, &id_copy));
    TRIBE_TRY(tribe_fmt(pl->own_run_id, sizeof pl->own_run_id, "%s", pl->job->run_id));
    TRIBE_TRY(tribe_fmt(pl->staging, sizeof pl->staging, "%s", dir));
    free(pl->job->run_id);
    pl->job->run_id = id_copy;
    id_copy = NULL;
    TRIBE_INFO("resuming run %s from the checkpoint in %s", pl->job->run_id, dir);
cleanup:
    free(ck);
    free(id_copy);
    return st;
}

tribe_status checkpoint_scan(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    scan_result sr = {0};
    snprintf(pl->spec_hash, sizeof pl->spec_hash, "%016llx",
             (unsigned long long)tribe_fnv1a(TRIBE_FNV_INIT, pl->job->spec_json, strlen(pl->job->spec_json)));
    binary_id(pl->binary, sizeof pl->binary);
    DIR *d = opendir(pl->job->output);
    if (!d)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot list", pl->job->output);
    scan_find(pl, d, &sr);
    if (pl->resume && !sr.best[0] && sr.foreign_n)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE,
                             "cannot resume: %s; this is job spec %s (%s) run by %s (remove that directory to "
                             "start over)",
                             sr.foreign, pl->spec_hash, pl->job->path ? pl->job->path : "text", pl->binary));
    if (pl->resume && !sr.best[0])
        TRIBE_INFO("--resume: no checkpoint of this job in %s, starting from the beginning", pl->job->output);
    rewinddir(d);
    scan_clean(pl, d, &sr);
    if (sr.best[0])
        TRIBE_TRY(adopt(pl, sr.best));
cleanup:
    closedir(d);
    return st;
}

/* Rank 0. The identity file, with a "stage NAME" line per saved stage. */
static tribe_status write_identity(const tribe_pipeline *pl, const char *input_hash)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    ckpt_path path;
    TRIBE_TRY(tribe_sbuf_printf(&b, "%s\nspec_hash %s\nbinary %s\nrun_id %s\ninput_hash %s\n", CHECKPOINT_FORMAT,
                                pl->spec_hash, pl->binary, pl->job->run_id, input_hash));
    for (int i = 0; i < pl->n; i++) {
        if (pl->saved[i])
            TRIBE_TRY(tribe_sbuf_printf(&b, "stage %s\n", pl->def[i]->name));
        if (pl->partial[i])
            TRIBE_TRY(tribe_sbuf_printf(&b, "partial %s\n", pl->def[i]->name));
    }
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/checkpoint", pl->staging));
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

tribe_status checkpoint_new_staging(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    struct stat sb;
    TRIBE_TRY(tribe_fmt(pl->staging, sizeof pl->staging, "%s/.staging-%s", pl->job->output, pl->job->run_id));
    if (stat(pl->staging, &sb) == 0) { /* the scan left it: its owner is alive */
        st = tribe_fail(TRIBE_ERR_IO, "%s: run id %s is being run by another live tribe run (its lock file says "
                                      "which)", pl->staging, pl->job->run_id);
        pl->staging[0] = '\0';
        goto cleanup;
    }
    TRIBE_TRY(tribe_mkdirs(pl->job->output));
    /* Created exclusively: of two runs of one run id starting at once, the
     * second finds the directory here and stops, instead of both writing
     * (and later cleaning) one staging directory. */
    if (mkdir(pl->staging, 0755) != 0) {
        st = errno == EEXIST ? tribe_fail(TRIBE_ERR_IO, "%s: run id %s is being run by another tribe run that "
                                                        "started at the same moment", pl->staging, pl->job->run_id)
                             : tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create", pl->staging);
        pl->staging[0] = '\0';
    }
cleanup:
    return st;
}

tribe_status checkpoint_claim(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    char text[1024], what[400];
    ckpt_path path;
    TRIBE_TRY(tribe_fmt(what, sizeof what, "run %s", pl->job->run_id));
    TRIBE_TRY(tribe_owner_record(what, text, sizeof text));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/lock", pl->staging));
    TRIBE_TRY(tribe_write_file_atomic(path, text, strlen(text)));
    TRIBE_TRY(write_identity(pl, pl->resumed_input));
cleanup:
    return st;
}

/* Rank 0. The adopted checkpoint is of other input: it goes, and the run
 * starts afresh under its own run id in a staging directory of its own. */
static tribe_status disown(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    char *id = NULL;
    TRIBE_WARN("the checkpoint in %s was made from other input (hash %s, now %s): removed, run %s starts afresh",
               pl->staging, pl->resumed_input, pl->run.input_hash, pl->own_run_id);
    checkpoint_rmdir(pl->staging);
    memset(pl->saved, 0, (size_t)pl->n * sizeof *pl->saved);
    memset(pl->partial, 0, (size_t)pl->n * sizeof *pl->partial);
    pl->resumed_input[0] = '\0';
    TRIBE_TRY(tribe_strdup(pl->own_run_id, &id));
    free(pl->job->run_id);
    pl->job->run_id = id;
    TRIBE_TRY(checkpoint_new_staging(pl));
    TRIBE_TRY(checkpoint_claim(pl));
cleanup:
    return st;
}

tribe_status checkpoint_check_input(tribe_pipeline *pl)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    if (tribe_par_rank(r->par) == 0) {
        if (pl->resumed_input[0] && strcmp(pl->resumed_input, r->input_hash) != 0) {
            if (pl->resume) {
                st = tribe_fail(TRIBE_ERR_INPUT,
                                "cannot resume: the checkpoint in %s was made from input hashing to %s; %s now "
                                "hashes to %s (remove that directory to start over)",
                                pl->staging, pl->resumed_input, pl->job->input, r->input_hash);
                pl->staging[0] = '\0'; /* refused, not removed */
            } else
                st = disown(pl);
        }
        if (st == TRIBE_OK)
            st = write_identity(pl, r->input_hash);
    }
    TRIBE_TRY(tribe_par_agree(r->par, st));
    TRIBE_TRY(tribe_par_bcast(r->par, pl->saved, (size_t)pl->n * sizeof *pl->saved, 0));
    TRIBE_TRY(tribe_par_bcast(r->par, pl->partial, (size_t)pl->n * sizeof *pl->partial, 0));
    TRIBE_TRY(tribe_par_bcast(r->par, pl->staging, sizeof pl->staging, 0));
    TRIBE_TRY(tribe_par_bcast_str(r->par, &pl->job->run_id, 0));
    TRIBE_TRY(tribe_fmt(r->run_group, sizeof r->run_group, "/runs/%s", pl->job->run_id));
cleanup:
    return st;
}

/* <staging>/checkpoint-NAME<kind>.h5 (kind "" or ".partial"). */
static tribe_status stage_file(const tribe_pipeline *pl, int i, const char *kind, char *out, size_t cap)
{
    return tribe_fmt(out, cap, "%s/checkpoint-%s%s.h5", pl->staging, pl->def[i]->name, kind);
}

/* Collective. save(ctx, h) into stage i's checkpoint file of that kind,
 * written as <file>.part and renamed when closed; then rank 0 sets *flag
 * and rewrites the identity file, and every rank sets *flag. */
static tribe_status write_checkpoint(tribe_pipeline *pl, int i, const char *kind,
                                     tribe_status (*save)(void *ctx, tribe_h5 *h), void *ctx, int *flag)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    tribe_h5 *h = NULL;
    ckpt_path part, path;
    TRIBE_TRY(stage_file(pl, i, kind, path, sizeof path));
    TRIBE_TRY(tribe_fmt(part, sizeof part, "%s.part", path));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_h5_create(r->par, part, &h)));
    st = tribe_par_agree(r->par, save(ctx, h));
    st = tribe_h5_close_after(&h, st);
    TRIBE_TRY(tribe_par_agree(r->par, st));
    if (tribe_par_rank(r->par) == 0) {
        if (rename(part, path) != 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move into place", path);
        *flag = st == TRIBE_OK;
        if (st == TRIBE_OK)
            st = write_identity(pl, r->input_hash);
    }
    TRIBE_TRY(tribe_par_agree(r->par, st));
    *flag = 1; /* on every rank */
cleanup:
    tribe_h5_close(&h);
    return st;
}

typedef struct {
    tribe_pipeline *pl;
    int i;
} stage_ref;

static tribe_status save_stage(void *ctx, tribe_h5 *h)
{
    const stage_ref *s = ctx;
    return s->pl->def[s->i]->save(s->pl->state[s->i], &s->pl->run, h);
}

tribe_status checkpoint_save(tribe_pipeline *pl, int i)
{
    stage_ref ref = {pl, i};
    return write_checkpoint(pl, i, "", save_stage, &ref, &pl->saved[i]);
}

tribe_status tribe_run_save_partial(tribe_run *r, tribe_status (*save)(void *ctx, tribe_h5 *h), void *ctx)
{
    tribe_pipeline *pl = r->pipeline;
    if (!pl)
        return TRIBE_OK;
    tribe_status st = write_checkpoint(pl, pl->current, ".partial", save, ctx, &pl->partial[pl->current]);
    pl->stopped_inside = st == TRIBE_OK;
    return st;
}

tribe_status tribe_run_open_partial(tribe_run *r, tribe_h5 **h)
{
    tribe_pipeline *pl = r->pipeline;
    ckpt_path path;
    *h = NULL;
    if (!pl || !pl->partial[pl->current])
        return TRIBE_OK;
    tribe_status st = stage_file(pl, pl->current, ".partial", path, sizeof path);
    if (st == TRIBE_OK)
        st = tribe_h5_open(r->par, path, h);
    if (st == TRIBE_OK)
        TRIBE_INFO("stage %s resumes from %s", pl->def[pl->current]->name, path);
    return tribe_par_agree(r->par, st);
}

tribe_status checkpoint_drop_partial(tribe_pipeline *pl, int i)
{
    tribe_status st = TRIBE_OK;
    ckpt_path path;
    pl->partial[i] = 0;
    if (tribe_par_rank(pl->run.par) == 0) {
        st = stage_file(pl, i, ".partial", path, sizeof path);
        if (st == TRIBE_OK)
            unlink(path);
        if (st == TRIBE_OK)
            st = write_identity(pl, pl->run.input_hash);
    }
    return tribe_par_agree(pl->run.par, st);
}

tribe_status checkpoint_load(tribe_pipeline *pl, int i)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    tribe_h5 *h = NULL;
    ckpt_path path;
    TRIBE_TRY(stage_file(pl, i, "", path, sizeof path));
    TRIBE_TRY(tribe_par_agree(r->par, tribe_h5_open(r->par, path, &h)));
    TRIBE_TRY(tribe_par_agree(r->par, pl->def[i]->load(pl->state[i], r, h)));
    TRIBE_INFO("stage %s restored from %s", pl->def[i]->name, path);
cleanup:
    st = tribe_h5_close_after(&h, st);
    return tribe_par_agree(r->par, st);
}

/* Collective: the stop flag of any rank, or force; rank 0 touches the lock
 * (the heartbeat other hosts judge it by). */
static tribe_status stop_agree(tribe_pipeline *pl, int force, int *stop)
{
    tribe_status st = TRIBE_OK;
    tribe_run *r = &pl->run;
    int64_t flag = force || (pl->stop && pl->stop());
    ckpt_path path;
    if (tribe_par_rank(r->par) == 0 && tribe_fmt(path, sizeof path, "%s/lock", pl->staging) == TRIBE_OK) {
        utimensat(AT_FDCWD, path, NULL, 0);
        tribe_lock_touch(pl->dir_lock);
    }
    TRIBE_TRY(tribe_par_max_i64(r->par, &flag, 1));
    *stop = flag != 0;
cleanup:
    return st;
}

tribe_status checkpoint_boundary(tribe_pipeline *pl, int *stop)
{
    return stop_agree(pl, 0, stop);
}

tribe_status tribe_run_stop_point(tribe_run *r, int force, int *stop)
{
    *stop = 0;
    return r->pipeline ? stop_agree(r->pipeline, force, stop) : TRIBE_OK;
}
