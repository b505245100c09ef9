/* tribe/csv.h: a streaming RFC 4180 reader for plain and gzip CSV files.
 *
 * Usage (one process, whole file):
 *     tribe_csv *c = NULL;
 *     int has = 0, col[2];
 *     const char *want[] = {"CustomerID", "Quantity"};
 *     TRIBE_TRY(tribe_csv_open(path, NULL, &c));          // reads the header
 *     TRIBE_TRY(tribe_csv_require(c, want, 2, col));      // INPUT error naming a missing column
 *     while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
 *         if (tribe_csv_error(c)) { ... tribe_csv_line(c), tribe_csv_raw(c, &len) ... ; continue; }
 *         size_t len;
 *         const char *qty = tribe_csv_field(c, col[1], &len);   // NUL-terminated, unquoted
 *     }
 *     tribe_csv_close(&c);
 *
 * Usage (every rank of a job, one share each; each data record is returned
 * on exactly one rank, with its global line number):
 *     TRIBE_TRY(tribe_csv_open_shared(par, path, 0, &c));      // Collective
 *     ... same loop ...
 *
 * Records. A record ends at the first '\n' preceded (since the record began)
 * by an even number of '"' bytes, so a newline inside a quoted field belongs
 * to the record; a '\r' just before that '\n' is dropped. Because the rule
 * only counts quotes, a reader started anywhere in the file can find the
 * record boundaries once it knows the quote parity at its starting byte:
 * that is what makes byte-range splitting exact (tribe_csv_count_range).
 * Blank records (an empty line) are skipped and are not data records. The
 * first record is the header (a UTF-8 byte-order mark before it is ignored).
 *
 * Fields. A field is either unquoted (no '"' in it) or quoted ("..." with ""
 * for a quote, commas and newlines allowed). A record that breaks these rules
 * (quote inside an unquoted field, text after a closing quote, quote still
 * open at end of file) or is longer than the maximum record size is returned
 * with tribe_csv_error() != NULL and no fields: the caller counts it as
 * malformed. Column counts are not checked here (the caller knows what it
 * expects).
 *
 * Lines. tribe_csv_line() is the 1-based physical line on which the current
 * record starts (the header is line 1, a record spanning three lines moves
 * the next record's line by three).
 *
 * Sharing a file between ranks (tribe_csv_open_shared):
 *  - plain file: rank r takes the byte range tribe_par_block(file size) and
 *    returns the records that BEGIN in its range (the one that begins before
 *    the end is read to its end, past the range). A pre-pass counts '\n' and
 *    '"' in each range and an exclusive scan gives every rank the line number
 *    and quote parity at its first byte, so boundaries and line numbers are
 *    exactly those of a serial read.
 *  - gzip file (cannot seek): every rank decompresses the whole stream, finds
 *    every record boundary (cheap), and splits into fields only the data
 *    records of its blocks: data record k (0-based) belongs to rank
 *    (k / block) % size, block = 65536 records unless set.
 *
 * Ownership: a tribe_csv owns its buffers. Pointers returned by
 * tribe_csv_field / tribe_csv_raw / tribe_csv_error stay valid until the next
 * tribe_csv_next or tribe_csv_close. tribe_csv_close accepts NULL and sets the
 * pointer to NULL.
 * Not collective, except tribe_csv_open_shared.
 */
#ifndef TRIBE_CSV_H
#define TRIBE_CSV_H

#include "tribe/core.h"
#include "tribe/par.h"

/* Longest record kept whole by default (longer ones are malformed). */
#define TRIBE_CSV_MAX_RECORD ((size_t)1 << 20)
/* Data records per block in the gzip share-out. */
#define TRIBE_CSV_GZ_BLOCK 65536

typedef struct tribe_csv tribe_csv;

typedef struct {
    /* Byte-range mode (plain files only): return the data records whose first
     * byte lies in [begin, end). end < 0 means end of file. newlines_before
     * and quotes_before are the numbers of '\n' and '"' bytes in [0, begin)
     * (sum of tribe_csv_count_range over the ranges before this one); they
     * are ignored when begin == 0. */
    int64_t begin, end;
    int64_t newlines_before, quotes_before;
    /* Stride mode (any file; not with a byte range): return data record k
     * (0-based over the whole file) iff (k / block) % nparts == part.
     * nparts <= 1 turns it off. */
    int64_t block;
    int part, nparts;
    /* Longest record (bytes, without the line end); 0 = TRIBE_CSV_MAX_RECORD. */
    size_t max_record;
} tribe_csv_opts;

/* Opens `path` (plain, or gzip detected by its magic bytes), reads the header.
 * opts may be NULL (whole file). Not collective.
 * Errors: IO naming the file when it cannot be opened or read; INPUT when it
 * is empty (no header line) or the header is malformed; USAGE for a byte range
 * on a gzip file or an inconsistent option. *out is untouched on error. */
tribe_status tribe_csv_open(const char *path, const tribe_csv_opts *opts, tribe_csv **out);

/* Collective: every rank opens its share of `path` (see the header comment).
 * gz_block: data records per block for gzip files (0 = TRIBE_CSV_GZ_BLOCK).
 * Errors as tribe_csv_open, agreed over all ranks (same status and message
 * everywhere); *out is NULL on every rank on error. */
tribe_status tribe_csv_open_shared(tribe_par *par, const char *path, int64_t gz_block, tribe_csv **out);

/* Counts '\n' and '"' bytes of a plain file in [begin, end) (end < 0: to the
 * end). Not collective. Errors: IO naming the file. */
tribe_status tribe_csv_count_range(const char *path, int64_t begin, int64_t end, int64_t *newlines,
                                   int64_t *quotes);

/* Advances to the next data record of this reader's share: *has = 1 and the
 * record is current, or *has = 0 at the end. Errors: IO naming the file on a
 * read or decompression failure. Not collective. */
tribe_status tribe_csv_next(tribe_csv *c, int *has);

/* Current record. */
int64_t tribe_csv_line(const tribe_csv *c);            /* 1-based first physical line */
const char *tribe_csv_error(const tribe_csv *c);       /* NULL, or why it is malformed */
const char *tribe_csv_raw(const tribe_csv *c, size_t *len); /* text without line end (maybe truncated) */
int tribe_csv_nfields(const tribe_csv *c);             /* 0 when malformed */
/* Field i (0-based) unquoted and NUL-terminated; "" (len 0) when i is out of range. */
const char *tribe_csv_field(const tribe_csv *c, int i, size_t *len);

/* Header. */
const char *tribe_csv_path(const tribe_csv *c);
int tribe_csv_is_gzip(const tribe_csv *c);
int tribe_csv_ncolumns(const tribe_csv *c);
const char *tribe_csv_column_name(const tribe_csv *c, int i);
/* Index of the first column named exactly `name`, or -1. */
int tribe_csv_column(const tribe_csv *c, const char *name);
/* Looks up n names into idx[n]. Errors: INPUT "<path>: missing required
 * column '<name>'" for the first one absent (idx is then partly filled). */
tribe_status tribe_csv_require(const tribe_csv *c, const char *const *names, int n, int *idx);

void tribe_csv_close(tribe_csv **c);

#endif
