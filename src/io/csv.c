/* Streaming RFC 4180 reader (tribe/csv.h).
 *
 * The reader keeps one buffer holding at least the current record. Record
 * boundaries are found with memchr for '\n' and a count of '"' bytes in
 * between: a '\n' ends the record when the quotes seen since the record began
 * are even. Fields are then split and unquoted into a second buffer. Nothing
 * is allocated per record once the buffers have grown to the longest record.
 */
#include "tribe/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define READ_CHUNK ((size_t)256 << 10)
/* Raw text kept for a record longer than max_record (for the rejects file). */
#define OVERLONG_KEEP ((size_t)4096)

struct tribe_csv {
    char *path;
    int fd;
    gzFile gz;
    int is_gz;

    char *buf;
    size_t cap, pos, len;  /* unread data is buf[pos, len) */
    int eof;
    int64_t buf_off;       /* stream offset of buf[0] */

    int64_t end;           /* records must start before this offset */
    int64_t block;         /* stride mode */
    int part, nparts;
    int64_t recno;         /* index of the next data record */
    size_t max_record;
    int64_t next_line;     /* line of the byte at buf[pos] */
    int done;

    /* current record */
    int64_t line;
    const char *raw;
    size_t raw_len;
    const char *err;
    char *keep;            /* prefix of an over-long record */
    size_t keep_len;
    char *fbuf;            /* fields, each NUL-terminated */
    size_t fcap;
    size_t *foff, *flen;
    int nf, nfcap;

    int ncol;
    char **cols;
};

/* ---- low-level reading ---------------------------------------------------- */

static tribe_status read_more(tribe_csv *c, size_t *got)
{
    size_t want = c->cap - c->len;
    *got = 0;
    if (want == 0 || c->eof)
        return TRIBE_OK;
    if (c->is_gz) {
        int n = gzread(c->gz, c->buf + c->len, (unsigned)(want > INT_MAX ? INT_MAX : want));
        if (n < 0) {
            int zerr = 0;
            const char *msg = gzerror(c->gz, &zerr);
            return tribe_fail(TRIBE_ERR_INPUT, "%s: damaged gzip file, cannot decompress: %s", c->path,
                              msg ? msg : "zlib error");
        }
        *got = (size_t)n;
        if (n == 0) {
            /* zlib reports a stream cut short (no end-of-stream marker and
             * checksum) only through gzerror: without this check a truncated
             * file reads as a shorter, valid one */
            int zerr = 0;
            const char *msg = gzerror(c->gz, &zerr);
            if (zerr != Z_OK)
                return tribe_fail(TRIBE_ERR_INPUT, "%s: truncated or damaged gzip file (%s) after %lld bytes of data",
                                  c->path, msg && *msg ? msg : "unexpected end of file",
                                  (long long)(c->buf_off + (int64_t)c->len));
        }
    } else {
        ssize_t n;
        do
            n = read(c->fd, c->buf + c->len, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return tribe_fail_errno(TRIBE_ERR_IO, "%s: read error", c->path);
        *got = (size_t)n;
    }
    if (*got == 0)
        c->eof = 1;
    c->len += *got;
    return TRIBE_OK;
}

/* Moves the unread data to the front and reads more, growing the buffer when
 * the unread part already fills it. *got = 0 means end of stream. */
static tribe_status refill(tribe_csv *c, size_t *got)
{
    tribe_status st = TRIBE_OK;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->buf_off += (int64_t)c->pos;
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->cap - c->len < READ_CHUNK / 2) {
        size_t ncap = c->cap * 2;
        TRIBE_TRY(tribe_realloc((void **)&c->buf, ncap));
        c->cap = ncap;
    }
    TRIBE_TRY(read_more(c, got));
cleanup:
    return st;
}

static size_t count_byte(const char *p, size_t n, char ch)
{
    size_t k = 0;
    const char *end = p + n;
    while ((p = memchr(p, ch, (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

/* ---- record boundaries ---------------------------------------------------- */

typedef struct {
    int found;        /* a record (possibly empty) was read */
    int64_t start;    /* stream offset of its first byte */
    size_t rs, re;    /* its text buf[rs, re) without line end (invalid when over) */
    int open_quote;   /* ended at end of file inside quotes */
    int over;         /* longer than max_record: text in keep[] */
    int64_t lines;    /* physical lines it spans minus one, plus one if it ended with '\n' */
} rec_span;

/* The prefix kept of an over-long record: a fixed length, so the rejects
 * file does not depend on where the buffer happened to be refilled. */
static void keep_prefix(tribe_csv *c, const char *text)
{
    c->keep_len = c->max_record < OVERLONG_KEEP ? c->max_record : OVERLONG_KEEP;
    memcpy(c->keep, text, c->keep_len);
}

/* The record's text is buf[pos, pos + n); `newline` says whether a '\n'
 * follows (then pos moves past it). A record is over-long by its length
 * alone, whether or not it had to be dropped while scanning. */
static void finish_record(tribe_csv *c, rec_span *r, size_t n, int newline)
{
    r->found = 1;
    r->rs = c->pos;
    r->re = c->pos + n;
    c->pos = r->re + (newline ? 1 : 0);
    if (r->over)
        return;
    if (r->re > r->rs && c->buf[r->re - 1] == '\r')
        r->re--;
    if (r->re - r->rs > c->max_record) {
        keep_prefix(c, c->buf + r->rs);
        r->over = 1;
    }
}

/* Finds the record starting at buf[pos] and advances pos past it. */
static tribe_status scan_record(tribe_csv *c, rec_span *r)
{
    tribe_status st = TRIBE_OK;
    size_t rel = 0;    /* bytes of the record already scanned, from pos */
    int parity = 0;
    memset(r, 0, sizeof *r);
    r->start = c->buf_off + (int64_t)c->pos;
    c->keep_len = 0;
    for (;;) {
        while (c->pos + rel < c->len) {
            char *b = c->buf + c->pos + rel;
            size_t avail = c->len - c->pos - rel;
            char *nl = memchr(b, '\n', avail);
            size_t seg = nl ? (size_t)(nl - b) : avail;
            parity ^= (int)(count_byte(b, seg, '"') & 1);
            if (!nl) {
                rel += seg;
                break;
            }
            r->lines++;
            if (!parity) {
                finish_record(c, r, rel + seg, 1);
                return TRIBE_OK;
            }
            rel += seg + 1;
        }
        if (rel > c->max_record + 1) {
            /* Too long (even if its last byte is a '\r' before the '\n'):
             * keep a prefix for the rejects file, drop the rest but keep
             * scanning, so the next record starts where a serial reader would
             * start it. */
            if (!r->over) {
                keep_prefix(c, c->buf + c->pos);
                r->over = 1;
            }
            c->pos += rel;
            rel = 0;
        }
        size_t got = 0;
        TRIBE_TRY(refill(c, &got));
        if (got == 0) {
            if (rel == 0 && !r->over)
                return TRIBE_OK; /* clean end of stream */
            r->open_quote = parity;
            finish_record(c, r, rel, 0);
            return TRIBE_OK;
        }
    }
cleanup:
    return st;
}

/* ---- fields --------------------------------------------------------------- */

static tribe_status push_field(tribe_csv *c, size_t off, size_t len)
{
    tribe_status st = TRIBE_OK;
    if (c->nf == c->nfcap) {
        int ncap = c->nfcap ? 2 * c->nfcap : 32;
        TRIBE_TRY(tribe_realloc((void **)&c->foff, (size_t)ncap * sizeof *c->foff));
        TRIBE_TRY(tribe_realloc((void **)&c->flen, (size_t)ncap * sizeof *c->flen));
        c->nfcap = ncap;
    }
    c->foff[c->nf] = off;
    c->flen[c->nf] = len;
    c->nf++;
cleanup:
    return st;
}

/* Splits buf[s, e) into fields. Sets c->err (and no fields) on a quoting error. */
static tribe_status split_fields(tribe_csv *c, const char *s, const char *e)
{
    tribe_status st = TRIBE_OK;
    /* Unquoted text is never longer than the record, plus one NUL per field
     * (at most one field per byte, plus one). */
    size_t need = 2 * (size_t)(e - s) + 2;
    size_t w = 0;
    c->nf = 0;
    if (need > c->fcap) {
        TRIBE_TRY(tribe_realloc((void **)&c->fbuf, need + 64));
        c->fcap = need + 64;
    }
    const char *p = s;
    for (;;) {
        size_t start = w;
        if (p < e && *p == '"') {
            p++;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(e - p));
                if (!q) {
                    c->err = "quoted field is not closed";
                    c->nf = 0;
                    return TRIBE_OK;
                }
                memcpy(c->fbuf + w, p, (size_t)(q - p));
                w += (size_t)(q - p);
                if (q + 1 < e && q[1] == '"') {
                    c->fbuf[w++] = '"';
                    p = q + 2;
                    continue;
                }
                p = q + 1;
                break;
            }
            if (p < e && *p != ',') {
                c->err = "text after a closing quote";
                c->nf = 0;
                return TRIBE_OK;
            }
        } else {
            const char *q = memchr(p, ',', (size_t)(e - p));
            if (!q)
                q = e;
            if (memchr(p, '"', (size_t)(q - p))) {
                c->err = "quote inside an unquoted field";
                c->nf = 0;
                return TRIBE_OK;
            }
            memcpy(c->fbuf + w, p, (size_t)(q - p));
            w += (size_t)(q - p);
            p = q;
        }
        c->fbuf[w++] = '\0';
        TRIBE_TRY(push_field(c, start, w - start - 1));
        if (p >= e)
            break;
        p++; /* the comma; a trailing comma leaves one more (empty) field */
        if (p == e) {
            c->fbuf[w++] = '\0';
            TRIBE_TRY(push_field(c, w - 1, 0));
            break;
        }
    }
cleanup:
    return st;
}

/* Reads the next non-blank record into the current-record fields, without
 * any share-out filter. *has = 0 at the end. */
static tribe_status read_record(tribe_csv *c, int split, int *has, int64_t *start)
{
    tribe_status st = TRIBE_OK;
    rec_span r;
    *has = 0;
    for (;;) {
        if (c->done)
            return TRIBE_OK;
        if (c->buf_off + (int64_t)c->pos >= c->end) {
            c->done = 1;
            return TRIBE_OK;
        }
        TRIBE_TRY(scan_record(c, &r));
        if (!r.found) {
            c->done = 1;
            return TRIBE_OK;
        }
        int64_t line = c->next_line;
        c->next_line += r.lines;
        if (!r.over && r.re == r.rs)
            continue; /* blank line */
        c->line = line;
        c->err = NULL;
        c->nf = 0;
        *start = r.start;
        if (r.over) {
            c->raw = c->keep;
            c->raw_len = c->keep_len;
            c->err = "record is longer than the maximum record size";
        } else {
            c->raw = c->buf + r.rs;
            c->raw_len = r.re - r.rs;
            if (r.open_quote)
                c->err = "quoted field is not closed at end of file";
            else if (split)
                TRIBE_TRY(split_fields(c, c->buf + r.rs, c->buf + r.re));
        }
        *has = 1;
        return TRIBE_OK;
    }
cleanup:
    return st;
}

tribe_status tribe_csv_next(tribe_csv *c, int *has)
{
    tribe_status st = TRIBE_OK;
    int64_t start = 0;
    for (;;) {
        int mine = 1;
        int64_t k = c->recno;
        if (c->nparts > 1)
            mine = (int)((k / c->block) % c->nparts) == c->part;
        TRIBE_TRY(read_record(c, mine, has, &start));
        if (!*has)
            return TRIBE_OK;
        c->recno++;
        if (mine)
            return TRIBE_OK;
    }
cleanup:
    *has = 0;
    return st;
}

/* ---- opening -------------------------------------------------------------- */

static tribe_status probe(const char *path, int *is_gz, int64_t *size)
{
    unsigned char magic[2] = {0, 0};
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot stat", path);
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return tribe_fail(TRIBE_ERR_IO, "%s: is a directory, not a CSV file", path);
    }
    ssize_t n;
    do
        n = read(fd, magic, 2);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: read error", path);
    *is_gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    *size = (int64_t)sb.st_size;
    return TRIBE_OK;
}

static tribe_status parse_header(tribe_csv *c)
{
    tribe_status st = TRIBE_OK;
    int has = 0;
    int64_t start = 0;
    TRIBE_TRY(read_record(c, 1, &has, &start));
    if (!has)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: file is empty (no header line)", c->path);
    if (c->err)
        return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: malformed header: %s", c->path, (long long)c->line, c->err);
    TRIBE_TRY(tribe_calloc((void **)&c->cols, (size_t)c->nf, sizeof *c->cols));
    c->ncol = c->nf;
    for (int i = 0; i < c->nf; i++) {
        const char *f = c->fbuf + c->foff[i];
        if (i == 0 && strncmp(f, "\xEF\xBB\xBF", 3) == 0)
            f += 3; /* UTF-8 byte-order mark from spreadsheet exports */
        TRIBE_TRY(tribe_strdup(f, &c->cols[i]));
    }
cleanup:
    return st;
}

/* Positions a plain-file reader on the first record that begins at or after
 * `begin` (> the header's end): reads from begin-1 and looks for the first
 * '\n' outside quotes, knowing the quote parity and line count at `begin`. */
static tribe_status seek_range(tribe_csv *c, int64_t begin, int64_t nl_before, int64_t q_before)
{
    tribe_status st = TRIBE_OK;
    int64_t s = begin - 1;
    if (lseek(c->fd, (off_t)s, SEEK_SET) < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot seek to byte %lld", c->path, (long long)s);
    c->pos = c->len = 0;
    c->eof = 0;
    c->buf_off = s;
    size_t got = 0;
    TRIBE_TRY(read_more(c, &got));
    if (got == 0) {
        c->done = 1;
        return TRIBE_OK;
    }
    int parity = (int)((q_before ^ (c->buf[0] == '"')) & 1);
    int64_t lines = nl_before - (c->buf[0] == '\n');
    for (;;) {
        while (c->pos < c->len) {
            char ch = c->buf[c->pos++];
            if (ch == '"')
                parity ^= 1;
            else if (ch == '\n') {
                lines++;
                if (!parity) {
                    c->next_line = lines + 1;
                    return TRIBE_OK;
                }
            }
        }
        TRIBE_TRY(refill(c, &got));
        if (got == 0) {
            c->done = 1;
            return TRIBE_OK;
        }
    }
cleanup:
    return st;
}

tribe_status tribe_csv_open(const char *path, const tribe_csv_opts *opts, tribe_csv **out)
{
    tribe_status st = TRIBE_OK;
    tribe_csv *c = NULL;
    tribe_csv_opts o;
    int is_gz = 0;
    int64_t size = 0;
    memset(&o, 0, sizeof o);
    o.end = -1;
    if (opts)
        o = *opts;
    TRIBE_TRY(probe(path, &is_gz, &size));
    if (o.nparts > 1 && (o.begin != 0 || o.end >= 0))
        return tribe_fail(TRIBE_ERR_USAGE, "%s: a byte range and a record stride cannot be combined", path);
    if (is_gz && (o.begin != 0 || o.end >= 0))
        return tribe_fail(TRIBE_ERR_USAGE, "%s: gzip files cannot be read by byte range", path);
    if (o.begin < 0 || (o.nparts > 1 && (o.part < 0 || o.part >= o.nparts)))
        return tribe_fail(TRIBE_ERR_USAGE, "%s: invalid share (begin %lld, part %d of %d)", path,
                          (long long)o.begin, o.part, o.nparts);

    TRIBE_TRY(tribe_calloc((void **)&c, 1, sizeof *c));
    c->fd = -1;
    TRIBE_TRY(tribe_strdup(path, &c->path));
    c->is_gz = is_gz;
    c->max_record = o.max_record ? o.max_record : TRIBE_CSV_MAX_RECORD;
    c->end = INT64_MAX;
    c->block = o.block > 0 ? o.block : TRIBE_CSV_GZ_BLOCK;
    c->nparts = o.nparts > 1 ? o.nparts : 1;
    c->part = o.nparts > 1 ? o.part : 0;
    c->next_line = 1;
    c->cap = 2 * READ_CHUNK;
    TRIBE_TRY(tribe_alloc((void **)&c->buf, c->cap));
    TRIBE_TRY(tribe_alloc((void **)&c->keep, OVERLONG_KEEP));
    c->fd = open(path, O_RDONLY);
    if (c->fd < 0) {
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
        goto cleanup;
    }
    if (is_gz) {
        c->gz = gzdopen(c->fd, "rb");
        if (!c->gz) {
            st = tribe_fail(TRIBE_ERR_IO, "%s: cannot open as gzip", path);
            goto cleanup;
        }
        c->fd = -1; /* now owned by zlib */
        gzbuffer(c->gz, (unsigned)READ_CHUNK);
    }
    TRIBE_TRY(parse_header(c));
    c->recno = 0;
    if (o.end >= 0)
        c->end = o.end;
    {
        int64_t header_end = c->buf_off + (int64_t)c->pos;
        if (o.begin > header_end)
            TRIBE_TRY(seek_range(c, o.begin, o.newlines_before, o.quotes_before));
    }
    *out = c;
    c = NULL;
cleanup:
    tribe_csv_close(&c);
    return st;
}

tribe_status tribe_csv_count_range(const char *path, int64_t begin, int64_t end, int64_t *newlines,
                                   int64_t *quotes)
{
    tribe_status st = TRIBE_OK;
    char *buf = NULL;
    int64_t nl = 0, q = 0, off = begin;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
    TRIBE_TRY(tribe_alloc((void **)&buf, 4 * READ_CHUNK));
    while (end < 0 || off < end) {
        size_t want = 4 * READ_CHUNK;
        if (end >= 0 && (int64_t)want > end - off)
            want = (size_t)(end - off);
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: read error", path);
            goto cleanup;
        }
        if (n == 0)
            break;
        nl += (int64_t)count_byte(buf, (size_t)n, '\n');
        q += (int64_t)count_byte(buf, (size_t)n, '"');
        off += n;
    }
    *newlines = nl;
    *quotes = q;
cleanup:
    free(buf);
    close(fd);
    return st;
}

tribe_status tribe_csv_open_shared(tribe_par *par, const char *path, int64_t gz_block, tribe_csv **out)
{
    tribe_status st = TRIBE_OK;
    int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int is_gz = 0;
    int64_t fsize = 0, lo = 0, hi = -1, nl = 0, q = 0, nl_before = 0, q_before = 0, total = 0;
    tribe_csv_opts o;
    memset(&o, 0, sizeof o);
    *out = NULL;
    st = probe(path, &is_gz, &fsize);
    TRIBE_TRY(tribe_par_agree(par, st));
    o.end = -1;
    o.block = gz_block > 0 ? gz_block : TRIBE_CSV_GZ_BLOCK;
    if (size > 1 && is_gz) {
        o.part = rank;
        o.nparts = size;
    } else if (size > 1) {
        tribe_par_block(fsize, size, rank, &lo, &hi);
        st = tribe_csv_count_range(path, lo, hi, &nl, &q);
        TRIBE_TRY(tribe_par_agree(par, st));
        TRIBE_TRY(tribe_par_exscan_i64(par, nl, &nl_before, &total));
        TRIBE_TRY(tribe_par_exscan_i64(par, q, &q_before, &total));
        o.begin = lo;
        o.end = hi;
        o.newlines_before = nl_before;
        o.quotes_before = q_before;
    }
    st = tribe_csv_open(path, &o, out);
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    if (st != TRIBE_OK)
        tribe_csv_close(out);
    return st;
}

/* ---- accessors ------------------------------------------------------------ */

int64_t tribe_csv_line(const tribe_csv *c) { return c->line; }
const char *tribe_csv_error(const tribe_csv *c) { return c->err; }
int tribe_csv_nfields(const tribe_csv *c) { return c->nf; }
const char *tribe_csv_path(const tribe_csv *c) { return c->path; }
int tribe_csv_is_gzip(const tribe_csv *c) { return c->is_gz; }
int tribe_csv_ncolumns(const tribe_csv *c) { return c->ncol; }

const char *tribe_csv_raw(const tribe_csv *c, size_t *len)
{
    if (len)
        *len = c->raw ? c->raw_len : 0;
    return c->raw ? c->raw : "";
}

const char *tribe_csv_field(const tribe_csv *c, int i, size_t *len)
{
    if (i < 0 || i >= c->nf) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = c->flen[i];
    return c->fbuf + c->foff[i];
}

const char *tribe_csv_column_name(const tribe_csv *c, int i)
{
    return (i >= 0 && i < c->ncol) ? c->cols[i] : NULL;
}

int tribe_csv_column(const tribe_csv *c, const char *name)
{
    for (int i = 0; i < c->ncol; i++)
        if (strcmp(c->cols[i], name) == 0)
            return i;
    return -1;
}

tribe_status tribe_csv_require(const tribe_csv *c, const char *const *names, int n, int *idx)
{
    for (int i = 0; i < n; i++) {
        idx[i] = tribe_csv_column(c, names[i]);
        if (idx[i] < 0)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: missing required column '%s'", c->path, names[i]);
    }
    return TRIBE_OK;
}

void tribe_csv_close(tribe_csv **cp)
{
    if (!cp || !*cp)
        return;
    tribe_csv *c = *cp;
    if (c->gz)
        gzclose(c->gz);
    if (c->fd >= 0)
        close(c->fd);
    for (int i = 0; i < c->ncol; i++)
        free(c->cols[i]);
    free(c->cols);
    free(c->path);
    free(c->buf);
    free(c->keep);
    free(c->fbuf);
    free(c->foff);
    free(c->flen);
    free(c);
    *cp = NULL;
}
