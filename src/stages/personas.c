/* Stage "personas" (job key "persona"): one persona per segment from the
 * offline writer or an OpenAI-compatible server, optional portraits
 * (tribe/persona.h, tribe/llm.h, docs/personas-llm.md). Rank 0 does the work;
 * fills r->personas; writes personas.json. */
#include "tribe/llm.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    tribe_persona_settings set;  /* the "persona" section (tribe/llm.h) */
    tribe_persona_image *images; /* [k] or NULL */
    int n_kept, n_reused;        /* previous personas eligible for reuse, and reused as they were */
    int n_images;
    int fallbacks[TRIBE_N_FALLBACK_KINDS]; /* by kind (tribe/llm.h) */
} personas_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    personas_stage *s = state;
    (void)enabled;
    return tribe_persona_settings_read(spec, job->seed, &s->set);
}

/* Rank 0. The personas a rerun keeps: a survivor's persona of the previous
 * run (its personas.json) when its centre barely moved (the continuity
 * stage's keep_persona); keep[k] entries without a name are written anew.
 * A previous run without personas.json keeps none. */
static tribe_status kept(personas_stage *s, const tribe_run *r, tribe_persona **keep)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *text = NULL;
    tribe_persona *old = NULL;
    int n = 0;
    const tribe_changes *c = r->changes;
    if (!c || !c->keep_persona)
        return TRIBE_OK;
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas.json", r->prev->dir));
    if (tribe_read_file(path, &text, NULL) != TRIBE_OK) {
        tribe_clear_error();
        TRIBE_INFO("personas: %s is not there; every persona is written anew", path);
        goto cleanup;
    }
    TRIBE_TRY(tribe_personas_from_json(text, &old, &n));
    TRIBE_TRY(tribe_calloc((void **)keep, (size_t)r->k, sizeof **keep));
    for (int j = 0; j < r->k; j++)
        for (int i = 0; i < n && c->keep_persona[j]; i++)
            if (old[i].segment == r->segs->seg[j].id && !(*keep)[j].name) {
                TRIBE_TRY(tribe_persona_copy(&old[i], &(*keep)[j]));
                s->n_kept++;
            }
cleanup:
    free(text);
    tribe_personas_destroy(&old, n);
    return st;
}

/* Rank 0: the personas (failing because of a server only under
 * persona.require_llm: ENV naming the fallbacks) and images. */
static tribe_status write_personas(personas_stage *s, tribe_run *r)
{
    tribe_status st = TRIBE_OK;
    tribe_persona_provider *pp = NULL;
    tribe_persona *keep = NULL;
    TRIBE_TRY(tribe_persona_provider_create(&s->set, r->job->seed, &pp));
    TRIBE_TRY(kept(s, r, &keep));
    TRIBE_TRY(tribe_personas_write_keep(pp, r->segs, keep, &r->personas));
    for (int c = 0; keep && c < r->k; c++)
        s->n_reused += keep[c].name && r->personas[c].name && strcmp(keep[c].bio, r->personas[c].bio) == 0;
    /* The LLM's fallbacks by kind; under persona.require_llm one is an error (ENV) naming them all. */
    if (s->set.provider == TRIBE_PERSONA_OPENAI) {
        char by[512];
        st = tribe_personas_fallbacks(r->personas, r->k, s->set.require_llm, s->fallbacks);
        int n = 0;
        for (int i = 0; i < TRIBE_N_FALLBACK_KINDS; i++)
            n += s->fallbacks[i];
        if (n)
            TRIBE_INFO("personas: %d of %d from the offline writer: %s", n, r->k,
                       tribe_fallback_counts_text(s->fallbacks, by, sizeof by));
        TRIBE_TRY(st);
    }
    /* Optional images: a failure leaves a card without one, never the run. */
    if (s->set.img.base_url) {
        s->n_images = r->segs->k;
        TRIBE_TRY(tribe_persona_images_fetch(&s->set.img, r->segs, r->personas, &s->images));
    }
cleanup:
    tribe_personas_destroy(&keep, r->k);
    tribe_persona_provider_destroy(&pp);
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    TRIBE_DEBUG("personas: %d segments, provider %s",
                r->k, TRIBE_PERSONA_PROVIDER_NAMES[((personas_stage *)state)->set.provider]);
    tribe_status st = tribe_par_rank(r->par) == 0 ? write_personas(state, r) : TRIBE_OK;
    return tribe_par_agree(r->par, st);
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    personas_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *im = NULL;
    char line[256];
    TRIBE_TRY(tribe_rec_str(obj, "provider", TRIBE_PERSONA_PROVIDER_NAMES[s->set.provider]));
    if (r->changes)
        TRIBE_TRY(tribe_rec_int(obj, "reused", s->n_reused));
    if (s->set.provider == TRIBE_PERSONA_OPENAI) {
        tribe_rec *fb = NULL;
        TRIBE_TRY(tribe_rec_str(obj, "model", s->set.model));
        TRIBE_TRY(tribe_rec_bool(obj, "require_llm", s->set.require_llm));
        TRIBE_TRY(tribe_rec_obj(obj, "fallbacks", &fb));
        for (int i = 0; i < TRIBE_N_FALLBACK_KINDS; i++)
            if (s->fallbacks[i])
                TRIBE_TRY(tribe_rec_int(fb, TRIBE_FALLBACK_KINDS[i], s->fallbacks[i]));
    }
    if (!s->images)
        goto cleanup;
    TRIBE_TRY(tribe_rec_obj(obj, "images", &im));
    for (int c = 0; c < r->segs->k; c++)
        TRIBE_TRY(tribe_rec_str(im, r->segs->seg[c].name, tribe_persona_image_summary(&s->images[c], line, sizeof line)));
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    personas_stage *s = state;
    return tribe_report_personas(b, r->segs, r->personas, r->plan, s->images);
}

static tribe_status files(void *state, const tribe_run *r, const char *dir)
{
    tribe_status st = TRIBE_OK;
    char path[4096 + 32], *json = NULL;
    TRIBE_TRY(tribe_personas_to_json(r->personas, r->segs->k, r->segs, &json));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/personas.json", dir));
    TRIBE_TRY(tribe_write_file_atomic(path, json, strlen(json)));
cleanup:
    free(json);
    return st;
}

static void destroy(void *state)
{
    personas_stage *s = state;
    tribe_persona_settings_clear(&s->set);
    tribe_persona_images_destroy(&s->images, s->n_images);
}

static const char *const OUTPUTS[] = {"personas.json", NULL};

const tribe_stage_def tribe_stage_personas = {
    .name = "personas", .state_size = sizeof(personas_stage), .report_order = 90, .outputs = OUTPUTS,
    .configure = configure, .run = run, .record = record, .report = report, .files = files, .destroy = destroy};
