/* Open-addressing hash map (u64, u64) -> i64 and string interning.
 *
 * Linear probing over one flat array of entries, load factor at most 1/2:
 * one allocation per growth, none per entry, and the probe sequence stays in
 * a cache line or two. Entries are never deleted (ingest only adds). */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The seed makes tables that are filled from one another's slot order hash
 * differently: inserting keys in the slot order of a table with the same
 * hash function piles them into long runs once the target's capacity
 * differs (linear probing then degrades to quadratic time). */
static inline size_t slot_of(uint64_t a, uint64_t b, uint64_t seed, size_t mask)
{
    return (size_t)(mix64(a ^ mix64(b + seed)) & mask);
}

static tribe_status alloc_table(ing_ent **t, size_t cap)
{
    tribe_status st = tribe_alloc((void **)t, cap * sizeof **t);
    if (st != TRIBE_OK)
        return st;
    for (size_t i = 0; i < cap; i++)
        (*t)[i].a = ING_EMPTY;
    return TRIBE_OK;
}

tribe_status ing_map_init(ing_map *m, size_t expect) { return ing_map_init_seed(m, expect, ING_SEED); }

tribe_status ing_map_init_seed(ing_map *m, size_t expect, uint64_t seed)
{
    size_t cap = 64;
    while (cap < 2 * expect)
        cap *= 2;
    m->n = 0;
    m->cap = 0;
    m->t = NULL;
    m->seed = seed;
    tribe_status st = alloc_table(&m->t, cap);
    if (st == TRIBE_OK)
        m->cap = cap;
    return st;
}

void ing_map_free(ing_map *m)
{
    free(m->t);
    m->t = NULL;
    m->cap = m->n = 0;
}

static tribe_status grow(ing_map *m)
{
    ing_ent *nt = NULL;
    size_t ncap = m->cap * 2, mask = ncap - 1;
    tribe_status st = alloc_table(&nt, ncap);
    if (st != TRIBE_OK)
        return st;
    for (size_t i = 0; i < m->cap; i++) {
        ing_ent e = m->t[i];
        if (e.a == ING_EMPTY)
            continue;
        size_t s = slot_of(e.a, e.b, m->seed, mask);
        while (nt[s].a != ING_EMPTY)
            s = (s + 1) & mask;
        nt[s] = e;
    }
    free(m->t);
    m->t = nt;
    m->cap = ncap;
    return TRIBE_OK;
}

tribe_status ing_map_upsert(ing_map *m, uint64_t a, uint64_t b, int64_t **val, int *is_new)
{
    size_t mask = m->cap - 1;
    size_t s = slot_of(a, b, m->seed, mask);
    for (;;) {
        ing_ent *e = &m->t[s];
        if (e->a == a && e->b == b) {
            *val = &e->v;
            *is_new = 0;
            return TRIBE_OK;
        }
        if (e->a == ING_EMPTY)
            break;
        s = (s + 1) & mask;
    }
    if (2 * (m->n + 1) > m->cap) {
        tribe_status st = grow(m);
        if (st != TRIBE_OK)
            return st;
        mask = m->cap - 1;
        s = slot_of(a, b, m->seed, mask);
        while (m->t[s].a != ING_EMPTY)
            s = (s + 1) & mask;
    }
    m->t[s].a = a;
    m->t[s].b = b;
    m->t[s].v = 0;
    m->n++;
    *val = &m->t[s].v;
    *is_new = 1;
    return TRIBE_OK;
}

tribe_status ing_map_add_many(ing_map *m, const ing_pair *p, const int64_t *v, size_t n, unsigned char *is_new)
{
    size_t slot[ING_SET_BATCH];
    while (n > 0) {
        size_t cnt = n < ING_SET_BATCH ? n : ING_SET_BATCH;
        while (2 * (m->n + cnt) > m->cap) { /* the batch fits without a grow */
            tribe_status st = grow(m);
            if (st != TRIBE_OK)
                return st;
        }
        size_t mask = m->cap - 1;
        for (size_t k = 0; k < cnt; k++) {
            slot[k] = slot_of(p[k].a, p[k].b, m->seed, mask);
            __builtin_prefetch(&m->t[slot[k]], 1);
        }
        for (size_t k = 0; k < cnt; k++) {
            size_t s = slot[k];
            ing_ent *e = &m->t[s];
            while (e->a != ING_EMPTY && (e->a != p[k].a || e->b != p[k].b)) {
                s = (s + 1) & mask;
                e = &m->t[s];
            }
            int fresh = e->a == ING_EMPTY;
            if (fresh) {
                e->a = p[k].a;
                e->b = p[k].b;
                e->v = 0;
                m->n++;
            }
            e->v += v[k];
            if (is_new)
                is_new[k] = (unsigned char)fresh;
        }
        p += cnt;
        v += cnt;
        is_new = is_new ? is_new + cnt : NULL;
        n -= cnt;
    }
    return TRIBE_OK;
}

int64_t *ing_map_find(const ing_map *m, uint64_t a, uint64_t b)
{
    size_t mask = m->cap - 1;
    size_t s = slot_of(a, b, m->seed, mask);
    for (;;) {
        ing_ent *e = &m->t[s];
        if (e->a == a && e->b == b)
            return &e->v;
        if (e->a == ING_EMPTY)
            return NULL;
        s = (s + 1) & mask;
    }
}

/* ---- pair sets -------------------------------------------------------------- */

/* Grow when more than 7/10 full: linear probing stays short (about 2 probes
 * for a hit, 6 for a miss) while the table is a third smaller than at 1/2. */
static int set_full(size_t n, size_t cap) { return 10 * n > 7 * cap; }

static tribe_status alloc_pairs(ing_pair **t, size_t cap)
{
    tribe_status st = tribe_alloc((void **)t, cap * sizeof **t);
    if (st != TRIBE_OK)
        return st;
    for (size_t i = 0; i < cap; i++)
        (*t)[i].a = ING_EMPTY;
    return TRIBE_OK;
}

tribe_status ing_set_init(ing_set *s, size_t expect) { return ing_set_init_seed(s, expect, ING_SEED); }

tribe_status ing_set_init_seed(ing_set *s, size_t expect, uint64_t seed)
{
    size_t cap = 64;
    while (set_full(expect, cap))
        cap *= 2;
    s->n = 0;
    s->cap = 0;
    s->t = NULL;
    s->seed = seed;
    tribe_status st = alloc_pairs(&s->t, cap);
    if (st == TRIBE_OK)
        s->cap = cap;
    return st;
}

void ing_set_free(ing_set *s)
{
    free(s->t);
    s->t = NULL;
    s->cap = s->n = 0;
}

/* Doubles the capacity. Errors: NOMEM (the set is unchanged). */
static tribe_status set_grow(ing_set *s)
{
    ing_pair *nt = NULL;
    size_t ncap = s->cap * 2, nmask = ncap - 1;
    tribe_status st = alloc_pairs(&nt, ncap);
    if (st != TRIBE_OK)
        return st;
    for (size_t k = 0; k < s->cap; k++) {
        ing_pair e = s->t[k];
        if (e.a == ING_EMPTY)
            continue;
        size_t j = slot_of(e.a, e.b, s->seed, nmask);
        while (nt[j].a != ING_EMPTY)
            j = (j + 1) & nmask;
        nt[j] = e;
    }
    free(s->t);
    s->t = nt;
    s->cap = ncap;
    return TRIBE_OK;
}

/* Inserts (a, b) from its home slot i, knowing the set has room. */
static int set_put(ing_set *s, size_t i, uint64_t a, uint64_t b)
{
    size_t mask = s->cap - 1;
    for (;;) {
        if (s->t[i].a == a && s->t[i].b == b)
            return 0;
        if (s->t[i].a == ING_EMPTY)
            break;
        i = (i + 1) & mask;
    }
    s->t[i].a = a;
    s->t[i].b = b;
    s->n++;
    return 1;
}

tribe_status ing_set_add(ing_set *s, uint64_t a, uint64_t b, int *is_new)
{
    size_t mask = s->cap - 1;
    size_t i = slot_of(a, b, s->seed, mask);
    *is_new = 0;
    for (;;) {
        if (s->t[i].a == a && s->t[i].b == b)
            return TRIBE_OK;
        if (s->t[i].a == ING_EMPTY)
            break;
        i = (i + 1) & mask;
    }
    if (set_full(s->n + 1, s->cap)) {
        tribe_status st = set_grow(s);
        if (st != TRIBE_OK)
            return st;
        i = slot_of(a, b, s->seed, s->cap - 1);
    }
    *is_new = set_put(s, i, a, b);
    return TRIBE_OK;
}

tribe_status ing_set_add_many(ing_set *s, const ing_pair *p, size_t n, unsigned char *is_new)
{
    size_t slot[ING_SET_BATCH];
    while (n > 0) {
        size_t m = n < ING_SET_BATCH ? n : ING_SET_BATCH;
        while (set_full(s->n + m, s->cap)) {
            tribe_status st = set_grow(s);
            if (st != TRIBE_OK)
                return st;
        }
        /* A big set misses the cache on nearly every insertion: ask for all
         * the home slots of the batch first, so the misses overlap. */
        size_t mask = s->cap - 1;
        for (size_t k = 0; k < m; k++) {
            slot[k] = slot_of(p[k].a, p[k].b, s->seed, mask);
            __builtin_prefetch(&s->t[slot[k]], 1);
        }
        for (size_t k = 0; k < m; k++)
            is_new[k] = (unsigned char)set_put(s, slot[k], p[k].a, p[k].b);
        p += m;
        is_new += m;
        n -= m;
    }
    return TRIBE_OK;
}

/* ---- string interning ----------------------------------------------------- */

tribe_status ing_dict_init(ing_dict *d)
{
    memset(d, 0, sizeof *d);
    return ing_map_init(&d->idx, 16);
}

void ing_dict_free(ing_dict *d)
{
    free(d->text);
    free(d->off);
    ing_map_free(&d->idx);
    memset(d, 0, sizeof *d);
}

/* Strings are found by (hash, k) for k = 0, 1, ...: two texts with the same
 * 64-bit hash get different k, so a collision costs a probe, never a wrong id. */
tribe_status ing_dict_id(ing_dict *d, const char *s, size_t n, int64_t *id)
{
    tribe_status st = TRIBE_OK;
    const char *nul = memchr(s, '\0', n);
    if (nul)
        n = (size_t)(nul - s);
    uint64_t h = tribe_fnv1a(TRIBE_FNV_INIT, s, n);
    if (h == ING_EMPTY)
        h = 0;
    for (uint64_t k = 0;; k++) {
        int64_t *v = ing_map_find(&d->idx, h, k);
        if (!v)
            break;
        const char *t = d->text + d->off[*v];
        if (strlen(t) == n && memcmp(t, s, n) == 0) {
            *id = *v;
            return TRIBE_OK;
        }
    }
    if (d->n == d->ncap) {
        int64_t ncap = d->ncap ? 2 * d->ncap : 16;
        TRIBE_TRY(tribe_realloc((void **)&d->off, (size_t)ncap * sizeof *d->off));
        d->ncap = ncap;
    }
    if (d->tlen + n + 1 > d->tcap) {
        size_t ncap = d->tcap ? 2 * d->tcap : 256;
        while (ncap < d->tlen + n + 1)
            ncap *= 2;
        TRIBE_TRY(tribe_realloc((void **)&d->text, ncap));
        d->tcap = ncap;
    }
    {
        uint64_t k = 0;
        while (ing_map_find(&d->idx, h, k))
            k++;
        int64_t *v = NULL;
        int is_new = 0;
        TRIBE_TRY(ing_map_upsert(&d->idx, h, k, &v, &is_new));
        *v = d->n;
    }
    memcpy(d->text + d->tlen, s, n);
    d->text[d->tlen + n] = '\0';
    d->off[d->n] = (int64_t)d->tlen;
    d->tlen += n + 1;
    *id = d->n++;
cleanup:
    return st;
}
