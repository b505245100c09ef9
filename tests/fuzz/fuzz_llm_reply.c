/* libFuzzer harness: what tribe makes of an LLM server's reply. The input is
 * a Chat Completions response body (tribe_llm_reply_content); when it is
 * not one, the input itself is taken as the message content. The content is
 * validated against the persona schema (tribe_llm_persona_parse) and a
 * persona that passes is checked for grounding against the five-segment
 * fixture (tribe_persona_check_grounded), for the segment the input's
 * length picks. */
#include "fuzzutil.h"

#include "tribe/llm.h"
#include "tribe/persona.h"

#include "../unit/segfix.h"

#include <stdlib.h>

static tribe_segments *segs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    segs = fixture_segments_with_drivers();
    return segs ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = fz_text(data, size);
    char *content = NULL;
    tribe_status st = tribe_llm_reply_content(body, &content);
    fz_note("tribe_llm_reply_content", st);
    FZ_CHECK(st == TRIBE_OK || st == TRIBE_ERR_INPUT);
    FZ_CHECK((st == TRIBE_OK) == (content != NULL));
    tribe_persona p = {0};
    st = tribe_llm_persona_parse(content ? content : body, &p);
    fz_note("tribe_llm_persona_parse", st);
    FZ_CHECK(st == TRIBE_OK || st == TRIBE_ERR_INPUT);
    if (st == TRIBE_OK) {
        FZ_CHECK(p.name && p.age_band && p.bio && p.email_subject && p.email_body);
        p.segment = (int)(size % FIX_K);
        st = tribe_persona_check_grounded(&p, segs);
        fz_note("tribe_persona_check_grounded", st);
        FZ_CHECK(st == TRIBE_OK || st == TRIBE_ERR_INTERNAL);
    }
    tribe_persona_clear(&p);
    free(content);
    free(body);
    return 0;
}
