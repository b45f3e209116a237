r"""Shared input checks.

Every public function of :mod:`qsgd` validates its arguments with these helpers so
that bad input fails early with a ``ValueError`` that names the function, the
argument and the offending value, instead of deep inside NumPy, SciPy or Qiskit.

The helpers, by purpose:

- arrays: :func:`as_vector`, :func:`as_matrix` (finite, real unless ``allow_complex=True``,
  shape-checked);
- scalars and options: :func:`check_positive`, :func:`check_int`, :func:`check_choice`,
  :func:`check_bool`;
- sizes: :func:`estimate_bytes` (in floating point, never exact big integers) and
  :func:`check_memory`, the one size guard. A function that allocates by a size argument
  estimates the bytes *before* any exact big-integer arithmetic or allocation and calls
  ``check_memory(nbytes, what=..., max_bytes=max_bytes, func=...)``; the caller raises the
  limit on purpose with the function's ``max_bytes`` keyword (default
  :data:`DEFAULT_MAX_BYTES`, 4 GiB);
- polynomial coefficients: :func:`as_coefficients`, the one conversion of a polynomial
  vector field or map :math:`\sum_\ell F_\ell u^{\otimes\ell}` given as a sequence in
  ascending degree ``[F0, F1, F2, ...]``, as an object carrying ``.coefficients`` (a
  :class:`qsgd.gd.PolynomialMap`) or as a problem with ``F0``/``F1``/``F2`` attributes
  (a :class:`qsgd.ode.BurgersProblem`). :func:`coefficient_call` sorts out the arguments that
  follow such an object, and :func:`separate_coefficients` is the one deprecation path of the
  historical calls that took ``F1``, ``F2``, ``F0`` as separate arguments;
- randomness: :func:`as_rng` (a NumPy Generator), :func:`as_seed` (an int seed for torch's
  generators), :func:`deprecated_seed_alias` (the old ``seed=`` keyword of a function that
  now takes ``rng=``);
- progress bars: :func:`progress_disabled`.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_array",
    "as_vector",
    "as_matrix",
    "as_rng",
    "as_seed",
    "deprecated_seed_alias",
    "progress_disabled",
    "check_positive",
    "check_float_range",
    "check_int",
    "check_choice",
    "check_bool",
    "check_memory",
    "estimate_bytes",
    "log2_int",
    "is_coefficients",
    "as_coefficients",
    "coefficient_call",
    "problem_defaults",
    "separate_coefficients",
    "NOT_GIVEN",
    "describe",
    "DivergenceError",
    "DEFAULT_MAX_BYTES",
]

#: default ceiling for the memory a lifted system may take before we refuse to build it
DEFAULT_MAX_BYTES = 4 * 2**30


def describe(value: Any) -> str:
    """A short description of *value* for error messages (never a huge repr)."""
    if isinstance(value, np.ndarray) or sp.issparse(value):
        return f"{type(value).__name__} of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _where(func: str | None) -> str:
    return f"{func}: " if func else ""


def _to_array(x: Any, name: str, func: str | None, dtype: Any, allow_complex: bool, kind: str) -> np.ndarray:
    """``np.asarray(x, dtype)`` with the type errors turned into messages naming *name*."""
    where = _where(func)
    if x is None:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got None")
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{where}{name} must be a numeric {kind}, got the string {describe(x)}")
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}") from exc
    if raw.dtype.kind not in "biufcO":
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}")
    complex_wanted = np.issubdtype(np.dtype(dtype), np.complexfloating)
    if raw.dtype.kind == "O":
        if any(isinstance(v, complex) and v.imag != 0 for v in raw.ravel()[:100_000]) \
                and not (allow_complex or complex_wanted):
            raise ValueError(f"{where}{name} must be real, got complex entries ({describe(x)})")
    elif raw.dtype.kind == "c" and not (allow_complex or complex_wanted):
        _refuse_complex(raw, name, where)
        raw = raw.real
    if allow_complex and raw.dtype.kind == "c" and not complex_wanted:
        dtype = complex
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}{name} must be a numeric {kind}, got {describe(x)}") from exc


def _refuse_complex(values: np.ndarray, name: str, where: str) -> None:
    """Complex *values* with a non-zero imaginary part where real ones are meant: refuse."""
    imag = np.abs(values.imag)
    if imag.size and np.any(imag != 0):
        raise ValueError(
            f"{where}{name} must be real, got complex entries (largest |imag| = {float(np.nanmax(imag)):.3g}); "
            "a real-valued quantity is expected here"
        )


def as_array(x: Any, name: str, *, func: str | None = None, dtype: Any = float) -> np.ndarray:
    """``np.asarray(x, dtype)`` of any shape, refusing ``None``, strings, non-numeric and complex input by
    name (no finiteness or shape check: :func:`as_vector` and :func:`as_matrix` add those)."""
    return _to_array(x, name, func, dtype, False, "array")


def as_vector(
    x: Any,
    name: str,
    *,
    func: str | None = None,
    size: int | None = None,
    dtype: Any = float,
    allow_zero: bool = True,
    allow_complex: bool = False,
) -> np.ndarray:
    """Return *x* as a finite 1-D array, or raise ``ValueError`` naming *name*.

    Accepts lists, NumPy arrays, torch tensors (via ``numpy()``), and sparse
    vectors of shape ``(d,)``, ``(d, 1)`` or ``(1, d)``.

    Complex input with a non-zero imaginary part is refused unless ``allow_complex=True``
    (then the result is complex) or ``dtype`` is complex; it is never cast to real
    silently. Complex input whose imaginary parts are all exactly zero is taken as real.
    ``None``, strings and non-numeric objects are refused with the argument's name.
    """
    if sp.issparse(x):
        x = x.toarray()
    arr = _to_array(x, name, func, dtype, allow_complex, "vector")
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{_where(func)}{name} must be a 1-D vector, got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{_where(func)}{name} must have length {size}, got {arr.shape[0]}")
    if arr.size == 0:
        raise ValueError(f"{_where(func)}{name} is empty")
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        raise ValueError(
            f"{_where(func)}{name} has non-finite entries at indices {bad[:5].tolist()}"
            f"{' ...' if bad.size > 5 else ''} (e.g. {arr[bad[0]]})"
        )
    if not allow_zero and not np.any(arr):
        raise ValueError(f"{_where(func)}{name} is the zero vector")
    return arr


def as_matrix(
    a: Any,
    name: str,
    *,
    func: str | None = None,
    shape: tuple[int | None, int | None] | None = None,
    square: bool = False,
    sparse: bool | None = None,
    dtype: Any = float,
    allow_complex: bool = False,
):
    """Return *a* as a finite 2-D matrix, or raise ``ValueError`` naming *name*.

    ``sparse=True`` returns a ``scipy.sparse.csr_array``, ``sparse=False`` a dense
    ``ndarray``, ``sparse=None`` keeps the input's kind. ``shape`` entries that are
    ``None`` are not checked. Complex entries are refused as in :func:`as_vector`
    unless ``allow_complex=True``.
    """
    where = _where(func)
    if sp.issparse(a):
        if a.dtype.kind not in "biufc":
            raise ValueError(f"{where}{name} must be a numeric matrix, got {describe(a)}")
        complex_wanted = np.issubdtype(np.dtype(dtype), np.complexfloating)
        if a.dtype.kind == "c" and not (allow_complex or complex_wanted):
            _refuse_complex(sp.csr_array(a).data, name, where)
            a = sp.csr_array(a).real
        elif a.dtype.kind == "c":
            dtype = complex
        mat = sp.csr_array(a, dtype=dtype)
        values = mat.data
    else:
        mat = _to_array(a, name, func, dtype, allow_complex, "matrix")
        values = mat
    if mat.ndim != 2:
        raise ValueError(f"{where}{name} must be 2-D, got shape {mat.shape}")
    if mat.shape[0] == 0 or mat.shape[1] == 0:
        raise ValueError(f"{where}{name} is empty (shape {mat.shape})")
    if square and mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{where}{name} must be square, got shape {mat.shape}")
    if shape is not None:
        for axis, (want, got) in enumerate(zip(shape, mat.shape)):
            if want is not None and want != got:
                wanted = ", ".join("*" if s is None else str(s) for s in shape)
                raise ValueError(
                    f"{where}{name} must have shape ({wanted}), got {mat.shape} (axis {axis})"
                )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}{name} has non-finite entries")
    if sparse is True and not sp.issparse(mat):
        mat = sp.csr_array(mat)
    elif sparse is False and sp.issparse(mat):
        mat = mat.toarray()
    return mat


def as_rng(rng: Any, *, name: str = "rng", func: str | None = None) -> np.random.Generator:
    """``np.random.default_rng(rng)``: ``None``, a non-negative int seed, or a Generator."""
    if isinstance(rng, (str, bytes, float, complex, bool)):
        raise ValueError(f"{_where(func)}{name} must be None, an integer seed or a numpy Generator, "
                         f"got {describe(rng)}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{_where(func)}{name} must be None, an integer seed or a numpy Generator, "
                         f"got {describe(rng)}") from exc


def as_seed(rng: Any, name: str = "rng", *, func: str | None = None, default: int | None = None) -> int | None:
    """The int seed that *rng* stands for: ``None``, a non-negative int seed, or a Generator.

    ``None`` gives *default* (itself ``None`` or an int); an integer (Python or NumPy, not a
    bool) is returned unchanged as ``int``, so ``rng=s`` seeds exactly as ``seed=s`` did; a
    ``numpy.random.Generator`` gives ``int(gen.integers(2**63 - 1))``, one draw that advances it.

    Raises
    ------
    ValueError
        Negative integers, floats, bools, strings and other types, naming *func*, *name* and the value.
    """
    if rng is None:
        return default
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63 - 1))
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise ValueError(f"{_where(func)}{name} must be None, a non-negative integer seed or a numpy Generator, "
                         f"got {describe(rng)}")
    if int(rng) < 0:
        raise ValueError(f"{_where(func)}{name} must be a non-negative integer seed, got {int(rng)}")
    return int(rng)


def deprecated_seed_alias(function):
    """Decorator: accept the former keyword ``seed=`` of *function* as ``rng=``, with a DeprecationWarning.

    *function* takes a keyword-only ``rng`` (see :func:`as_seed`); a call with ``seed=s`` warns
    that ``seed=`` is deprecated and calls it with ``rng=s``, and a call that passes both
    ``seed=`` and ``rng=`` is refused with ``ValueError``. The signature shown by ``help`` is
    that of *function* (no ``seed``).
    """
    name = function.__name__

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "seed" in kwargs:
            if "rng" in kwargs:
                raise ValueError(f"{name}: pass rng= only (seed= is its deprecated alias), got both "
                                 f"seed={describe(kwargs['seed'])} and rng={describe(kwargs['rng'])}")
            warnings.warn(f"{name}: the keyword seed= is deprecated; use rng= (an int gives the same result)",
                          DeprecationWarning, stacklevel=2)
            kwargs["rng"] = kwargs.pop("seed")
        return function(*args, **kwargs)

    return wrapper


def progress_disabled(progress: bool) -> bool:
    """tqdm's ``disable``: off unless asked for, and always off under ``TQDM_DISABLE=1``."""
    return (not progress) or os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false")


#: integers with more bits than this overflow double precision (its largest finite value is below 2**1024)
MAX_FLOAT_BITS = 1000


def check_float_range(value: Any, name: str, *, func: str | None = None) -> None:
    """Refuse an integer beyond the floating-point range (more than 1000 bits) by name.

    Python integers are exact and unbounded: arithmetic that mixes such an integer with floats
    raises ``OverflowError`` deep inside a formula, and exact arithmetic on it can run for
    minutes. Call this before either; other values pass unchanged.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        bits = int(value).bit_length()
        if bits > MAX_FLOAT_BITS:
            raise ValueError(f"{_where(func)}{name} must be a finite real number, got an integer of {bits} bits, "
                             "beyond the floating-point range")


def check_positive(value: Any, name: str, *, func: str | None = None, strict: bool = True) -> float:
    """Return *value* as a float, requiring it finite and > 0 (or >= 0 if not *strict*)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{_where(func)}{name} must be a finite real number, got {describe(value)}")
    check_float_range(value, name, func=func)
    if not math.isfinite(value):
        raise ValueError(f"{_where(func)}{name} must be a finite real number, got {describe(value)}")
    if (value <= 0) if strict else (value < 0):
        raise ValueError(f"{_where(func)}{name} must be {'>' if strict else '>='} 0, got {value}")
    return float(value)


def check_int(
    value: Any,
    name: str,
    *,
    func: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return *value* as an int within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{_where(func)}{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{_where(func)}{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{_where(func)}{name} must be <= {maximum}, got {value}")
    return value


def check_choice(value: Any, name: str, choices, *, func: str | None = None):
    """Require *value* to be one of *choices*."""
    if value not in choices:
        raise ValueError(f"{_where(func)}{name} must be one of {sorted(choices)!r}, got {describe(value)}")
    return value


def check_bool(value: Any, name: str, *, func: str | None = None) -> bool:
    """Require *value* to be ``True`` or ``False`` (a NumPy bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{_where(func)}{name} must be True or False, got {describe(value)}")
    return bool(value)


def estimate_bytes(*dims: Any, itemsize: float = 8.0) -> float:
    """Bytes of a dense array of shape *dims*, computed in floating point.

    Multiplies floats, so absurd sizes give ``inf`` at once instead of an exact big integer; use it with :func:`check_memory`
    *before* any exact arithmetic on the sizes.

    Examples
    --------
    >>> estimate_bytes(1000, 1000)
    8000000.0
    >>> estimate_bytes(10**7, 2**10**7)
    inf
    """
    total = float(itemsize)
    for d in dims:
        if isinstance(d, numbers.Integral) and int(d) > 0 and int(d).bit_length() > 1000:
            d = math.inf  # beyond the float range: no exact product is formed
        d = float(d)
        if d <= 0:
            return 0.0
        total *= d  # float multiplication: inf on overflow, never an exception
    return total


def log2_int(value: int) -> float:
    """``log2`` of a non-negative integer of any size, without converting it to float."""
    if value <= 0:
        return -math.inf
    bits = value.bit_length()
    if bits <= 1000:
        return math.log2(value)
    return bits - 1000 + math.log2(value >> (bits - 1000))


def check_memory(nbytes: float, *, what: str, max_bytes: float | None, func: str | None = None,
                 advice: str = "lower the size or raise max_bytes on purpose") -> None:
    """The size guard: refuse to build an object estimated at *nbytes* above the limit.

    Parameters
    ----------
    nbytes : float
        Estimated memory (a float, possibly ``inf``; see :func:`estimate_bytes`).
    what : str
        What would be built, with its size, for the message.
    max_bytes : float or None
        The caller's limit (``None``: :data:`DEFAULT_MAX_BYTES`). Every function that
        allocates by a size argument exposes it as its ``max_bytes`` keyword so that the
        limit can be raised on purpose.
    func : str, optional
        The public function the user called.
    advice : str
        What the user can do, ending the message (the default names ``max_bytes``; a function
        without that keyword says something else).

    Raises
    ------
    ValueError
        Above the limit (the message gives the estimate and the limit), or a ``max_bytes``
        that is not a positive number.
    """
    if max_bytes is None:
        limit = DEFAULT_MAX_BYTES
    else:
        limit = check_positive(max_bytes, "max_bytes", func=func) if not (
            isinstance(max_bytes, float) and math.isinf(max_bytes) and max_bytes > 0) else math.inf
    if nbytes > limit:
        size = "an astronomical amount of memory" if not math.isfinite(nbytes) \
            else f"about {nbytes / 2**30:.3g} GiB"
        raise ValueError(
            f"{_where(func)}{what} would need {size}, above the limit "
            f"max_bytes={limit / 2**30:.3g} GiB; {advice}"
        )


# ------------------------------------------------------------------ polynomial coefficients


def _is_matrix_like(x: Any) -> bool:
    if sp.issparse(x) or hasattr(x, "detach"):
        return True
    try:
        return np.ndim(x) == 2
    except (TypeError, ValueError):
        return False


def is_coefficients(obj: Any) -> bool:
    """True if *obj* is a polynomial field or map given as one object (see :func:`as_coefficients`).

    That is: an object with a ``coefficients`` attribute (:class:`qsgd.gd.PolynomialMap`),
    an object with ``F1`` and ``F0`` attributes (:class:`qsgd.ode.BurgersProblem`), or a
    list/tuple of 2 to 4 entries whose second entry is a matrix (``[F0, F1, ...]``). A plain
    vector ``F0`` or matrix ``F1`` is not. A list holding ``None`` (a zero or absent
    coefficient, as in ``[None, F1]``) is one too: no row of a matrix and no entry of a vector
    is ``None``.
    """
    if obj is None or isinstance(obj, (str, bytes, np.ndarray)) or sp.issparse(obj):
        return False
    if hasattr(obj, "coefficients") or (hasattr(obj, "F1") and hasattr(obj, "F0")):
        return True
    if isinstance(obj, (list, tuple)) and 2 <= len(obj) <= 4:
        return any(entry is None for entry in obj) or _is_matrix_like(obj[1])
    return False


def as_coefficients(
    F: Any,
    *,
    func: str | None = None,
    name: str = "F",
    max_degree: int = 3,
) -> tuple[int, np.ndarray, list]:
    r"""The one conversion of polynomial coefficients, in ascending degree order.

    A polynomial vector field :math:`du/dt = \sum_{\ell=0}^{q} F_\ell u^{\otimes\ell}` or map
    :math:`u \mapsto u + \sum_\ell F_\ell u^{\otimes\ell}` is accepted as

    - a sequence ``[F0, F1, ..., Fq]`` (ascending degree; ``F0`` a length-n vector or
      ``None``, ``F_l`` an (n, n**l) matrix, dense or sparse, or ``None`` for zero);
    - an object carrying ``.coefficients`` in that order (:class:`qsgd.gd.PolynomialMap`),
      read by what it carries so that lower modules need not import higher ones;
    - a problem object with attributes ``F0``, ``F1`` and ``F2`` (:class:`qsgd.ode.BurgersProblem`).

    Parameters
    ----------
    F : sequence or object, as above.
    func : str, optional
        The public function the user called, for messages.
    name : str
        The argument's name, for messages.
    max_degree : int
        Largest degree q accepted.

    Returns
    -------
    n : int
        The state dimension.
    F0 : ndarray, shape (n,)
        Zeros when absent.
    mats : list of scipy.sparse.csr_array
        ``[F1, ..., Fq]``, ``F_l`` of shape (n, n**l).

    Raises
    ------
    ValueError
        Anything else, wrong shapes, complex or non-finite entries, q outside 1..max_degree.
    """
    where = _where(func)
    label = name
    if hasattr(F, "coefficients") and not isinstance(F, (list, tuple)):
        label = f"{name}.coefficients"
        F = F.coefficients
    elif hasattr(F, "F1") and hasattr(F, "F0") and not isinstance(F, (list, tuple)):
        F = [F.F0, F.F1, getattr(F, "F2", None)]
    if isinstance(F, np.ndarray) or sp.issparse(F) or not isinstance(F, (list, tuple)):
        raise ValueError(
            f"{where}{name} must be a list [F0, F1, ..., Fq] in ascending degree, an object with "
            f".coefficients (a PolynomialMap) or a problem with F0/F1/F2 attributes, got {describe(F)}"
        )
    if not 2 <= len(F) <= max_degree + 1:
        raise ValueError(
            f"{where}{label} must hold F0, F1 and up to F{max_degree} (q = 1..{max_degree}), "
            f"got {len(F)} entries"
        )
    if F[1] is None:
        raise ValueError(f"{where}{label}[1] (F1) must be an (n, n) matrix, got None")
    F1 = as_matrix(F[1], f"{label}[1]", func=func, square=True, sparse=True)
    n = F1.shape[0]
    F0 = np.zeros(n) if F[0] is None else as_vector(F[0], f"{label}[0]", func=func, size=n)
    mats = [F1]
    for ell in range(2, len(F)):
        if n**ell >= 2**62:
            raise ValueError(f"{where}{label}[{ell}] would have {n}**{ell} columns, beyond 64-bit indices")
        if F[ell] is None:
            mats.append(sp.csr_array((n, n**ell)))
        else:
            mats.append(as_matrix(F[ell], f"{label}[{ell}]", func=func, shape=(n, n**ell), sparse=True))
    return n, F0, mats


class _NotGiven:
    """Default of the arguments that may shift after a coefficient object (see :func:`coefficient_call`)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self):
        return (_NotGiven, ())


#: marks an argument that the caller did not pass
NOT_GIVEN = _NotGiven()


def coefficient_call(values: list, names: list[str], *, func: str | None = None) -> dict:
    """The remaining arguments of a call whose first argument is a coefficient object.

    The functions that take the coefficients as one object first (``f(F, u0, t)``, see
    :func:`as_coefficients`) keep, for one release, the slots of their historical separate
    arguments (say ``f(F1, F2, F0, u0, t)``, deprecated: :func:`separate_coefficients`) in
    their signatures. With one object first, the arguments that follow it by position land
    in those coefficient slots: *values* holds the values of all parameters after the first, in
    signature order (the coefficient slots, then the parameters named in *names*), with
    :data:`NOT_GIVEN` for those not passed. The leading run of given values is positional
    and fills *names* in order; later given values are keywords for their own name.

    Returns
    -------
    dict
        name -> value (``NOT_GIVEN`` when absent).
    """
    slots = len(values) - len(names)
    run = 0
    while run < len(values) and values[run] is not NOT_GIVEN:
        run += 1
    if run > len(names):
        raise ValueError(
            f"{_where(func)}with the coefficients given as one object, expected at most {len(names)} more "
            f"positional arguments ({', '.join(names)}), got {run}"
        )
    out = {}
    for i, name in enumerate(names):
        if i < run:
            if slots + i >= run and values[slots + i] is not NOT_GIVEN:
                raise ValueError(f"{_where(func)}{name} given twice (by position and by keyword)")
            out[name] = values[i]
        else:
            out[name] = values[slots + i]
    return out


def problem_defaults(F: Any, u0: Any, t: Any) -> tuple[Any, Any, Any]:
    """What a problem object supplies that the call did not: ``u0`` and the time grid ``t`` where
    they are :data:`NOT_GIVEN`, and the problem's callable ``forcing`` (None without one).

    A plain coefficient sequence supplies nothing. Used by the solvers that accept a problem
    (:func:`qsgd.ode.solve_reference`, :func:`qsgd.carleman.solve_carleman`).
    """
    if u0 is NOT_GIVEN:
        u0 = getattr(F, "u0", NOT_GIVEN)
    if t is NOT_GIVEN:
        t = getattr(F, "t", NOT_GIVEN)
    forcing = getattr(F, "forcing", None)
    return u0, t, forcing if callable(forcing) else None


def separate_coefficients(func: str, F0: Any, F1: Any, F2: Any, *, old: str, rest: str = "",
                          stacklevel: int = 3) -> list:
    """The deprecated call with the coefficients as separate arguments: warn once, return one object.

    The public functions of :mod:`qsgd.ode` and :mod:`qsgd.carleman` take the coefficients as
    one object in ascending degree (:func:`as_coefficients`). For one release they still
    accept the historical separate arguments (``carleman_matrix(F1, F2, F0, order=N)``,
    ``r_number(F0, F1, F2, u0)``); such a call comes here, which emits one
    ``DeprecationWarning`` naming *func* and its replacement, and hands back the coefficients
    as the object ``[F0, F1, F2]`` that the rest of the function works on.

    Parameters
    ----------
    func : str
        The public function the user called.
    F0, F1, F2 : the separate arguments; ``None`` or :data:`NOT_GIVEN` for an absent F0 or F2.
    old : str
        The historical arguments, as shown in the message (``"F1, F2, F0, ..."``).
    rest : str
        What follows the coefficient object in the replacement (``", u0, t, ..."``).
    stacklevel : int
        ``warnings.warn``'s: 3 points at the caller of the public function that calls this.

    Returns
    -------
    list
        ``[F0, F1, F2]`` with ``None`` for an absent F0 or F2.
    """
    F0 = None if F0 is NOT_GIVEN else F0
    F2 = None if F2 is NOT_GIVEN else F2
    given = "[" + ("F0" if F0 is not None else "None") + ", F1" + (", F2" if F2 is not None else "") + "]"
    warnings.warn(
        f"{func}({old}) is deprecated: pass the coefficients as one object in ascending degree, "
        f"{func}({given}{rest}) (None for a zero F0 or F2; [F0, F1] is a linear field)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return [F0, F1, F2]


class DivergenceError(ValueError):
    """An iteration became non-finite (a divergent map, an unstable step size)."""
