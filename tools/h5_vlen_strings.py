#!/usr/bin/python3
"""Rewrites every string attribute of HDF5 files in place as a variable-length UTF-8 string, the way
tribe wrote them before it wrote fixed-length ones (docs/hdf5-layout.md, "Strings").

    /usr/bin/python3 tools/h5_vlen_strings.py FILE.h5...

Used by tools/same_results.sh to give a base build from before that change inputs it reads, and by
tests/e2e/h5corrupt.py to make files as an older tribe wrote them. Needs h5py and numpy.
"""
import sys

import h5py
import numpy as np


def to_vlen(path):
    with h5py.File(path, "r+") as f:
        objs = [f]
        f.visititems(lambda name, o: objs.append(o))
        for o in objs:
            for k in list(o.attrs):
                v = o.attrs[k]
                if isinstance(v, bytes):
                    o.attrs[k] = v.decode()
                elif isinstance(v, np.ndarray) and v.dtype.kind == "S":
                    o.attrs.create(k, [s.decode() for s in v], dtype=h5py.string_dtype("utf-8"))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        to_vlen(p)
