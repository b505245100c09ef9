/* Audience files for ad platforms (tribe/campaign.h, docs/campaigns.md
 * "Audiences"): e-mails and phones normalised the way Google Ads Customer
 * Match and Meta custom audiences document it, then SHA-256 in lower-case
 * hex. An address that does not normalise is refused whole, never uploaded
 * half-normalised: a platform cannot match a wrong hash and would count it
 * against the list's match rate. */
#include "tribe/campaign.h"

#include <stdio.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* raw without surrounding white space: [*b, *e) */
static void trim(const char *raw, const char **b, const char **e)
{
    const char *s = raw, *t = raw + strlen(raw);
    while (s < t && is_space(*s))
        s++;
    while (t > s && is_space(t[-1]))
        t--;
    *b = s;
    *e = t;
}

/* A domain: labels separated by single dots, at least two, none empty. */
static int domain_ok(const char *d)
{
    int dots = 0;
    size_t label = 0;
    for (const char *p = d; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return 0;
            dots++;
            label = 0;
        } else {
            label++;
        }
    }
    return dots > 0 && label > 0;
}

int tribe_audience_email(tribe_audience_platform p, const char *raw, char *out)
{
    const char *b, *e;
    char buf[TRIBE_AUDIENCE_ADDR_MAX];
    size_t n = 0, at = 0;
    int ats = 0;
    out[0] = '\0';
    if (!raw)
        return 0;
    trim(raw, &b, &e);
    if (e - b > 254)
        return 0;
    for (const char *s = b; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || is_space((char)c) || strchr(",;:<>()[]\\\"", c))
            return 0;
        if (c == '@') {
            ats++;
            at = n;
        }
        buf[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
    }
    buf[n] = '\0';
    if (ats != 1 || at == 0 || !domain_ok(buf + at + 1))
        return 0;
    size_t o = 0;
    int gmail = strcmp(buf + at + 1, "gmail.com") == 0 || strcmp(buf + at + 1, "googlemail.com") == 0;
    for (size_t i = 0; i < n; i++)
        if (!(p == TRIBE_AUDIENCE_GOOGLE && gmail && i < at && buf[i] == '.'))
            out[o++] = buf[i];
    out[o] = '\0';
    if (out[0] == '@') { /* a local part of dots only */
        out[0] = '\0';
        return 0;
    }
    return 1;
}

int tribe_audience_phone(tribe_audience_platform p, const char *raw, const char *calling_code, char *out)
{
    const char *b, *e;
    char digits[32];
    size_t n = 0;
    int intl = 0;
    out[0] = '\0';
    if (!raw)
        return 0;
    trim(raw, &b, &e);
    if (b < e && *b == '+') {
        intl = 1;
        b++;
    } else if (e - b >= 2 && b[0] == '0' && b[1] == '0') {
        intl = 1; /* 00 = the international prefix */
        b += 2;
    }
    for (const char *s = b; s < e; s++) {
        char c = *s;
        if (intl && c == '(' && e - s >= 3 && s[1] == '0' && s[2] == ')') {
            s += 2; /* "+44 (0)20 ...": the trunk 0 written beside the country code */
            continue;
        }
        if (c >= '0' && c <= '9') {
            if (n >= 20)
                return 0;
            digits[n++] = c;
        } else if (!(c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')')) {
            return 0; /* letters, an extension, a second '+', '#', '*' */
        }
    }
    digits[n] = '\0';
    const char *d = digits;
    char national[40];
    if (!intl) {
        if (!calling_code || !*calling_code)
            return 0;
        if (d[0] == '0') /* the trunk prefix */
            d++;
        size_t cl = strlen(calling_code), dl = strlen(d);
        if (cl + dl >= sizeof national)
            return 0;
        memcpy(national, calling_code, cl);
        memcpy(national + cl, d, dl + 1);
        d = national;
    }
    size_t len = strlen(d);
    if (len < 8 || len > 15 || d[0] == '0')
        return 0;
    snprintf(out, TRIBE_AUDIENCE_ADDR_MAX, "%s%s", p == TRIBE_AUDIENCE_GOOGLE ? "+" : "", d);
    return 1;
}

void tribe_audience_hash(const char *s, char out[65])
{
    uint8_t h[32];
    tribe_sha256(s, strlen(s), h);
    tribe_hex(h, 32, out);
}

/* One customer's row: which addresses go out (normalised into em / ph, ""
 * when not) and the customer's bucket. */
typedef enum { AUD_EXPORTED = 0, AUD_NO_CONTACT, AUD_SUPPRESSED, AUD_OPTED_OUT, AUD_INVALID } aud_fate;

static aud_fate decide(tribe_audience_platform p, const tribe_contact *k, const tribe_suppression *sup,
                       const char *cc, char *em, char *ph, tribe_audience_stats *st)
{
    em[0] = ph[0] = '\0';
    if (!k || (!k->email && !k->phone))
        return AUD_NO_CONTACT;
    /* the list names people: one suppressed address keeps all of theirs out */
    if (tribe_suppression_has(sup, k->email) || tribe_suppression_has(sup, k->phone))
        return AUD_SUPPRESSED;
    int wanted = 0;
    if (k->email && k->email_optin) {
        wanted = 1;
        st->invalid_emails += !tribe_audience_email(p, k->email, em);
    }
    if (k->phone && k->sms_optin) {
        wanted = 1;
        st->invalid_phones += !tribe_audience_phone(p, k->phone, cc, ph);
    }
    return em[0] || ph[0] ? AUD_EXPORTED : wanted ? AUD_INVALID : AUD_OPTED_OUT;
}

tribe_status tribe_audience_csv(tribe_audience_platform p, const int64_t *ids, int64_t n,
                                const tribe_contacts *contacts, const tribe_suppression *sup,
                                const char *calling_code, tribe_sbuf *out, tribe_audience_stats *stats)
{
    tribe_status st = TRIBE_OK;
    char em[TRIBE_AUDIENCE_ADDR_MAX], ph[TRIBE_AUDIENCE_ADDR_MAX], he[65], hp[65];
    memset(stats, 0, sizeof *stats);
    stats->customers = n;
    TRIBE_TRY(tribe_sbuf_add(out, p == TRIBE_AUDIENCE_GOOGLE ? "Email,Phone\r\n" : "email,phone\r\n"));
    for (int64_t i = 0; i < n; i++) {
        aud_fate f = decide(p, tribe_contacts_find(contacts, ids[i]), sup, calling_code, em, ph, stats);
        int64_t *bucket[] = {&stats->exported, &stats->no_contact, &stats->suppressed, &stats->opted_out,
                             &stats->invalid};
        (*bucket[f])++;
        if (f != AUD_EXPORTED)
            continue;
        if (em[0])
            tribe_audience_hash(em, he);
        if (ph[0])
            tribe_audience_hash(ph, hp);
        stats->emails += em[0] != '\0';
        stats->phones += ph[0] != '\0';
        TRIBE_TRY(tribe_sbuf_printf(out, "%s,%s\r\n", em[0] ? he : "", ph[0] ? hp : ""));
    }
cleanup:
    return st;
}
