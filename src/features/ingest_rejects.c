/* The rejects file: every rank buffers its rejected rows; rank 0 gathers,
 * sorts by (source, line) and writes one CSV `source,line,reason,raw`. */
#include "ingest_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Entry layout: int32 src, int64 line, uint32 reason_len, uint32 raw_len,
 * reason bytes, raw bytes (unaligned; read with memcpy). */
#define HDR (4 + 8 + 4 + 4)

tribe_status ing_rejects_add(ing_rejects *r, int src, int64_t line, const char *reason, const char *raw,
                             size_t rawlen)
{
    tribe_status st = TRIBE_OK;
    uint32_t rl = (uint32_t)strlen(reason);
    uint32_t wl = (uint32_t)(rawlen < ING_REJECT_RAW_MAX ? rawlen : ING_REJECT_RAW_MAX);
    int32_t s32 = src;
    size_t need = HDR + rl + wl;
    if (r->len + need > r->cap) {
        size_t ncap = r->cap ? 2 * r->cap : 65536;
        while (ncap < r->len + need)
            ncap *= 2;
        TRIBE_TRY(tribe_realloc((void **)&r->data, ncap));
        r->cap = ncap;
    }
    char *p = r->data + r->len;
    memcpy(p, &s32, 4);
    memcpy(p + 4, &line, 8);
    memcpy(p + 12, &rl, 4);
    memcpy(p + 16, &wl, 4);
    memcpy(p + HDR, reason, rl);
    memcpy(p + HDR + rl, raw, wl);
    r->len += need;
    r->n++;
cleanup:
    return st;
}

void ing_rejects_free(ing_rejects *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

typedef struct {
    int32_t src;
    int64_t line;
    const char *reason, *raw;
    uint32_t rl, wl;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->src != y->src)
        return (x->src > y->src) - (x->src < y->src);
    return (x->line > y->line) - (x->line < y->line);
}

/* Writes one CSV field, quoted when it holds a comma, quote, CR or LF. Text
 * goes out in runs between quotes (not byte by byte): the raw rows of a big
 * file's rejects are tens of megabytes, nearly all of them quoted. */
static int put_field(FILE *f, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return fwrite(s, 1, n, f) == n ? 0 : -1;
    if (fputc('"', f) == EOF)
        return -1;
    const char *end = s + n;
    while (s < end) {
        const char *q = memchr(s, '"', (size_t)(end - s));
        size_t run = q ? (size_t)(q - s) + 1 : (size_t)(end - s); /* through the quote */
        if (fwrite(s, 1, run, f) != run)
            return -1;
        if (q && fputc('"', f) == EOF) /* doubled */
            return -1;
        s += run;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

static tribe_status write_file(const char *path, entry *e, size_t n, const char *const *src_names)
{
    tribe_status st = TRIBE_OK;
    char tmp[4096];
    FILE *f = NULL;
    TRIBE_TRY(tribe_fmt(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()));
    f = fopen(tmp, "w");
    if (!f)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create the rejects file", tmp);
    setvbuf(f, NULL, _IOFBF, (size_t)1 << 20);
    int bad = fputs("source,line,reason,raw\n", f) == EOF;
    for (size_t i = 0; i < n && !bad; i++) {
        const char *sn = src_names[e[i].src];
        bad |= put_field(f, sn, strlen(sn)) != 0;
        bad |= fprintf(f, ",%lld,", (long long)e[i].line) < 0;
        bad |= put_field(f, e[i].reason, e[i].rl) != 0;
        bad |= fputc(',', f) == EOF;
        bad |= put_field(f, e[i].raw, e[i].wl) != 0;
        bad |= fputc('\n', f) == EOF;
    }
    if (bad) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", tmp);
        goto cleanup;
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", tmp);
        goto cleanup;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the rejects file into place", path);
        goto cleanup;
    }
cleanup:
    if (f)
        fclose(f);
    if (st != TRIBE_OK)
        unlink(tmp);
    return st;
}

tribe_status ing_rejects_write(tribe_par *par, const ing_rejects *r, const char *const *src_names,
                               const char *path)
{
    tribe_status st = TRIBE_OK;
    char *all = NULL;
    entry *e = NULL;
    size_t total = 0;
    TRIBE_TRY(tribe_par_gatherv(par, r->data ? r->data : "", r->len, 0, (void **)&all, &total, NULL, NULL));
    if (tribe_par_rank(par) == 0) {
        size_t n = 0, cap = 1024;
        st = tribe_alloc((void **)&e, cap * sizeof *e);
        for (size_t off = 0; st == TRIBE_OK && off < total; n++) {
            if (n == cap) {
                cap *= 2;
                st = tribe_realloc((void **)&e, cap * sizeof *e);
                if (st != TRIBE_OK)
                    break;
            }
            entry *x = &e[n];
            memcpy(&x->src, all + off, 4);
            memcpy(&x->line, all + off + 4, 8);
            memcpy(&x->rl, all + off + 12, 4);
            memcpy(&x->wl, all + off + 16, 4);
            x->reason = all + off + HDR;
            x->raw = x->reason + x->rl;
            off += HDR + x->rl + x->wl;
        }
        if (st == TRIBE_OK) {
            qsort(e, n, sizeof *e, cmp_entry);
            st = write_file(path, e, n, src_names);
        }
    }
    st = tribe_par_agree(par, st);
cleanup:
    free(all);
    free(e);
    return st;
}
