/* Parallel HDF5 access (tribe/h5.h). Every HDF5 return value is checked;
 * HDF5's own error stack printing is switched off and replaced by messages
 * that name the file and object. */
#include "tribe/h5.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

struct tribe_h5 {
    tribe_par *par;
    hid_t file;
    hid_t xfer;     /* dataset transfer list: collective MPI-IO when parallel */
    int parallel;
    char *path;
};

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

static tribe_status h5fail(const tribe_h5 *h, const char *obj, const char *what)
{
    return tribe_fail(TRIBE_ERR_IO, "%s: HDF5 %s failed for '%s'", h ? h->path : "?", what, obj);
}

static hid_t make_fapl(tribe_par *par, int *parallel)
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
    return fapl;
}

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
    TRIBE_TRY(tribe_strdup(path, &h->path));
    fapl = make_fapl(par, &h->parallel);
    if (fapl < 0) {
        st = tribe_fail(TRIBE_ERR_IO, "%s: cannot set up parallel HDF5 access", path);
        goto cleanup;
    }
    if (create) {
        h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        if (h->file < 0) {
            st = tribe_fail(TRIBE_ERR_IO, "%s: cannot create HDF5 file (is the directory writable?)", path);
            goto cleanup;
        }
    } else {
        FILE *f = fopen(path, "rb");
        if (!f) {
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open", path);
            goto cleanup;
        }
        fclose(f);
        /* HDF5 1.10 (Debian 12): H5Fis_hdf5 reads only the superblock signature. */
        htri_t is = H5Fis_hdf5(path);
        if (is <= 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s: not an HDF5 file", path);
            goto cleanup;
        }
        h->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
        if (h->file < 0) {
            st = tribe_fail(TRIBE_ERR_IO, "%s: cannot open HDF5 file", path);
            goto cleanup;
        }
    }
    h->xfer = H5Pcreate(H5P_DATASET_XFER);
    if (h->xfer < 0 || (h->parallel && H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_COLLECTIVE) < 0)) {
        st = tribe_fail(TRIBE_ERR_IO, "%s: cannot set up collective transfers", path);
        goto cleanup;
    }
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

tribe_status tribe_h5_open(tribe_par *par, const char *path, tribe_h5 **out)
{
    return open_common(par, path, 0, out);
}

tribe_status tribe_h5_close(tribe_h5 **hp)
{
    if (!hp || !*hp)
        return TRIBE_OK;
    tribe_h5 *h = *hp;
    tribe_status st = TRIBE_OK;
    if (h->xfer >= 0)
        H5Pclose(h->xfer);
    if (h->file >= 0 && H5Fclose(h->file) < 0)
        st = tribe_fail(TRIBE_ERR_IO, "%s: closing the HDF5 file failed (disk full?)", h->path);
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

int tribe_h5_exists(tribe_h5 *h, const char *name)
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
            if (H5Lexists(h->file, buf, H5P_DEFAULT) <= 0)
                return 0;
            if (c == '\0')
                return 1;
            *p = c;
        }
    }
}

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
 * sees more than one piece, whatever the shard size. */
static tribe_status transfer_rows(tribe_h5 *h, const char *name, hid_t dset, tribe_h5_type type, int64_t offset,
                                  int64_t n_local, int64_t cols, int write, void *buf)
{
    tribe_status st = TRIBE_OK;
    hid_t space = H5Dget_space(dset), mspace = -1;
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (nd < 1 || nd > 2)
        return space >= 0 ? (H5Sclose(space), h5fail(h, name, "dataspace")) : h5fail(h, name, "dataspace");
    size_t row_bytes = (size_t)(cols > 0 ? cols : 1) * type_size(type);
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
                    : write ? H5Dwrite(dset, mem_type(type), mspace, space, h->xfer, p)
                            : H5Dread(dset, mem_type(type), mspace, space, h->xfer, p);
        H5Sclose(mspace);
        mspace = -1;
        if (rc < 0) {
            /* Other ranks may still be inside later collective calls: HDF5
             * errors here are fatal to the job anyway (MPI-IO aborts or the
             * caller's agree reports it). */
            st = h5fail(h, name, write ? "write" : "read");
            goto cleanup;
        }
    }
cleanup:
    if (mspace >= 0) H5Sclose(mspace);
    H5Sclose(space);
    return st;
}

tribe_status tribe_h5_write_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global, int64_t offset,
                                 int64_t n_local, int64_t cols, const void *data)
{
    tribe_status st = TRIBE_OK;
    hid_t space = -1, dcpl = -1, lcpl = -1, dset = -1;
    int rank2 = cols > 1 || cols == 0 ? 2 : 1;
    hsize_t dims[2] = {(hsize_t)n_global, (hsize_t)cols};
    space = H5Screate_simple(rank2, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    lcpl = lcpl_intermediate();
    if (space < 0 || dcpl < 0 || lcpl < 0) {
        st = h5fail(h, name, "dataspace set-up");
        goto cleanup;
    }
    if (n_global > 0) {
        /* Chunks of about 1 MiB of rows: big enough for fast I/O, small
         * enough that a rank's read touches few chunks it does not own. */
        hsize_t row_bytes = (hsize_t)(cols > 0 ? cols : 1) * type_size(type);
        hsize_t crow = (1u << 20) / row_bytes;
        if (crow < 1)
            crow = 1;
        if (crow > (hsize_t)n_global)
            crow = (hsize_t)n_global;
        hsize_t chunk[2] = {crow, (hsize_t)(cols > 0 ? cols : 1)};
        if (cols > 0 && H5Pset_chunk(dcpl, rank2, chunk) < 0) {
            st = h5fail(h, name, "chunking");
            goto cleanup;
        }
    }
    dset = H5Dcreate2(h->file, name, mem_type(type), space, lcpl, dcpl, H5P_DEFAULT);
    if (dset < 0) {
        st = h5fail(h, name, "dataset creation");
        goto cleanup;
    }
    st = transfer_rows(h, name, dset, type, offset, n_local, cols, 1, (void *)data);
cleanup:
    if (dset >= 0) H5Dclose(dset);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (lcpl >= 0) H5Pclose(lcpl);
    return st;
}

tribe_status tribe_h5_shape(tribe_h5 *h, const char *name, int64_t *rows, int64_t *cols)
{
    if (!tribe_h5_exists(h, name))
        return tribe_fail(TRIBE_ERR_INPUT, "%s: dataset '%s' is missing", h->path, name);
    hid_t dset = H5Dopen2(h->file, name, H5P_DEFAULT);
    if (dset < 0)
        return tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' is not a dataset", h->path, name);
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

tribe_status tribe_h5_read_rows_into(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global,
                                     int64_t offset, int64_t n_local, int64_t cols, void *dst)
{
    tribe_status st = TRIBE_OK;
    hid_t dset = -1;
    int64_t rows = 0, c = 0;
    TRIBE_TRY(tribe_h5_shape(h, name, &rows, &c));
    if (n_global >= 0 && rows != n_global) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' has %lld rows, expected %lld", h->path, name, (long long)rows,
                        (long long)n_global);
        goto cleanup;
    }
    if (c != cols) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: '%s' has %lld columns, expected %lld", h->path, name, (long long)c,
                        (long long)cols);
        goto cleanup;
    }
    if (offset < 0 || n_local < 0 || offset + n_local > rows) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "%s: reading rows past the end of '%s'", h->path, name);
        goto cleanup;
    }
    dset = H5Dopen2(h->file, name, H5P_DEFAULT);
    if (dset < 0) {
        st = h5fail(h, name, "open for reading");
        goto cleanup;
    }
    st = transfer_rows(h, name, dset, type, offset, n_local, cols, 0, dst);
cleanup:
    if (dset >= 0) H5Dclose(dset);
    return st;
}

tribe_status tribe_h5_read_rows(tribe_h5 *h, const char *name, tribe_h5_type type, int64_t n_global, int64_t offset,
                                int64_t n_local, int64_t *cols_out, void **out)
{
    tribe_status st = TRIBE_OK;
    void *buf = NULL;
    int64_t rows = 0, cols = 0;
    size_t bytes;
    TRIBE_TRY(tribe_h5_shape(h, name, &rows, &cols));
    TRIBE_TRY(tribe_mul_size((size_t)n_local * (size_t)cols, type_size(type), &bytes));
    TRIBE_TRY(tribe_alloc(&buf, bytes));
    TRIBE_TRY(tribe_h5_read_rows_into(h, name, type, n_global, offset, n_local, cols, buf));
    if (cols_out)
        *cols_out = cols;
    *out = buf;
    buf = NULL;
cleanup:
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

static tribe_status write_attr(tribe_h5 *h, const char *obj, const char *name, hid_t ftype, hid_t space,
                               const void *data)
{
    tribe_status st = TRIBE_OK;
    hid_t o = open_obj(h, obj);
    hid_t a = -1;
    if (o < 0)
        return h5fail(h, obj, "opening the object for an attribute");
    if (H5Aexists(o, name) > 0 && H5Adelete(o, name) < 0) {
        st = h5fail(h, name, "attribute replacement");
        goto cleanup;
    }
    a = H5Acreate2(o, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, ftype, data) < 0)
        st = h5fail(h, name, "attribute write");
cleanup:
    if (a >= 0) H5Aclose(a);
    H5Oclose(o);
    return st;
}

static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

tribe_status tribe_h5_attr_strs(tribe_h5 *h, const char *obj, const char *name, int n, const char *const *values)
{
    hid_t t = vlen_str_type();
    hsize_t dim = (hsize_t)n;
    hid_t space = n > 0 ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_NULL);
    tribe_status st = (t < 0 || space < 0) ? h5fail(h, name, "string type") : TRIBE_OK;
    if (st == TRIBE_OK)
        st = write_attr(h, obj, name, t, space, values);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    return st;
}

tribe_status tribe_h5_attr_str(tribe_h5 *h, const char *obj, const char *name, const char *value)
{
    hid_t t = vlen_str_type();
    hid_t space = H5Screate(H5S_SCALAR);
    tribe_status st = (t < 0 || space < 0) ? h5fail(h, name, "string type") : TRIBE_OK;
    if (st == TRIBE_OK)
        st = write_attr(h, obj, name, t, space, &value);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    return st;
}

tribe_status tribe_h5_attr_i64(tribe_h5 *h, const char *obj, const char *name, int64_t value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return h5fail(h, name, "dataspace");
    tribe_status st = write_attr(h, obj, name, H5T_NATIVE_INT64, space, &value);
    H5Sclose(space);
    return st;
}

tribe_status tribe_h5_attr_f64(tribe_h5 *h, const char *obj, const char *name, double value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return h5fail(h, name, "dataspace");
    tribe_status st = write_attr(h, obj, name, H5T_NATIVE_DOUBLE, space, &value);
    H5Sclose(space);
    return st;
}

tribe_status tribe_h5_read_attr_strs(tribe_h5 *h, const char *obj, const char *name, int *n_out, char ***out)
{
    tribe_status st = TRIBE_OK;
    hid_t o = -1, a = -1, space = -1, ftype = -1, t = -1;
    char **raw = NULL, **res = NULL;
    int n = 0;
    if (!tribe_h5_exists(h, obj) || (o = H5Oopen(h->file, obj, H5P_DEFAULT)) < 0 || H5Aexists(o, name) <= 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is missing", h->path, name, obj);
        goto cleanup;
    }
    a = H5Aopen(o, name, H5P_DEFAULT);
    space = a >= 0 ? H5Aget_space(a) : -1;
    ftype = a >= 0 ? H5Aget_type(a) : -1;
    t = vlen_str_type();
    if (a < 0 || space < 0 || ftype < 0 || t < 0) {
        st = h5fail(h, name, "attribute open");
        goto cleanup;
    }
    if (H5Tget_class(ftype) != H5T_STRING || !H5Tis_variable_str(ftype)) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: attribute '%s' of '%s' is not a string", h->path, name, obj);
        goto cleanup;
    }
    hssize_t np = H5Sget_simple_extent_npoints(space);
    n = np > 0 ? (int)np : 0;
    TRIBE_TRY(tribe_calloc((void **)&raw, (size_t)(n ? n : 1), sizeof *raw));
    TRIBE_TRY(tribe_calloc((void **)&res, (size_t)(n ? n : 1), sizeof *res));
    if (n > 0 && H5Aread(a, t, raw) < 0) {
        st = h5fail(h, name, "attribute read");
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        TRIBE_TRY(tribe_strdup(raw[i] ? raw[i] : "", &res[i]));
    *n_out = n;
    *out = res;
    res = NULL;
cleanup:
    if (raw && n > 0 && space >= 0 && t >= 0)
        H5Dvlen_reclaim(t, space, H5P_DEFAULT, raw);
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
