/* The currency of the transactions' amounts: one per source, from the
 * mapping or the cells, and a refusal naming rows when they disagree
 * (ingest_internal.h, docs/mapping.md). */
#include "ingest_internal.h"
#include "tribe/currency.h"
#include "tribe/mapping.h"

#include <stdlib.h>
#include <string.h>

static int before(int32_t s1, int64_t l1, int32_t s2, int64_t l2) { return s1 < s2 || (s1 == s2 && l1 < l2); }

void ing_currency_note(ing_currency *c, const char *code, const char *sym, int src, int64_t line)
{
    if (c->n > 0 && strcmp(c->seen[0].code, code) == 0) { /* the usual case: the same as the last row */
        if (before(src, line, c->seen[0].src, c->seen[0].line)) {
            c->seen[0].src = src;
            c->seen[0].line = line;
        }
        return;
    }
    if (sym[0] && !c->sym[0])
        memcpy(c->sym, sym, strlen(sym) + 1);
    int k = 0;
    while (k < c->n && strcmp(c->seen[k].code, code) != 0)
        k++;
    if (k == c->n) {
        if (c->n == ING_CUR_MAX)
            return;
        memcpy(c->seen[k].code, code, 4);
        c->seen[k].src = src;
        c->seen[k].line = line;
        c->n++;
    } else if (before(src, line, c->seen[k].src, c->seen[k].line)) {
        c->seen[k].src = src;
        c->seen[k].line = line;
    }
    ing_cur_seen t = c->seen[k]; /* the last code first: the next row likely has it */
    c->seen[k] = c->seen[0];
    c->seen[0] = t;
}

/* "file:line" or the mapping's key, into buf. */
static void where(const ing_cur_seen *e, const char *const *names, char *buf, size_t cap)
{
    if (e->src < 0)
        snprintf(buf, cap, "the mapping's transactions.currency");
    else
        snprintf(buf, cap, "%s:%lld", names[e->src], (long long)e->line);
}

tribe_status ing_currency_agree(tribe_par *par, const ing_currency *c, const char *const *names, const char *fixed,
                                char code[4], char sym[8])
{
    tribe_status st = TRIBE_OK;
    ing_cur_seen mine[ING_CUR_MAX + 1];
    ing_cur_seen *all = NULL;
    size_t total = 0;
    char symbols[8];
    memset(mine, 0, sizeof mine);
    memcpy(mine, c->seen, (size_t)c->n * sizeof *mine);
    memcpy(mine[ING_CUR_MAX].code, c->sym, 4); /* the symbol (<= 3 bytes) travels in the spare slot */
    TRIBE_TRY(tribe_par_allgatherv(par, mine, sizeof mine, (void **)&all, &total, NULL, NULL));
    int nall = (int)(total / sizeof *all);
    ing_cur_seen first = {{0}, INT32_MAX, INT64_MAX}, other = {{0}, INT32_MAX, INT64_MAX};
    if (fixed[0]) {
        memcpy(first.code, fixed, 4);
        first.src = -1;
        first.line = 0;
    }
    for (int i = 0; i < nall; i++)
        if ((i + 1) % (ING_CUR_MAX + 1) != 0 && all[i].code[0] &&
            before(all[i].src, all[i].line, first.src, first.line))
            first = all[i];
    for (int i = 0; i < nall; i++)
        if ((i + 1) % (ING_CUR_MAX + 1) != 0 && all[i].code[0] && strcmp(all[i].code, first.code) != 0 &&
            before(all[i].src, all[i].line, other.src, other.line))
            other = all[i];
    symbols[0] = '\0';
    for (int r = 0; r < nall / (ING_CUR_MAX + 1) && !symbols[0]; r++) {
        const ing_cur_seen *sp = &all[r * (ING_CUR_MAX + 1) + ING_CUR_MAX];
        memcpy(symbols, sp->code, 4);
        symbols[3] = '\0';
    }
    if (other.code[0]) {
        char a[4200], b[4200];
        where(&first, names, a, sizeof a);
        where(&other, names, b, sizeof b);
        st = tribe_fail(TRIBE_ERR_INPUT,
                        "amounts in two currencies and no exchange rate: %s is in %s, %s is in %s (one currency per "
                        "source; see docs/mapping.md)",
                        a, first.code, b, other.code);
        goto cleanup;
    }
    /* nothing says: ISO 4217's "no currency", printed without a symbol */
    memcpy(code, first.code[0] ? first.code : "XXX", 4);
    if (!first.code[0])
        sym[0] = '\0';
    else if (symbols[0] && tribe_money_symbol_fits(symbols, code))
        snprintf(sym, 8, "%s", symbols);
    else {
        tribe_currency cur;
        if (tribe_currency_from_code(code, &cur) == TRIBE_OK) /* three capitals: cannot fail */
            snprintf(sym, 8, "%s", cur.symbol);
    }
cleanup:
    free(all);
    return st;
}
