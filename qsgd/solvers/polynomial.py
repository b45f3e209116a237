r"""The polynomial (QSVT) linear-system solver: an odd polynomial close to :math:`1/x` on the singular values.

Quantum singular-value transformation (QSVT) [1]_ turns a block encoding of :math:`A/\alpha`
(:math:`\alpha \ge \|A\|`, the subnormalization) into a block encoding of
:math:`P^{\rm SV}(A^{\mathsf T}/\alpha)` for any real odd polynomial :math:`P` of degree :math:`d`
with :math:`|P(x)| \le 1` on :math:`[-1, 1]`, at the price of :math:`d` calls to the block
encoding. With :math:`A = U\,\mathrm{diag}(\sigma)\,W^{\mathsf T}` and an odd :math:`P` that is
close to :math:`1/x` on :math:`[1/\kappa, 1]`,

.. math::

    P^{\rm SV}(A^{\mathsf T}/\alpha)\,b = W\,P(\sigma/\alpha)\,U^{\mathsf T} b
    \approx W\,\frac{\alpha}{\sigma}\,U^{\mathsf T} b = \alpha A^{-1} b,

so postselecting the block-encoding ancillas on :math:`|0\rangle` leaves the normalized solution
of :math:`Ax=b`. QSVT works on singular values directly, so a non-symmetric :math:`A` (the Eq. 6
matrix of [4]_) needs no Hermitian dilation; a symmetric :math:`A = V\,\mathrm{diag}(\lambda)\,V^{\mathsf T}`
gives :math:`V P(\lambda/\alpha) V^{\mathsf T} b`, and the oddness of :math:`P` carries the sign of
negative eigenvalues.

The polynomial is that of Childs, Kothari and Somma [2]_ (Lemmas 17-19), the starting point of
the QSVT inversion polynomials of Gilyén et al. [1]_ and Martyn et al. [3]_ (appendix on matrix
inversion). QSVT needs :math:`|P| \le 1` on :math:`[-1, 1]`; Gilyén et al. get it by multiplying
with an approximate rectangle function, here it comes from dividing by the normalization
:math:`\mathcal N \ge \max_{[-1,1]}|g|` (see :class:`InversePolynomial`):

.. math::

    f(x) = \frac{1 - (1 - x^2)^b}{x}, \qquad b = \lceil \kappa^2 \ln(\kappa/\epsilon) \rceil,

is :math:`\epsilon`-close to :math:`1/x` on :math:`D_\kappa = [-1, -1/\kappa] \cup [1/\kappa, 1]`
(Lemma 17), and it is the odd polynomial of degree :math:`2b - 1`

.. math::

    f(x) = 4 \sum_{j=0}^{b-1} (-1)^j \Big[2^{-2b} \sum_{i=j+1}^{b} \binom{2b}{b+i}\Big] T_{2j+1}(x)

(Lemma 18), whose truncation :math:`g` at :math:`j \le D = \lceil \sqrt{b \ln(4b/\epsilon)}\, \rceil`
is :math:`2\epsilon`-close to :math:`1/x` on :math:`D_\kappa` (Lemma 19): degree
:math:`d = 2D + 1 = O(\kappa \log(\kappa/\epsilon))`. The bracket is the binomial tail
:math:`\Pr[X > b + j]` for :math:`X \sim \mathrm{Bin}(2b, 1/2)`, computed by
``scipy.stats.binom.sf`` (stable for any :math:`b`).

How the output is obtained: :func:`polynomial_model` is an *exact model of the algorithm's
output* (the polynomial applied to the singular values of a :class:`qsgd.decomposition.Decomposition`),
not a circuit; the QSVT phase factors are never computed. The query count is the degree.

Symbols: :math:`\kappa` condition number (``kappa``), :math:`\epsilon` polynomial accuracy
(``eps``), :math:`b` the exponent of :math:`f`, :math:`D` the truncation index, :math:`d = 2D+1`
the degree, :math:`\alpha` the subnormalization, :math:`\delta` the uniform error of :math:`g`
on :math:`[1/\kappa, 1]`, :math:`\mathcal N` the normalization (:math:`\max_{[-1,1]}|g|`, bounded).

Used in chapter 8 (the solver registry of :mod:`qsgd.solvers`).

References
----------
.. [1] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value transformation and
   beyond: exponential improvements for quantum matrix arithmetics", Proc. STOC 2019, 193-204,
   arXiv:1806.01838.
.. [2] A. M. Childs, R. Kothari, R. D. Somma, "Quantum algorithm for systems of linear equations
   with exponentially improved dependence on precision", SIAM J. Comput. 46, 1920-1950 (2017).
.. [3] J. M. Martyn, Z. M. Rossi, A. K. Tan, I. L. Chuang, "Grand unification of quantum
   algorithms", PRX Quantum 2, 040203 (2021).
.. [4] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang, "Towards
   provably efficient quantum algorithms for large-scale machine-learning models",
   Nat. Commun. 15, 434 (2024).
.. [5] H. Ehlich, K. Zeller, "Schwankung von Polynomen zwischen Gitterpunkten",
   Math. Z. 86, 41-44 (1964).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.polynomial.chebyshev import chebval
from scipy.fft import dct
from scipy.stats import binom

from qsgd._validation import as_vector, check_bool, check_positive, describe
from qsgd.decomposition import Decomposition, SpectralBounds, decompose
from qsgd.solvers.base import LinearSystem, SolverResult

__all__ = [
    "InversePolynomial",
    "inverse_polynomial",
    "PolynomialModelResult",
    "polynomial_model",
    "polynomial_entry",
    "polynomial_bound",
    "MAX_DEGREE",
    "GRID_FACTOR",
    "DEFAULT_ACCURACY",
    "BLOCK_ENCODING_ANCILLAS",
    "SIGNAL_QUBITS",
]

#: largest polynomial degree :func:`inverse_polynomial` builds (a million block-encoding calls)
MAX_DEGREE = 10**6

#: the normalization grid has ``GRID_FACTOR * d`` intervals (Ehlich-Zeller factor ``sec(pi / (2 GRID_FACTOR))``)
GRID_FACTOR = 16

#: ``eps`` of :func:`polynomial_entry` when ``settings`` has no ``accuracy``
DEFAULT_ACCURACY = 1e-2

#: ancilla qubits of the block encoding of :math:`A/\alpha` (the minimum: one qubit dilates a contraction to a unitary)
BLOCK_ENCODING_ANCILLAS = 1

#: the QSVT signal qubit (rotations between the block-encoding calls, and the real part of the polynomial)
SIGNAL_QUBITS = 1

#: relative slack for a subnormalization or lower bound that equals an extreme singular value up to rounding
_BOUND_RTOL = 1e-10


def _unit_eps(eps: Any, func: str, name: str = "eps") -> float:
    """*eps* as a float in (0, 1), or a ValueError naming *func* and *name*."""
    value = check_positive(eps, name, func=func)
    if value >= 1.0:
        raise ValueError(f"{func}: {name} must be in (0, 1), got {value}")
    return value


def _kappa(kappa: Any, func: str) -> float:
    """``kappa`` as a finite float >= 1, or a ValueError naming *func*."""
    value = check_positive(kappa, "kappa", func=func)
    if value < 1.0:
        raise ValueError(f"{func}: kappa must be >= 1 (a condition number), got {value}")
    return value


def _planned_degree(kappa: float, eps: float) -> float:
    r"""The degree :math:`2D + 1` of :func:`inverse_polynomial`, in floating point (``inf`` past the float range).

    Computed from logarithms so that an absurd ``kappa`` gives a huge number, never an overflow.
    """
    log_b = 2.0 * math.log(kappa) + math.log(max(math.log(kappa / eps), 1e-300))
    if log_b > 700.0:
        return math.inf
    b = math.ceil(math.exp(log_b))
    D = math.ceil(math.sqrt(b * math.log(4.0 * b / eps)))
    return float(2 * min(D, b - 1) + 1)


@dataclass(frozen=True)
class InversePolynomial:
    r"""The odd polynomial :math:`g \approx 1/x` of Childs, Kothari and Somma, in the Chebyshev basis.

    Made by :func:`inverse_polynomial`; see the module docstring for the construction.

    Attributes
    ----------
    coefficients : ndarray, shape (d + 1,)
        Chebyshev coefficients of :math:`g`, lowest degree first, for
        ``numpy.polynomial.chebyshev.chebval``; the even entries are exactly 0 (odd polynomial).
    degree : int
        :math:`d = 2D + 1`, the number of block-encoding calls of one QSVT run.
    b : int
        :math:`\lceil\kappa^2\ln(\kappa/\epsilon)\rceil`.
    truncation : int
        :math:`D = \min(\lceil\sqrt{b\ln(4b/\epsilon)}\,\rceil, b - 1)` (the coefficients vanish beyond
        :math:`j = b - 1`, where :math:`g = f` exactly).
    kappa, eps : float
        The arguments.
    uniform_error : float
        :math:`\delta`, a computed bound on :math:`\max_{x\in[1/\kappa,1]}|g(x) - 1/x|`:
        :math:`\kappa(1-\kappa^{-2})^b` (the largest :math:`|f - 1/x| = (1-x^2)^b/x`, at
        :math:`x = 1/\kappa`) plus :math:`4\sum_{j>D}\Pr[X > b+j]` (the dropped coefficients,
        :math:`|T_k| \le 1`). Never above the guarantee :math:`2\epsilon` of Lemma 19; usually
        close to :math:`\epsilon`.
    guarantee : float
        :math:`2\epsilon`, the bound of [2]_ Lemma 19 (absolute, on :math:`D_\kappa`).
    normalization : float
        :math:`\mathcal N \ge \max_{[-1,1]}|g|`, so that :math:`g/\mathcal N` is bounded by 1 as QSVT
        requires: the largest :math:`|g|` on the :math:`N + 1` Chebyshev points
        :math:`\cos(k\pi/N)`, :math:`N` = :data:`GRID_FACTOR` :math:`\cdot d`, times
        :math:`\sec(d\pi/2N)` -- a rigorous bound by the Ehlich-Zeller inequality [5]_, at most
        0.5 % above the true maximum. (:math:`1/(2\kappa)` is *not* a valid scale here: the maximum
        of :math:`|g|` is about :math:`0.64\sqrt b = 0.64\,\kappa\sqrt{\ln(\kappa/\epsilon)}`,
        beyond :math:`2\kappa` once :math:`\kappa/\epsilon > e^{10}`.)
    """

    coefficients: np.ndarray = field(repr=False)
    degree: int
    b: int
    truncation: int
    kappa: float
    eps: float
    uniform_error: float
    guarantee: float
    normalization: float

    def evaluate(self, x: Any, *, scaled: bool = False) -> np.ndarray:
        r""":math:`g(x)`, or :math:`g(x)/\mathcal N` with ``scaled=True`` (the polynomial QSVT applies).

        Parameters
        ----------
        x : float or array_like
            Points, finite (:math:`[-1, 1]` is the domain that matters).
        scaled : bool, default False

        Returns
        -------
        ndarray of the shape of ``x`` (float64)
        """
        func = "InversePolynomial.evaluate"
        scaled = check_bool(scaled, "scaled", func=func)
        arr = np.asarray(x, dtype=float) if not isinstance(x, (str, bytes)) else None
        if arr is None or not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: x must be finite real numbers, got {describe(x)}")
        values = chebval(arr, self.coefficients)
        return values / self.normalization if scaled else np.asarray(values, dtype=float)


def inverse_polynomial(kappa: Any, eps: Any) -> InversePolynomial:
    r"""An odd polynomial of degree :math:`O(\kappa\log(\kappa/\epsilon))` within :math:`2\epsilon` of :math:`1/x`.

    Implements Lemmas 17-19 of Childs, Kothari and Somma [1]_ (the polynomial the QSVT inversion of
    Gilyén et al. [2]_ starts from): :math:`b = \lceil\kappa^2\ln(\kappa/\epsilon)\rceil`,
    :math:`D = \lceil\sqrt{b\ln(4b/\epsilon)}\,\rceil` (capped at :math:`b - 1`), and

    .. math::

        g(x) = 4\sum_{j=0}^{D}(-1)^j\,\Pr[X > b + j]\;T_{2j+1}(x), \qquad X\sim\mathrm{Bin}(2b, 1/2),

    with the guarantee :math:`|g(x) - 1/x| \le 2\epsilon` for :math:`1/\kappa \le |x| \le 1`
    (absolute; relative to the scale :math:`\kappa` of :math:`1/x` on that interval it is
    :math:`2\epsilon/\kappa`). The returned object also carries the computed, usually sharper
    bound :math:`\delta` (``uniform_error``) and the normalization :math:`\mathcal N` that bounds
    :math:`|g|` by itself on :math:`[-1, 1]`.

    Parameters
    ----------
    kappa : float
        :math:`\kappa \ge 1`, finite: the polynomial inverts :math:`x \in [1/\kappa, 1]`.
    eps : float
        :math:`\epsilon \in (0, 1)`.

    Returns
    -------
    InversePolynomial

    Raises
    ------
    ValueError
        ``kappa`` below 1 or not finite, ``eps`` outside (0, 1), or a degree above
        :data:`MAX_DEGREE` (the message gives the degree ``kappa`` and ``eps`` would need).

    References
    ----------
    .. [1] A. M. Childs, R. Kothari, R. D. Somma, SIAM J. Comput. 46, 1920 (2017), Lemmas 17-19.
    .. [2] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, STOC 2019, 193-204, arXiv:1806.01838.

    Examples
    --------
    >>> p = inverse_polynomial(10, 1e-2)
    >>> p.degree, p.b, bool(p.uniform_error <= 2e-2)
    (189, 691, True)
    >>> round(float(p.evaluate(0.5)), 3)
    2.0
    """
    func = "inverse_polynomial"
    kappa = _kappa(kappa, func)
    eps = _unit_eps(eps, func)
    planned = _planned_degree(kappa, eps)
    if planned > MAX_DEGREE:
        raise ValueError(
            f"{func}: kappa={kappa:g} with eps={eps:g} needs a polynomial of degree about {planned:.3g}, above "
            f"the limit {MAX_DEGREE} (block-encoding calls of one run); lower kappa or raise eps"
        )
    b = max(1, math.ceil(kappa * kappa * math.log(kappa / eps)))
    D = min(math.ceil(math.sqrt(b * math.log(4.0 * b / eps))), b - 1)
    j = np.arange(D + 1)
    odd = 4.0 * np.where(j % 2 == 0, 1.0, -1.0) * binom.sf(b + j, 2 * b, 0.5)
    coefficients = np.zeros(2 * D + 2)
    coefficients[1::2] = odd
    # the dropped coefficients: 4 Pr[X > b + j] for D < j < b; Hoeffding, Pr[X > b + j] <= exp(-j^2 / b),
    # makes everything beyond j = D + 40 sqrt(b) below 1e-300 relative, so the sum stops there
    stop = min(b - 1, D + math.ceil(40.0 * math.sqrt(b)))
    tail = 4.0 * float(np.sum(binom.sf(b + np.arange(D + 1, stop + 1), 2 * b, 0.5))) if stop > D else 0.0
    f_error = kappa * math.exp(b * math.log1p(-1.0 / (kappa * kappa))) if kappa > 1.0 else 0.0
    degree = 2 * D + 1
    return InversePolynomial(
        coefficients=coefficients,
        degree=degree,
        b=int(b),
        truncation=int(D),
        kappa=kappa,
        eps=eps,
        uniform_error=float(min(f_error + tail, 2.0 * eps)),
        guarantee=2.0 * eps,
        normalization=_sup_norm(coefficients, degree),
    )


def _sup_norm(coefficients: np.ndarray, degree: int) -> float:
    r"""A rigorous upper bound on :math:`\max_{[-1,1]}|p|` for a Chebyshev series of this degree.

    :math:`p(\cos(k\pi/N))` for :math:`k = 0..N` by one DCT-I of length :math:`N + 1`
    (:math:`N` = :data:`GRID_FACTOR` :math:`\cdot d`), then the Ehlich-Zeller inequality
    :math:`\|p\|_\infty \le \sec(d\pi/2N)\max_k|p(\cos(k\pi/N))|` for :math:`d < N`.
    """
    N = GRID_FACTOR * max(degree, 1)
    padded = np.zeros(N + 1)
    padded[: coefficients.size] = coefficients
    padded[1:N] /= 2.0  # DCT-I: y_k = x_0 + (-1)^k x_N + 2 sum_{n=1}^{N-1} x_n cos(pi k n / N)
    grid_max = float(np.max(np.abs(dct(padded, type=1))))
    return grid_max / math.cos(degree * math.pi / (2.0 * N))


@dataclass(frozen=True)
class PolynomialModelResult:
    r"""The output of one QSVT linear solve, computed from the decomposition (:func:`polynomial_model`).

    Attributes
    ----------
    solution : ndarray, shape (m,)
        The postselected output state :math:`u/\|u\|`, with
        :math:`u = W\,\tilde g(\sigma/\alpha)\,U^{\mathsf T}\hat b` (non-symmetric) or
        :math:`V\,\tilde g(\lambda/\alpha)\,V^{\mathsf T}\hat b` (symmetric), :math:`\tilde g = g/\mathcal N`,
        :math:`\hat b = b/\|b\|`; NaN entries when :math:`u = 0`.
    amplitudes : ndarray, shape (m,)
        :math:`u`, the unnormalized amplitudes on the postselected block.
    reference : ndarray, shape (m,)
        :math:`A^{-1}b/\|A^{-1}b\|`, from the same decomposition.
    error : float
        :math:`\|\text{solution} - \text{reference}\|_2`.
    error_bound : float
        :math:`2\delta` (see :func:`polynomial_model`), or ``inf`` when a singular value lies below
        the stated lower bound (the polynomial's guarantee does not cover it).
    success_probability : float
        :math:`\|u\|^2`, the probability of postselecting the solution in one run.
    queries : int
        Block-encoding calls of one run: the degree :math:`d`.
    qubits : int
        ``system_qubits`` + :data:`BLOCK_ENCODING_ANCILLAS` + :data:`SIGNAL_QUBITS`.
    system_qubits : int
        :math:`\max(1, \lceil\log_2 m\rceil)` (no dilation: QSVT acts on singular values).
    eps : float
        The polynomial's :math:`\epsilon`, as passed.
    kappa : float
        ``upper / lower``, the :math:`\kappa` the polynomial was built for.
    lower, upper : float
        The spectral bounds used; ``upper`` is the subnormalization :math:`\alpha`.
    polynomial : InversePolynomial
    scaled_values : ndarray or None
        :math:`x_i = \sigma_i/\alpha` (or :math:`\lambda_i/\alpha`), where the polynomial is applied
        (None on the Chebyshev path, which never sees them).
    symmetric : bool
        The decomposition is an eigendecomposition of a symmetric matrix.
    success : bool
        False when the output is zero or non-finite, or the error bound is not below 1.
    message : str
    """

    solution: np.ndarray = field(repr=False)
    amplitudes: np.ndarray = field(repr=False)
    reference: np.ndarray = field(repr=False)
    error: float
    error_bound: float
    success_probability: float
    queries: int
    qubits: int
    system_qubits: int
    eps: float
    kappa: float
    lower: float
    upper: float
    polynomial: InversePolynomial = field(repr=False)
    scaled_values: np.ndarray = field(repr=False)
    symmetric: bool
    success: bool
    message: str


def _bounds_pair(bounds: Any, func: str) -> tuple[float, float]:
    """``(lower, upper)`` from a SpectralBounds, an object with ``lower``/``upper`` or a pair."""
    if isinstance(bounds, (str, bytes)):
        pair = None
    elif isinstance(bounds, SpectralBounds) or (hasattr(bounds, "lower") and hasattr(bounds, "upper")):
        pair = (bounds.lower, bounds.upper)
    elif isinstance(bounds, (tuple, list)) and len(bounds) == 2:
        pair = tuple(bounds)
    else:
        pair = None
    if pair is None:
        raise ValueError(f"{func}: bounds must be None, a SpectralBounds or a pair (lower, upper), "
                         f"got {describe(bounds)}")
    lower = check_positive(pair[0], "bounds.lower", func=func)
    upper = check_positive(pair[1], "bounds.upper", func=func)
    if lower > upper:
        raise ValueError(f"{func}: bounds must have lower <= upper, got lower={lower} > upper={upper}")
    return lower, upper


def polynomial_model(decomposition: Any, rhs: Any, *, eps: Any, bounds: Any = None) -> PolynomialModelResult:
    r"""The postselected output of a QSVT linear solve with the polynomial of :func:`inverse_polynomial`.

    An exact model of the algorithm's output, computed on the decomposition (no circuit). With the
    subnormalization :math:`\alpha` = ``upper`` (the block encoding holds :math:`A/\alpha`),
    :math:`\kappa` = ``upper / lower``, :math:`g` the polynomial for :math:`(\kappa, \epsilon)` and
    :math:`\tilde g = g/\mathcal N` its bounded version, the register postselected on the
    block-encoding ancilla holds

    * :math:`u = W\,\tilde g(\sigma/\alpha)\,U^{\mathsf T}\hat b = \tilde g^{\rm SV}(A^{\mathsf T}/\alpha)\,\hat b`
      for :math:`A = U\,\mathrm{diag}(\sigma)\,W^{\mathsf T}` (no dilation), and
    * :math:`u = V\,\tilde g(\lambda/\alpha)\,V^{\mathsf T}\hat b` for symmetric
      :math:`A = V\,\mathrm{diag}(\lambda)\,V^{\mathsf T}` (:math:`g` odd: negative eigenvalues keep their sign),

    with :math:`\hat b = b/\|b\|`; the success probability is :math:`\|u\|^2` and the state :math:`u/\|u\|`.

    Error bound (a priori). For :math:`x \in [1/\kappa, 1]`, :math:`|g(x) - 1/x| \le \delta`
    (:attr:`InversePolynomial.uniform_error`, at most :math:`2\epsilon`; by oddness the same
    holds on :math:`[-1, -1/\kappa]`). When every :math:`|\sigma_i|/\alpha` lies in
    :math:`[1/\kappa, 1]`, the unscaled output :math:`\mathcal N u` and
    :math:`v = \alpha A^{-1}\hat b` differ by :math:`\|\mathcal N u - v\| \le \delta\|\hat b\| = \delta`
    (the same orthogonal factors on both sides), and :math:`\|v\| \ge \|\hat b\| = 1` because
    :math:`\alpha/\sigma_i \ge 1`. With :math:`\|p/\|p\| - v/\|v\|\| \le 2\|p - v\|/\|v\|`
    (triangle inequality on :math:`(p - v)/\|v\| + p(1/\|p\| - 1/\|v\|)`), the normalized states obey

    .. math::

        \Big\|\frac{u}{\|u\|} - \frac{A^{-1}b}{\|A^{-1}b\|}\Big\| \le 2\delta \le 4\epsilon.

    Parameters
    ----------
    decomposition : Decomposition, or the matrix
        :math:`A`'s decomposition from :func:`qsgd.decomposition.decompose`, with its vectors; or
        :math:`A` itself (ndarray, sparse matrix or ``LinearOperator``) together with ``bounds``
        as a :class:`qsgd.decomposition.SpectralBounds`: then no decomposition is made and
        :math:`\tilde g` is applied as its Chebyshev series, one product by :math:`A` or
        :math:`A^{\mathsf T}` per degree (:func:`qsgd.matfun.chebyshev_dilation`, or
        :func:`qsgd.matfun.chebyshev_apply` when ``bounds.dilated`` is False); exact up to
        rounding (the polynomial *is* the series). The bounds must then enclose the spectrum (as
        :func:`qsgd.matfun.singular_value_bracket`'s do, at its confidence); the reference comes
        from a sparse LU solve (NaN for a LinearOperator).
    rhs : (m,) array_like
        :math:`b`, finite and non-zero (normalized here).
    eps : float
        :math:`\epsilon \in (0, 1)` of the polynomial.
    bounds : SpectralBounds or (lower, upper), optional
        What the solver is told about the singular values (eigenvalue moduli):
        :math:`\alpha` = ``upper`` must be at least :math:`\sigma_{\max}` (else :math:`A/\alpha` has
        no block encoding); a singular value below ``lower`` leaves the polynomial's guarantee, so
        the error bound becomes ``inf``. Default: the decomposition's exact extremes.

    Returns
    -------
    PolynomialModelResult

    Raises
    ------
    ValueError
        ``decomposition`` not a Decomposition or without vectors, ``rhs`` of the wrong length,
        zero or non-finite, ``eps`` outside (0, 1), bad ``bounds`` or ``upper`` below
        :math:`\sigma_{\max}`, and a polynomial beyond :data:`MAX_DEGREE`.

    Examples
    --------
    >>> from qsgd.decomposition import decompose
    >>> res = polynomial_model(decompose([[1.0, 0.5], [0.0, 1.0]]), [1.0, 1.0], eps=1e-3)
    >>> np.round(res.solution, 4), np.round(res.reference, 4), res.queries
    (array([0.4472, 0.8944]), array([0.4472, 0.8944]), 33)
    """
    func = "polynomial_model"
    if isinstance(bounds, SpectralBounds) and not isinstance(decomposition, Decomposition):
        return _chebyshev_model(decomposition, rhs, eps=eps, bounds=bounds, func=func)
    if not isinstance(decomposition, Decomposition):
        raise ValueError(f"{func}: decomposition must be a Decomposition (see qsgd.decomposition.decompose), "
                         f"got {describe(decomposition)}")
    if decomposition.left is None or (not decomposition.symmetric and decomposition.right is None):
        raise ValueError(f"{func}: decomposition holds values only (decompose(..., vectors=False)); "
                         "the model needs its vectors")
    m = decomposition.dimension
    vec = as_vector(rhs, "rhs", func=func, size=m, allow_zero=False)
    eps = _unit_eps(eps, func)
    moduli = decomposition.moduli
    s_min, s_max = float(moduli.min()), float(moduli.max())
    if bounds is None:
        lower, upper = s_min, s_max
    else:
        lower, upper = _bounds_pair(bounds, func)
        if s_max > upper * (1.0 + _BOUND_RTOL):
            raise ValueError(
                f"{func}: bounds.upper={upper:.6g} is below the largest singular value {s_max:.6g}; the "
                "subnormalization of a block encoding must be at least ||A||"
            )
    kappa = upper / lower
    polynomial = inverse_polynomial(kappa, eps)

    unit = vec / np.linalg.norm(vec)
    values = np.asarray(decomposition.values, dtype=float)
    x = np.clip(values / upper, -1.0, 1.0)
    g = polynomial.evaluate(x, scaled=True)
    if decomposition.symmetric:
        V = decomposition.left
        coords = V.T @ unit
        amplitudes = V @ (g * coords)
        reference = V @ (coords / values)
    else:
        U, W = decomposition.left, decomposition.right
        coords = U.T @ unit
        amplitudes = W @ (g * coords)
        reference = W @ (coords / values)
    reference = reference / np.linalg.norm(reference)
    norm = float(np.linalg.norm(amplitudes))
    probability = norm * norm

    covered = s_min >= lower * (1.0 - _BOUND_RTOL)
    error_bound = 2.0 * polynomial.uniform_error if covered else math.inf
    if not (math.isfinite(norm) and norm > 0.0):
        solution = np.full(m, np.nan)
        error, success = math.nan, False
        message = f"the output is {'zero' if norm == 0.0 else 'not finite'} (norm {norm}); nothing to postselect"
    else:
        solution = amplitudes / norm
        error = float(np.linalg.norm(solution - reference))
        if not covered:
            success = False
            message = (f"the smallest singular value {s_min:.6g} lies below bounds.lower={lower:.6g}: the "
                       "polynomial's guarantee does not cover it, so there is no error bound")
        elif error_bound >= 1.0:
            success = False
            message = f"the error bound {error_bound:.3g} is vacuous (>= 1); lower eps"
        else:
            success = True
            message = (f"degree {polynomial.degree} polynomial for kappa={kappa:.4g}, eps={eps:g}: error "
                       f"{error:.3g} <= bound {error_bound:.3g}")
    system_qubits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    return PolynomialModelResult(
        solution=solution,
        amplitudes=amplitudes,
        reference=reference,
        error=error,
        error_bound=float(error_bound),
        success_probability=float(probability),
        queries=int(polynomial.degree),
        qubits=system_qubits + BLOCK_ENCODING_ANCILLAS + SIGNAL_QUBITS,
        system_qubits=system_qubits,
        eps=eps,
        kappa=float(kappa),
        lower=float(lower),
        upper=float(upper),
        polynomial=polynomial,
        scaled_values=x,
        symmetric=bool(decomposition.symmetric),
        success=success,
        message=message,
    )


def _chebyshev_model(A: Any, rhs: Any, *, eps: Any, bounds: SpectralBounds, func: str) -> PolynomialModelResult:
    """:func:`polynomial_model` on the matrix itself: the polynomial applied as a Chebyshev series of products."""
    from qsgd.matfun import as_operator, chebyshev_apply, chebyshev_dilation, reference_direction

    op, mat = as_operator(A, func)
    m = op.shape[0]
    vec = as_vector(rhs, "rhs", func=func, size=m, allow_zero=False)
    eps = _unit_eps(eps, func)
    lower, upper = _bounds_pair(bounds, func)
    kappa = upper / lower
    polynomial = inverse_polynomial(kappa, eps)
    unit = vec / np.linalg.norm(vec)
    series = polynomial.coefficients / polynomial.normalization
    if bounds.dilated:
        _, amplitudes = chebyshev_dilation(op, unit, series, radius=upper)
    else:
        amplitudes = chebyshev_apply(op, unit, series, radius=upper)
    reference = reference_direction(mat, unit)
    norm = float(np.linalg.norm(amplitudes))
    error_bound = 2.0 * polynomial.uniform_error
    if not (math.isfinite(norm) and norm > 0.0):
        solution, error, success = np.full(m, np.nan), math.nan, False
        message = f"the output is {'zero' if norm == 0.0 else 'not finite'} (norm {norm}); nothing to postselect"
    else:
        solution = amplitudes / norm
        error = float(np.linalg.norm(solution - reference))
        success = error_bound < 1.0
        message = (f"degree {polynomial.degree} polynomial for kappa={kappa:.4g}, eps={eps:g} (Chebyshev series, "
                   f"bounds by {bounds.method}): error bound {error_bound:.3g}" if success
                   else f"the error bound {error_bound:.3g} is vacuous (>= 1); lower eps")
    system_qubits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    return PolynomialModelResult(
        solution=solution, amplitudes=amplitudes, reference=reference, error=error, error_bound=float(error_bound),
        success_probability=norm * norm, queries=int(polynomial.degree),
        qubits=system_qubits + BLOCK_ENCODING_ANCILLAS + SIGNAL_QUBITS, system_qubits=system_qubits, eps=eps,
        kappa=float(kappa), lower=float(lower), upper=float(upper), polynomial=polynomial, scaled_values=None,
        symmetric=not bounds.dilated, success=success, message=message,
    )


def polynomial_entry(system: LinearSystem, settings: Any, rng: Any) -> SolverResult:
    r"""Registry entry ``"polynomial"``: :func:`polynomial_model` on a :class:`qsgd.solvers.base.LinearSystem`.

    Reads ``system.decomposition`` (made with :func:`qsgd.decomposition.decompose` from
    ``system.matrix`` when None) and ``system.rhs``. From ``settings`` it reads only the attribute
    ``accuracy``, the polynomial's :math:`\epsilon` (default :data:`DEFAULT_ACCURACY` = 1e-2 when
    the attribute is missing or None). ``rng`` is ignored: the model is deterministic.

    Parameters
    ----------
    system : LinearSystem
    settings : object
        Anything; only ``settings.accuracy`` is read.
    rng : numpy.random.Generator or None
        Unused.

    Returns
    -------
    SolverResult
        ``solver="polynomial"``; ``state`` and ``model_state`` the model's solution,
        ``success_probability`` and ``model_probability`` its :math:`\|u\|^2`, ``error_bound``
        :math:`2\delta`, ``queries`` the degree, ``qubits`` as :class:`PolynomialModelResult`,
        ``parameters`` the :class:`InversePolynomial`, ``details`` the :class:`PolynomialModelResult`.
        ``success`` is False (with the reason in ``message``) when the output is zero or not
        finite, or the error bound is not below 1.

    Raises
    ------
    ValueError
        ``system`` not a LinearSystem, ``settings.accuracy`` outside (0, 1), and as
        :func:`polynomial_model`.
    """
    func = "polynomial_entry"
    if not isinstance(system, LinearSystem):
        raise ValueError(f"{func}: system must be a LinearSystem (qsgd.solvers.base), got {describe(system)}")
    eps = getattr(settings, "accuracy", None)
    eps = DEFAULT_ACCURACY if eps is None else _unit_eps(eps, func, "settings.accuracy")
    decomposition = system.decomposition
    if decomposition is None and system.bounds is not None:  # matrix-free
        matrix = system.operator if system.operator is not None else system.matrix
        result = polynomial_model(matrix, system.rhs, eps=eps, bounds=system.bounds)
    else:
        if decomposition is None:
            decomposition = decompose(system.matrix, func=func)
        result = polynomial_model(decomposition, system.rhs, eps=eps)
    return SolverResult(
        solver="polynomial",
        state=result.solution,
        success_probability=result.success_probability,
        error_bound=result.error_bound,
        queries=result.queries,
        qubits=result.qubits,
        success=result.success,
        message=result.message,
        model_state=result.solution,
        model_probability=result.success_probability,
        parameters=result.polynomial,
        details=result,
    )


def polynomial_bound(system: LinearSystem, settings: Any) -> float:
    r"""A priori bound of the ``"polynomial"`` entry on its normalized output state, before it runs.

    :math:`2\delta` with :math:`\delta` the uniform error of :func:`inverse_polynomial` for the
    system's :math:`\kappa` (from the decomposition's bounds) and ``settings.accuracy`` -- the
    same number :func:`polynomial_model` reports as ``error_bound``, computed without applying
    the polynomial. Used by :func:`qsgd.guarantee.segment_guarantee`.
    """
    func = "polynomial_bound"
    if system.decomposition is None and system.bounds is not None:
        kappa = system.bounds.condition_number
    else:
        dec = system.decomposition if system.decomposition is not None else decompose(system.matrix, func=func)
        moduli = np.asarray(dec.moduli, dtype=float)
        kappa = float(moduli.max() / moduli.min())
    eps = getattr(settings, "accuracy", None)
    eps = DEFAULT_ACCURACY if eps is None else _unit_eps(eps, func, "settings.accuracy")
    return float(2.0 * inverse_polynomial(kappa, eps).uniform_error)
