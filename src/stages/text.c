/* Stage "text": carries the text signals of `tribe ingest --text`
 * (docs/ingest.md, "Text source") into the run's outputs: the topics' top
 * terms from customers.h5 into results.h5 (/model/text attr topics) and run.json
 * (text.topics), and the report's "What customers write about" (segments of
 * at least persona.k_min customers only). The per-customer text features are
 * ordinary columns of the input, profiled by the segments stage. Does
 * nothing visible for an input without text. */
#include "tribe/llm.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>

typedef struct {
    int64_t k_min;   /* persona.k_min: smaller segments are not shown */
    int n_topics;
    char **topics;   /* [n_topics] top terms, space-separated */
    int has_text;    /* the input has the sentiment feature */
} text_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    text_stage *s = state;
    tribe_persona_settings set;
    /* the personas stage reads the same section: the same k_min and default */
    tribe_status st = tribe_persona_settings_read(spec, job->seed, &set);
    if (st == TRIBE_OK)
        s->k_min = set.llm.req.k_min;
    tribe_persona_settings_clear(&set);
    *enabled = 1;
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    text_stage *s = state;
    tribe_h5 *h = NULL;
    tribe_status st = tribe_h5_open(r->par, r->job->input, &h);
    st = tribe_par_agree(r->par, st);
    if (st == TRIBE_OK)
        st = tribe_h5_read_attr_strs_opt(h, "/customers", "text_topics", &s->n_topics, &s->topics);
    st = tribe_h5_close_after(&h, st);
    s->has_text = tribe_table_feature(r->t, "sentiment") >= 0;
    if (st == TRIBE_OK && r->segs && s->n_topics > 0) { /* for the personas: words, no figures */
        tribe_free_strs(r->segs->topics, r->segs->n_topics);
        r->segs->topics = NULL;
        r->segs->n_topics = 0;
        st = tribe_calloc((void **)&r->segs->topics, (size_t)s->n_topics, sizeof *r->segs->topics);
        for (int t = 0; t < s->n_topics && st == TRIBE_OK; t++, r->segs->n_topics = t)
            st = tribe_strdup(s->topics[t], &r->segs->topics[t]);
        if (st == TRIBE_OK)
            r->segs->n_topics = s->n_topics;
    }
    TRIBE_DEBUG("text: %s, %d topics, segments under k_min %lld not shown", s->has_text ? "text signals in the input"
                                                                                       : "no text signals in the input",
                s->n_topics, (long long)s->k_min);
    return tribe_par_agree(r->par, st);
}

static tribe_status write(void *state, const tribe_run *r, tribe_h5 *h)
{
    text_stage *s = state;
    (void)r;
    if (s->n_topics == 0)
        return TRIBE_OK;
    return tribe_h5_attr_strs(h, "/model/text", "topics", s->n_topics, (const char *const *)s->topics);
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    text_stage *s = state;
    (void)r;
    return tribe_rec_strs(obj, "topics", (const char *const *)s->topics, s->n_topics);
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    text_stage *s = state;
    if (!s->has_text || !r->segs)
        return TRIBE_OK;
    return tribe_report_text(b, r->segs, s->n_topics, (const char *const *)s->topics, s->k_min);
}

static void destroy(void *state)
{
    text_stage *s = state;
    tribe_free_strs(s->topics, s->n_topics);
    s->topics = NULL;
    s->n_topics = 0;
}

const tribe_stage_def tribe_stage_text = {.name = "text", .state_size = sizeof(text_stage), .report_order = 85,
                                          .configure = configure, .run = run, .write = write, .record = record,
                                          .report = report, .destroy = destroy};
