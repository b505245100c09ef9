#!/usr/bin/python3
"""Makes the corrupted HDF5 file set of test_fault_h5corrupt.sh from a good customers.h5 and results.h5.

    h5corrupt.py CUSTOMERS.h5 RESULTS.h5 OUTDIR

Byte flips use the standard library only (the files' bytes, located by searching for a known value);
h5py rewrites objects where a whole object must change (a variable-length string attribute as older
tribe versions and h5py write them, a dataset of another type or shape). Prints one line per file:
NAME KIND (customers or results) and what was done.
"""
import os
import shutil
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from h5_vlen_strings import to_vlen  # noqa: E402  (as an older tribe wrote strings)


def flip(src, dst, off, value=None):
    b = bytearray(open(src, "rb").read())
    b[off] = (b[off] ^ 0xFF) if value is None else value
    open(dst, "wb").write(b)


def find(path, needle):
    b = open(path, "rb").read()
    i = b.find(needle)
    assert i >= 0 and b.find(needle, i + 1) < 0, (path, needle, i)
    return i


def heap_objects(path):
    """(offset of the size field, data) of each object of the first global heap collection."""
    b = open(path, "rb").read()
    g = b.find(b"GCOL")
    assert g >= 0, path
    p, out = g + 16, []
    while p + 16 <= len(b):
        idx, size = int.from_bytes(b[p:p + 2], "little"), int.from_bytes(b[p + 8:p + 16], "little")
        if idx == 0:
            break
        out.append((p + 8, b[p + 16:p + 16 + size]))
        p += 16 + (size + 7) // 8 * 8
    return out


def retype(path, name, dtype=None, extra_col=False, shape=None):
    """Replaces dataset `name` by one of another type, one more column or a huge unwritten shape."""
    with h5py.File(path, "r+") as f:
        d = f[name]
        data, attrs = d[...], {k: d.attrs[k] for k in d.attrs}
        del f[name]
        if shape is not None:
            n = f.create_dataset(name, shape=shape, dtype=data.dtype, chunks=(1024,) + shape[1:])
        else:
            if extra_col:
                data = np.concatenate([data, data[:, :1]], axis=1)
            n = f.create_dataset(name, data=data.astype(dtype or data.dtype))
        for k, v in attrs.items():
            n.attrs[k] = v


def main():
    cust, res, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    made = []

    def new(name, kind, src, what):
        dst = os.path.join(out, name)
        shutil.copyfile(src, dst)
        made.append((name, kind, what))
        return dst

    with h5py.File(cust, "r") as f:
        # a feature name stored once (those of the default model columns are also in model_default)
        raw = open(cust, "rb").read()
        names = [v.encode() if isinstance(v, str) else bytes(v) for v in f["/customers/features"].attrs["feature_names"]]
        feat0 = next(v for v in names if raw.count(v) == 1)
        n, d = f["/customers/features"].shape
    with h5py.File(res, "r") as f:
        seg0 = f["/segments"].attrs["names"][0]

    for src, kind, pre in ((cust, "customers", "c"), (res, "results", "r")):
        # The string attributes: a byte of the first feature name / segment name, and of the format marker.
        value = feat0 if kind == "customers" else seg0
        value = value.encode() if isinstance(value, str) else bytes(value)  # str: an older tribe's file
        dst = new(f"{pre}_attr_flip.h5", kind, src, f"a byte of the attribute value {value!r} flipped")
        flip(src, dst, find(src, value) + 1)
        marker = b"tribe-customers" if kind == "customers" else b"tribe-results"
        dst = new(f"{pre}_format_flip.h5", kind, src, "a byte of the tribe_format attribute flipped")
        flip(src, dst, find(src, marker) + 3)
        # The superblock (after the 8-byte signature: sizes, addresses, checksum).
        dst = new(f"{pre}_superblock.h5", kind, src, "a byte of the superblock flipped")
        flip(src, dst, 28)
        # Truncated to half, empty, not HDF5 at all.
        dst = new(f"{pre}_truncated.h5", kind, src, "the first half of the file")
        open(dst, "wb").write(open(src, "rb").read()[: os.path.getsize(src) // 2])
        dst = new(f"{pre}_empty.h5", kind, src, "an empty file")
        open(dst, "wb").close()
        dst = new(f"{pre}_text.h5", kind, src, "a text file")
        open(dst, "w").write("Invoice,StockCode\n1,2\n")
        # Variable-length strings as older tribe versions wrote them: refused as such, and with a
        # damaged global heap object size (HDF5 1.10 loops forever on the low byte, crashes on a high
        # one) refused before HDF5 reads the heap.
        vl = new(f"{pre}_vlen.h5", kind, src, "string attributes as variable-length strings")
        to_vlen(vl)
        for off, data in heap_objects(vl):
            if data == value:
                dst = new(f"{pre}_vlen_heap_low.h5", kind, vl, "vlen strings, heap object size low byte damaged")
                flip(vl, dst, off, 0xFF)
                dst = new(f"{pre}_vlen_heap_high.h5", kind, vl, "vlen strings, heap object size byte 2 damaged")
                flip(vl, dst, off + 2, 0x01)

    # Datasets of the wrong type or shape, and dimensions claiming far more than is stored.
    dst = new("c_features_f64.h5", "customers", cust, "/customers/features as float64")
    retype(dst, "/customers/features", dtype=np.float64)
    dst = new("c_id_f64.h5", "customers", cust, "/customers/id as float64")
    retype(dst, "/customers/id", dtype=np.float64)
    dst = new("c_features_wide.h5", "customers", cust, "/customers/features with one column more than names")
    retype(dst, "/customers/features", extra_col=True)
    dst = new("c_huge_dims.h5", "customers", cust, "id and features claim 10^11 rows, none written")
    retype(dst, "/customers/id", shape=(10**11,))
    retype(dst, "/customers/features", shape=(10**11, d))
    dst = new("r_centroids_f32.h5", "results", res, "/model/centroids as float32")
    retype(dst, "/model/centroids", dtype=np.float32)
    dst = new("r_label_i64.h5", "results", res, "/segments/label as int64")
    retype(dst, "/segments/label", dtype=np.int64)

    for name, kind, what in made:
        print(name, kind, what)


if __name__ == "__main__":
    main()
