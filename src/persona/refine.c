/* Refining one persona with a marketer's inputs (tribe_persona_refine,
 * docs/personas-llm.md "Refining a persona"): the inputs are checked and
 * cleaned here, once, for every provider; the provider writes; the channels
 * asked for replace the persona's; the result is held to the grounding
 * check like any persona. */
#include "tribe/persona.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const TRIBE_PERSONA_CHANNELS[TRIBE_PERSONA_N_CHANNELS] = {"email", "sms", "push", "social",
                                                                        "direct_mail", "web", "app"};
const char *const TRIBE_PERSONA_CHANNEL_NAMES[TRIBE_PERSONA_N_CHANNELS] = {
    "E-mail", "SMS", "Push notifications", "Social media", "Direct mail", "Web", "In-app messages"};

/* The inputs as the provider sees them: cleaned copies, channel codes. */
typedef struct {
    char *text[3];
    const char *ch[TRIBE_PERSONA_MAX_CHANNELS];
    int idx[TRIBE_PERSONA_MAX_CHANNELS]; /* into TRIBE_PERSONA_CHANNELS */
    tribe_persona_inputs view;
} clean_inputs;

static void clean_free(clean_inputs *ci)
{
    for (int i = 0; i < 3; i++)
        free(ci->text[i]);
    memset(ci, 0, sizeof *ci);
}

/* Length of the UTF-8 sequence starting with byte c, 0 when c cannot start one. */
static int utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
}

/* A copy of text without control characters (tab, CR and LF become one
 * space each; C1 controls U+0080..U+009F go too), trimmed. USAGE naming
 * `field` for invalid UTF-8 or more than TRIBE_PERSONA_INPUT_MAX characters. */
static tribe_status clean_text(const char *field, const char *text, char **out)
{
    tribe_status st = TRIBE_OK;
    size_t n = strlen(text), len = 0, chars = 0;
    char *o = NULL;
    TRIBE_TRY(tribe_alloc((void **)&o, n + 1));
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)text[i];
        int k = utf8_len(c);
        if (k == 0 || i + (size_t)k > n) {
            st = tribe_fail(TRIBE_ERR_USAGE, "persona inputs: %s is not valid UTF-8 (byte %zu)", field, i + 1);
            goto cleanup;
        }
        for (int j = 1; j < k; j++)
            if (((unsigned char)text[i + (size_t)j] & 0xC0) != 0x80) {
                st = tribe_fail(TRIBE_ERR_USAGE, "persona inputs: %s is not valid UTF-8 (byte %zu)", field, i + 1);
                goto cleanup;
            }
        int c1 = k == 2 && c == 0xC2 && (unsigned char)text[i + 1] < 0xA0;
        if (c == '\t' || c == '\n' || c == '\r')
            o[len++] = ' ';
        else if (c >= 0x20 && c != 0x7F && !c1) {
            memcpy(o + len, text + i, (size_t)k);
            len += (size_t)k;
        }
        i += (size_t)k;
    }
    while (len > 0 && o[len - 1] == ' ')
        len--;
    o[len] = '\0';
    size_t lead = strspn(o, " ");
    memmove(o, o + lead, len - lead + 1);
    for (const char *q = o; *q; q++)
        chars += ((unsigned char)*q & 0xC0) != 0x80;
    if (chars > TRIBE_PERSONA_INPUT_MAX) {
        st = tribe_fail(TRIBE_ERR_USAGE, "persona inputs: %s is %zu characters, more than %d", field, chars,
                        TRIBE_PERSONA_INPUT_MAX);
        goto cleanup;
    }
    *out = o;
    o = NULL;
cleanup:
    free(o);
    return st;
}

static int channel_code(const char *name)
{
    for (int i = 0; i < TRIBE_PERSONA_N_CHANNELS; i++)
        if (strcasecmp(name, TRIBE_PERSONA_CHANNELS[i]) == 0)
            return i;
    return strcasecmp(name, "direct mail") == 0 ? 4 : -1;
}

static tribe_status clean_inputs_of(const tribe_persona_inputs *in, clean_inputs *ci)
{
    tribe_status st = TRIBE_OK;
    static const char *const FIELD[3] = {"tone", "brand_guidance", "emphasis"};
    memset(ci, 0, sizeof *ci);
    if (!in)
        return TRIBE_OK;
    const char *given[3] = {in->tone, in->brand_guidance, in->emphasis};
    for (int i = 0; i < 3; i++)
        if (given[i])
            TRIBE_TRY(clean_text(FIELD[i], given[i], &ci->text[i]));
    if (in->n_channels < 0 || in->n_channels > TRIBE_PERSONA_MAX_CHANNELS || (in->n_channels > 0 && !in->channels)) {
        st = tribe_fail(TRIBE_ERR_USAGE, "persona inputs: channels has %d entries, at most %d are allowed",
                        in->n_channels, TRIBE_PERSONA_MAX_CHANNELS);
        goto cleanup;
    }
    for (int i = 0; i < in->n_channels; i++) {
        int code = in->channels[i] ? channel_code(in->channels[i]) : -1;
        if (code < 0) {
            st = tribe_fail(TRIBE_ERR_USAGE,
                            "persona inputs: channels[%d] '%.40s' is not one of email, sms, push, social, "
                            "direct_mail, web, app",
                            i, in->channels[i] ? in->channels[i] : "(null)");
            goto cleanup;
        }
        for (int j = 0; j < i; j++)
            if (ci->idx[j] == code) {
                st = tribe_fail(TRIBE_ERR_USAGE, "persona inputs: channels[%d] '%s' is given twice", i,
                                TRIBE_PERSONA_CHANNELS[code]);
                goto cleanup;
            }
        ci->idx[i] = code;
        ci->ch[i] = TRIBE_PERSONA_CHANNELS[code];
    }
    ci->view = (tribe_persona_inputs){.tone = ci->text[0], .brand_guidance = ci->text[1], .emphasis = ci->text[2],
                                      .n_channels = in->n_channels, .channels = ci->ch};
cleanup:
    if (st != TRIBE_OK)
        clean_free(ci);
    return st;
}

/* The persona's channels become the ones asked for, in their order. */
static tribe_status set_channels(tribe_persona *p, const clean_inputs *ci)
{
    tribe_status st = TRIBE_OK;
    char **ch = NULL;
    int n = ci->view.n_channels;
    if (n == 0)
        return TRIBE_OK;
    TRIBE_TRY(tribe_calloc((void **)&ch, (size_t)n, sizeof *ch));
    for (int i = 0; i < n; i++)
        TRIBE_TRY(tribe_strdup(TRIBE_PERSONA_CHANNEL_NAMES[ci->idx[i]], &ch[i]));
    tribe_free_strs(p->channels, p->n_channels);
    p->channels = ch;
    p->n_channels = n;
    ch = NULL;
cleanup:
    tribe_free_strs(ch, n);
    return st;
}

tribe_status tribe_persona_refine(tribe_persona_provider *pp, const tribe_segments *segs, int c,
                                  const tribe_persona_inputs *in, tribe_persona *out)
{
    tribe_status st = TRIBE_OK;
    clean_inputs ci;
    if (!pp || !segs || c < 0 || c >= segs->k)
        return tribe_fail(TRIBE_ERR_INTERNAL, "persona refine: no segment index %d", c);
    TRIBE_TRY(clean_inputs_of(in, &ci));
    if (pp->refine)
        TRIBE_TRY(pp->refine(pp, segs, c, &ci.view, out));
    else
        TRIBE_TRY(pp->write(pp, segs, c, out));
    TRIBE_TRY(set_channels(out, &ci));
    TRIBE_TRY(tribe_persona_check_grounded(out, segs));
cleanup:
    clean_free(&ci);
    return st;
}
