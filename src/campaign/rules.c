/* The job's campaign rules (tribe_campaign_rules_read in tribe/campaign.h). */
#include "tribe/campaign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const CHANNELS[] = {"email", "sms", "push", "auto"};

void tribe_campaign_rules_free(tribe_campaign_rule *r, int n)
{
    if (!r)
        return;
    for (int i = 0; i < n; i++) {
        free(r[i].segment_match);
        free(r[i].campaign);
        free(r[i].channel);
        free(r[i].tone);
        free(r[i].timing);
    }
    free(r);
}

/* Rule i of the list: its fields, each a non-empty string but the rate. */
static tribe_status read_rule(tribe_spec *c, int i, tribe_campaign_rule *r)
{
    tribe_status st = TRIBE_OK;
    tribe_spec *o = NULL;
    int channel = -1;
    char key[320];
    r->response_rate = NAN;
    TRIBE_TRY(tribe_spec_item(c, "rules", i, &o));
    TRIBE_TRY(tribe_spec_str(o, "segment_match", &r->segment_match));
    TRIBE_TRY(tribe_spec_str(o, "campaign", &r->campaign));
    TRIBE_TRY(tribe_spec_choice(o, "channel", CHANNELS, 4, &channel));
    TRIBE_TRY(tribe_spec_str(o, "tone", &r->tone));
    TRIBE_TRY(tribe_spec_str(o, "timing", &r->timing));
    TRIBE_TRY(tribe_spec_num(o, "response_rate", 0, 1, &r->response_rate));
    if (channel >= 0)
        TRIBE_TRY(tribe_strdup(CHANNELS[channel], &r->channel));
    TRIBE_TRY(tribe_spec_check(o));
    if (!r->segment_match)
        TRIBE_TRY(tribe_spec_fail(o, "'%s' is required", tribe_spec_key(o, "segment_match", key, sizeof key)));
cleanup:
    return st;
}

tribe_status tribe_campaign_rules_read(tribe_spec *c, tribe_campaign_rule **rules, int *n)
{
    tribe_status st = TRIBE_OK;
    tribe_campaign_rule *r = NULL;
    int count = 0;
    *rules = NULL;
    *n = 0;
    TRIBE_TRY(tribe_spec_list(c, "rules", &count));
    if (count == 0)
        goto cleanup;
    TRIBE_TRY(tribe_calloc((void **)&r, (size_t)count, sizeof *r));
    for (int i = 0; i < count; i++)
        TRIBE_TRY(read_rule(c, i, &r[i]));
    *rules = r;
    *n = count;
    r = NULL;
cleanup:
    tribe_campaign_rules_free(r, count);
    return st;
}
