/* tribe/h5.h: tribe's HDF5 files, written and read in parallel.
 *
 * Two layers:
 *  - tribe_h5_*: a thin handle over one HDF5 file opened by every rank
 *    (MPI-IO when the context has a communicator). Per-customer arrays are
 *    written and read as row blocks (rank r's rows [offset, offset+n)) with
 *    collective transfers in pieces of bounded size (tribe_h5_set_io_bytes); small arrays and attributes are passed identically
 *    by every rank.
 *  - tribe_store_*: the customers.h5 format (docs/hdf5-layout.md) on top.
 *
 * Usage:
 *     tribe_h5 *h = NULL;
 *     TRIBE_TRY(tribe_h5_create(par, "out/.results.h5.tmp", &h));
 *     TRIBE_TRY(tribe_h5_write_rows(h, "/segments/label", TRIBE_H5_I32, n_global, offset, n_local, 1, labels));
 *     TRIBE_TRY(tribe_h5_attr_str(h, "/runs/r1", "job_spec", json));
 *     TRIBE_TRY(tribe_h5_close(&h));
 *
 * Ownership: a handle owns its HDF5 ids; tribe_h5_close accepts NULL, sets the
 * pointer to NULL and reports a close failure.
 * Writing: every write function ends agreed, returning the same status on
 * every rank; disk for the file is reserved before HDF5 writes, so a full disk
 * is an IO error on every rank, never a hang. After a failed write the file
 * is emptied when closed: the caller deletes it (write under a temporary
 * name or in a staging directory). Arrays read are allocated for
 * the caller, who frees them.
 * Every function is Collective over the handle's ranks (each rank passes the
 * same names, shapes and attribute values) unless it says Not collective.
 * Errors: TRIBE_ERR_IO naming the file and object; TRIBE_ERR_INPUT when the
 * file is not the kind expected (not HDF5, not tribe's, wrong layout).
 */
#ifndef TRIBE_H5_H
#define TRIBE_H5_H

#include "tribe/core.h"
#include "tribe/par.h"
#include "tribe/table.h"

typedef struct tribe_h5 tribe_h5;

typedef enum { TRIBE_H5_I32, TRIBE_H5_I64, TRIBE_H5_F32, TRIBE_H5_F64, TRIBE_H5_U8 } tribe_h5_type;

/* Creates (truncates) a file. */
tribe_status tribe_h5_create(tribe_par *par, const char *path, tribe_h5 **out);
/* Opens an existing file read-only. Not-HDF5 files fail with INPUT. */
tribe_status tribe_h5_open(tribe_par *par, const char *path, tribe_h5 **out);
/* Opens an existing file for adding objects and attributes (as open). */
tribe_status tribe_h5_open_rw(tribe_par *par, const char *path, tribe_h5 **out);
tribe_status tribe_h5_close(tribe_h5 **h);
/* Closes *h (NULL allowed) at the end of a function that got st so far:
 * returns st, or the close's error when st is TRIBE_OK (the first error
 * wins). */
tribe_status tribe_h5_close_after(tribe_h5 **h, tribe_status st);
const char *tribe_h5_path(const tribe_h5 *h); /* Not collective */

/* A 1-D or 2-D per-customer dataset of n_global rows x cols, chunked by
 * rows; this rank writes rows [offset, offset + n_local). Intermediate groups
 * are created. */
tribe_status tribe_h5_write_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global,
                                 int64_t offset, int64_t n_local, int64_t cols, const void *data);
/* Reads rows [offset, offset + n_local) into a new array (*out, caller frees).
 * *cols receives the width (1 for 1-D). Fails with INPUT when missing, of
 * a different length than n_global (pass -1 to accept any), stored as another
 * type than `type` (class, size and sign must match: nothing is converted) or
 * when an unfiltered dataset stores fewer bytes than its dimensions claim
 * (checked before anything is allocated). The same checks for the readers
 * below. */
tribe_status tribe_h5_read_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global,
                                int64_t offset, int64_t n_local, int64_t *cols, void **out);
/* Reads rows [offset, offset + n_local) into caller memory dst (n_local x
 * cols values). INPUT when the dataset is missing, has another length than
 * n_global (-1: any) or another width than cols. */
tribe_status tribe_h5_read_rows_into(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global,
                                     int64_t offset, int64_t n_local, int64_t cols, void *dst);
/* Not collective. Row transfers (tribe_h5_write_rows, tribe_h5_read_rows*)
 * move at most this many bytes per collective HDF5 call: a shard is moved in
 * ceil(shard bytes / budget) calls, every rank making the largest shard's
 * count (empty selections once done), so MPI-IO never stages a whole shard.
 * Default 64 MiB, or the environment's TRIBE_IO_CHUNK_BYTES when set; tests
 * set it small. Every rank must use the same value (0 restores the default). */
void tribe_h5_set_io_bytes(size_t bytes);
size_t tribe_h5_io_bytes(void);
/* Length (rows) and width of a dataset; INPUT when missing. */
tribe_status tribe_h5_shape(tribe_h5 *h, const char *name, int64_t *rows, int64_t *cols);
/* Not collective: 1 if the object (group or dataset) exists. */
int tribe_h5_exists(tribe_h5 *h, const char *name);

/* A 1-D per-customer dataset of fixed-length, NUL-padded UTF-8 strings of
 * `width` bytes (the same on every rank): this rank's rows are data[n_local
 * * width]. Variable-length strings are never written (see the attributes). */
tribe_status tribe_h5_write_str_rows(tribe_h5 *h, const char *name, int64_t n_global, int64_t offset,
                                     int64_t n_local, int width, const char *data);
/* Reads rows [offset, offset + n_local) of such a dataset into a new array
 * (*out, caller frees) of n_local strings of *width bytes each, as stored
 * (a string as long as the width has no NUL). INPUT when missing, of
 * another length than n_global (-1: any), not fixed-length strings (names
 * the dataset), wider than 4096 bytes or storing fewer bytes than it claims. */
tribe_status tribe_h5_read_str_rows(tribe_h5 *h, const char *name, int64_t n_global, int64_t offset,
                                    int64_t n_local, int *width, char **out);

/* A small dataset (same content on every rank; rank 0's data is written). */
tribe_status tribe_h5_write_small(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t rows, int64_t cols,
                                  const void *data);
/* Reads a whole small dataset on every rank. */
tribe_status tribe_h5_read_small(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t *rows, int64_t *cols,
                                 void **out);

/* Attributes on a group or dataset (groups are created as needed). */
tribe_status tribe_h5_attr_str(tribe_h5 *h, const char *obj, const char *name, const char *value);
tribe_status tribe_h5_attr_strs(tribe_h5 *h, const char *obj, const char *name, int n, const char *const *values);
tribe_status tribe_h5_attr_i64(tribe_h5 *h, const char *obj, const char *name, int64_t value);
tribe_status tribe_h5_attr_f64(tribe_h5 *h, const char *obj, const char *name, double value);
/* String attributes are written as fixed-length UTF-8 (NUL-padded), never as
 * variable-length strings: these would go through HDF5's global heap, which
 * has no checksum and crashes or hangs HDF5 1.10 when damaged. Files are
 * created in the 1.10 format, whose metadata HDF5 checksums on read.
 * Reads check the stored type first: a variable-length string attribute
 * (an older tribe's file, h5py's default) is refused with INPUT naming the
 * file and attribute, and so is a damaged or oversized one. */
/* Reads a string attribute (caller frees); INPUT naming it when missing. */
tribe_status tribe_h5_read_attr_str(tribe_h5 *h, const char *obj, const char *name, char **out);
/* The same for an optional attribute: OK with *out NULL when obj or the
 * attribute is missing; INPUT when it is there but unreadable. */
tribe_status tribe_h5_read_attr_str_opt(tribe_h5 *h, const char *obj, const char *name, char **out);
/* Reads a string-array attribute (caller frees each and the array). */
tribe_status tribe_h5_read_attr_strs(tribe_h5 *h, const char *obj, const char *name, int *n, char ***out);
/* The same for an optional one: OK with *n 0 and *out NULL when missing. */
tribe_status tribe_h5_read_attr_strs_opt(tribe_h5 *h, const char *obj, const char *name, int *n, char ***out);
/* A scalar float64 attribute into *v; OK with *v NaN when obj or the
 * attribute is missing; INPUT when it is there but of another type or shape. */
tribe_status tribe_h5_read_attr_f64_opt(tribe_h5 *h, const char *obj, const char *name, double *v);
/* Names of the members of a group, sorted (caller frees). */
tribe_status tribe_h5_list(tribe_h5 *h, const char *group, int *n, char ***out);

/* Collective. `<path>.tmp.<rank 0's pid>` in buf on every rank: the one
 * temporary name all ranks write a file under before it is moved into place
 * (the temporary-file rules of tribe/owner.h read that pid). */
tribe_status tribe_tmp_name(tribe_par *par, const char *path, char *buf, size_t cap);

/* ---- customers.h5 --------------------------------------------------------- */
#define TRIBE_CUSTOMERS_FORMAT "tribe-customers"
#define TRIBE_CUSTOMERS_FORMAT_VERSION 1

/* Writes the table (each rank its rows at t->offset) to `path` atomically:
 * into a temporary file beside it, renamed into place only when complete.
 * `ledger_json` and `source_json` may be NULL. */
tribe_status tribe_store_write_customers(tribe_par *par, const char *path, const tribe_table *t,
                                         const char *ledger_json, const char *source_json);
/* The same, written at `path` itself (no temporary of its own): for a
 * caller that writes under a temporary name and commits it with other files
 * (tribe ingest). A failed write leaves a damaged file at `path`. */
tribe_status tribe_store_write_customers_at(tribe_par *par, const char *path, const tribe_table *t,
                                            const char *ledger_json, const char *source_json);
/* The data's currency as the root attributes `currency` (ISO 4217 code) and
 * `currency_symbol` of an open file (customers.h5, results.h5). */
tribe_status tribe_store_write_currency(tribe_h5 *h, const tribe_currency *cur);
/* Reads them: tribe_currency_default() when the file has no `currency`
 * attribute (written before it existed), the code's table symbol when it has
 * no `currency_symbol`. INPUT naming the file when they are not a currency. */
tribe_status tribe_store_read_currency(tribe_h5 *h, tribe_currency *out);

/* Reads customers.h5 with rows block-distributed over ranks
 * (tribe_par_block); (*out)->currency is the file's (tribe_store_read_currency).
 * *ledger_json (may be NULL to skip) gets the stored
 * ledger or NULL. A file that is not tribe's fails with INPUT saying so. */
tribe_status tribe_store_read_customers(tribe_par *par, const char *path, tribe_table **out, char **ledger_json);

/* Not collective. The string ids of rows [lo, lo + n) read from dataset
 * dname of path (text: n strings of width bytes): each must end with a NUL
 * within its width, be a valid id (tribe_id_check) and have the row's id as
 * its key. INPUT naming the file, dataset, row and problem. */
tribe_status tribe_store_check_id_text(const char *path, const char *dname, const char *text, int width,
                                       const int64_t *id, int64_t n, int64_t lo);

/* Split-independent content hash of a table shard set: the same rows give the
 * same hash whatever the rank count. 16 hex digits into hex[17]. */
tribe_status tribe_table_hash(tribe_par *par, const tribe_table *t, char hex[17]);

#endif
