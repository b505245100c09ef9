/* Suppression lists (tribe/campaign.h): who must get nothing, neither a
 * campaign send nor an ad-platform upload. The send and the audience export
 * ask the same list, so an address suppressed for one is suppressed for both. */
#include "tribe/campaign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tribe_suppression {
    char **addr; /* sorted, each form of each entry */
    int64_t n, cap;
    char *calling_code; /* for national phone numbers; NULL: none */
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Addresses compare trimmed and lower-cased (e-mail is case-insensitive in
 * practice; phone numbers have no case). */
static void normalize(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static tribe_status add(tribe_suppression *s, const char *a)
{
    tribe_status st = TRIBE_OK;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        TRIBE_TRY(tribe_realloc((void **)&s->addr, (size_t)s->cap * sizeof *s->addr));
    }
    TRIBE_TRY(tribe_strdup(a, &s->addr[s->n]));
    s->n++;
cleanup:
    return st;
}

/* The forms an address is compared in: as written (trimmed, lower-cased),
 * its canonical e-mail and its E.164 phone, each "" when it has none. */
static void forms(const tribe_suppression *s, const char *addr, char plain[TRIBE_AUDIENCE_ADDR_MAX],
                  char email[TRIBE_AUDIENCE_ADDR_MAX], char phone[TRIBE_AUDIENCE_ADDR_MAX])
{
    snprintf(plain, TRIBE_AUDIENCE_ADDR_MAX, "%s", addr);
    normalize(plain);
    tribe_audience_email(TRIBE_AUDIENCE_GOOGLE, addr, email);
    tribe_audience_phone(TRIBE_AUDIENCE_GOOGLE, addr, s->calling_code, phone);
}

tribe_status tribe_suppression_read(const char *path, const char *calling_code, tribe_suppression **out)
{
    tribe_status st = TRIBE_OK;
    tribe_suppression *s = NULL;
    char *text = NULL, *save = NULL;
    char plain[TRIBE_AUDIENCE_ADDR_MAX], email[TRIBE_AUDIENCE_ADDR_MAX], phone[TRIBE_AUDIENCE_ADDR_MAX];
    TRIBE_TRY(tribe_calloc((void **)&s, 1, sizeof *s));
    if (calling_code)
        TRIBE_TRY(tribe_strdup(calling_code, &s->calling_code));
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        forms(s, line, plain, email, phone);
        if (!*plain || plain[0] == '#')
            continue;
        TRIBE_TRY(add(s, plain));
        if (*email && strcmp(email, plain) != 0)
            TRIBE_TRY(add(s, email));
        if (*phone && strcmp(phone, plain) != 0)
            TRIBE_TRY(add(s, phone));
    }
    if (s->n > 0)
        qsort(s->addr, (size_t)s->n, sizeof *s->addr, cmp_str);
    *out = s;
    s = NULL;
cleanup:
    free(text);
    tribe_suppression_destroy(&s);
    return st;
}

static int has(const tribe_suppression *s, const char *key)
{
    return *key && bsearch(&key, s->addr, (size_t)s->n, sizeof *s->addr, cmp_str) != NULL;
}

int tribe_suppression_has(const tribe_suppression *s, const char *addr)
{
    if (!s || !s->n || !addr)
        return 0;
    char plain[TRIBE_AUDIENCE_ADDR_MAX], email[TRIBE_AUDIENCE_ADDR_MAX], phone[TRIBE_AUDIENCE_ADDR_MAX];
    forms(s, addr, plain, email, phone);
    return has(s, plain) || has(s, email) || has(s, phone);
}

void tribe_suppression_destroy(tribe_suppression **sp)
{
    if (!sp || !*sp)
        return;
    tribe_suppression *s = *sp;
    for (int64_t i = 0; i < s->n; i++)
        free(s->addr[i]);
    free(s->addr);
    free(s->calling_code);
    free(s);
    *sp = NULL;
}
