"""Image data sets read from local files (no network): Fashion-MNIST.

Fashion-MNIST [1]_ has 70,000 grey-scale 28x28 images of clothing in 10 classes
(60,000 for training, 10,000 for testing), distributed as four IDX files::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

(gzipped or not). The IDX format is a big-endian header -- two zero bytes, a
type code (``0x08`` for unsigned bytes), the number of dimensions ``d``, then
``d`` 32-bit sizes -- followed by the raw array. :func:`read_idx` reads it with
NumPy alone.

:func:`find_fashion_mnist` looks for the files, in this order, in

1. the directory passed as ``data_dir`` (the command line's ``--data-dir``);
2. the directory named by the environment variable ``QSGD_DATA_DIR``
   (or its ``fashion-mnist`` subdirectory);
3. ``/usr/share/datasets/fashion-mnist``, where Debian's package
   ``dataset-fashion-mnist`` installs them (``apt-get install dataset-fashion-mnist``).

References
----------
.. [1] H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for
   benchmarking machine learning algorithms", arXiv:1708.07747 (2017).

Used in chapter 7.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from qsgd._validation import as_seed, check_bool, check_int, deprecated_seed_alias, describe
from qsgd.nn import DataSplit, torch_dtype

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "find_fashion_mnist",
    "load_fashion_mnist",
    "read_idx",
    "write_idx",
]

#: environment variable naming a directory with the data files
DATA_DIR_ENV = "QSGD_DATA_DIR"
#: where Debian's ``dataset-fashion-mnist`` package puts the files
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: the four files, keyed by (split, kind)
FASHION_MNIST_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
#: mean and standard deviation of the 60,000 training images' pixels (scaled to [0, 1])
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

_HOW_TO_GET = (
    "Install Debian's package with `sudo apt-get install dataset-fashion-mnist` (it puts the files in "
    "/usr/share/datasets/fashion-mnist), or download the four files train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from "
    "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion) into a directory and pass it "
    f"as data_dir (command line: --data-dir) or in the environment variable {DATA_DIR_ENV}."
)


def _open(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into a NumPy array of its stored shape and type.

    Raises
    ------
    ValueError
        When the header is not an IDX header or the payload has the wrong size.

    Used in chapter 7.
    """
    func = "read_idx"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{func}: path must be a str or path-like, got {describe(path)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{func}: no file {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"{func}: {str(path)!r} is not a file")
    try:
        with _open(path) as fh:
            raw = fh.read()
    except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupted gzip stream
        raise ValueError(f"{func}: {str(path)!r} is a corrupted or truncated gzip file ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{func}: {str(path)!r} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{func}: {str(path)!r} has a truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{func}: {str(path)!r} declares shape {shape} ({expected} bytes) but holds {len(raw) - header} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file; gzipped when ``compress`` (default: name ends in ``.gz``).

    The inverse of :func:`read_idx`, for tests and for converting other data.
    """
    func = "write_idx"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{func}: path must be a str or path-like, got {describe(path)}")
    if compress is not None:
        compress = check_bool(compress, "compress", func=func)
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or arr.ndim == 0 or arr.ndim > 255:
        raise ValueError(f"{func}: array must be a uint8 array with 1 to 255 dimensions, got {describe(arr)}")
    path = Path(path)
    compress = path.name.endswith(".gz") if compress is None else bool(compress)
    payload = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes() + arr.tobytes()
    if compress:
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
            fh.write(payload)
    else:
        path.write_bytes(payload)
    return path


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _candidates(data_dir) -> list[Path]:
    out = []
    if data_dir is not None:
        out.append(Path(data_dir).expanduser())
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        out += [Path(env).expanduser(), Path(env).expanduser() / "fashion-mnist"]
    out.append(DEBIAN_DIR)
    return out


def find_fashion_mnist(data_dir=None) -> dict[tuple[str, str], Path]:
    """Paths of the four Fashion-MNIST files, from the first directory that holds all four.

    Looks in ``data_dir``, then in ``$QSGD_DATA_DIR`` (and its ``fashion-mnist``
    subdirectory), then in ``/usr/share/datasets/fashion-mnist``. A ``data_dir``
    given explicitly must hold the files.

    Raises
    ------
    FileNotFoundError
        With the directories searched and how to get the files.

    Used in chapter 7.
    """
    func = "find_fashion_mnist"
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ValueError(f"{func}: data_dir must be a str or path-like, got {describe(data_dir)}")
    searched = _candidates(data_dir)
    if data_dir is not None:
        searched = searched[:1]  # an explicit directory is not silently replaced by another one
        if not searched[0].is_dir():
            raise FileNotFoundError(
                f"{func}: data_dir {str(searched[0])!r} does not exist or is not a directory. {_HOW_TO_GET}")
    for folder in searched:
        found = {key: _file_in(folder, stem) for key, stem in FASHION_MNIST_FILES.items()}
        if all(found.values()):
            return found
    where = ", ".join(repr(str(p)) for p in searched)
    raise FileNotFoundError(f"{func}: Fashion-MNIST not found (looked in {where}). {_HOW_TO_GET}")


@deprecated_seed_alias
def load_fashion_mnist(
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    rng=0,
    dtype="float32",
    data_dir=None,
    flatten: bool = False,
):
    """Fashion-MNIST as a :class:`qsgd.nn.DataSplit` of normalized tensors.

    Pixels are scaled to [0, 1] and standardized with the training set's
    mean 0.2860 and standard deviation 0.3530; images have shape
    ``(N, 1, 28, 28)`` (``flatten=True``: ``(N, 784)``), labels ``int64`` in
    0..9 (:data:`FASHION_MNIST_CLASSES`). With ``n_train``/``n_test`` a random
    subset (without replacement, ``np.random.default_rng(seed)`` with the int seed of
    ``rng``, a pure function of it) is kept, in random order; ``None`` keeps all images
    in file order.

    Parameters
    ----------
    n_train, n_test : int or None, keyword-only
        At most 60,000 and 10,000 (or the sizes of the files found).
    rng : int, numpy Generator or None, keyword-only
        Seed of the subsets (a Generator gives one drawn seed, ``None`` the default 0);
        ``seed=`` is a deprecated alias.
    dtype : {"float32", "float64"}, keyword-only
    data_dir : str, path or None, keyword-only
        Directory with the four IDX files (see :func:`find_fashion_mnist`).
    flatten : bool, keyword-only

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``.

    Raises
    ------
    FileNotFoundError
        When the files are not found (the message says how to get them).
    ValueError
        For bad arguments or inconsistent files.

    References
    ----------
    .. [1] Xiao, Rasul, Vollgraf, arXiv:1708.07747 (2017).

    Used in chapter 7.
    """
    func = "load_fashion_mnist"
    seed = as_seed(rng, func=func, default=0)
    dt = torch_dtype(dtype, func=func)
    flatten = check_bool(flatten, "flatten", func=func)
    n_train = None if n_train is None else check_int(n_train, "n_train", func=func, minimum=1)
    n_test = None if n_test is None else check_int(n_test, "n_test", func=func, minimum=1)
    files = find_fashion_mnist(data_dir)
    rng = np.random.default_rng(seed)
    parts = []
    for split, limit in (("train", n_train), ("test", n_test)):
        images = read_idx(files[(split, "images")])
        labels = read_idx(files[(split, "labels")])
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{func}: {split} files hold images of shape {images.shape} and labels of shape {labels.shape}; "
                f"expected (N, rows, cols) and (N,)"
            )
        if images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(f"{func}: {split} files must hold uint8 pixels and labels, got {images.dtype} and "
                             f"{labels.dtype} ({str(files[(split, 'images')])!r})")
        if labels.size and int(labels.max()) >= len(FASHION_MNIST_CLASSES):
            raise ValueError(f"{func}: {str(files[(split, 'labels')])!r} holds label {int(labels.max())}, "
                             f"above the {len(FASHION_MNIST_CLASSES)} classes")
        total = images.shape[0]
        if limit is not None:
            limit = check_int(limit, f"n_{split}", func=func, minimum=1, maximum=total)
            idx = rng.choice(total, size=limit, replace=False)
            images, labels = images[idx], labels[idx]
        x = (torch.as_tensor(images.astype(np.float64) / 255.0, dtype=dt) - FASHION_MNIST_MEAN) / FASHION_MNIST_STD
        x = x.reshape(x.shape[0], -1) if flatten else x.unsqueeze(1)
        parts += [x.contiguous(), torch.as_tensor(labels.astype(np.int64))]
    return DataSplit(*parts)
