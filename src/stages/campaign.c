/* Stage "campaign": the recommended campaign per segment from the job's rules
 * and the built-in ones (docs/campaigns.md). Fills r->plan; writes
 * campaign_plan.csv. */
#include "tribe/campaign.h"
#include "tribe/report.h"
#include "tribe/stage.h"

#include <stdlib.h>

typedef struct {
    tribe_campaign_rule *rules;
    int n_rules;
} campaign_stage;

static tribe_status configure(void *state, tribe_spec *spec, const tribe_job *job, int *enabled)
{
    campaign_stage *s = state;
    tribe_spec *c = NULL;
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_spec_object(spec, "campaign", &c));
    TRIBE_TRY(tribe_campaign_rules_read(c, &s->rules, &s->n_rules));
cleanup:
    return st;
}

static tribe_status run(void *state, tribe_run *r)
{
    campaign_stage *s = state;
    TRIBE_DEBUG("campaign: plan for %d segments from %d rules", r->k, s->n_rules);
    tribe_status st = tribe_par_rank(r->par) == 0 ? tribe_campaign_plan_build(r->segs, s->rules, s->n_rules, &r->plan)
                                                  : TRIBE_OK;
    return tribe_par_agree(r->par, st);
}

static tribe_status record(void *state, const tribe_run *r, tribe_rec *obj)
{
    campaign_stage *s = state;
    tribe_status st = TRIBE_OK;
    tribe_rec *list = NULL, *o = NULL;
    TRIBE_TRY(tribe_rec_int(obj, "job_rules", s->n_rules));
    TRIBE_TRY(tribe_rec_arr(obj, "plan", &list));
    for (int c = 0; c < r->segs->k; c++) {
        const tribe_campaign_plan *p = &r->plan[c];
        TRIBE_TRY(tribe_rec_obj(list, NULL, &o));
        TRIBE_TRY(tribe_rec_int(o, "segment", p->segment));
        TRIBE_TRY(tribe_rec_str(o, "campaign", p->campaign));
        TRIBE_TRY(tribe_rec_str(o, "channel", p->channel));
        TRIBE_TRY(tribe_rec_num(o, "expected_value", p->expected_value));
        TRIBE_TRY(tribe_rec_int(o, "priority", p->priority));
        TRIBE_TRY(tribe_rec_str(o, "rule", p->rule));
    }
cleanup:
    return st;
}

static tribe_status report(void *state, const tribe_run *r, tribe_sbuf *b)
{
    return tribe_report_campaign(b, r->segs, r->plan);
}

static tribe_status files(void *state, const tribe_run *r, const char *dir)
{
    char path[4096 + 32];
    tribe_status st = tribe_fmt(path, sizeof path, "%s/campaign_plan.csv", dir);
    return st == TRIBE_OK ? tribe_campaign_plan_csv(path, r->plan, r->segs->k) : st;
}

static void destroy(void *state)
{
    campaign_stage *s = state;
    tribe_campaign_rules_free(s->rules, s->n_rules);
}

static const char *const OUTPUTS[] = {"campaign_plan.csv", NULL};

const tribe_stage_def tribe_stage_campaign = {
    .name = "campaign", .state_size = sizeof(campaign_stage), .report_order = 100, .outputs = OUTPUTS,
    .configure = configure, .run = run, .record = record, .report = report, .files = files, .destroy = destroy};
