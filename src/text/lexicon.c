/* The sentiment lexicon: token -> valence, sorted for binary search
 * (tribe/text.h; the data and its licence: data/lexicon/README.md). */
#include "tribe/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* tools/embed_text.cmake: data/lexicon/vader_lexicon.txt, compiled in. */
extern const char tribe_text_vader[];
extern const size_t tribe_text_vader_len;

typedef struct {
    const char *tok; /* into text */
    double v;
    int64_t line;
} lex_ent;

struct tribe_lexicon {
    char *text; /* a copy of the file, tokens NUL-terminated in place */
    lex_ent *e;
    int64_t n;
};

static int cmp_ent(const void *a, const void *b)
{
    const lex_ent *x = a, *y = b;
    int c = strcmp(x->tok, y->tok);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* One "token<TAB>valence[<TAB>...]" line, cut in place. 0: malformed. */
static int parse_line(char *s, lex_ent *e)
{
    char *tab = strchr(s, '\t'), *end = NULL;
    if (!tab || tab == s)
        return 0;
    *tab = '\0';
    e->tok = s;
    e->v = strtod(tab + 1, &end);
    return end != tab + 1 && (*end == '\0' || *end == '\t' || *end == '\r') && isfinite(e->v);
}

tribe_status tribe_lexicon_parse(const char *text, size_t n, tribe_lexicon **out)
{
    tribe_status st = TRIBE_OK;
    tribe_lexicon *lx = NULL;
    int64_t lines = 1, line = 0;
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    TRIBE_TRY(tribe_calloc((void **)&lx, 1, sizeof *lx));
    TRIBE_TRY(tribe_alloc((void **)&lx->text, n + 1));
    TRIBE_TRY(tribe_calloc((void **)&lx->e, (size_t)lines, sizeof *lx->e));
    memcpy(lx->text, text, n);
    lx->text[n] = '\0';
    for (char *s = lx->text; s < lx->text + n; line++) {
        char *nl = memchr(s, '\n', (size_t)(lx->text + n - s));
        if (nl)
            *nl = '\0';
        if (*s && *s != '\r') {
            lex_ent *e = &lx->e[lx->n];
            e->line = line;
            if (!parse_line(s, e))
                TRIBE_TRY(tribe_fail(TRIBE_ERR_INPUT, "lexicon line %lld: expected token<TAB>valence",
                                     (long long)line + 1));
            lx->n++;
        }
        s = nl ? nl + 1 : lx->text + n;
    }
    qsort(lx->e, (size_t)lx->n, sizeof *lx->e, cmp_ent);
    {
        /* keep the last line of each token: sorted by (token, line) */
        int64_t m = 0;
        for (int64_t i = 0; i < lx->n; i++) {
            if (m > 0 && strcmp(lx->e[m - 1].tok, lx->e[i].tok) == 0)
                m--;
            lx->e[m++] = lx->e[i];
        }
        lx->n = m;
    }
    *out = lx;
    lx = NULL;
cleanup:
    tribe_lexicon_destroy(&lx);
    return st;
}

tribe_status tribe_lexicon_builtin(tribe_lexicon **out)
{
    return tribe_lexicon_parse(tribe_text_vader, tribe_text_vader_len, out);
}

int64_t tribe_lexicon_size(const tribe_lexicon *lx) { return lx ? lx->n : 0; }

int tribe_lexicon_find(const tribe_lexicon *lx, const char *tok, size_t len, double *v)
{
    int64_t lo = 0, hi = lx->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const char *t = lx->e[mid].tok;
        int c = strncmp(t, tok, len);
        if (c == 0 && t[len] != '\0')
            c = 1; /* t is longer: after tok */
        if (c == 0) {
            *v = lx->e[mid].v;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void tribe_lexicon_destroy(tribe_lexicon **lx)
{
    if (!lx || !*lx)
        return;
    free((*lx)->text);
    free((*lx)->e);
    free(*lx);
    *lx = NULL;
}
