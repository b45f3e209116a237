r"""The terms of the training cost of :mod:`qsgd.cost`, one function each, with their sources.

Every function counts *elementary operations* (a flop, a logical gate, a memory access) of one
part of a training run; :func:`qsgd.cost.training_cost` adds them up. The module docstring of
:mod:`qsgd.cost` states the model and the unit; import the names from there
(``from qsgd.cost import qlsa_queries``), this module only keeps ``qsgd/cost.py`` short.

Functions
---------
default_kappa
    The default condition number of the Eq. 6 system, PNAS Lemma 3's ``3 (T + p + 1)``.
gradient_cost, hessian_cost, third_derivative_cost, coefficient_formation_cost
    Classical cost of the Taylor coefficients of one GD step at one point.
oracle_query_cost
    Gates of one query to a sparse-access oracle of a D-dimensional matrix.
upload_cost
    CNOTs of the Gleinig-Hoefler preparation of the lifted initial state.
lifted_row_sparsity
    Non-zeros per row of the Carleman-lifted step and of the Eq. 6 matrix, as N grows.
qlsa_queries
    Oracle queries of one QLSA solve (``"hhl"``, ``"cks"``, ``"costa"``).
postselection_repeats
    Runs per postselected copy.
tomography_copies
    Copies of the output state for the download.
re_expansions
    Number of segments of a training run.
classical_gd_cost
    The same training by classical gradient descent.
public_errors
    The decorator every public function of :mod:`qsgd.cost` carries: bad input, inner errors
    and overflow become a ``ValueError`` that names the function called.

Used in chapters 6 and 8.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for large-scale
   machine-learning models", Nat. Commun. 15, 434 (2024).
.. [2] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems of equations",
   Phys. Rev. Lett. 103, 150502 (2009).
.. [3] A. M. Childs, R. Kothari, R. D. Somma, "Quantum algorithm for systems of linear equations
   with exponentially improved dependence on precision", SIAM J. Comput. 46, 1920 (2017).
.. [4] P. C. S. Costa, D. An, Y. R. Sanders, Y. Su, R. Babbush, D. W. Berry, "Optimal scaling
   quantum linear-systems solver via discrete adiabatic theorem", PRX Quantum 3, 040303 (2022).
.. [5] P. C. S. Costa, D. An, R. Babbush, D. W. Berry, "The discrete adiabatic quantum linear
   system solver has lower constant factors than the randomized adiabatic solver",
   arXiv:2312.07690 (2023).
.. [6] N. Gleinig, T. Hoefler, "An efficient algorithm for sparse quantum state preparation",
   DAC 2021.
.. [7] I. Kerenidis, A. Prakash, "A quantum interior point method for LPs and SDPs",
   ACM Trans. Quantum Comput. 1, 5 (2020).
.. [8] G. Brassard, P. Høyer, M. Mosca, A. Tapp, "Quantum amplitude amplification and
   estimation", Contemp. Math. 305, 53 (2002).
.. [9] A. Griewank, A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM (2008).
.. [10] B. A. Pearlmutter, "Fast exact multiplication by the Hessian", Neural Comput. 6, 147
   (1994).
.. [11] T. F. Coleman, J. J. Moré, "Estimation of sparse Hessian matrices and graph coloring
   problems", Math. Program. 28, 243 (1984).
.. [12] L. Lin, Y. Tong, "Optimal polynomial based quantum eigenstate filtering with application
   to solving quantum linear systems", Quantum 4, 361 (2020).
.. [13] J.-P. Liu et al., "Efficient quantum algorithm for dissipative nonlinear differential
   equations", PNAS 118, e2026805118 (2021).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import numbers

import numpy as np

from qsgd._validation import check_choice, check_float_range, check_int, check_positive, describe
from qsgd.carleman import lifted_dimension

__all__ = [
    "QLSA_SOLVERS",
    "COSTA_WALK_CONSTANT",
    "COSTA_WALK_CONSTANT_OBSERVED",
    "GRADIENT_FACTOR",
    "HVP_FACTOR",
    "THIRD_FACTOR",
    "default_kappa",
    "gradient_cost",
    "hessian_cost",
    "third_derivative_cost",
    "coefficient_formation_cost",
    "oracle_query_cost",
    "upload_cost",
    "lifted_row_sparsity",
    "qlsa_queries",
    "postselection_repeats",
    "tomography_copies",
    "re_expansions",
    "classical_gd_cost",
]

#: quantum linear-system algorithms of :func:`qlsa_queries`
QLSA_SOLVERS = ("hhl", "cks", "costa")

#: upper bound on the constant of the adiabatic walk, ``2305 kappa`` walk steps ([4]_, Sec. V)
COSTA_WALK_CONSTANT = 2305.0
#: the constant observed on random matrices, about 1,200 times smaller ([5]_)
COSTA_WALK_CONSTANT_OBSERVED = 1.84

#: reverse-mode gradient / loss evaluation ("cheap gradient principle", [9]_, Sec. 4.6: <= 4)
GRADIENT_FACTOR = 4.0
#: Hessian-vector product / loss evaluation (forward over reverse, [10]_; [9]_, Sec. 5.4)
HVP_FACTOR = 2.0 * GRADIENT_FACTOR
#: second directional derivative of the gradient / loss evaluation (one more forward sweep)
THIRD_FACTOR = 2.0 * HVP_FACTOR


# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------


def _size(value, name, func, minimum=1.0):
    """A real size >= minimum (model sizes are continuous in the cost model)."""
    value = check_positive(value, name, func=func)
    if value < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum:g}, got {value}")
    return value


def _unit_interval(value, name, func, *, closed_right=False):
    value = check_positive(value, name, func=func)
    if value > 1 or (value == 1 and not closed_right):
        raise ValueError(f"{func}: {name} must be in (0, 1{']' if closed_right else ')'}, got {value}")
    return value


def _kappa(value, func):
    value = check_positive(value, "kappa", func=func)
    if value < 1:
        raise ValueError(f"{func}: kappa must be >= 1 (a condition number), got {value}")
    return value


def _ceil_log2(x):
    """``ceil(log2 x)`` for x >= 1: exact for integers, float otherwise (0 for x = 1)."""
    if isinstance(x, numbers.Integral):
        return int(x - 1).bit_length() if x > 1 else 0
    return max(math.ceil(math.log2(x) - 1e-12), 0)


def _log2(x):
    return max(math.log2(x), 1.0)


def _lifted_dimension(n, order):
    """``sum_{j=1}^N n**j`` (Kronecker basis); exact for integer n."""
    if isinstance(n, numbers.Integral):
        return lifted_dimension(int(n), order, basis="kronecker")
    return float(sum(n**j for j in range(1, order + 1)))


# --------------------------------------------------------------------------------------------
# the error behaviour of every public cost function
# --------------------------------------------------------------------------------------------


def _non_finite_fields(result):
    """(name, value) of the non-finite numbers in *result* (a number or a dataclass)."""
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        items = [("result", result)]
    elif dataclasses.is_dataclass(result):
        items = [(f.name, getattr(result, f.name)) for f in dataclasses.fields(result)]
    else:
        return []
    bad = []
    for name, value in items:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            try:
                if not math.isfinite(float(value)):
                    bad.append((name, value))
            except OverflowError:
                bad.append((name, value))
    return bad


def public_errors(fn):
    """Decorate a public cost function so that every failure is a ``ValueError`` naming it.

    The formulas mix floats with exact Python integers and call one another (``training_cost``
    calls ``tomography_copies``, ...). The decorated function

    - refuses a missing or unknown argument, and an integer argument beyond the floating-point
      range (more than 1000 bits), with its name, before any arithmetic;
    - re-raises a ``ValueError`` of an inner public function naming the function called, with
      the inner one in parentheses (``training_cost: readout must be ... (raised by
      tomography_copies)``), and turns an ``OverflowError`` into a ``ValueError``;
    - refuses a non-finite result (an overflow of double precision), naming the field of the
      returned dataclass that overflowed.

    Each public function of :mod:`qsgd.cost` carries it explicitly; the wrapped function keeps
    its name, signature and docstring (:func:`functools.wraps`).
    """
    name = fn.__name__
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise ValueError(f"{name}: {exc}") from exc
        for arg, value in bound.arguments.items():
            values = value.items() if isinstance(value, dict) else [(arg, value)]
            for label, v in values:
                check_float_range(v, label, func=name)
        try:
            result = fn(*args, **kwargs)
        except ValueError as exc:
            inner, sep, rest = str(exc).partition(": ")
            if sep and inner != name and inner.isidentifier():
                raise ValueError(f"{name}: {rest} (raised by {inner})") from exc
            raise
        except OverflowError as exc:
            raise ValueError(
                f"{name}: the arguments overflow double precision ({exc}); use smaller values"
            ) from exc
        bad = _non_finite_fields(result)
        if bad:
            field_name, value = bad[0]
            raise ValueError(
                f"{name}: the {field_name} is {value}: the arguments overflow double precision; "
                "use smaller values"
            )
        return result

    return wrapper


# --------------------------------------------------------------------------------------------
# the default condition number
# --------------------------------------------------------------------------------------------


@public_errors
def default_kappa(steps, padding):
    r"""Default condition number of the Eq. 6 system: :math:`\kappa = 3(T + p + 1)`.

    PNAS Lemma 3 ([13]_) bounds the condition number of the forward-Euler history system of
    ``m`` steps and ``p`` padding rows by :math:`3(m + p + 1)` when :math:`\mathrm R < 1`. The
    cost model uses the bound with the ``T`` gradient steps of a segment in place of the Euler
    steps ``m`` wherever no measured :math:`\kappa` is given (chapter 6 checks the lemma on a
    small Euler-Carleman system and measures :math:`\kappa` of the GD map with
    :func:`qsgd.theorem.check_assumptions`).

    Parameters
    ----------
    steps : int
        ``T`` >= 1.
    padding : int
        ``p`` >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> default_kappa(100, 100)
    603.0

    Used in chapter 6 (by :func:`qsgd.cost.training_cost` and
    :func:`qsgd.cost.resource_estimate`).
    """
    func = "default_kappa"
    steps = check_int(steps, "steps", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    return 3.0 * (steps + padding + 1)


# --------------------------------------------------------------------------------------------
# coefficient formation (classical) or oracle access
# --------------------------------------------------------------------------------------------


@public_errors
def gradient_cost(n, *, loss_cost=None, factor=GRADIENT_FACTOR):
    r"""Operations of one gradient of the loss by reverse-mode differentiation.

    :math:`C_\nabla = \omega\,W` with :math:`W` the cost of one loss evaluation and
    :math:`\omega \le 4` the reverse-mode ratio of Griewank and Walther's cheap gradient
    principle ([9]_, Sec. 4.6). Default :math:`W = 2n` (one multiply-add per weight and sample,
    a dense layer evaluated on one sample).

    Parameters
    ----------
    n : float
        Number of trainable weights, >= 1.
    loss_cost : float, optional
        ``W``, operations of one loss evaluation (> 0); default ``2 n``.
    factor : float, default 4
        ``omega`` (> 0).

    Returns
    -------
    float

    Examples
    --------
    >>> gradient_cost(1000)
    8000.0
    """
    func = "gradient_cost"
    n = _size(n, "n", func)
    W = 2.0 * n if loss_cost is None else check_positive(loss_cost, "loss_cost", func=func)
    return check_positive(factor, "factor", func=func) * W


@public_errors
def hessian_cost(n, *, row_sparsity=None, loss_cost=None, factor=HVP_FACTOR):
    r"""Operations to form the Hessian (the ``F_1 = -eta H`` of one GD step).

    The Hessian is ``c`` Hessian-vector products, each :math:`\omega_2 W` operations
    (Pearlmutter's forward-over-reverse product [10]_; :math:`\omega_2 = 2\omega` here). A dense
    Hessian needs ``c = n`` products (one per unit vector); a Hessian with at most ``s``
    non-zeros per row needs about ``c = s`` products of coloured sums of unit vectors
    (Curtis-Powell-Reid / Coleman-Moré [11]_; ``s`` colours is the lower bound, reached for
    banded and many structured patterns).

    Parameters
    ----------
    n : float
        Weights, >= 1.
    row_sparsity : float, optional
        ``s``, non-zeros per row of the Hessian, in ``[1, n]``; default ``n`` (dense).
    loss_cost : float, optional
        ``W``; default ``2 n``.
    factor : float, default 8
        ``omega_2``.

    Returns
    -------
    float
        ``c * omega_2 * W``.
    """
    func = "hessian_cost"
    n = _size(n, "n", func)
    s = n if row_sparsity is None else _size(row_sparsity, "row_sparsity", func)
    if s > n:
        raise ValueError(f"{func}: row_sparsity must be <= n = {n:g}, got {s}")
    W = 2.0 * n if loss_cost is None else check_positive(loss_cost, "loss_cost", func=func)
    return s * check_positive(factor, "factor", func=func) * W


@public_errors
def third_derivative_cost(n, *, row_sparsity=None, loss_cost=None, factor=THIRD_FACTOR):
    r"""Operations to form the third-derivative tensor (the ``F_2`` of a quadratic GD map).

    :math:`F_2 = -\tfrac{\eta}{2}\nabla^3\mathcal L` has :math:`n^3` entries; its columns are
    the vectors :math:`\nabla^3\mathcal L[e_i, e_j, \cdot]`, one nested directional derivative
    of the gradient each (:math:`\omega_3 W` operations, one forward sweep over a
    Hessian-vector product; [9]_, Ch. 13). By symmetry :math:`c(c+1)/2` of them are needed, with
    ``c = n`` (dense) or ``c = s`` colours for a tensor whose Hessian pattern has ``s`` non-zeros
    per row (the colouring argument of [11]_ applied to both directions).

    Parameters
    ----------
    n, row_sparsity, loss_cost : as for :func:`hessian_cost`
    factor : float, default 16
        ``omega_3``.

    Returns
    -------
    float
        ``c (c + 1) / 2 * omega_3 * W``.
    """
    func = "third_derivative_cost"
    n = _size(n, "n", func)
    s = n if row_sparsity is None else _size(row_sparsity, "row_sparsity", func)
    if s > n:
        raise ValueError(f"{func}: row_sparsity must be <= n = {n:g}, got {s}")
    W = 2.0 * n if loss_cost is None else check_positive(loss_cost, "loss_cost", func=func)
    return s * (s + 1) / 2 * check_positive(factor, "factor", func=func) * W


@public_errors
def coefficient_formation_cost(n, *, degree=2, row_sparsity=None, loss_cost=None):
    """Operations to form ``F_0, ..., F_degree`` of one GD step at one point (Eq. 4 of [1]_).

    ``F_0 = -eta grad L`` (:func:`gradient_cost`), ``F_1 = -eta H`` (:func:`hessian_cost`) and,
    for ``degree >= 2``, ``F_2`` (:func:`third_derivative_cost`). Higher degrees are not
    modelled.

    Parameters
    ----------
    n : float
        Weights, >= 1.
    degree : {1, 2}
        Degree of the polynomial map.
    row_sparsity, loss_cost : see :func:`hessian_cost`

    Returns
    -------
    float
    """
    func = "coefficient_formation_cost"
    degree = check_int(degree, "degree", func=func, minimum=1, maximum=2)
    total = gradient_cost(n, loss_cost=loss_cost) + hessian_cost(n, row_sparsity=row_sparsity,
                                                                 loss_cost=loss_cost)
    if degree >= 2:
        total += third_derivative_cost(n, row_sparsity=row_sparsity, loss_cost=loss_cost)
    return total


@public_errors
def oracle_query_cost(dimension, *, constant=1.0):
    r"""Gates of one query to a sparse-access oracle of a ``dimension``-dimensional matrix.

    The oracles of the QLSA literature ([2]_-[4]_) return the position and the value of the
    ``l``-th non-zero of row ``j``; their cost is not part of the query complexity. The least a
    query costs is arithmetic on the :math:`\lceil\log_2 D\rceil`-qubit index register, so
    this model charges ``constant * ceil(log2 D)`` gates (asymptotic; a QRAM of the formed
    coefficients, or a circuit computing them, costs more).

    Parameters
    ----------
    dimension : float
        ``D`` >= 2.
    constant : float, default 1

    Returns
    -------
    float
    """
    func = "oracle_query_cost"
    if isinstance(dimension, numbers.Integral) and not isinstance(dimension, bool):
        D = check_int(dimension, "dimension", func=func, minimum=2)  # exact, however large
    else:
        D = _size(dimension, "dimension", func, minimum=2.0)
    return check_positive(constant, "constant", func=func) * _ceil_log2(D)


# --------------------------------------------------------------------------------------------
# upload, lifted sparsity, solver, postselection, download
# --------------------------------------------------------------------------------------------


@public_errors
def upload_cost(n, sparsity, *, order=1, constant=1.0):
    r"""CNOTs to prepare the lifted initial state :math:`[u; u^{\otimes 2}; \dots; u^{\otimes N}]`.

    Gleinig and Hoefler prepare an ``s``-sparse state on :math:`m = \lceil\log_2 n\rceil`
    qubits with :math:`\mathcal O(s\,m)` CNOTs ([6]_, Theorem 1; chapter 3 measured about
    ``0.4 s m``). Level ``j`` of the lift is ``j`` copies of the weight state, so

    .. math:: C_{\rm up} = c_u\,s\,\lceil\log_2 n\rceil\,\frac{N(N+1)}{2}

    (``c_u = 1``: asymptotic, the paper gives no constant).

    Parameters
    ----------
    n : float
        Weights, >= 2.
    sparsity : float
        ``s``, non-zeros of the weight vector, in ``[1, n]``.
    order : int, default 1
        Carleman order ``N``.
    constant : float, default 1
        ``c_u``.

    Returns
    -------
    float

    Examples
    --------
    >>> upload_cost(1024, 8, order=2)
    240.0
    """
    func = "upload_cost"
    n = _size(n, "n", func, minimum=2.0)
    s = _size(sparsity, "sparsity", func)
    if s > n:
        raise ValueError(f"{func}: sparsity must be <= n = {n:g}, got {s}")
    order = check_int(order, "order", func=func, minimum=1)
    c = check_positive(constant, "constant", func=func)
    return c * s * _ceil_log2(int(n) if n == int(n) else n) * order * (order + 1) / 2


@public_errors
def lifted_row_sparsity(row_sparsity, order, *, kind="discrete", history=True):
    r"""Non-zeros per row of the Carleman-lifted step, an upper bound that grows with ``N``.

    Let ``s_l`` be the non-zeros per row of ``M_l`` with ``M_0 = F_0`` (0 or 1), ``M_1 = I + F_1``
    (discrete map) or ``F_1`` (ODE), ``M_l = F_l`` above, and :math:`p(x) = \sum_l s_l x^l`.

    * ``kind="discrete"`` (the exact lifting of a GD *map*, chapter 2 and
      :func:`qsgd.carleman.discrete_carleman`): a level-``j`` row block is
      :math:`C_{j,k} = \sum_a M_a\otimes C_{j-1,k-a}`, the expansion of
      :math:`(\sum_l M_l u^{\otimes l})^{\otimes j}`; a row is a Kronecker product of ``j`` rows,
      and the columns it reaches on level ``k`` number at most the coefficient of :math:`x^k` in
      :math:`p(x)^j`. Summed over the kept levels ``1 <= k <= N`` and maximised over ``j``, this is
      the bound; it grows like :math:`(\sum_l s_l)^N`, exponentially in the order.
    * ``kind="continuous"`` (the Carleman matrix of an ODE, [13]_ Eq. 4.2): a level-``j`` row
      holds ``j`` copies of one row of each ``F_l`` (:math:`A_{j,j+l-1} = \sum_i I\otimes
      \dots\otimes F_l\otimes\dots\otimes I`, kept when :math:`1 \le j+l-1 \le N`): at most
      :math:`j\sum_l s_l`, linear in the order.

    The bound is reached when no two products land on the same column (generic sparsity
    patterns). ``history=True`` adds the ``-I`` block of Eq. 6: one more non-zero per row.

    Parameters
    ----------
    row_sparsity : sequence of int
        ``(s_0, s_1, ..., s_q)``, each >= 0, their sum >= 1.
    order : int
        ``N`` >= 1.
    kind : {"discrete", "continuous"}
    history : bool, default True

    Returns
    -------
    int

    Examples
    --------
    >>> lifted_row_sparsity((1, 3, 9), 1, history=False)   # level 1: I + F1 and F0
    3
    >>> lifted_row_sparsity((1, 3, 9), 2, history=False)   # level 2: 6x + 27x^2 of (1 + 3x + 9x^2)^2
    33
    >>> lifted_row_sparsity((1, 3, 9), 2, kind="continuous", history=False)
    12
    """
    func = "lifted_row_sparsity"
    if isinstance(row_sparsity, (str, bytes)) or not hasattr(row_sparsity, "__len__") or len(row_sparsity) < 2:
        raise ValueError(f"{func}: row_sparsity must be a sequence (s_0, s_1, ...) of at least two "
                         f"integers, got {describe(row_sparsity)}")
    s = [check_int(v, f"row_sparsity[{i}]", func=func, minimum=0) for i, v in enumerate(row_sparsity)]
    if sum(s) < 1:
        raise ValueError(f"{func}: row_sparsity must have a positive sum, got {s}")
    order = check_int(order, "order", func=func, minimum=1)
    check_choice(kind, "kind", ("discrete", "continuous"), func=func)
    if not isinstance(history, (bool, np.bool_)):
        raise ValueError(f"{func}: history must be True or False, got {describe(history)}")
    best = 0
    if kind == "discrete":
        power = [1]  # coefficients of p(x)**j, truncated at degree N (exact Python integers)
        for _ in range(order):
            nxt = [0] * (order + 1)
            for k, c in enumerate(power):
                for a, sa in enumerate(s):
                    if c and sa and k + a <= order:
                        nxt[k + a] += c * sa
            power = nxt
            best = max(best, sum(power[1:]))
    else:
        for j in range(1, order + 1):
            best = max(best, j * sum(sa for a, sa in enumerate(s) if 1 <= j + a - 1 <= order))
    return int(best + (1 if history else 0))


@public_errors
def qlsa_queries(kappa, eps, *, solver="costa", sparsity=1, walk_constant=COSTA_WALK_CONSTANT,
                 polylog_power=2.0):
    r"""Oracle queries of one quantum linear-system solve to precision ``eps``.

    With an ``s``-sparse matrix accessed through sparse oracles, the block encoding has
    sub-normalisation :math:`s\max_{ij}|A_{ij}|`, so the solvers see an effective condition
    number :math:`\kappa_s = s\kappa` (at most; the worst case is used here).

    * ``"hhl"``, Harrow-Hassidim-Lloyd [2]_: :math:`\tilde{\mathcal O}(s^2\kappa^2/\epsilon)`
      (phase estimation to relative precision :math:`\epsilon/\kappa`, amplitude
      amplification of the :math:`1/\kappa` flag). Counted as :math:`s^2\kappa^2/\epsilon`:
      asymptotic, constant 1, logarithms dropped.
    * ``"cks"``, Childs-Kothari-Somma [3]_: :math:`\mathcal O(s\kappa\,
      \mathrm{polylog}(s\kappa/\epsilon))` with variable-time amplitude amplification.
      Counted as :math:`s\kappa\,\log_2^{p}(s\kappa/\epsilon)` with ``p = polylog_power``
      (default 2): asymptotic, the paper states no constant and no fixed power.
    * ``"costa"``, the discrete-adiabatic solver of Costa et al. [4]_:
      :math:`\mathcal O(\kappa\log(1/\epsilon))`, optimal in both. Counted as
      :math:`\alpha\,\kappa_s + \kappa_s\ln(2/\epsilon)`: the adiabatic walk with the
      proven constant :math:`\alpha = 2305` ([4]_; :math:`\alpha \approx 1.84` observed on random
      matrices [5]_) plus the eigenstate filtering of Lin and Tong [12]_ (degree
      :math:`\sim\kappa_s\ln(2/\epsilon)`, asymptotic).

    Parameters
    ----------
    kappa : float
        Condition number, >= 1.
    eps : float
        Precision of the output state, in (0, 1).
    solver : {"hhl", "cks", "costa"}
    sparsity : float, default 1
        ``s``, non-zeros per row of the matrix, >= 1.
    walk_constant : float, default 2305
        ``alpha`` of the Costa solver.
    polylog_power : float, default 2
        Power of the logarithm of the CKS solver (>= 0).

    Returns
    -------
    float

    Examples
    --------
    >>> qlsa_queries(10, 0.01, solver="hhl", sparsity=2)
    40000.0
    """
    func = "qlsa_queries"
    kappa = _kappa(kappa, func)
    eps = _unit_interval(eps, "eps", func)
    check_choice(solver, "solver", QLSA_SOLVERS, func=func)
    s = _size(sparsity, "sparsity", func)
    k_s = s * kappa
    if solver == "hhl":
        return s * s * kappa * kappa / eps
    if solver == "cks":
        power = check_positive(polylog_power, "polylog_power", func=func, strict=False)
        return k_s * _log2(k_s / eps) ** power
    alpha = check_positive(walk_constant, "walk_constant", func=func)
    return alpha * k_s + k_s * math.log(2.0 / eps)


@public_errors
def postselection_repeats(success_probability, *, amplitude_amplification=True):
    """Runs of the solver per postselected copy of the output state.

    Postselecting the last time step and the first Carleman level succeeds with probability
    ``P``: ``1/P`` runs on average, or ``~ 1/sqrt(P)`` with amplitude amplification
    (Brassard-Høyer-Mosca-Tapp [8]_, Theorem 2; the ``pi/4`` constant is dropped).

    Parameters
    ----------
    success_probability : float
        ``P`` in (0, 1].
    amplitude_amplification : bool, default True

    Returns
    -------
    float

    Examples
    --------
    >>> postselection_repeats(0.01), postselection_repeats(0.01, amplitude_amplification=False)
    (10.0, 100.0)
    """
    func = "postselection_repeats"
    P = _unit_interval(success_probability, "success_probability", func, closed_right=True)
    if not isinstance(amplitude_amplification, (bool, np.bool_)):
        raise ValueError(f"{func}: amplitude_amplification must be True or False, "
                         f"got {describe(amplitude_amplification)}")
    return 1.0 / math.sqrt(P) if amplitude_amplification else 1.0 / P


@public_errors
def tomography_copies(n, eps, *, readout="full", sparsity=None, constant=1.0):
    r"""Copies of the output state to download the weights to l2 precision ``eps``.

    :math:`\ell_2` tomography of a ``d``-dimensional pure state needs
    :math:`\mathcal O(d/\epsilon^2)` copies (Kerenidis-Prakash [7]_ Theorem 4.3, whose extra
    :math:`\log d` is dropped here, which favours the quantum side; chapter 5 measured the
    :math:`d/\epsilon^2` scaling). ``d`` is

    * ``readout="full"``: ``n``, the whole weight vector;
    * ``readout="support"``: ``s``, the non-zeros of a weight vector whose support is known;
    * ``readout=k`` (an int): ``k``, reading out only ``k`` chosen weights.

    Parameters
    ----------
    n : float
        Weights, >= 1.
    eps : float
        In (0, 1).
    readout : "full", "support" or int
    sparsity : float, optional
        ``s`` (required for ``"support"``), in ``[1, n]``.
    constant : float, default 1

    Returns
    -------
    float
        ``constant * d / eps**2``.

    Examples
    --------
    >>> tomography_copies(10**6, 0.5, readout=10)
    40.0
    """
    func = "tomography_copies"
    n = _size(n, "n", func)
    eps = _unit_interval(eps, "eps", func)
    c = check_positive(constant, "constant", func=func)
    if isinstance(readout, numbers.Integral) and not isinstance(readout, bool):
        d = float(check_int(readout, "readout", func=func, minimum=1))
        if d > n:
            raise ValueError(f"{func}: readout must be <= n = {n:g} weights, got {readout}")
    elif readout == "full":
        d = n
    elif readout == "support":
        if sparsity is None:
            raise ValueError(f"{func}: readout='support' needs the sparsity s of the weight vector")
        d = _size(sparsity, "sparsity", func)
        if d > n:
            raise ValueError(f"{func}: sparsity must be <= n = {n:g}, got {d}")
    else:
        raise ValueError(f"{func}: readout must be 'full', 'support' or a number k of weights, "
                         f"got {describe(readout)}")
    return c * d / eps**2


@public_errors
def re_expansions(total_steps, steps):
    """Segments of a training run: ``ceil(total_steps / T)`` (the paper's re-upload period).

    Each segment re-forms (or re-queries) the coefficients at the downloaded weights, uploads,
    solves and downloads again ([1]_, Fig. 2: ``T = 100`` of 1000 steps, 10 segments).

    Examples
    --------
    >>> re_expansions(1000, 100), re_expansions(1001, 100)
    (10, 11)
    """
    func = "re_expansions"
    total_steps = check_int(total_steps, "total_steps", func=func, minimum=1)
    steps = check_int(steps, "steps", func=func, minimum=1)
    return -(-total_steps // steps)


@public_errors
def classical_gd_cost(n, *, total_steps, access="formed", row_sparsity=None, degree=2,
                      loss_cost=None):
    r"""Operations of the same training by classical gradient descent.

    * ``access="oracle"``: the model is the polynomial map, given by the same sparse oracles as
      the quantum algorithm; one step :math:`u \mapsto u + F_0 + F_1u + F_2 u^{\otimes 2}`
      reads each non-zero once: :math:`n(1 + \sum_{\ell\ge1} s_\ell)` operations with
      ``s_l = s`` per row (``s_2 = s**2``, the pairs of a row's non-zeros, for ``degree = 2``).
    * ``access="formed"``: the network is at hand; one step is one gradient
      (:func:`gradient_cost`).

    Parameters
    ----------
    n : float
        Weights, >= 1.
    total_steps : int
        Gradient steps of the whole run, >= 1.
    access : {"oracle", "formed"}
    row_sparsity : float, optional
        ``s`` for ``"oracle"``, in ``[1, n]``; default ``n``.
    degree : {1, 2}
        Degree of the map (``"oracle"`` only).
    loss_cost : float, optional
        ``W`` for ``"formed"``; default ``2 n``.

    Returns
    -------
    float
    """
    func = "classical_gd_cost"
    n = _size(n, "n", func)
    total_steps = check_int(total_steps, "total_steps", func=func, minimum=1)
    check_choice(access, "access", ("oracle", "formed"), func=func)
    if access == "formed":
        return total_steps * gradient_cost(n, loss_cost=loss_cost)
    degree = check_int(degree, "degree", func=func, minimum=1, maximum=2)
    s = n if row_sparsity is None else _size(row_sparsity, "row_sparsity", func)
    if s > n:
        raise ValueError(f"{func}: row_sparsity must be <= n = {n:g}, got {s}")
    per_row = 1.0 + s + (s * s if degree >= 2 else 0.0)
    return total_steps * n * per_row
