/* String customer ids in ingest (tribe/id.h, docs/ingest.md): each rank
 * notes the text of every key it parses, the texts travel to the owners of
 * their keys, and the owners fill the table's id_text. Two different texts
 * with one key (a hash collision) are refused where they meet: on the rank
 * that reads both, or on the owner. */
#include "ingest_internal.h"
#include "tribe/id.h"

#include <stdlib.h>
#include <string.h>

tribe_status ing_ids_init(ing_ids *m)
{
    memset(m, 0, sizeof *m);
    m->last_off = -1;
    return ing_map_init(&m->idx, 1024);
}

void ing_ids_free(ing_ids *m)
{
    ing_map_free(&m->idx);
    free(m->text);
    memset(m, 0, sizeof *m);
    m->last_off = -1;
}

void ing_id_why_rename(char *why, size_t cap, const char *name)
{
    static const char fixed[] = "CustomerID "; /* tribe_id_parse's word for the id */
    if (!name || strcmp(name, "CustomerID") == 0 || cap == 0 || strncmp(why, fixed, sizeof fixed - 1) != 0)
        return;
    char buf[256]; /* the message, its "CustomerID" the column's name */
    snprintf(buf, sizeof buf, "%.40s%s", name, why + sizeof fixed - 2);
    size_t k = strnlen(buf, cap - 1);
    memcpy(why, buf, k);
    why[k] = '\0';
}

/* The collision error, naming the two texts in strcmp order (the same
 * message whichever arrives first, so whatever the rank count). */
static tribe_status collision(const char *a, const char *b, size_t nb, int64_t key, const char *file, int64_t line)
{
    char bb[TRIBE_ID_BUF];
    snprintf(bb, sizeof bb, "%.*s", (int)nb, b);
    int swap = strcmp(a, bb) > 0;
    char where[4200] = "ingest";
    if (file)
        snprintf(where, sizeof where, "%s:%lld", file, (long long)line);
    return tribe_fail(TRIBE_ERR_INPUT,
                      "%s: customer ids '%s' and '%s' have the same key %lld (a hash collision of string ids): "
                      "rename one of them (docs/ingest.md, string ids)",
                      where, swap ? bb : a, swap ? a : bb, (long long)key);
}

tribe_status ing_ids_note(ing_ids *m, int64_t key, const char *s, size_t n, const char *file, int64_t line)
{
    tribe_status st = TRIBE_OK;
    /* rows of one customer usually come together */
    if (m->last_off >= 0 && key == m->last_key) {
        const char *t = m->text + m->last_off;
        if (strlen(t) == n && memcmp(t, s, n) == 0)
            return TRIBE_OK;
    }
    int64_t *v = NULL;
    int is_new = 0;
    TRIBE_TRY(ing_map_upsert(&m->idx, (uint64_t)key, 0, &v, &is_new));
    if (is_new) {
        if (m->len + n + 1 > m->cap) {
            size_t ncap = m->cap ? 2 * m->cap : 4096;
            while (ncap < m->len + n + 1)
                ncap *= 2;
            st = tribe_realloc((void **)&m->text, ncap);
            if (st != TRIBE_OK) {
                *v = -1; /* poisoned; the ingest fails anyway */
                goto cleanup;
            }
            m->cap = ncap;
        }
        memcpy(m->text + m->len, s, n);
        m->text[m->len + n] = '\0';
        *v = (int64_t)m->len;
        m->len += n + 1;
    } else {
        const char *t = m->text + *v;
        if (strlen(t) != n || memcmp(t, s, n) != 0)
            TRIBE_TRY(collision(t, s, n, key, file, line));
    }
    m->last_key = key;
    m->last_off = *v;
cleanup:
    return st;
}

const char *ing_ids_text(const ing_ids *m, int64_t key)
{
    const int64_t *v = ing_map_find(&m->idx, (uint64_t)key, 0);
    return v ? m->text + *v : NULL;
}

/* A shuffle record: the key, then the text (NUL-padded). */
typedef struct {
    int64_t id;
    char text[TRIBE_ID_MAX + 8];
} id_rec;

tribe_status ing_ids_shuffle(tribe_par *par, ing_ids *m, const int64_t *spl)
{
    tribe_status st = TRIBE_OK;
    id_rec *r = NULL;
    void *got = NULL;
    int64_t n = 0, ngot = 0;
    ing_ids own;
    memset(&own, 0, sizeof own);
    st = tribe_calloc((void **)&r, m->idx.n > 0 ? m->idx.n : 1, sizeof *r);
    if (st == TRIBE_OK)
        st = ing_ids_init(&own);
    TRIBE_TRY(tribe_par_agree(par, st));
    for (size_t i = 0; i < m->idx.cap; i++)
        if (m->idx.t[i].a != ING_EMPTY) {
            r[n].id = (int64_t)m->idx.t[i].a;
            snprintf(r[n].text, sizeof r[n].text, "%s", m->text + m->idx.t[i].v);
            n++;
        }
    TRIBE_TRY(ing_shuffle(par, spl, r, n, sizeof *r, &got, &ngot));
    const id_rec *g = got;
    for (int64_t i = 0; i < ngot && st == TRIBE_OK; i++)
        st = ing_ids_note(&own, g[i].id, g[i].text, strnlen(g[i].text, TRIBE_ID_MAX), NULL, 0);
    TRIBE_TRY(tribe_par_agree(par, st));
    ing_ids_free(m);
    *m = own;
    memset(&own, 0, sizeof own);
cleanup:
    ing_ids_free(&own);
    free(r);
    free(got);
    return st;
}

tribe_status ing_ids_fill(tribe_par *par, const ing_ids *m, tribe_table *t)
{
    tribe_status st = TRIBE_OK;
    int64_t width = 1;
    for (int64_t i = 0; i < t->n_local && st == TRIBE_OK; i++) {
        const char *s = ing_ids_text(m, t->id[i]);
        if (!s)
            st = tribe_fail(TRIBE_ERR_INTERNAL, "ingest: customer %lld has no id text on its owner",
                            (long long)t->id[i]);
        else if ((int64_t)strlen(s) + 1 > width)
            width = (int64_t)strlen(s) + 1;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_max_i64(par, &width, 1));
    st = tribe_calloc((void **)&t->id_text, (size_t)(t->n_local > 0 ? t->n_local : 1), (size_t)width);
    TRIBE_TRY(tribe_par_agree(par, st));
    t->id_width = (int)width;
    for (int64_t i = 0; i < t->n_local; i++)
        memcpy(t->id_text + (size_t)i * (size_t)width, ing_ids_text(m, t->id[i]),
               strlen(ing_ids_text(m, t->id[i])));
cleanup:
    return st;
}
