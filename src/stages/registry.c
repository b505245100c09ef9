/* The stages of `tribe run`, in the order they run (tribe/stage.h). Adding a
 * stage: its file in src/stages, one X(name) line below, its test, its docs
 * (docs/architecture.md, "How to add a stage"). */
#include "tribe/stage.h"

#include <string.h>

#define TRIBE_STAGE_LIST                                                                                         \
    X(previous)                                                                                                  \
    X(transform)                                                                                                 \
    X(kmeans)                                                                                                    \
    X(segments)                                                                                                  \
    X(continuity)                                                                                                \
    X(outliers)                                                                                                  \
    X(gmm)                                                                                                       \
    X(ward)                                                                                                      \
    X(projection)                                                                                                \
    X(drivers)                                                                                                   \
    X(ltv)                                                                                                       \
    X(churn)                                                                                                     \
    X(text)                                                                                                      \
    X(offers)                                                                                                    \
    X(personas)                                                                                                  \
    X(campaign)

#define X(name) extern const tribe_stage_def tribe_stage_##name;
TRIBE_STAGE_LIST
#undef X

#define X(name) &tribe_stage_##name,
static const tribe_stage_def *const STAGES[] = {TRIBE_STAGE_LIST};
#undef X

const tribe_stage_def *const *tribe_stages_default(int *n)
{
    *n = (int)(sizeof STAGES / sizeof STAGES[0]);
    return STAGES;
}

const tribe_stage_def *tribe_stage_find(const char *name)
{
    for (size_t i = 0; i < sizeof STAGES / sizeof STAGES[0]; i++)
        if (strcmp(STAGES[i]->name, name) == 0)
            return STAGES[i];
    return NULL;
}
