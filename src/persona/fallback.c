/* Why a persona came from the offline writer instead of the LLM
 * (tribe/llm.h): the kind of each fallback, read from the provider string
 * the LLM provider writes ("offline (fallback: <reason>)"), counted for the
 * run's summary and refused under persona.require_llm.
 *
 * Every reason the provider writes starts with text of tribe's own (an LLM's
 * words, such as a refusal's, only ever follow it), so the kind is read from
 * the reason's first words. */
#include "tribe/llm.h"

#include <stdio.h>
#include <string.h>

const char *const TRIBE_FALLBACK_KINDS[TRIBE_N_FALLBACK_KINDS] = {
    "under k_min",  "http error",       "timeout",   "deadline",          "connection error", "refused",
    "cut short",    "invalid reply",    "invalid JSON", "schema violation", "ungrounded figure", "band invalid"};

#define PREFIX "offline (fallback: "

int tribe_persona_fallback_kind(const tribe_persona *p)
{
    static const struct {
        const char *start;
        int kind;
    } BY_START[] = {{"HTTP ", TRIBE_FALLBACK_HTTP},
                    {"timeout", TRIBE_FALLBACK_TIMEOUT},
                    {"persona.deadline_s = ", TRIBE_FALLBACK_DEADLINE},
                    {"refusal", TRIBE_FALLBACK_REFUSED},
                    {"finish_reason", TRIBE_FALLBACK_CUT},
                    {"reply ", TRIBE_FALLBACK_REPLY},
                    {"schema violation: the message content is not a JSON object", TRIBE_FALLBACK_JSON},
                    {"schema violation", TRIBE_FALLBACK_SCHEMA},
                    {"ungrounded", TRIBE_FALLBACK_UNGROUNDED},
                    {"age band", TRIBE_FALLBACK_BAND}};
    if (!p->provider || strncmp(p->provider, PREFIX, strlen(PREFIX)) != 0)
        return -1;
    const char *why = p->provider + strlen(PREFIX);
    for (size_t i = 0; i < sizeof BY_START / sizeof *BY_START; i++)
        if (strncmp(why, BY_START[i].start, strlen(BY_START[i].start)) == 0)
            return BY_START[i].kind;
    long long n;
    char rest[32];
    if (sscanf(why, "%lld customers, under persona.k_min%31s", &n, rest) == 2)
        return TRIBE_FALLBACK_K_MIN;
    return TRIBE_FALLBACK_CONNECTION; /* curl's own words: refused or reset connections, names that do not resolve */
}

tribe_status tribe_personas_fallbacks(const tribe_persona *p, int k, int strict, int counts[TRIBE_N_FALLBACK_KINDS])
{
    char list[800];
    size_t o = 0;
    int n_strict = 0, listed = 0;
    memset(counts, 0, TRIBE_N_FALLBACK_KINDS * sizeof *counts);
    list[0] = '\0';
    for (int c = 0; c < k; c++) {
        int kind = tribe_persona_fallback_kind(&p[c]);
        if (kind < 0)
            continue;
        counts[kind]++;
        /* A segment under k_min is the privacy rule at work, not the LLM failing. */
        if (!strict || kind == TRIBE_FALLBACK_K_MIN)
            continue;
        n_strict++;
        const char *why = p[c].provider + strlen(PREFIX);
        int wl = (int)strlen(why) - (why[0] && why[strlen(why) - 1] == ')'); /* without the closing parenthesis */
        int w = snprintf(list + o, sizeof list - o, "%ssegment %d (%.40s): %.*s", o ? "; " : "", p[c].segment,
                         p[c].segment_name ? p[c].segment_name : "?", wl < 100 ? wl : 100, why);
        if (w > 0 && (size_t)w < sizeof list - o) {
            o += (size_t)w;
            listed++;
        } else
            list[o] = '\0';
    }
    if (!n_strict)
        return TRIBE_OK;
    return tribe_fail(TRIBE_ERR_ENV,
                      "persona.require_llm: %d of %d personas fell back to the offline writer: %s%s", n_strict, k, list,
                      listed < n_strict ? "; ..." : "");
}

const char *tribe_fallback_counts_text(const int counts[TRIBE_N_FALLBACK_KINDS], char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < TRIBE_N_FALLBACK_KINDS; i++) {
        if (!counts[i])
            continue;
        int w = snprintf(buf + o, cap - o, "%s%d %s", o ? ", " : "", counts[i], TRIBE_FALLBACK_KINDS[i]);
        if (w < 0 || (size_t)w >= cap - o)
            break;
        o += (size_t)w;
    }
    return buf;
}
