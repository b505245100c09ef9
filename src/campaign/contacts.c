/* contacts.csv: who can be reached and how (tribe/campaign.h). Contact data
 * is read only here, by `tribe campaign send`: it never enters features,
 * results.h5 or any prompt. */
#include "tribe/campaign.h"
#include "tribe/csv.h"
#include "tribe/id.h"

#include <stdlib.h>
#include <string.h>

static int cmp_contact(const void *a, const void *b)
{
    int64_t x = ((const tribe_contact *)a)->id, y = ((const tribe_contact *)b)->id;
    return (x > y) - (x < y);
}

static tribe_status flag(const char *path, int64_t line, const char *col, const char *v, int *out)
{
    if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0) {
        *out = 1;
        return TRIBE_OK;
    }
    if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || !*v) {
        *out = 0;
        return TRIBE_OK;
    }
    return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s '%s' is not 0/1", path, (long long)line, col, v);
}

static tribe_status dup_or_null(const char *v, char **out)
{
    *out = NULL;
    return *v ? tribe_strdup(v, out) : TRIBE_OK;
}

tribe_status tribe_contacts_read(const char *path, tribe_contacts **out)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    tribe_contacts *cs = NULL;
    static const char *const want[] = {"CustomerID", "Email", "Phone", "EmailOptIn", "SmsOptIn"};
    int col[5], has = 0;
    int64_t cap = 0;
    TRIBE_TRY(tribe_calloc((void **)&cs, 1, sizeof *cs));
    TRIBE_TRY(tribe_csv_open(path, NULL, &c));
    TRIBE_TRY(tribe_csv_require(c, want, 5, col));
    int cf = tribe_csv_column(c, "FirstName");
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        int64_t line = tribe_csv_line(c);
        if (tribe_csv_error(c)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s", path, (long long)line, tribe_csv_error(c));
            goto cleanup;
        }
        if (tribe_csv_nfields(c) < tribe_csv_ncolumns(c)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %d fields, the header has %d", path, (long long)line,
                            tribe_csv_nfields(c), tribe_csv_ncolumns(c));
            goto cleanup;
        }
        if (cs->n == cap) {
            cap = cap ? 2 * cap : 1024;
            TRIBE_TRY(tribe_realloc((void **)&cs->c, (size_t)cap * sizeof *cs->c));
        }
        tribe_contact *k = &cs->c[cs->n];
        memset(k, 0, sizeof *k);
        size_t idlen = 0;
        const char *idtext = tribe_csv_field(c, col[0], &idlen);
        char why[160];
        /* a number (the integer ids' form), else a string id */
        int is_text = tribe_id_parse(idtext, idlen, 0, &k->id, NULL, 0) != 1;
        if (is_text && tribe_id_parse(idtext, idlen, 1, &k->id, why, sizeof why) != 1) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s", path, (long long)line,
                            idlen ? why : "CustomerID is empty");
            goto cleanup;
        }
        cs->n++; /* counted now so cleanup frees what follows */
        if (is_text) {
            const char *s = idtext;
            while (*s == ' ' || *s == '\t')
                s++;
            size_t n = strlen(s);
            while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
            TRIBE_TRY(tribe_alloc((void **)&k->id_text, n + 1));
            memcpy(k->id_text, s, n);
            k->id_text[n] = '\0';
        }
        TRIBE_TRY(dup_or_null(tribe_csv_field(c, col[1], NULL), &k->email));
        TRIBE_TRY(dup_or_null(tribe_csv_field(c, col[2], NULL), &k->phone));
        if (cf >= 0)
            TRIBE_TRY(dup_or_null(tribe_csv_field(c, cf, NULL), &k->first_name));
        TRIBE_TRY(flag(path, line, "EmailOptIn", tribe_csv_field(c, col[3], NULL), &k->email_optin));
        TRIBE_TRY(flag(path, line, "SmsOptIn", tribe_csv_field(c, col[4], NULL), &k->sms_optin));
    }
    TRIBE_TRY(st);
    if (cs->n > 0)
        qsort(cs->c, (size_t)cs->n, sizeof *cs->c, cmp_contact);
    for (int64_t i = 1; i < cs->n; i++)
        if (cs->c[i].id == cs->c[i - 1].id) {
            char idb[TRIBE_ID_BUF];
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: CustomerID %s appears twice", path,
                            tribe_id_format(cs->c[i].id_text, cs->c[i].id, idb));
            goto cleanup;
        }
    *out = cs;
    cs = NULL;
cleanup:
    tribe_csv_close(&c);
    tribe_contacts_destroy(&cs);
    return st;
}

const tribe_contact *tribe_contacts_find(const tribe_contacts *cs, int64_t id)
{
    int64_t lo = 0, hi = cs ? cs->n : 0;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cs->c[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < (cs ? cs->n : 0) && cs->c[lo].id == id ? &cs->c[lo] : NULL;
}

void tribe_contacts_destroy(tribe_contacts **csp)
{
    if (!csp || !*csp)
        return;
    tribe_contacts *cs = *csp;
    for (int64_t i = 0; i < cs->n; i++) {
        free(cs->c[i].id_text);
        free(cs->c[i].email);
        free(cs->c[i].phone);
        free(cs->c[i].first_name);
    }
    free(cs->c);
    free(cs);
    *csp = NULL;
}
