"""Reading untrusted ``.npy`` files: the header is checked against the file before any
memory is allocated, and nothing is unpickled.

`numpy.load` trusts the header: a damaged one escapes as a tokenizer or syntax error,
and a header that declares 10**12 rows makes it try to allocate them. Here every
header problem becomes a `DataError`, object dtypes are refused, and the declared size
(shape times item size) must equal the bytes that follow the header.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import DataError

# A .npy header is a short Python literal; numpy itself refuses headers over 10000 bytes.
MAX_HEADER_BYTES = 10_000


def show_path(path) -> str:
    """The file name for an error message, shortened in the middle if it is very long."""
    s = os.fspath(path)
    return s if len(s) <= 160 else f"{s[:60]}...{s[-60:]}"


def open_checked(path) -> tuple[Path, int]:
    """``(path, size in bytes)`` of a regular file that exists; `DataError` otherwise."""
    import stat

    path = Path(path)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{show_path(path)}: no such file") from None
    except OSError as e:
        raise DataError(f"{show_path(path)}: cannot be read ({e.strerror or e})") from None
    except ValueError as e:  # e.g. a NUL character in the name
        raise DataError(f"{show_path(path)!r}: not a usable file name ({e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{show_path(path)}: not a file")
    return path, st.st_size


def read_npy(path) -> np.ndarray:
    """The array of a ``.npy`` file, read only after its header has been checked."""
    path, size = open_checked(path)
    name = show_path(path)
    try:
        with open(path, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                        f, max_header_size=MAX_HEADER_BYTES
                    )
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                        f, max_header_size=MAX_HEADER_BYTES
                    )
                else:
                    raise ValueError(f"version {version}")
            except Exception as e:  # noqa: BLE001 - untrusted header: any parse failure
                raise DataError(
                    f"{name}: not a readable .npy file (damaged header: {e.__class__.__name__})"
                ) from None
            if dtype.hasobject:
                raise DataError(f"{name}: the .npy array holds Python objects, which are not read")
            if dtype.itemsize == 0:
                raise DataError(f"{name}: the .npy array has items of 0 bytes")
            count = math.prod(int(n) for n in shape)
            declared = count * dtype.itemsize
            available = size - f.tell()
            if declared != available:
                raise DataError(
                    f"{name}: the .npy header declares shape {tuple(shape)} of {dtype} "
                    f"({declared} bytes) but the file holds {available} bytes of data"
                )
            data = np.fromfile(f, dtype=dtype, count=count)
    except OSError as e:
        raise DataError(f"{name}: cannot be read ({e.strerror or e})") from None
    if len(data) != count:
        raise DataError(f"{name}: the file changed while it was being read")
    return data.reshape(shape, order="F" if fortran else "C")
