/* Parallel HDF5 access (tribe/h5.h). Every HDF5 return value is checked;
 * HDF5's own error stack printing is switched off and replaced by messages
 * that name the file and object. */
#include "tribe/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct tribe_h5 {
    tribe_par *par;
    hid_t file;
    hid_t xfer;     /* dataset transfer list: collective MPI-IO when parallel */
    int parallel;
    int writable;   /* created by tribe_h5_create */
    int failed;     /* a write failed on some rank (agreed): the file is to be discarded */
    int no_reserve; /* the file system has no fallocate: written unreserved */
    uint64_t planned;  /* bytes the writes so far need, metadata allowance included (reserve) */
    uint64_t reserved; /* rank 0: bytes of disk reserved for the file */
    int64_t file_bytes; /* size on disk of a file opened for reading */
    char *path;
};

/* Largest string attribute tribe reads (all strings of it together): far
 * above any name list or JSON tribe writes, far below what a corrupted size
 * field can claim. */
#define MAX_ATTR_BYTES ((size_t)64 << 20)

static hid_t mem_type(tribe_h5_type t)
{
    switch (t) {
    case TRIBE_H5_I32: return H5T_NATIVE_INT32;
    case TRIBE_H5_I64: return H5T_NATIVE_INT64;
    case TRIBE_H5_F32: return H5T_NATIVE_FLOAT;
    case TRIBE_H5_F64: return H5T_NATIVE_DOUBLE;
    case TRIBE_H5_U8: return H5T_NATIVE_UINT8;
    }
    return H5T_NATIVE_INT32;
}

static size_t type_size(tribe_h5_type t)
{
    switch (t) {
    case TRIBE_H5_I32: return 4;
    case TRIBE_H5_I64: return 8;
    case TRIBE_H5_F32: return 4;
    case TRIBE_H5_F64: return 8;
    case TRIBE_H5_U8: return 1;
    }
    return 4;
}

/* Bytes one collective row transfer moves at most (tribe_h5_set_io_bytes). */
#define DEFAULT_IO_BYTES ((size_t)64 << 20)
static size_t g_io_bytes = 0; /* 0: not set yet, see io_bytes() */

void tribe_h5_set_io_bytes(size_t bytes) { g_io_bytes = bytes; }

size_t tribe_h5_io_bytes(void)
{
    if (g_io_bytes == 0) {
        /* Tests shrink the budget through the environment to exercise many
         * transfers on small files; every rank sees the same environment. */
        const char *e = getenv("TRIBE_IO_CHUNK_BYTES");
        char *end = NULL;
        long long v = e ? strtoll(e, &end, 10) : 0;
        g_io_bytes = (e && end != e && *end == '\0' && v > 0) ? (size_t)v : DEFAULT_IO_BYTES;
    }
    return g_io_bytes;
}

/* " (the disk is full)" when the file being written sits on a file system
 * with under 64 KiB left: HDF5 and MPI-IO report a full disk only as a
 * failed write. */
static const char *full_hint(const tribe_h5 *h)
{
    struct statvfs v;
    if (!h || !h->writable || statvfs(h->path, &v) != 0)
        return "";
    return (uint64_t)v.f_bavail * v.f_frsize < ((uint64_t)64 << 10) ? " (the disk is full)" : "";
}

static tribe_status h5fail(const tribe_h5 *h, const char *obj, const char *what)
{
    return tribe_fail(TRIBE_ERR_IO, "%s: HDF5 %s failed for '%s'%s", h ? h->path : "?", what, obj, full_hint(h));
}

/* Collective, on every writing path: the ranks agree on st before anything
 * else collective happens, so a write that failed on one rank only (an MPI-IO
 * aggregator meeting a full disk) ends every rank's writing at the same point
 * with the same error, instead of one rank closing the file while another is
 * in the next transfer. An agreed error marks the file failed (see
 * finish_writes). */
static tribe_status agree(tribe_h5 *h, tribe_status st)
{
    st = tribe_par_agree(h->par, st);
    if (st != TRIBE_OK)
        h->failed = 1;
    return st;
}

/* Disk reserved past what the file's writes so far add up to, and the
 * metadata allowed for each write (object header, chunk index, heaps): both
 * well above what HDF5 allocates for tribe's objects. */
#define RESERVE_MARGIN ((uint64_t)64 << 10)
#define RESERVE_PER_OBJECT ((uint64_t)4 << 10)

/* Collective, before HDF5 writes anything: rank 0 reserves disk blocks for
 * the file (fallocate keeping the file's size) up to the sum of every write's
 * bytes so far, this one's (`bytes`) included, with their metadata and a
 * margin, then the ranks agree, with the caller's status prior. HDF5 1.10's
 * parallel error paths are not collective: a write failing on one rank (the
 * MPI-IO aggregator that meets the full disk) skips barriers and syncs the
 * other ranks then wait in forever, inside H5Dcreate, H5Dwrite or H5Fflush,
 * and Open MPI's collective writes may even drop the error. So a full disk
 * has to show before HDF5 writes: here, in one checked call on one rank.
 * The HDF5 writes that follow land in reserved blocks. A file system without
 * fallocate is written unreserved (a full disk there is at the mercy of
 * HDF5). (H5Fget_eoa and H5Fget_filesize fail on MPI-IO files in HDF5 1.10,
 * hence the running sum.) */
static tribe_status reserve(tribe_h5 *h, tribe_status prior, uint64_t bytes)
{
    tribe_status st = prior;
    h->planned += bytes + RESERVE_PER_OBJECT;
    if (st == TRIBE_OK && h->writable && !h->no_reserve && tribe_par_rank(h->par) == 0 &&
        h->planned + RESERVE_MARGIN > h->reserved) {
        uint64_t want = h->planned + RESERVE_MARGIN;
        int fd = open(h->path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open to reserve disk space", h->path);
        else if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)h->reserved, (off_t)(want - h->reserved)) == 0)
            h->reserved = want;
        else if (errno == EOPNOTSUPP || errno == ENOSYS)
            h->no_reserve = 1;
        else
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot reserve %.1f MB of disk for the file", h->path,
                                  (double)want / 1e6);
        if (fd >= 0 && close(fd) != 0 && st == TRIBE_OK)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot reserve disk space", h->path);
    }
    return agree(h, st);
}

/* Rank 0, after a successful close: returns the reservation past the file's
 * end to the file system (a truncation to its own size frees blocks
 * preallocated past the end on ext4, XFS and tmpfs). */
static tribe_status unreserve(tribe_h5 *h)
{
    tribe_status st = TRIBE_OK;
    struct stat sb;
    if (h->reserved == 0)
        return TRIBE_OK;
    int fd = open(h->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || ftruncate(fd, sb.st_size) != 0)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot release the disk space reserved", h->path);
    if (fd >= 0 && close(fd) != 0 && st == TRIBE_OK)
        st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot release the disk space reserved", h->path);
    h->reserved = 0;
    return st;
}

static hid_t make_fapl(tribe_par *par, int create, int *parallel)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    MPI_Comm *comm = tribe_par_comm(par);
    *parallel = comm != NULL;
    if (comm && H5Pset_fapl_mpio(fapl, *comm, MPI_INFO_NULL) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    /* All ranks do the metadata operations (required for writes); reads of
     * metadata collectively too, so one rank reads and broadcasts. */
    if (comm && (H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0)) {
        H5Pclose(fapl);
        return -1;
    }
    /* The 1.10 file format: every metadata block (superblock, object headers
     * with their attributes, chunk indexes) carries a checksum HDF5 verifies
     * on read, so a damaged byte there is a clean read error, not a crash or
     * silently different strings. Only affects files tribe creates. */
    if (create && H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

/* create: 1 creates (truncates), 0 opens read-only, 2 opens read-write. */
static tribe_status open_common(tribe_par *par, const char *path, int create, tribe_h5 **out)
{
    tribe_status st = TRIBE_OK;
    tribe_h5 *h = NULL;
    hid_t fapl = -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    TRIBE_TRY(tribe_calloc((void **)&h, 1, sizeof *h));
    h->file = -1;
    h->xfer = -1;
    h->par = par;
    h->file_bytes = INT64_MAX; /* a file being written has no size to check against */
    TRIBE_TRY(tribe_strdup(path, &h->path));
    fapl = make_fapl(par, create == 1, &h->parallel);
    if (fapl < 0) {
        st = tribe_fail(TRIBE_ERR_IO, "%s: cannot set up parallel HDF5 access", path);
        goto cleanup;
    }
    if (create == 1) {
        h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        if (h->file < 0) {
            st = tribe_fail(TRIBE_ERR_IO, "%s: cannot create HDF5 file (is the directory writable?)", path);
            goto cleanup;
        }
    } else {
        FILE *f = fopen(path, "rb");
        struct stat sb;
        if (!f) {
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
            goto cleanup;
        }
        h->file_bytes = fstat(fileno(f), &sb) == 0 ? (int64_t)sb.st_size : INT64_MAX;
        fclose(f);
        /* HDF5 1.10 (Debian 12): H5Fis_hdf5 reads only the superblock signature. */
        htri_t is = H5Fis_hdf5(path);
        if (is <= 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: not an HDF5 file", path);
            goto cleanup;
        }
        /* The file could be read (fopen above): a failure here is its
         * content (a damaged superblock, a truncated file). */
        h->file = H5Fopen(path, create == 2 ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
        if (h->file < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: cannot open HDF5 file (damaged or truncated?)", path);
            goto cleanup;
        }
    }
    h->xfer = H5Pcreate(H5P_DATASET_XFER);
    if (h->xfer < 0 || (h->parallel && H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_COLLECTIVE) < 0)) {
        st = tribe_fail(TRIBE_ERR_IO, "%s: cannot set up collective transfers", path);
        goto cleanup;
    }
    h->writable = create != 0;
    *out = h;
    h = NULL;
cleanup:
    if (fapl >= 0)
        H5Pclose(fapl);
    if (h)
        tribe_h5_close(&h);
    return st;
}

tribe_status tribe_h5_create(tribe_par *par, const char *path, tribe_h5 **out)
{
    return open_common(par, path, 1, out);
}

tribe_status tribe_h5_open_rw(tribe_par *par, const char *path, tribe_h5 **out)
{
    return open_common(par, path, 2, out);
}

tribe_status tribe_h5_open(tribe_par *par, const char *path, tribe_h5 **out)
{
    return open_common(par, path, 0, out);
}

/* Collective. Everything written is flushed and the ranks agree on the
 * outcome before H5Fclose, whose own flush then has nothing left to fail on:
 * HDF5 1.10 frees a file whose close failed but keeps its id, and closes it a
 * second time in MPI_Finalize (a crash), and a close failing on one rank only
 * leaves the others in its collectives. A failed file is deleted by its
 * caller (a temporary or staging file), so rank 0 empties it first: its
 * blocks return to a full disk, and the close's last metadata writes find
 * room. The ranks agree again before anyone closes, so no close writes into
 * the file before it is emptied. Returns the flush's error (the first agreed
 * error is the caller's). */
static tribe_status finish_writes(tribe_h5 *h)
{
    tribe_status st = TRIBE_OK;
    if (!h->failed) {
        st = reserve(h, TRIBE_OK, 0);
        if (st == TRIBE_OK && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
            st = tribe_fail(TRIBE_ERR_IO, "%s: writing the HDF5 file failed%s", h->path, full_hint(h));
        if (!h->failed)
            st = agree(h, st);
    }
    if (h->failed) {
        tribe_status tst = TRIBE_OK;
        if (tribe_par_rank(h->par) == 0 && truncate(h->path, 0) != 0)
            tst = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot empty the failed file", h->path);
        tst = tribe_par_agree(h->par, tst);
        if (st == TRIBE_OK)
            st = tst;
    }
    return st;
}

tribe_status tribe_h5_close(tribe_h5 **hp)
{
    if (!hp || !*hp)
        return TRIBE_OK;
    tribe_h5 *h = *hp;
    tribe_status st = TRIBE_OK;
    if (h->xfer >= 0)
        H5Pclose(h->xfer);
    if (h->file >= 0 && h->writable)
        st = finish_writes(h);
    if (h->file >= 0 && H5Fclose(h->file) < 0 && st == TRIBE_OK)
        st = tribe_fail(TRIBE_ERR_IO, "%s: closing the HDF5 file failed%s", h->path, full_hint(h));
    if (h->file >= 0 && h->writable && !h->failed && st == TRIBE_OK)
        st = unreserve(h);
    if (h->file >= 0 && h->writable)
        st = tribe_par_agree(h->par, st);
    free(h->path);
    free(h);
    *hp = NULL;
    return st;
}

tribe_status tribe_h5_close_after(tribe_h5 **h, tribe_status st)
{
    tribe_status cst = tribe_h5_close(h);
    return st == TRIBE_OK ? cst : st;
}

const char *tribe_h5_path(const tribe_h5 *h) { return h->path; }

/* 1 when the object exists, 0 when not, -1 when a group on the way cannot
 * be read (a damaged file). */
static int link_state(tribe_h5 *h, const char *name)
{
    /* Walk the path: H5Lexists requires every intermediate link to exist. */
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", name) >= (int)sizeof buf)
        return 0;
    if (strcmp(buf, "/") == 0)
        return 1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            htri_t e = H5Lexists(h->file, buf, H5P_DEFAULT);
            if (e <= 0)
                return e < 0 ? -1 : 0;
            if (c == '\0')
                return 1;
            *p = c;
        }
    }
}

int tribe_h5_exists(tribe_h5 *h, const char *name) { return link_state(h, name) > 0; }

static hid_t lcpl_intermediate(void)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) < 0) {
        H5Pclose(lcpl);
        return -1;
    }
    return lcpl;
}

/* Opens a group or dataset by path, creating missing groups. */
static hid_t open_obj(tribe_h5 *h, const char *obj)
{
    if (!tribe_h5_exists(h, obj)) {
        hid_t lcpl = lcpl_intermediate();
        if (lcpl < 0)
            return -1;
        hid_t g = H5Gcreate2(h->file, obj, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Pclose(lcpl);
        return g;
    }
    return H5Oopen(h->file, obj, H5P_DEFAULT);
}

/* Moves this rank's rows [offset, offset + n_local) of dset (cols wide)
 * between the file and buf in pieces of at most tribe_h5_io_bytes(): every
 * rank makes the same number of collective H5Dread/H5Dwrite calls (the
 * largest shard's count, agreed by an allreduce), a rank that has run out of
 * rows taking part with an empty selection. So no rank's MPI-IO layer ever
 * sees more than one piece, whatever the shard size.
 * Every rank calls it, also one whose set-up failed (prior, the caller's
 * status, not OK; dset may then be -1): the ranks agree on the set-up first
 * and on every piece, so every rank returns the same status at the same
 * point. */
static tribe_status transfer_rows(tribe_h5 *h, const char *name, hid_t dset, hid_t mtype, size_t esize,
                                  int64_t offset, int64_t n_local, int64_t cols, int write, void *buf,
                                  tribe_status prior)
{
    tribe_status st = prior;
    hid_t space = st == TRIBE_OK ? H5Dget_space(dset) : -1, mspace = -1;
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (st == TRIBE_OK && (nd < 1 || nd > 2))
        st = h5fail(h, name, "dataspace");
    st = agree(h, st);
    if (st != TRIBE_OK)
        goto cleanup;
    size_t row_bytes = (size_t)(cols > 0 ? cols : 1) * esize;
    int64_t per = (int64_t)(tribe_h5_io_bytes() / row_bytes);
    if (per < 1)
        per = 1;
    int64_t calls = (n_local > 0 && cols > 0) ? (n_local + per - 1) / per : 0;
    if (h->parallel) {
        st = tribe_par_max_i64(h->par, &calls, 1);
        if (st != TRIBE_OK)
            goto cleanup;
    } else if (calls == 0) {
        calls = 1; /* keep one (empty) call: it still checks the dataset */
    }
    for (int64_t c = 0; c < calls; c++) {
        int64_t lo = c * per, cnt = 0;
        if (cols > 0 && lo < n_local)
            cnt = n_local - lo < per ? n_local - lo : per;
        hsize_t start[2] = {(hsize_t)(offset + lo), 0}, count[2] = {(hsize_t)cnt, (hsize_t)(cols > 0 ? cols : 0)};
        hsize_t mcount[2] = {(hsize_t)(cnt > 0 ? cnt : 1), (hsize_t)(cols > 0 ? cols : 1)};
        mspace = H5Screate_simple(nd, mcount, NULL);
        herr_t sel = mspace < 0 ? -1
                     : cnt > 0  ? H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL)
                                : (H5Sselect_none(space) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0);
        static char none[8]; /* an empty selection still wants a buffer */
        char *p = cnt > 0 ? (char *)buf + (size_t)lo * row_bytes : none;
        herr_t rc = sel < 0 ? -1
                    : write ? H5Dwrite(dset, mtype, mspace, space, h->xfer, p)
                            : H5Dread(dset, mtype, mspace, space, h->xfer, p);
        H5Sclose(mspace);
        mspace = -1;
        /* Agreed after every piece: an MPI-IO error (a full disk) may reach
         * only the rank that aggregates the write. A failed read is the
         * input's content (the file could be opened): a damaged file. */
        st = agree(h, rc >= 0 ? TRIBE_OK
                      : write ? h5fail(h, name, "write")
                              : tribe_fail(TRIBE_ERR_INPUT, "%s: cannot read '%s' (damaged file?)", h->path, name));
        if (st != TRIBE_OK)
            goto cleanup;
    }
cleanup:
    if (mspace >= 0) H5Sclose(mspace);
    if (space >= 0) H5Sclose(space);
    return st;
}

/* tribe_h5_write_rows for values of HDF5 type mtype (esize bytes each),
 * stored as that type. */
static tribe_status write_rows_typed(tribe_h5 *h, const char *name, hid_t mtype, size_t esize, int64_t n_global,
                                     int64_t offset, int64_t n_local, int64_t cols, const void *data)
{
    tribe_status st = TRIBE_OK;
    hid_t space = -1, dcpl = -1, lcpl = -1, dset = -1;
    int rank2 = cols > 1 || cols == 0 ? 2 : 1;
    hsize_t dims[2] = {(hsize_t)n_global, (hsize_t)cols};
    space = H5Screate_simple(rank2, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    lcpl = lcpl_intermediate();
    if (space < 0 || dcpl < 0 || lcpl < 0)
        st = h5fail(h, name, "dataspace set-up");
    if (st == TRIBE_OK && n_global > 0 && cols > 0) {
        /* Chunks of about 1 MiB of rows: big enough for fast I/O, small
         * enough that a rank's read touches few chunks it does not own. */
        hsize_t row_bytes = (hsize_t)cols * esize;
        hsize_t crow = (1u << 20) / row_bytes;
        if (crow < 1)
            crow = 1;
        if (crow > (hsize_t)n_global)
            crow = (hsize_t)n_global;
        hsize_t chunk[2] = {crow, (hsize_t)cols};
        if (H5Pset_chunk(dcpl, rank2, chunk) < 0)
            st = h5fail(h, name, "chunking");
    }
    /* Every row is written by its rank, so fill values would only be
     * written to be overwritten; in parallel HDF5 allocates chunks when the
     * dataset is created and writes them there, and a write failing inside
     * H5Dcreate on one rank leaves the others in its barrier. */
    if (st == TRIBE_OK && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0) {
        st = h5fail(h, name, "fill time");
    }
    /* The whole dataset's chunks, allocated when it is created, plus their
     * index entries. */
    uint64_t rows = (uint64_t)(n_global > 0 ? n_global : 0), row_bytes = (uint64_t)(cols > 0 ? cols : 0) * esize;
    st = reserve(h, st, rows * row_bytes + (row_bytes ? rows * row_bytes / ((uint64_t)1 << 20) + 1 : 0) * 64);
    if (st == TRIBE_OK && (dset = H5Dcreate2(h->file, name, mtype, space, lcpl, dcpl, H5P_DEFAULT)) < 0)
        st = h5fail(h, name, "dataset creation");
    st = transfer_rows(h, name, dset, mtype, esize, offset, n_local, cols, 1, (void *)data, st);
    if (dset >= 0) H5Dclose(dset);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (lcpl >= 0) H5Pclose(lcpl);
    return st;
}

tribe_status tribe_h5_write_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global, int64_t offset,
                                 int64_t n_local, int64_t cols, const void *data)
{
    return write_rows_typed(h, name, mem_type(type), type_size(type), n_global, offset, n_local, cols, data);
}

tribe_status tribe_h5_shape(tribe_h5 *h, const char *name, int64_t *rows, int64_t *cols)
{
    int state = link_state(h, name);
    if (state <= 0)
        return tribe_fail(TRIBE_ERR_INPUT, state < 0 ? "%s: cannot read the groups above '%s' (damaged file?)"
                                                     : "%s: dataset '%s' is missing", h->path, name);
    hid_t dset = H5Dopen2(h->file, name, H5P_DEFAULT);
    if (dset < 0)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' is not a dataset (or the file is damaged)", h->path, name);
    hid_t space = H5Dget_space(dset);
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[2] = {0, 1};
    tribe_status st = TRIBE_OK;
    if (nd < 1 || nd > 2 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' is not 1-D or 2-D", h->path, name);
    *rows = (int64_t)dims[0];
    *cols = nd == 2 ? (int64_t)dims[1] : 1;
    if (space >= 0) H5Sclose(space);
    H5Dclose(dset);
    return st;
}

static const char *type_name(tribe_h5_type t)
{
    switch (t) {
    case TRIBE_H5_I32: return "int32";
    case TRIBE_H5_I64: return "int64";
    case TRIBE_H5_F32: return "float32";
    case TRIBE_H5_F64: return "float64";
    case TRIBE_H5_U8: return "uint8";
    }
    return "?";
}

/* Unless a filter compresses dataset dset (creation properties dcpl), the
 * storage it occupies must hold the rows x cols values of esize bytes its
 * dimensions claim and lie within the file, so a damaged dimension cannot
 * make tribe allocate what is not there. INPUT naming it otherwise. */
static tribe_status check_storage(tribe_h5 *h, const char *name, hid_t dset, hid_t dcpl, int64_t rows, int64_t cols,
                                  size_t esize)
{
    size_t bytes = 0;
    if (rows < 0 || cols < 0 || tribe_mul_size((size_t)rows, (size_t)cols, &bytes) != TRIBE_OK ||
        tribe_mul_size(bytes, esize, &bytes) != TRIBE_OK) {
        tribe_clear_error();
        return tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' claims %llu x %llu values (damaged file?)", h->path, name,
                          (unsigned long long)rows, (unsigned long long)cols);
    }
    if (H5Pget_nfilters(dcpl) == 0) {
        hsize_t stored = H5Dget_storage_size(dset);
        if (stored < (hsize_t)bytes || (int64_t)stored > h->file_bytes)
            return tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' claims %lld x %lld values but stores %llu bytes of "
                              "the %zu they need (damaged or incomplete file?)", h->path, name, (long long)rows,
                              (long long)cols, (unsigned long long)stored, bytes);
    }
    return TRIBE_OK;
}

/* Largest string width tribe reads from a dataset (a damaged type claims more). */
#define MAX_STR_WIDTH 4096

/* Before a dataset of rows x cols is read as `type`: its stored type must be
 * that type (no float read as an integer, no int64 narrowed, no string read
 * as a number), and its storage must hold what it claims (check_storage).
 * With str_width (string rows, `type` unused): fixed-length strings of at
 * most MAX_STR_WIDTH bytes (variable-length ones are refused, as for
 * attributes), 1-D; *str_width gets the bytes a string. */
static tribe_status check_stored(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t rows, int64_t cols,
                                 int *str_width)
{
    tribe_status st = TRIBE_OK;
    hid_t dset = H5Dopen2(h->file, name, H5P_DEFAULT);
    hid_t ft = dset >= 0 ? H5Dget_type(dset) : -1, dcpl = dset >= 0 ? H5Dget_create_plist(dset) : -1;
    if (ft < 0 || dcpl < 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: cannot open dataset '%s' (damaged file?)", h->path, name);
        goto cleanup;
    }
    H5T_class_t cls = H5Tget_class(ft);
    size_t w = H5Tget_size(ft);
    if (str_width) {
        if (cls != H5T_STRING || H5Tis_variable_str(ft) != 0 || w < 1 || w > MAX_STR_WIDTH || cols != 1) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' is not a 1-D array of fixed-length strings of at most "
                            "%d bytes (variable-length strings are not read: docs/hdf5-layout.md)", h->path, name,
                            MAX_STR_WIDTH);
            goto cleanup;
        }
        *str_width = (int)w;
    } else {
        int is_float = type == TRIBE_H5_F32 || type == TRIBE_H5_F64;
        H5T_sign_t sign = cls == H5T_INTEGER ? H5Tget_sign(ft) : H5T_SGN_ERROR;
        if (cls != (is_float ? H5T_FLOAT : H5T_INTEGER) || w != type_size(type) ||
            (!is_float && sign != (type == TRIBE_H5_U8 ? H5T_SGN_NONE : H5T_SGN_2))) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' is not stored as %s", h->path, name, type_name(type));
            goto cleanup;
        }
    }
    st = check_storage(h, name, dset, dcpl, rows, cols, w);
cleanup:
    if (ft >= 0) H5Tclose(ft);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (dset >= 0) H5Dclose(dset);
    return st;
}

/* Collective, also on a rank whose caller failed already (prior not OK): see
 * transfer_rows. */
static tribe_status read_into(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global, int64_t offset,
                              int64_t n_local, int64_t cols, void *dst, tribe_status prior)
{
    tribe_status st = prior;
    hid_t dset = -1;
    int64_t rows = 0, c = 0;
    if (st == TRIBE_OK)
        st = tribe_h5_shape(h, name, &rows, &c);
    if (st == TRIBE_OK && n_global >= 0 && rows != n_global)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' has %lld rows, expected %lld", h->path, name, (long long)rows,
                        (long long)n_global);
    else if (st == TRIBE_OK && c != cols)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' has %lld columns, expected %lld", h->path, name, (long long)c,
                        (long long)cols);
    else if (st == TRIBE_OK && (offset < 0 || n_local < 0 || offset + n_local > rows))
        st = tribe_fail(TRIBE_ERR_INTERNAL, "%s: reading rows past the end of '%s'", h->path, name);
    if (st == TRIBE_OK) /* the same metadata on every rank: the same verdict */
        st = check_stored(h, name, type, rows, c, NULL);
    if (st == TRIBE_OK && (dset = H5Dopen2(h->file, name, H5P_DEFAULT)) < 0)
        st = h5fail(h, name, "open for reading");
    st = transfer_rows(h, name, dset, mem_type(type), type_size(type), offset, n_local, cols, 0, dst, st);
    if (dset >= 0) H5Dclose(dset);
    return st;
}

tribe_status tribe_h5_read_rows_into(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global,
                                     int64_t offset, int64_t n_local, int64_t cols, void *dst)
{
    return read_into(h, name, type, n_global, offset, n_local, cols, dst, TRIBE_OK);
}

tribe_status tribe_h5_read_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global, int64_t offset,
                                int64_t n_local, int64_t *cols_out, void **out)
{
    void *buf = NULL;
    int64_t rows = 0, cols = 0;
    size_t bytes = 0;
    tribe_status st = tribe_h5_shape(h, name, &rows, &cols);
    if (st == TRIBE_OK) /* before allocating what the dimensions claim */
        st = check_stored(h, name, type, rows, cols, NULL);
    if (st == TRIBE_OK)
        st = tribe_mul_size((size_t)n_local * (size_t)cols, type_size(type), &bytes);
    if (st == TRIBE_OK)
        st = tribe_alloc(&buf, bytes);
    st = read_into(h, name, type, n_global, offset, n_local, cols, buf, st);
    if (st == TRIBE_OK) {
        if (cols_out)
            *cols_out = cols;
        *out = buf;
        buf = NULL;
    }
    free(buf);
    return st;
}

tribe_status tribe_h5_write_small(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t rows, int64_t cols,
                                  const void *data)
{
    /* A small dataset is a row dataset whose rows all belong to rank 0. */
    int rank = tribe_par_rank(h->par);
    return tribe_h5_write_rows(h, name, type, rows, 0, rank == 0 ? rows : 0, cols, data);
}

tribe_status tribe_h5_read_small(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t *rows, int64_t *cols,
                                 void **out)
{
    tribe_status st = tribe_h5_shape(h, name, rows, cols);
    if (st != TRIBE_OK)
        return st;
    return tribe_h5_read_rows(h, name, type, *rows, 0, *rows, cols, out);
}

/* ---- attributes ----------------------------------------------------------- */

/* Collective, also where the caller's set-up failed (prior not OK): disk
 * for about `bytes` of attribute is reserved, the attribute written, and the
 * ranks agree. */
static tribe_status write_attr(tribe_h5 *h, tribe_status prior, const char *obj, const char *name, hid_t ftype,
                               hid_t space, const void *data, size_t bytes)
{
    tribe_status st = reserve(h, prior, bytes);
    hid_t o = -1, a = -1;
    if (st == TRIBE_OK && (o = open_obj(h, obj)) < 0)
        st = h5fail(h, obj, "opening the object for an attribute");
    if (st == TRIBE_OK && H5Aexists(o, name) > 0 && H5Adelete(o, name) < 0)
        st = h5fail(h, name, "attribute replacement");
    if (st == TRIBE_OK &&
        ((a = H5Acreate2(o, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, ftype, data) < 0))
        st = h5fail(h, name, "attribute write");
    if (a >= 0) H5Aclose(a);
    if (o >= 0) H5Oclose(o);
    return agree(h, st);
}

/* A fixed-length, NUL-padded UTF-8 string type of len bytes (at least 1).
 * Fixed-length values live in the attribute itself, inside the object header
 * that the 1.10 format checksums; variable-length ones would live in a global
 * heap, which has no checksum and which HDF5 1.10 follows without bounds
 * checks (a damaged heap object size crashes or hangs the reader). */
static hid_t fixed_str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, len ? len : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* n strings as one fixed-length string attribute: an array, or a scalar when
 * scalar is set (n is then 1). */
static tribe_status write_strs(tribe_h5 *h, const char *obj, const char *name, int n, const char *const *values,
                               int scalar)
{
    tribe_status st = TRIBE_OK;
    size_t len = 1, bytes = 0;
    char *buf = NULL;
    hid_t t = -1, space = -1;
    hsize_t dim = (hsize_t)n;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(values[i]);
        len = l > len ? l : len;
    }
    /* A local failure still joins the collective write_attr (it agrees). */
    st = tribe_mul_size((size_t)(n > 0 ? n : 1), len, &bytes);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&buf, bytes, 1);
    for (int i = 0; st == TRIBE_OK && i < n; i++)
        memcpy(buf + (size_t)i * len, values[i], strlen(values[i]));
    t = fixed_str_type(len);
    space = scalar ? H5Screate(H5S_SCALAR) : n > 0 ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_NULL);
    if (st == TRIBE_OK && (t < 0 || space < 0))
        st = h5fail(h, name, "string type");
    st = write_attr(h, st, obj, name, t, space, buf, bytes + 16);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    free(buf);
    return st;
}

tribe_status tribe_h5_attr_strs(tribe_h5 *h, const char *obj, const char *name, int n, const char *const *values)
{
    return write_strs(h, obj, name, n, values, 0);
}

tribe_status tribe_h5_attr_str(tribe_h5 *h, const char *obj, const char *name, const char *value)
{
    return write_strs(h, obj, name, 1, &value, 1);
}

/* A scalar attribute of a native numeric type. */
static tribe_status attr_scalar(tribe_h5 *h, const char *obj, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    tribe_status st = write_attr(h, space < 0 ? h5fail(h, name, "dataspace") : TRIBE_OK, obj, name, type, space,
                                 value, 8);
    if (space >= 0) H5Sclose(space);
    return st;
}

tribe_status tribe_h5_attr_i64(tribe_h5 *h, const char *obj, const char *name, int64_t value)
{
    return attr_scalar(h, obj, name, H5T_NATIVE_INT64, &value);
}

tribe_status tribe_h5_attr_f64(tribe_h5 *h, const char *obj, const char *name, double value)
{
    return attr_scalar(h, obj, name, H5T_NATIVE_DOUBLE, &value);
}

/* 1 when obj has the attribute, 0 when obj or the attribute is missing, -1
 * when obj exists but its header cannot be read (a damaged file). */
static int attr_state(tribe_h5 *h, const char *obj, const char *name)
{
    int state = link_state(h, obj);
    if (state <= 0)
        return state;
    hid_t o = H5Oopen(h->file, obj, H5P_DEFAULT);
    if (o < 0)
        return -1;
    htri_t e = H5Aexists(o, name);
    H5Oclose(o);
    return e < 0 ? -1 : e > 0;
}

tribe_status tribe_h5_read_attr_f64_opt(tribe_h5 *h, const char *obj, const char *name, double *v)
{
    tribe_status st = TRIBE_OK;
    hid_t o = -1, a = -1, type = -1, space = -1;
    *v = NAN;
    int state = attr_state(h, obj, name);
    if (state == 0)
        return TRIBE_OK;
    if (state < 0)
        return h5fail(h, obj, "object header read");
    if ((o = H5Oopen(h->file, obj, H5P_DEFAULT)) < 0 || (a = H5Aopen(o, name, H5P_DEFAULT)) < 0 ||
        (type = H5Aget_type(a)) < 0 || (space = H5Aget_space(a)) < 0) {
        st = h5fail(h, name, "attribute open");
        goto cleanup;
    }
    /* a scalar 8-byte float, nothing converted */
    if (H5Tget_class(type) != H5T_FLOAT || H5Tget_size(type) != 8 || H5Sget_simple_extent_type(space) != H5S_SCALAR) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: attribute %s of %s is not a scalar float64", h->path, name, obj);
        goto cleanup;
    }
    if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0)
        st = h5fail(h, name, "attribute read");
cleanup:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (a >= 0) H5Aclose(a);
    if (o >= 0) H5Oclose(o);
    return st;
}

/* Checks the stored type and extent of a string attribute before anything
 * is read: fixed-length only (see fixed_str_type), a scalar, a 1-D array or
 * empty, at most MAX_ATTR_BYTES. *n and *len: strings and bytes per string. */
static tribe_status check_str_attr(tribe_h5 *h, const char *obj, const char *name, hid_t ftype, hid_t space,
                                   int *n, size_t *len)
{
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    hssize_t np = H5Sget_simple_extent_npoints(space);
    if (H5Tget_class(ftype) != H5T_STRING)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is not a string", h->path, name, obj);
    if (H5Tis_variable_str(ftype) != 0)
        return tribe_fail(TRIBE_ERR_INPUT,
                          "%s: attribute '%s' of '%s' is a variable-length string, which tribe does not read "
                          "(HDF5 cannot read a damaged one safely); the file was written by an older tribe or "
                          "another program: re-create it with 'tribe ingest' or 'tribe run', or store fixed-length "
                          "strings (docs/hdf5-layout.md)",
                          h->path, name, obj);
    *len = H5Tget_size(ftype);
    if (sc == H5S_NULL)
        np = 0;
    else if (np < 0 || (sc == H5S_SIMPLE && H5Sget_simple_extent_ndims(space) != 1) ||
             (sc != H5S_SIMPLE && sc != H5S_SCALAR))
        return tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is not a string or a list of strings",
                          h->path, name, obj);
    if (*len == 0 || (uint64_t)np > MAX_ATTR_BYTES / *len)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' claims %lld strings of %zu bytes "
                          "(damaged file?)", h->path, name, obj, (long long)np, *len);
    *n = (int)np;
    return TRIBE_OK;
}

tribe_status tribe_h5_read_attr_strs(tribe_h5 *h, const char *obj, const char *name, int *n_out, char ***out)
{
    tribe_status st = TRIBE_OK;
    hid_t o = -1, a = -1, space = -1, ftype = -1, t = -1;
    char *raw = NULL, **res = NULL;
    int n = 0;
    size_t len = 0;
    int state = attr_state(h, obj, name);
    if (state <= 0) {
        st = state < 0 ? tribe_fail(TRIBE_ERR_INPUT, "%s: cannot read the header of '%s' (damaged file?)", h->path, obj)
                       : tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is missing", h->path, name, obj);
        goto cleanup;
    }
    o = H5Oopen(h->file, obj, H5P_DEFAULT);
    a = o >= 0 ? H5Aopen(o, name, H5P_DEFAULT) : -1;
    space = a >= 0 ? H5Aget_space(a) : -1;
    ftype = a >= 0 ? H5Aget_type(a) : -1;
    if (a < 0 || space < 0 || ftype < 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: cannot open attribute '%s' of '%s' (damaged file?)", h->path, name, obj);
        goto cleanup;
    }
    TRIBE_TRY(check_str_attr(h, obj, name, ftype, space, &n, &len));
    TRIBE_TRY(tribe_calloc((void **)&raw, (size_t)(n ? n : 1) * len + 1, 1));
    TRIBE_TRY(tribe_calloc((void **)&res, (size_t)(n ? n : 1), sizeof *res));
    /* The file's own type as memory type: bytes are copied, never converted. */
    t = H5Tcopy(ftype);
    if (t < 0 || (n > 0 && H5Aread(a, t, raw) < 0)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: cannot read attribute '%s' of '%s' (damaged file?)", h->path, name, obj);
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        const char *v = raw + (size_t)i * len;
        size_t l = strnlen(v, len);
        if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
            while (l > 0 && v[l - 1] == ' ')
                l--;
        TRIBE_TRY(tribe_alloc((void **)&res[i], l + 1));
        memcpy(res[i], v, l);
        res[i][l] = '\0';
    }
    *n_out = n;
    *out = res;
    res = NULL;
cleanup:
    free(raw);
    if (res) {
        for (int i = 0; i < n; i++)
            free(res[i]);
        free(res);
    }
    if (t >= 0) H5Tclose(t);
    if (ftype >= 0) H5Tclose(ftype);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (o >= 0) H5Oclose(o);
    return st;
}

tribe_status tribe_h5_read_attr_strs_opt(tribe_h5 *h, const char *obj, const char *name, int *n, char ***out)
{
    *n = 0;
    *out = NULL;
    return attr_state(h, obj, name) != 0 ? tribe_h5_read_attr_strs(h, obj, name, n, out) : TRIBE_OK;
}

tribe_status tribe_h5_read_attr_str_opt(tribe_h5 *h, const char *obj, const char *name, char **out)
{
    *out = NULL;
    return attr_state(h, obj, name) != 0 ? tribe_h5_read_attr_str(h, obj, name, out) : TRIBE_OK;
}

tribe_status tribe_h5_read_attr_str(tribe_h5 *h, const char *obj, const char *name, char **out)
{
    int n = 0;
    char **v = NULL;
    tribe_status st = tribe_h5_read_attr_strs(h, obj, name, &n, &v);
    if (st != TRIBE_OK)
        return st;
    if (n != 1) {
        for (int i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is not a single string", h->path, name, obj);
    }
    *out = v[0];
    free(v);
    return TRIBE_OK;
}

typedef struct {
    int n, cap;
    char **names;
    tribe_status st;
} list_acc;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    (void)info;
    list_acc *acc = data;
    if (acc->n == acc->cap) {
        acc->cap = acc->cap ? 2 * acc->cap : 16;
        acc->st = tribe_realloc((void **)&acc->names, (size_t)acc->cap * sizeof *acc->names);
        if (acc->st != TRIBE_OK)
            return -1;
    }
    acc->st = tribe_strdup(name, &acc->names[acc->n]);
    if (acc->st != TRIBE_OK)
        return -1;
    acc->n++;
    return 0;
}

tribe_status tribe_h5_list(tribe_h5 *h, const char *group, int *n, char ***out)
{
    list_acc acc = {0, 0, NULL, TRIBE_OK};
    if (!tribe_h5_exists(h, group)) {
        *n = 0;
        *out = NULL;
        return TRIBE_OK;
    }
    hid_t g = H5Gopen2(h->file, group, H5P_DEFAULT);
    if (g < 0)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' is not a group", h->path, group);
    herr_t rc = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cb, &acc);
    H5Gclose(g);
    if (rc < 0) {
        for (int i = 0; i < acc.n; i++)
            free(acc.names[i]);
        free(acc.names);
        return acc.st != TRIBE_OK ? acc.st : h5fail(h, group, "group listing");
    }
    *n = acc.n;
    *out = acc.names;
    return TRIBE_OK;
}

/* ---- fixed-length string rows ------------------------------------------- */

tribe_status tribe_h5_write_str_rows(tribe_h5 *h, const char *name, int64_t n_global, int64_t offset,
                                     int64_t n_local, int width, const char *data)
{
    hid_t t = width > 0 ? fixed_str_type((size_t)width) : -1;
    tribe_status st = agree(h, t < 0 ? h5fail(h, name, "string type") : TRIBE_OK);
    if (st == TRIBE_OK)
        st = write_rows_typed(h, name, t, (size_t)width, n_global, offset, n_local, 1, data);
    if (t >= 0) H5Tclose(t);
    return st;
}

tribe_status tribe_h5_read_str_rows(tribe_h5 *h, const char *name, int64_t n_global, int64_t offset,
                                    int64_t n_local, int *width, char **out)
{
    int64_t rows = 0, cols = 0;
    int w = 0;
    hid_t dset = -1, t = -1;
    char *buf = NULL;
    tribe_status st = tribe_h5_shape(h, name, &rows, &cols);
    if (st == TRIBE_OK && n_global >= 0 && rows != n_global)
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' has %lld rows, expected %lld", h->path, name, (long long)rows,
                        (long long)n_global);
    else if (st == TRIBE_OK && (offset < 0 || n_local < 0 || offset + n_local > rows))
        st = tribe_fail(TRIBE_ERR_INTERNAL, "%s: reading rows past the end of '%s'", h->path, name);
    if (st == TRIBE_OK) /* the same metadata on every rank: the same verdict */
        st = check_stored(h, name, TRIBE_H5_U8, rows, cols, &w);
    if (st == TRIBE_OK)
        st = tribe_alloc((void **)&buf, (size_t)(n_local > 0 ? n_local : 1) * (size_t)w);
    /* read as stored (ASCII or UTF-8, NUL- or space-padded): HDF5 converts
     * between neither character sets (a space-padded id then fails its check) */
    if (st == TRIBE_OK && ((dset = H5Dopen2(h->file, name, H5P_DEFAULT)) < 0 || (t = H5Dget_type(dset)) < 0))
        st = h5fail(h, name, "open for reading");
    st = transfer_rows(h, name, dset, t, (size_t)w, offset, n_local, 1, 0, buf, st);
    if (dset >= 0) H5Dclose(dset);
    if (t >= 0) H5Tclose(t);
    if (st == TRIBE_OK) {
        *width = w;
        *out = buf;
        buf = NULL;
    }
    free(buf);
    return st;
}
