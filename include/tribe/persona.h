/* tribe/persona.h: personas, e-mails and taglines for segments, through a
 * provider interface. This release ships the offline provider (deterministic,
 * no network); an LLM provider plugs in behind the same interface.
 *
 * Usage:
 *     tribe_persona_provider *pp = NULL;
 *     tribe_persona_offline_create(seed, &pp);
 *     tribe_persona *p = NULL;                 // array of segs->k
 *     tribe_personas_write(pp, segs, &p);
 *     tribe_personas_to_json(p, segs->k, segs, &json);   // personas.json text
 *     tribe_personas_destroy(&p, segs->k);
 *
 *     // one segment again, with a marketer's inputs (tribe serve):
 *     tribe_persona_inputs in = {.tone = "warm", .emphasis = "order frequency"};
 *     tribe_persona one = {0};
 *     st = tribe_persona_refine(pp, segs, c, &in, &one);   // USAGE names a bad input
 *     tribe_persona_clear(&one);
 *     tribe_persona_provider_destroy(&pp);
 *
 * Ownership: every string in a tribe_persona is owned by it.
 * Not collective: rank 0 only.
 */
#ifndef TRIBE_PERSONA_H
#define TRIBE_PERSONA_H

#include "tribe/core.h"
#include "tribe/segment.h"

typedef struct {
    int segment;            /* segment id */
    char *segment_name;
    char *name;             /* persona's first and last name */
    char *age_band;         /* e.g. "35-44" */
    char *occupation;
    char *bio;
    int n_goals;
    char **goals;
    int n_frustrations;
    char **frustrations;
    int n_channels;
    char **channels;        /* preferred channels, most preferred first */
    char *quote;
    char *email_subject;
    char *email_body;
    char *tagline;
    char *image_prompt;
    char *provider;         /* "offline", the model that wrote it, or "offline (fallback: <why>)" */
} tribe_persona;

/* What a marketer asks of a refined persona (docs/personas-llm.md,
 * "Refining a persona"). Each text is at most TRIBE_PERSONA_INPUT_MAX
 * characters (UTF-8); NULL or "" = not given. channels are codes of
 * TRIBE_PERSONA_CHANNELS (at most TRIBE_PERSONA_MAX_CHANNELS, no repeats),
 * most preferred first. */
typedef struct {
    const char *tone;           /* e.g. "warm and playful" */
    const char *brand_guidance; /* e.g. "never say cheap; we are 'Acme', not 'ACME'" */
    const char *emphasis;       /* what to stress, e.g. "order frequency" */
    int n_channels;
    const char *const *channels; /* [n_channels] */
} tribe_persona_inputs;

#define TRIBE_PERSONA_INPUT_MAX 500
#define TRIBE_PERSONA_MAX_CHANNELS 6
/* The channel codes a refine accepts ("direct mail" also spells
 * direct_mail; case does not matter), and the names a persona lists them by. */
#define TRIBE_PERSONA_N_CHANNELS 7
extern const char *const TRIBE_PERSONA_CHANNELS[TRIBE_PERSONA_N_CHANNELS];
extern const char *const TRIBE_PERSONA_CHANNEL_NAMES[TRIBE_PERSONA_N_CHANNELS];

typedef struct tribe_persona_provider tribe_persona_provider;
struct tribe_persona_provider {
    const char *name;
    /* Writes the persona of segment s of segs into *out (zeroed by caller). */
    tribe_status (*write)(tribe_persona_provider *self, const tribe_segments *segs, int s,
                          tribe_persona *out);
    void (*destroy)(tribe_persona_provider *self);
    void *state;
    /* Optional (NULL = call write per segment): writes all segs->k personas
     * into out[] (zeroed by caller) at once, for providers that batch their
     * work, e.g. concurrent LLM requests (tribe/llm.h). */
    tribe_status (*write_all)(tribe_persona_provider *self, const tribe_segments *segs, tribe_persona *out);
    /* Optional (NULL = write, inputs ignored): as write, following the
     * marketer's inputs (already checked and cleaned by
     * tribe_persona_refine). */
    tribe_status (*refine)(tribe_persona_provider *self, const tribe_segments *segs, int s,
                           const tribe_persona_inputs *in, tribe_persona *out);
};

tribe_status tribe_persona_offline_create(uint64_t seed, tribe_persona_provider **out);
void tribe_persona_provider_destroy(tribe_persona_provider **pp);

/* Writes one persona per segment (array of segs->k, caller destroys). */
tribe_status tribe_personas_write(tribe_persona_provider *pp, const tribe_segments *segs,
                                  tribe_persona **out);
/* As tribe_personas_write, but segment c keeps a copy of keep[c] when
 * keep[c].name is set (a persona of an earlier run, docs/resegmentation.md)
 * and every figure it states still holds; the provider writes the others
 * (one by one). keep may be NULL. */
tribe_status tribe_personas_write_keep(tribe_persona_provider *pp, const tribe_segments *segs,
                                       const tribe_persona *keep, tribe_persona **out);
/* Writes segment index c's persona again into *out (zeroed by the caller;
 * destroy it with tribe_persona_clear either way), following the marketer's
 * inputs, through the provider `tribe run` used, under its rules: the LLM
 * provider sends the profile and the inputs as a "Marketer's guidance" block
 * (cache key per profile and inputs, segments under k_min never sent,
 * schema, grounding and re-ask as in a run, the offline writer when the
 * server fails); the offline writer takes the tone, the emphasis (one more
 * sentence of the segment's figures) and the channels. Channels given
 * replace the persona's list, in the given order. Every text input has its
 * control characters removed (tab and line breaks become spaces) before use.
 * The result passes tribe_persona_check_grounded.
 * Errors: USAGE naming the input at fault ("persona inputs: tone is 612
 * characters, more than 500", "channels[2] 'fax' is not one of ..."), before
 * anything is sent; INTERNAL for c outside the segments; NOMEM. Never an
 * error because of the server. Not collective; the provider keeps no state
 * a refine changes, so one provider serves several threads at once. */
tribe_status tribe_persona_refine(tribe_persona_provider *pp, const tribe_segments *segs, int c,
                                  const tribe_persona_inputs *in, tribe_persona *out);
/* personas.json text read back into *out[*n] (caller destroys). INPUT for
 * anything that is not personas.json's schema. */
tribe_status tribe_personas_from_json(const char *text, tribe_persona **out, int *n);
/* Deep copy (dst zeroed first; cleared again on failure). NOMEM. */
tribe_status tribe_persona_copy(const tribe_persona *src, tribe_persona *dst);
/* personas.json text (caller frees); schema in docs/outputs.md. */
tribe_status tribe_personas_to_json(const tribe_persona *p, int k, const tribe_segments *segs,
                                    char **out);
/* One figure a persona's text states (personas.json "evidence"): the number
 * as written, the text field it is in, and the segment figure it rests on
 * (figure "" and value NaN when none matches). */
typedef struct {
    char written[64];   /* e.g. "£1,234", "12.5%" */
    char field[48];     /* e.g. "bio", "goals[1]" */
    char figure[160];   /* figure id: "median.monetary", "base.share", "mix.device.app", ... */
    double value;       /* the figure as stored (shares as fractions) */
} tribe_evidence;

/* The persona's evidence in text order, each figure once (numbers of its age
 * band are their own evidence and left out): *out[*n], caller frees.
 * Errors: INTERNAL for a persona of no segment of segs, NOMEM. */
tribe_status tribe_persona_evidence(const tribe_persona *p, const tribe_segments *segs, tribe_evidence **out,
                                    int *n);
/* The age bands a persona may have (docs/outputs.md). */
#define TRIBE_N_AGE_BANDS 6
extern const char *const TRIBE_AGE_BANDS[TRIBE_N_AGE_BANDS];
/* Checks that the age band is one of TRIBE_AGE_BANDS and every number written
 * in the persona's text is a figure of the segment (within rounding); a
 * number of the age band counts only as an age (in the band, or written
 * "aged 45", "45 years old"). Returns TRIBE_OK or INTERNAL naming the number. */
tribe_status tribe_persona_check_grounded(const tribe_persona *p, const tribe_segments *segs);
void tribe_personas_destroy(tribe_persona **p, int k);
/* Frees the strings of one persona in place and zeroes it (accepts NULL). */
void tribe_persona_clear(tribe_persona *p);

#endif
