"""Data sets, all read from local files (no network): the digits, Fashion-MNIST and CIFAR-100.

Every loader returns a :class:`DataSplit` ``(x_train, y_train, x_test, y_test)`` of torch tensors
(labels ``int64``); :func:`split_data` turns a split or a pair ``(inputs, targets)`` into the
training tensors that :func:`qsgd.nn.train`, :mod:`qsgd.spectrum` and :mod:`qsgd.distributed`
use, and :func:`torch_dtype` reads a dtype argument for the loaders and the models of
:mod:`qsgd.nn`.

* :func:`load_digits` -- the scikit-learn 8x8 digits (1797 images, 10 classes; shipped with
  scikit-learn), standardized, with a seeded train/test split;
* :func:`load_fashion_mnist` -- Fashion-MNIST [1]_, 70,000 grey-scale 28x28 images of clothing in
  10 classes (60,000 for training, 10,000 for testing);
* :func:`load_cifar100` -- CIFAR-100 [2]_ from a directory the user already has (python-pickle layout).

Fashion-MNIST is distributed as four IDX files::

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

Randomness: :func:`load_digits` and :func:`load_fashion_mnist` draw their subsets from ``rng=``
(default 0), an int seed or a NumPy Generator from which one int seed is drawn; ``rng=None``
draws that seed from fresh entropy (:func:`qsgd._validation.as_seed`).

References
----------
.. [1] H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a novel image dataset for
   benchmarking machine learning algorithms", arXiv:1708.07747 (2017).
.. [2] A. Krizhevsky, "Learning multiple layers of features from tiny images", tech. report,
   University of Toronto (2009).
.. [3] F. Pedregosa et al., "Scikit-learn: machine learning in Python", JMLR 12, 2825 (2011).

Used in chapters 2, 3, 5, 6, 7 and 8.
"""

from __future__ import annotations

import gzip
import math
import os
import pickle
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from qsgd._validation import as_seed, check_bool, check_choice, check_int, check_memory, describe, estimate_bytes

__all__ = [
    "CIFAR100_MEAN",
    "CIFAR100_STD",
    "DataSplit",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "find_fashion_mnist",
    "load_cifar100",
    "load_digits",
    "load_fashion_mnist",
    "read_idx",
    "split_data",
    "torch_dtype",
    "write_idx",
]

# ---------------------------------------------------------------------------
# data splits and dtypes
# ---------------------------------------------------------------------------

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_dtype(dtype, *, func: str = "torch_dtype") -> torch.dtype:
    """The torch floating-point dtype that *dtype* names: ``"float32"``, ``"float64"`` or the torch dtype itself.

    Shared by the loaders here and the models of :mod:`qsgd.nn`; anything else is a
    ``ValueError`` naming *func* and the value.
    """
    if isinstance(dtype, str):
        check_choice(dtype, "dtype", set(_DTYPES), func=func)
        return _DTYPES[dtype]
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{func}: dtype must be torch.float32 or torch.float64, got {describe(dtype)}")
    return dtype


class DataSplit(NamedTuple):
    """Train and test tensors: ``x_train, y_train, x_test, y_test = split``."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def split_data(data, *, func: str = "split_data") -> tuple[torch.Tensor, torch.Tensor]:
    """The training inputs and targets ``(x, y)`` of *data*.

    Parameters
    ----------
    data : DataSplit or (inputs, targets)
        A :class:`DataSplit` (its training part is used) or a pair of tensors with
        equal first dimension.
    func : str, keyword-only
        The public function the user called, for the error message.

    Returns
    -------
    x, y : torch.Tensor

    Raises
    ------
    ValueError
        Anything else, naming *func* and the value.

    Used by :func:`qsgd.nn.train`, :func:`qsgd.spectrum.hessian_operator` and :mod:`qsgd.distributed`.
    """
    if isinstance(data, DataSplit):
        names, (x, y) = ("data.x_train", "data.y_train"), (data.x_train, data.y_train)
        for name, value in zip(("x_train", "y_train", "x_test", "y_test"), data):
            if not isinstance(value, torch.Tensor) or value.ndim == 0:
                raise ValueError(f"{func}: data.{name} must be a tensor with a sample dimension, got "
                                 f"{_short(value)}")
        if data.x_test.shape[0] != data.y_test.shape[0]:
            raise ValueError(f"{func}: data.x_test has {data.x_test.shape[0]} samples but data.y_test has "
                             f"{data.y_test.shape[0]}; inputs and targets must have equal first dimension")
    elif isinstance(data, dict):
        raise ValueError(
            f"{func}: data must be a DataSplit or a pair (inputs, targets), got a dict with keys "
            f"{sorted(map(str, data))}; pass DataSplit(x_train, y_train, x_test, y_test) or (x, y)"
        )
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        names, (x, y) = ("data[0] (the inputs)", "data[1] (the targets)"), data
        for name, value in zip(names, data):
            if not isinstance(value, torch.Tensor) or value.ndim == 0:
                raise ValueError(f"{func}: {name} must be a tensor with a sample dimension, got {_short(value)}")
    else:
        raise ValueError(
            f"{func}: data must be a DataSplit or a pair (inputs, targets) of tensors with equal first "
            f"dimension, got {_short(data)}"
        )
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{func}: {names[0]} has {x.shape[0]} samples but {names[1]} has "
                         f"{y.shape[0]}; inputs and targets must have equal first dimension")
    return x, y


def _short(value) -> str:
    """:func:`describe`, with tensors and pairs of them reduced to type, shape and dtype."""
    if isinstance(value, torch.Tensor):
        return f"Tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        return f"a {kind} of {len(value)}: ({', '.join(_short(v) for v in value[:4])}{', ...' if len(value) > 4 else ''})"
    return describe(value)


# ---------------------------------------------------------------------------
# the scikit-learn digits
# ---------------------------------------------------------------------------


def load_digits(
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    rng=0,
    dtype="float32",
    image: bool = False,
) -> DataSplit:
    """The scikit-learn 8x8 handwritten digits (1797 images, 10 classes), no download.

    The samples are shuffled with ``np.random.default_rng(seed)``, ``seed`` the int
    that ``rng`` stands for; the first
    ``n_test`` form the test set and the next ``n_train`` the training set
    (defaults: 360 test, the remaining 1437 for training). Features are
    standardized with the training set's per-pixel mean and standard deviation
    (constant pixels keep unit scale).

    Parameters
    ----------
    n_train, n_test : int or None, keyword-only
    rng : int, numpy Generator or None, keyword-only
        Seed of the split (default 0; the split is a pure function of it); a Generator gives
        one drawn seed, ``None`` one drawn from fresh entropy (:func:`qsgd._validation.as_seed`).
    dtype : {"float32", "float64"}, keyword-only
    image : bool, keyword-only
        ``True`` returns inputs of shape ``(N, 1, 8, 8)`` (for convolutional
        nets), ``False`` flat vectors of length 64.

    Returns
    -------
    DataSplit
        ``(x_train, y_train, x_test, y_test)``; labels are ``int64``.

    References
    ----------
    .. [3] F. Pedregosa et al., "Scikit-learn: machine learning in Python",
       JMLR 12, 2825 (2011).

    Used in chapters 2, 3, 5, 6 and 8 (chapter 7 uses Fashion-MNIST, :func:`load_fashion_mnist`).
    """
    from sklearn.datasets import load_digits as _sk_load_digits  # seconds to import: only when called

    func = "load_digits"
    seed = as_seed(rng, func=func)
    dt = torch_dtype(dtype, func=func)
    x, y = _sk_load_digits(return_X_y=True)
    total = x.shape[0]
    n_test = 360 if n_test is None else check_int(n_test, "n_test", func=func, minimum=1, maximum=total - 1)
    n_train = total - n_test if n_train is None else check_int(n_train, "n_train", func=func, minimum=1)
    if n_train + n_test > total:
        raise ValueError(f"{func}: n_train + n_test must be <= {total}, got {n_train} + {n_test}")
    order = np.random.default_rng(seed).permutation(total)
    test_idx, train_idx = order[:n_test], order[n_test : n_test + n_train]
    mean = x[train_idx].mean(axis=0)
    std = x[train_idx].std(axis=0)
    std[std == 0] = 1.0

    def prep(idx):
        xs = torch.as_tensor((x[idx] - mean) / std, dtype=dt)
        if image:
            xs = xs.reshape(-1, 1, 8, 8)
        return xs, torch.as_tensor(y[idx], dtype=torch.int64)

    return DataSplit(*prep(train_idx), *prep(test_idx))


# ---------------------------------------------------------------------------
# CIFAR-100
# ---------------------------------------------------------------------------

#: per-channel mean and standard deviation of the CIFAR-100 training images
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)


def _find_cifar_dir(path: Path) -> Path:
    for candidate in (path, path / "cifar-100-python"):
        if (candidate / "train").is_file() and (candidate / "test").is_file():
            return candidate
    raise FileNotFoundError(
        f"load_cifar100: no CIFAR-100 found at path={str(path)!r}: expected the files 'train' and "
        f"'test' of the python version (cifar-100-python.tar.gz from "
        f"https://www.cs.toronto.edu/~kriz/cifar.html, extracted) in that directory or in its "
        f"'cifar-100-python' subdirectory. qsgd never downloads data."
    )


def _read_cifar_file(file: Path, limit: int | None):
    with open(file, "rb") as fh:
        entry = pickle.load(fh, encoding="bytes")  # noqa: S301 -- the user's own data files
    try:
        data = np.asarray(entry[b"data"], dtype=np.uint8)
        labels = np.asarray(entry[b"fine_labels"], dtype=np.int64)
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"load_cifar100: {str(file)!r} is not a CIFAR-100 python pickle (needs keys b'data' and "
            f"b'fine_labels')"
        ) from exc
    if data.ndim != 2 or data.shape[1] != 3072 or labels.shape != (data.shape[0],):
        raise ValueError(
            f"load_cifar100: {str(file)!r} has data of shape {data.shape} and {labels.shape[0]} labels; "
            f"expected (N, 3072) and N"
        )
    if limit is not None:
        data, labels = data[:limit], labels[:limit]
    return data, labels


def load_cifar100(
    path,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    dtype="float32",
) -> DataSplit:
    """CIFAR-100 from a local directory in the python-pickle layout [1]_.

    ``path`` is the extracted ``cifar-100-python`` directory (holding ``train``
    and ``test``) or its parent. Images become ``(N, 3, 32, 32)`` tensors
    scaled to [0, 1] and normalized per channel with the usual CIFAR-100 mean
    and standard deviation; labels are the 100 fine labels. Nothing is
    downloaded.

    Parameters
    ----------
    path : str or os.PathLike
    n_train, n_test : int or None, keyword-only
        Keep only the first ``n_train``/``n_test`` images (for smoke tests).
    dtype : {"float32", "float64"}, keyword-only

    Returns
    -------
    DataSplit

    Raises
    ------
    FileNotFoundError
        When ``path`` holds no CIFAR-100 (the message names the path).
    ValueError
        When the files are not CIFAR-100 pickles, or for bad arguments.

    References
    ----------
    .. [2] A. Krizhevsky, "Learning multiple layers of features from tiny
       images", tech. report, University of Toronto (2009).

    Used in chapter 7.
    """
    func = "load_cifar100"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{func}: path must be a str or path-like, got {describe(path)}")
    n_train = None if n_train is None else check_int(n_train, "n_train", func=func, minimum=1)
    n_test = None if n_test is None else check_int(n_test, "n_test", func=func, minimum=1)
    dt = torch_dtype(dtype, func=func)
    root = _find_cifar_dir(Path(path).expanduser())
    mean = torch.tensor(CIFAR100_MEAN, dtype=dt).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR100_STD, dtype=dt).view(1, 3, 1, 1)

    def prep(name, limit):
        data, labels = _read_cifar_file(root / name, limit)
        xs = torch.as_tensor(data, dtype=dt).reshape(-1, 3, 32, 32) / 255.0
        return (xs - mean) / std, torch.as_tensor(labels)

    return DataSplit(*prep("train", n_train), *prep("test", n_test))


# ---------------------------------------------------------------------------
# Fashion-MNIST
# ---------------------------------------------------------------------------

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


#: most dimensions an IDX file may declare here (NumPy's portable limit; real data sets use 1 to 4)
IDX_MAX_DIMS = 32


def _read_exactly(fh, count: int) -> bytes:
    """Up to ``count`` bytes of ``fh``, read in chunks (fewer only at the end of the stream)."""
    parts, left = [], count
    while left > 0:
        chunk = fh.read(min(left, 1 << 24))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_idx(path, *, max_bytes: float | None = None) -> np.ndarray:
    """Read one IDX file (gzipped or plain) into a NumPy array of its stored shape and type.

    The header is read first and the payload it declares is checked before the body is
    read: against the file size for a plain file, against ``max_bytes`` for both kinds, and
    a gzip stream is decompressed only up to the declared size plus one byte (a small file
    that inflates far beyond its header is refused without being inflated in full).

    Parameters
    ----------
    path : str or path-like
    max_bytes : float, optional
        Refuse a declared payload above this (default: the shared limit, 4 GiB).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the header is not an IDX header, declares more than ``IDX_MAX_DIMS``
        dimensions or a payload above ``max_bytes``, or the payload has the wrong size;
        every message names the file.

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
    name = repr(str(path))
    try:
        with _open(path) as fh:
            gzipped = isinstance(fh, gzip.GzipFile)
            magic = _read_exactly(fh, 4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
                raise ValueError(f"{func}: {name} is not an IDX file (bad magic number {magic!r})")
            ndim = magic[3]
            if ndim > IDX_MAX_DIMS:
                raise ValueError(f"{func}: {name} declares {ndim} dimensions in its IDX header, more than the "
                                 f"{IDX_MAX_DIMS} an array can have here (IDX_MAX_DIMS)")
            dims = _read_exactly(fh, 4 * ndim)
            if ndim == 0 or len(dims) < 4 * ndim:
                raise ValueError(f"{func}: {name} has a truncated IDX header")
            header = 4 + 4 * ndim
            shape = tuple(int(k) for k in np.frombuffer(dims, dtype=">u4"))
            dtype = np.dtype(_IDX_TYPES[magic[2]])
            expected = math.prod(shape) * dtype.itemsize
            if not gzipped and path.stat().st_size - header != expected:
                raise ValueError(f"{func}: {name} declares shape {shape} ({expected} bytes) but holds "
                                 f"{path.stat().st_size - header} bytes")
            check_memory(estimate_bytes(*shape, itemsize=dtype.itemsize),
                         what=f"the payload of {name}, which declares shape {shape},", max_bytes=max_bytes,
                         func=func)
            body = _read_exactly(fh, expected)
            if len(body) != expected:
                raise ValueError(f"{func}: {name} declares shape {shape} ({expected} bytes) but holds "
                                 f"{len(body)} bytes")
            if fh.read(1):
                raise ValueError(f"{func}: {name} declares shape {shape} ({expected} bytes) but holds more "
                                 "(reading stopped after the declared payload)")
    except (EOFError, OSError, zlib.error) as exc:  # truncated or corrupted gzip stream
        raise ValueError(f"{func}: {name} is a corrupted or truncated gzip file ({exc})") from exc
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, *, compress: bool | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file; gzipped when ``compress`` (default: name ends in ``.gz``).

    The inverse of :func:`read_idx`, for tests and for converting other data. The directory
    must exist (it is not created), and ``array`` has 1 to ``IDX_MAX_DIMS`` dimensions.
    """
    func = "write_idx"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{func}: path must be a str or path-like, got {describe(path)}")
    if compress is not None:
        compress = check_bool(compress, "compress", func=func)
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or arr.ndim == 0 or arr.ndim > IDX_MAX_DIMS:
        raise ValueError(f"{func}: array must be a uint8 array with 1 to {IDX_MAX_DIMS} dimensions, "
                         f"got {describe(arr)}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{func}: path {str(path)!r} is a directory, expected a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{func}: path {str(path)!r} is in a directory that does not exist "
                         f"({str(path.parent)!r}); create it first")
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
    partial = []
    for folder in searched:
        found = {key: _file_in(folder, stem) for key, stem in FASHION_MNIST_FILES.items()}
        if all(found.values()):
            return found
        if any(found.values()):
            missing = ", ".join(f"{FASHION_MNIST_FILES[key]}[.gz]" for key, p in found.items() if p is None)
            partial.append(f"{str(folder)!r} holds {sum(map(bool, found.values()))} of the 4 files but lacks "
                           f"{missing}")
    where = ", ".join(repr(str(p)) for p in searched)
    detail = f"; {'; '.join(partial)}" if partial else ""
    raise FileNotFoundError(f"{func}: Fashion-MNIST not found (looked in {where}){detail}. {_HOW_TO_GET}")


def load_fashion_mnist(
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    rng=0,
    dtype="float32",
    data_dir=None,
    flatten: bool = False,
):
    """Fashion-MNIST as a :class:`DataSplit` of normalized tensors.

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
        Seed of the subsets (default 0; a Generator gives one drawn seed, ``None`` one drawn
        from fresh entropy, :func:`qsgd._validation.as_seed`).
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
    seed = as_seed(rng, func=func)
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
