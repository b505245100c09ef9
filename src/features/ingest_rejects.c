/* The rejects file, streamed: every rank appends its rejected rows, already
 * formatted as CSV, to part files of its own (one per stream, each stream in
 * ascending (source, line) order); rank 0 merges the parts by (source, line)
 * into one CSV `source,line,reason,raw`. Memory stays a few buffers per
 * stream whatever the number of rejected rows (docs/ingest.md). */
#include "ingest_internal.h"
#include "tribe/sbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Part record: int32 src, int64 line, uint32 len, then len bytes of the CSV
 * row with its '\n' (unaligned; read with memcpy). */
#define HDR (4 + 8 + 4)
#define PART_BUF ((size_t)1 << 16) /* stdio buffer of each part file */

static tribe_status part_name(const ing_rejects *r, int rank, int stream, char *buf, size_t cap)
{
    return tribe_fmt(buf, cap, "%s.%d.%d", r->base, rank, stream);
}

tribe_status ing_rejects_open(tribe_par *par, ing_rejects *r, const char *path, const char *const *src_names)
{
    tribe_status st = TRIBE_OK;
    int64_t pid = (int64_t)getpid();
    memset(r, 0, sizeof *r);
    r->src_names = src_names;
    r->rank = tribe_par_rank(par);
    if (!path || !*path)
        return TRIBE_OK; /* the same on every rank: no agreement needed */
    /* one name for the job's temporaries, whichever rank makes them */
    st = tribe_par_bcast(par, &pid, sizeof pid, 0);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&r->base, strlen(path) + 32);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&r->path, strlen(path) + 1);
    if (st == TRIBE_OK) {
        snprintf(r->base, strlen(path) + 32, "%s.tmp.%lld", path, (long long)pid);
        memcpy(r->path, path, strlen(path) + 1);
    }
    st = tribe_par_agree(par, st);
    if (st != TRIBE_OK)
        ing_rejects_free(r);
    return st;
}

/* Grows the row buffer to hold at least `need` bytes. */
static tribe_status row_room(ing_rejects *r, size_t need)
{
    tribe_status st = TRIBE_OK;
    if (need > r->row_cap) {
        size_t ncap = r->row_cap ? 2 * r->row_cap : 4096;
        while (ncap < need)
            ncap *= 2;
        TRIBE_TRY(tribe_realloc((void **)&r->row, ncap));
        r->row_cap = ncap;
    }
cleanup:
    return st;
}

static tribe_status row_add(ing_rejects *r, size_t *len, const char *s, size_t n)
{
    tribe_status st = row_room(r, *len + n);
    if (st == TRIBE_OK) {
        memcpy(r->row + *len, s, n);
        *len += n;
    }
    return st;
}

/* Appends one text cell (tribe_csv_cell: RFC 4180 quoting and the formula
 * rule; the raw record starts with the sender's first cell). */
static tribe_status row_field(ing_rejects *r, size_t *len, const char *s, size_t n)
{
    size_t need = tribe_csv_cell(NULL, 0, s, n);
    tribe_status st = row_room(r, *len + need);
    if (st == TRIBE_OK)
        *len += tribe_csv_cell(r->row + *len, r->row_cap - *len, s, n);
    return st;
}

/* One row of source `src` sorted at `line`; the line cell is the number when
 * `numbered`, else empty. */
static tribe_status add_row(ing_rejects *r, int src, int64_t line, int numbered, const char *reason,
                            const char *raw, size_t rawlen)
{
    static const char room[HDR] = {0};
    tribe_status st = TRIBE_OK;
    size_t len = 0;
    if (!r->base)
        return TRIBE_OK;
    const char *sn = r->src_names[src];
    char num[32] = ",,";
    int nl = numbered ? snprintf(num, sizeof num, ",%lld,", (long long)line) : 2;
    TRIBE_TRY(row_add(r, &len, room, HDR)); /* the record header, filled below */
    TRIBE_TRY(row_field(r, &len, sn, strlen(sn)));
    TRIBE_TRY(row_add(r, &len, num, (size_t)nl));
    TRIBE_TRY(row_field(r, &len, reason, strlen(reason)));
    TRIBE_TRY(row_add(r, &len, ",", 1));
    TRIBE_TRY(row_field(r, &len, raw, rawlen < ING_REJECT_RAW_MAX ? rawlen : ING_REJECT_RAW_MAX));
    TRIBE_TRY(row_add(r, &len, "\n", 1));
    int32_t s32 = src;
    uint32_t body = (uint32_t)(len - HDR);
    memcpy(r->row, &s32, 4);
    memcpy(r->row + 4, &line, 8);
    memcpy(r->row + 12, &body, 4);
    FILE **f = &r->part[r->stream];
    if (!*f) {
        char name[4200];
        TRIBE_TRY(part_name(r, r->rank, r->stream, name, sizeof name));
        *f = fopen(name, "wb");
        if (!*f)
            return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create a part of the rejects file", name);
        setvbuf(*f, NULL, _IOFBF, PART_BUF);
    }
    if (fwrite(r->row, 1, len, *f) != len)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s.%d.%d: cannot write a part of the rejects file", r->base,
                                r->rank, r->stream);
    r->n[r->stream]++;
cleanup:
    return st;
}

tribe_status ing_rejects_add(ing_rejects *r, int src, int64_t line, const char *reason, const char *raw,
                             size_t rawlen)
{
    return add_row(r, src, line, 1, reason, raw, rawlen);
}

tribe_status ing_rejects_add_unnumbered(ing_rejects *r, int src, int64_t order, const char *reason,
                                        const char *raw, size_t rawlen)
{
    return add_row(r, src, order, 0, reason, raw, rawlen);
}

/* Closes this rank's parts; keeps them on disk. Not collective. */
static tribe_status close_parts(ing_rejects *r)
{
    tribe_status st = TRIBE_OK;
    for (int s = 0; s < ING_REJ_STREAMS; s++) {
        if (r->part[s] && fclose(r->part[s]) != 0 && st == TRIBE_OK) {
            char name[4200];
            if (part_name(r, r->rank, s, name, sizeof name) == TRIBE_OK)
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write a part of the rejects file", name);
            else
                st = TRIBE_ERR_IO;
        }
        r->part[s] = NULL;
    }
    return st;
}

static void remove_parts(ing_rejects *r)
{
    char name[4200];
    for (int s = 0; s < ING_REJ_STREAMS; s++)
        if (part_name(r, r->rank, s, name, sizeof name) == TRIBE_OK)
            unlink(name); /* also an empty part left by a failed write; ENOENT when none */
}

void ing_rejects_free(ing_rejects *r)
{
    if (r->base) {
        close_parts(r);
        remove_parts(r);
    }
    free(r->base);
    free(r->path);
    free(r->row);
    memset(r, 0, sizeof *r);
}

/* ---- the merge on rank 0 ------------------------------------------------------ */

typedef struct {
    FILE *f;
    char name[4200];
    int64_t left;  /* records not yet read */
    int32_t src;   /* the head record */
    int64_t line;
    uint32_t len;
    char *buf;
    size_t cap;
} stream_in;

static int before(const stream_in *a, const stream_in *b)
{
    return a->src != b->src ? a->src < b->src : a->line < b->line;
}

/* Reads the next record of s into its head. *more = 0 when s is exhausted. */
static tribe_status next_rec(stream_in *s, int *more)
{
    tribe_status st = TRIBE_OK;
    unsigned char h[HDR];
    *more = s->left > 0;
    if (!*more)
        return TRIBE_OK;
    if (fread(h, 1, HDR, s->f) != HDR)
        return tribe_fail(TRIBE_ERR_IO, "%s: part of the rejects file cut short", s->name);
    memcpy(&s->src, h, 4);
    memcpy(&s->line, h + 4, 8);
    memcpy(&s->len, h + 12, 4);
    if (s->len > s->cap) {
        TRIBE_TRY(tribe_realloc((void **)&s->buf, s->len));
        s->cap = s->len;
    }
    if (fread(s->buf, 1, s->len, s->f) != s->len)
        return tribe_fail(TRIBE_ERR_IO, "%s: part of the rejects file cut short", s->name);
    s->left--;
cleanup:
    return st;
}

static void sift_down(stream_in **h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < n && before(h[l], h[m]))
            m = l;
        if (l + 1 < n && before(h[l + 1], h[m]))
            m = l + 1;
        if (m == i)
            return;
        stream_in *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Merges the parts (counts[2 * rank + stream] records each) into f through
 * a binary heap of stream heads. Not collective (rank 0). */
static tribe_status merge_parts(ing_rejects *r, const int64_t *counts, int size, FILE *f)
{
    tribe_status st = TRIBE_OK;
    int k = 0, n = 0, more = 0;
    stream_in *in = NULL, **heap = NULL;
    TRIBE_TRY(tribe_calloc((void **)&in, (size_t)size * ING_REJ_STREAMS, sizeof *in));
    TRIBE_TRY(tribe_calloc((void **)&heap, (size_t)size * ING_REJ_STREAMS, sizeof *heap));
    for (int q = 0; q < size * ING_REJ_STREAMS; q++) {
        if (counts[q] == 0)
            continue;
        stream_in *s = &in[k++];
        TRIBE_TRY(part_name(r, q / ING_REJ_STREAMS, q % ING_REJ_STREAMS, s->name, sizeof s->name));
        s->left = counts[q];
        s->f = fopen(s->name, "rb");
        if (!s->f) {
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot read a part of the rejects file (is the rejects "
                                                "directory shared by all ranks?)", s->name);
            goto cleanup;
        }
        setvbuf(s->f, NULL, _IOFBF, PART_BUF);
        TRIBE_TRY(next_rec(s, &more));
        heap[n++] = s;
    }
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(heap, n, i);
    while (n > 0) {
        stream_in *s = heap[0];
        if (fwrite(s->buf, 1, s->len, f) != s->len) {
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", r->base);
            goto cleanup;
        }
        TRIBE_TRY(next_rec(s, &more));
        if (!more)
            heap[0] = heap[--n];
        sift_down(heap, n, 0);
    }
cleanup:
    for (int i = 0; i < k; i++) {
        if (in[i].f)
            fclose(in[i].f);
        free(in[i].buf);
    }
    free(in);
    free(heap);
    return st;
}

/* Rank 0, appending: the merged rows at the end of the file, no header
 * (a file that does not exist yet gets one). */
static tribe_status append_file(ing_rejects *r, const int64_t *counts, int size)
{
    tribe_status st = TRIBE_OK;
    int fresh = access(r->path, F_OK) != 0;
    FILE *f = fopen(r->path, "a");
    if (!f)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot append to the rejects file", r->path);
    if (fresh && fputs("source,line,reason,raw\n", f) == EOF)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", r->path);
    if (st == TRIBE_OK)
        st = merge_parts(r, counts, size, f);
    if (fclose(f) != 0 && st == TRIBE_OK)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", r->path);
    return st;
}

/* Rank 0: the merged file under the temporary name, then renamed. */
static tribe_status write_file(ing_rejects *r, const int64_t *counts, int size)
{
    tribe_status st = TRIBE_OK;
    if (r->append)
        return append_file(r, counts, size);
    FILE *f = fopen(r->base, "w");
    if (!f)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create the rejects file", r->base);
    setvbuf(f, NULL, _IOFBF, (size_t)1 << 20);
    if (fputs("source,line,reason,raw\n", f) == EOF) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", r->base);
        goto cleanup;
    }
    TRIBE_TRY(merge_parts(r, counts, size, f));
    if (fclose(f) != 0) {
        f = NULL;
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot write the rejects file", r->base);
        goto cleanup;
    }
    f = NULL;
    if (rename(r->base, r->path) != 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot move the rejects file into place", r->path);
        goto cleanup;
    }
cleanup:
    if (f)
        fclose(f);
    if (st != TRIBE_OK)
        unlink(r->base);
    return st;
}

tribe_status ing_rejects_write(tribe_par *par, ing_rejects *r)
{
    tribe_status st = TRIBE_OK;
    int64_t *counts = NULL;
    size_t total = 0;
    if (!r->base)
        return TRIBE_OK;
    st = tribe_par_agree(par, close_parts(r));
    if (st == TRIBE_OK)
        st = tribe_par_gatherv(par, r->n, sizeof r->n, 0, (void **)&counts, &total, NULL, NULL);
    if (st == TRIBE_OK && r->rank == 0)
        st = write_file(r, counts, tribe_par_size(par));
    st = tribe_par_agree(par, st);
    remove_parts(r);
    r->n[0] = r->n[1] = 0;
    free(counts);
    return st;
}
