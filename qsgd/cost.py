"""The cost of quantum training against classical gradient descent, term by term.

The paper's headline is a quantum training time :math:`\\mathcal O(T\\,\\mathrm{poly}(\\log n,
1/\\epsilon))` against a classical :math:`\\mathrm{poly}(n)` ([1]_, Theorems 1-2). Whether that
gain survives depends on terms the headline leaves out. This module writes every term of one
training run as a named function with its source, and adds them up under explicit assumption
sets, so that a break-even model size (if there is one) is a consequence of stated assumptions.

One quantum training run of ``total_steps`` gradient steps is ``R = ceil(total_steps / T)``
*segments* (re-expansions, the paper's download/re-upload protocol). Each segment

1. forms the Taylor coefficients :math:`F_0, F_1, F_2` of the GD step at the current weights
   (:func:`coefficient_formation_cost`), unless the model is *given* as sparse-access oracles
   (then every oracle query costs :func:`oracle_query_cost` gates);
2. uploads the lifted initial state (:func:`upload_cost`, Gleinig-Hoefler);
3. solves the Eq. 6 system of dimension ``D = (T + 1 + p) sum_j n**j`` whose rows hold
   :func:`lifted_row_sparsity` non-zeros (:func:`qlsa_queries`: HHL, Childs-Kothari-Somma or the
   discrete-adiabatic solver of Costa et al.);
4. postselects the last step, with or without amplitude amplification
   (:func:`postselection_repeats`);
5. repeats 2-4 for every copy that tomography needs (:func:`tomography_copies`: the whole
   vector, its support, or only ``k`` chosen weights).

The classical side is the same training by gradient descent, counted in the same unit
(:func:`classical_gd_cost`): with oracle access, one step of the polynomial map costs one
query per non-zero; with the network at hand, one gradient costs a few loss evaluations.

Unit. Everything is counted in *elementary operations*: a floating-point operation, a logical
quantum gate, or a classical memory access. Counting a fault-tolerant logical gate like a flop
flatters the quantum side (a logical gate takes about a microsecond on current proposals, a
flop about a nanosecond); the break-even sizes below are therefore lower bounds.

Functions
---------
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
training_cost
    All of the above for one training run, as a :class:`TrainingCost`.
AssumptionSet, ASSUMPTION_SETS, break_even
    Named assumption sets and the model sizes at which the two costs cross.
cost_model, crossover_size, resource_estimate
    The one-segment model of earlier chapters (upload + QLSA + tomography) and the logical-qubit
    count, kept with their signatures.

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
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from qsgd._validation import check_choice, check_float_range, check_int, check_positive, describe
from qsgd.carleman import lifted_dimension

__all__ = [
    "SOLVERS",
    "COSTA_WALK_CONSTANT",
    "COSTA_WALK_CONSTANT_OBSERVED",
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
    "TrainingCost",
    "training_cost",
    "AssumptionSet",
    "ASSUMPTION_SETS",
    "BreakEven",
    "break_even",
    "CostEstimate",
    "cost_model",
    "crossover_size",
    "ResourceEstimate",
    "resource_estimate",
]

#: quantum linear-system algorithms of :func:`qlsa_queries`
SOLVERS = ("hhl", "cks", "costa")

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
# coefficient formation (classical) or oracle access
# --------------------------------------------------------------------------------------------


def gradient_cost(n, *, loss_cost=None, factor=GRADIENT_FACTOR):
    """Operations of one gradient of the loss by reverse-mode differentiation.

    :math:`C_\\nabla = \\omega\\,W` with :math:`W` the cost of one loss evaluation and
    :math:`\\omega \\le 4` the reverse-mode ratio of Griewank and Walther's cheap gradient
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


def hessian_cost(n, *, row_sparsity=None, loss_cost=None, factor=HVP_FACTOR):
    """Operations to form the Hessian (the ``F_1 = -eta H`` of one GD step).

    The Hessian is ``c`` Hessian-vector products, each :math:`\\omega_2 W` operations
    (Pearlmutter's forward-over-reverse product [10]_; :math:`\\omega_2 = 2\\omega` here). A dense
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


def third_derivative_cost(n, *, row_sparsity=None, loss_cost=None, factor=THIRD_FACTOR):
    """Operations to form the third-derivative tensor (the ``F_2`` of a quadratic GD map).

    :math:`F_2 = -\\tfrac{\\eta}{2}\\nabla^3\\mathcal L` has :math:`n^3` entries; its columns are
    the vectors :math:`\\nabla^3\\mathcal L[e_i, e_j, \\cdot]`, one nested directional derivative
    of the gradient each (:math:`\\omega_3 W` operations, one forward sweep over a
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


def oracle_query_cost(dimension, *, constant=1.0):
    """Gates of one query to a sparse-access oracle of a ``dimension``-dimensional matrix.

    The oracles of the QLSA literature ([2]_-[4]_) return the position and the value of the
    ``l``-th non-zero of row ``j``; their cost is not part of the query complexity. The least a
    query costs is arithmetic on the :math:`\\lceil\\log_2 D\\rceil`-qubit index register, so
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


def upload_cost(n, sparsity, *, order=1, constant=1.0):
    """CNOTs to prepare the lifted initial state :math:`[u; u^{\\otimes 2}; \\dots; u^{\\otimes N}]`.

    Gleinig and Hoefler prepare an ``s``-sparse state on :math:`m = \\lceil\\log_2 n\\rceil`
    qubits with :math:`\\mathcal O(s\\,m)` CNOTs ([6]_, Theorem 1; chapter 3 measured about
    ``0.4 s m``). Level ``j`` of the lift is ``j`` copies of the weight state, so

    .. math:: C_{\\rm up} = c_u\\,s\\,\\lceil\\log_2 n\\rceil\\,\\frac{N(N+1)}{2}

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


def qlsa_queries(kappa, eps, *, solver="costa", sparsity=1, walk_constant=COSTA_WALK_CONSTANT,
                 polylog_power=2.0):
    """Oracle queries of one quantum linear-system solve to precision ``eps``.

    With an ``s``-sparse matrix accessed through sparse oracles, the block encoding has
    sub-normalisation :math:`s\\max_{ij}|A_{ij}|`, so the solvers see an effective condition
    number :math:`\\kappa_s = s\\kappa` (at most; the worst case is used here).

    * ``"hhl"``, Harrow-Hassidim-Lloyd [2]_: :math:`\\tilde{\\mathcal O}(s^2\\kappa^2/\\epsilon)`
      (phase estimation to relative precision :math:`\\epsilon/\\kappa`, amplitude
      amplification of the :math:`1/\\kappa` flag). Counted as :math:`s^2\\kappa^2/\\epsilon`:
      asymptotic, constant 1, logarithms dropped.
    * ``"cks"``, Childs-Kothari-Somma [3]_: :math:`\\mathcal O(s\\kappa\\,
      \\mathrm{polylog}(s\\kappa/\\epsilon))` with variable-time amplitude amplification.
      Counted as :math:`s\\kappa\\,\\log_2^{p}(s\\kappa/\\epsilon)` with ``p = polylog_power``
      (default 2): asymptotic, the paper states no constant and no fixed power.
    * ``"costa"``, the discrete-adiabatic solver of Costa et al. [4]_:
      :math:`\\mathcal O(\\kappa\\log(1/\\epsilon))`, optimal in both. Counted as
      :math:`\\alpha\\,\\kappa_s + \\kappa_s\\ln(2/\\epsilon)`: the adiabatic walk with the
      proven constant :math:`\\alpha = 2305` ([4]_; :math:`\\alpha \\approx 1.84` observed on random
      matrices [5]_) plus the eigenstate filtering of Lin and Tong [12]_ (degree
      :math:`\\sim\\kappa_s\\ln(2/\\epsilon)`, asymptotic).

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
    check_choice(solver, "solver", SOLVERS, func=func)
    s = _size(sparsity, "sparsity", func)
    k_s = s * kappa
    if solver == "hhl":
        return s * s * kappa * kappa / eps
    if solver == "cks":
        power = check_positive(polylog_power, "polylog_power", func=func, strict=False)
        return k_s * _log2(k_s / eps) ** power
    alpha = check_positive(walk_constant, "walk_constant", func=func)
    return alpha * k_s + k_s * math.log(2.0 / eps)


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


def tomography_copies(n, eps, *, readout="full", sparsity=None, constant=1.0):
    """Copies of the output state to download the weights to l2 precision ``eps``.

    :math:`\\ell_2` tomography of a ``d``-dimensional pure state needs
    :math:`\\mathcal O(d/\\epsilon^2)` copies (Kerenidis-Prakash [7]_ Theorem 4.3, whose extra
    :math:`\\log d` is dropped here, which favours the quantum side; chapter 5 measured the
    :math:`d/\\epsilon^2` scaling). ``d`` is

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


def classical_gd_cost(n, *, total_steps, access="formed", row_sparsity=None, degree=2,
                      loss_cost=None):
    """Operations of the same training by classical gradient descent.

    * ``access="oracle"``: the model is the polynomial map, given by the same sparse oracles as
      the quantum algorithm; one step :math:`u \\mapsto u + F_0 + F_1u + F_2 u^{\\otimes 2}`
      reads each non-zero once: :math:`n(1 + \\sum_{\\ell\\ge1} s_\\ell)` operations with
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


# --------------------------------------------------------------------------------------------
# the whole run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingCost:
    """Cost of one training run, quantum against classical, term by term.

    Attributes
    ----------
    n, total_steps, steps, eps, order, degree, padding, kappa, solver, access, readout :
        echo of the inputs (``kappa`` after defaulting).
    model_sparsity : float
        ``s_F``, non-zeros per row of ``F_1`` (``n`` if dense).
    weight_sparsity : float
        ``s``, non-zeros of the uploaded weight vector.
    segments : int
        :func:`re_expansions`.
    system_dimension : float
        ``D = (T + 1 + p) sum_j n**j``.
    matrix_sparsity : float
        :func:`lifted_row_sparsity` of the Eq. 6 matrix (at most the lifted dimension + 1).
    formation : float
        Per segment: :func:`coefficient_formation_cost` (``"formed"``) or 0 (``"oracle"``).
    query : float
        Gates per oracle query (:func:`oracle_query_cost`).
    upload, solve : float
        Per run of the solver: :func:`upload_cost` and ``qlsa_queries * query``.
    repeats : float
        :func:`postselection_repeats`.
    copies : float
        :func:`tomography_copies`.
    per_segment : float
        ``formation + copies * repeats * (upload + solve)``.
    quantum : float
        ``segments * per_segment``.
    classical : float
        :func:`classical_gd_cost`.
    advantage : float
        ``classical / quantum`` (> 1: the quantum run is cheaper).
    dominant : str
        The largest of "formation", "download x solve", "download x upload" in ``per_segment``.
    """

    n: float
    total_steps: int
    steps: int
    eps: float
    order: int
    degree: int
    padding: int
    kappa: float
    solver: str
    access: str
    readout: object
    model_sparsity: float
    weight_sparsity: float
    segments: int
    system_dimension: float
    matrix_sparsity: float
    formation: float
    query: float
    upload: float
    solve: float
    repeats: float
    copies: float
    per_segment: float
    quantum: float
    classical: float
    advantage: float
    dominant: str


def training_cost(n, *, total_steps, steps, eps, kappa=None, solver="costa", access="oracle",
                  model_sparsity=None, weight_sparsity=None, readout="support", order=2,
                  degree=2, padding=None, success_probability=None, amplitude_amplification=True,
                  loss_cost=None, walk_constant=COSTA_WALK_CONSTANT):
    """Cost of training a model of ``n`` weights for ``total_steps`` steps, quantum vs classical.

    .. math::

        C_{\\rm Q} = R\\Big[C_{\\rm form} + \\underbrace{\\frac{d}{\\epsilon^2}}_{\\rm copies}
        \\underbrace{P^{-1/2}}_{\\rm postselection}\\big(C_{\\rm up}
        + Q_{\\rm QLSA}(s_L, \\kappa, \\epsilon)\\,c_{\\rm query}\\big)\\Big],
        \\qquad C_{\\rm cl} = \\texttt{total\\_steps}\\times C_{\\rm step},

    with ``R`` = :func:`re_expansions`, :math:`C_{\\rm form}` = :func:`coefficient_formation_cost`
    (0 with oracle access), :math:`C_{\\rm up}` = :func:`upload_cost`, ``s_L`` =
    :func:`lifted_row_sparsity` (discrete lift of ``F_0``, ``I + F_1`` and, for ``degree = 2``,
    ``F_2`` with ``s_F**2`` non-zeros per row), :math:`Q_{\\rm QLSA}` = :func:`qlsa_queries`,
    :math:`c_{\\rm query}` = :func:`oracle_query_cost` of the system dimension, ``d`` from
    :func:`tomography_copies` and :math:`C_{\\rm step}` from :func:`classical_gd_cost` with the same
    ``access``.

    Parameters
    ----------
    n : float
        Trainable weights, >= 2.
    total_steps : int
        Gradient steps of the whole run.
    steps : int
        ``T``, steps per segment (<= ``total_steps``).
    eps : float
        Download precision, in (0, 1); also the QLSA precision.
    kappa : float, optional
        Condition number of Eq. 6 (>= 1); default PNAS Lemma 3's ``3 (T + p + 1)`` [13]_.
    solver : {"hhl", "cks", "costa"}
    access : {"oracle", "formed"}
        The coefficients are given as sparse oracles, or formed classically from the network at
        every re-expansion.
    model_sparsity : float, optional
        ``s_F``, non-zeros per row of the Hessian, in ``[1, n]``; default ``n`` (dense, as
        measured for the book's network in chapter 6).
    weight_sparsity : float, optional
        ``s``, non-zeros of the uploaded weight vector, in ``[1, n]``; default ``n``.
    readout : "full", "support" or int
        See :func:`tomography_copies`.
    order : int, default 2
        Carleman order ``N``.
    degree : {1, 2}, default 2
        Degree of the polynomial map.
    padding : int, optional
        ``p``; default ``T``.
    success_probability : float, optional
        ``P``; default PNAS Lemma 5's ``(p + 1) / (9 (T + p + 1) N)`` (``q = 1``).
    amplitude_amplification : bool, default True
    loss_cost : float, optional
        ``W``, operations of one loss evaluation; default ``2 n``.
    walk_constant : float, default 2305
        ``alpha`` of the Costa solver.

    Returns
    -------
    TrainingCost

    Examples
    --------
    >>> c = training_cost(10**8, total_steps=1000, steps=100, eps=0.01, model_sparsity=3,
    ...                   weight_sparsity=3)
    >>> c.segments, c.dominant
    (10, 'download x solve')
    """
    func = "training_cost"
    n = _size(n, "n", func, minimum=2.0)
    total_steps = check_int(total_steps, "total_steps", func=func, minimum=1)
    steps = check_int(steps, "steps", func=func, minimum=1, maximum=total_steps)
    eps = _unit_interval(eps, "eps", func)
    check_choice(solver, "solver", SOLVERS, func=func)
    check_choice(access, "access", ("oracle", "formed"), func=func)
    order = check_int(order, "order", func=func, minimum=1)
    degree = check_int(degree, "degree", func=func, minimum=1, maximum=2)
    p = steps if padding is None else check_int(padding, "padding", func=func, minimum=0)
    kappa = 3.0 * (steps + p + 1) if kappa is None else _kappa(kappa, func)
    s_F = n if model_sparsity is None else _size(model_sparsity, "model_sparsity", func)
    s = n if weight_sparsity is None else _size(weight_sparsity, "weight_sparsity", func)
    for name, value in (("model_sparsity", s_F), ("weight_sparsity", s)):
        if value > n:
            raise ValueError(f"{func}: {name} must be <= n = {n:g}, got {value}")
    if success_probability is None:
        P = (p + 1) / (9.0 * (steps + p + 1) * order)
    else:
        P = _unit_interval(success_probability, "success_probability", func, closed_right=True)

    segments = re_expansions(total_steps, steps)
    n_int = int(n) if n == int(n) else n
    dim = (steps + 1 + p) * _lifted_dimension(n_int, order)
    sF = int(math.ceil(s_F))
    s_L = lifted_row_sparsity((1, sF, sF * sF if degree >= 2 else 0), order)
    s_L = min(s_L, _lifted_dimension(n_int, order) + 1)  # a row cannot hold more than D entries
    formation = (coefficient_formation_cost(n, degree=degree, row_sparsity=s_F, loss_cost=loss_cost)
                 if access == "formed" else 0.0)
    query = oracle_query_cost(dim)
    upload = upload_cost(n, s, order=order)
    solve = qlsa_queries(kappa, eps, solver=solver, sparsity=float(s_L),
                         walk_constant=walk_constant) * query
    repeats = postselection_repeats(P, amplitude_amplification=amplitude_amplification)
    copies = tomography_copies(n, eps, readout=readout, sparsity=s)
    per_segment = formation + copies * repeats * (upload + solve)
    quantum = segments * per_segment
    classical = classical_gd_cost(n, total_steps=total_steps, access=access, row_sparsity=s_F,
                                  degree=degree, loss_cost=loss_cost)
    parts = {"formation": formation, "download x solve": copies * repeats * solve,
             "download x upload": copies * repeats * upload}
    return TrainingCost(
        n=n, total_steps=total_steps, steps=steps, eps=eps, order=order, degree=degree, padding=p,
        kappa=float(kappa), solver=solver, access=access, readout=readout, model_sparsity=s_F,
        weight_sparsity=s, segments=segments, system_dimension=float(dim), matrix_sparsity=float(s_L),
        formation=formation, query=query, upload=upload, solve=solve, repeats=repeats, copies=copies,
        per_segment=per_segment, quantum=quantum, classical=classical, advantage=classical / quantum,
        dominant=max(parts, key=parts.get),
    )


# --------------------------------------------------------------------------------------------
# assumption sets and break-even
# --------------------------------------------------------------------------------------------


def _resolve(value, n):
    """A sparsity given as an int (fixed), a float in (0, 1) (fraction of n) or None (= n)."""
    if value is None:
        return float(n)
    if isinstance(value, numbers.Integral):
        return float(min(value, n))
    return max(1.0, value * n)


@dataclass(frozen=True)
class AssumptionSet:
    """A named set of assumptions under which :func:`training_cost` is evaluated.

    Attributes
    ----------
    label : str
    access : {"oracle", "formed"}
    model_sparsity : int, float or None
        Non-zeros per row of the Hessian: an int (fixed, independent of ``n``), a float in
        (0, 1) (that fraction of ``n``), or None (dense, ``n``).
    weight_sparsity : int, float or None
        Non-zeros of the weight vector, same convention.
    readout : "full", "support" or int
        See :func:`tomography_copies`.
    """

    label: str
    access: str
    model_sparsity: object
    weight_sparsity: object
    readout: object

    def kwargs(self, n):
        """The :func:`training_cost` keywords of this set at model size ``n``."""
        check_float_range(n, "n", func="AssumptionSet.kwargs")
        _size(n, "n", "AssumptionSet.kwargs")  # n keeps its type (exact integer formulas for an int)
        readout = self.readout
        if isinstance(readout, numbers.Integral):  # cannot read out more weights than there are
            readout = int(min(readout, math.floor(n)))
        return dict(access=self.access, model_sparsity=_resolve(self.model_sparsity, n),
                    weight_sparsity=_resolve(self.weight_sparsity, n), readout=readout)


#: the assumption sets of chapter 6, from the most favourable to the quantum algorithm down
ASSUMPTION_SETS = {
    "A": AssumptionSet("A: sparse oracles (s_F = 3), read out k = 3 weights", "oracle", 3, 3, 3),
    "B": AssumptionSet("B: sparse oracles (s_F = 3), download the kept 10 %", "oracle", 3, 0.1,
                       "support"),
    "C": AssumptionSet("C: F formed classically, sparse Hessian (s_F = 3), read out k = 3",
                       "formed", 3, 3, 3),
    "D": AssumptionSet("D: F formed classically, dense Hessian, download the kept 10 %",
                       "formed", None, 0.1, "support"),
}


@dataclass(frozen=True)
class BreakEven:
    """Where the quantum and classical costs of an assumption set cross.

    Attributes
    ----------
    crossings : tuple of float
        Model sizes at which ``classical = quantum`` in ``[n_min, n_max]`` (sorted).
    wins_at_min, wins_at_max : bool
        Whether the quantum run is cheaper at ``n_min`` / ``n_max``.
    min_advantage, max_advantage : float
        Smallest and largest ``classical / quantum`` on the grid.
    message : str
        One sentence: "quantum never cheaper ...", "quantum cheaper above n = ...", ...
    """

    crossings: tuple
    wins_at_min: bool
    wins_at_max: bool
    min_advantage: float
    max_advantage: float
    message: str


def break_even(assumptions, *, n_min=2.0, n_max=1e30, num=241, **kwargs):
    """Model sizes at which :func:`training_cost` says quantum and classical cost the same.

    ``log(classical / quantum)`` is evaluated on ``num`` log-spaced sizes in
    ``[n_min, n_max]``; every sign change is refined by Brent's method on ``log n``.

    Parameters
    ----------
    assumptions : AssumptionSet
    n_min, n_max : float
        Search range, ``2 <= n_min < n_max``.
    num : int, default 241
        Grid points (>= 3).
    **kwargs
        The remaining :func:`training_cost` keywords (``total_steps``, ``steps``, ``eps``,
        ``kappa``, ``solver``, ...).

    Returns
    -------
    BreakEven
    """
    func = "break_even"
    if not isinstance(assumptions, AssumptionSet):
        raise ValueError(f"{func}: assumptions must be an AssumptionSet, got {describe(assumptions)}")
    n_min = _size(n_min, "n_min", func, minimum=2.0)
    n_max = check_positive(n_max, "n_max", func=func)
    if n_max <= n_min:
        raise ValueError(f"{func}: n_max must be > n_min = {n_min:g}, got {n_max}")
    num = check_int(num, "num", func=func, minimum=3)

    def gap(log_n):
        n = math.exp(log_n)
        return math.log(training_cost(n, **assumptions.kwargs(n), **kwargs).advantage)

    grid = np.linspace(math.log(n_min), math.log(n_max), num)
    values = np.array([gap(x) for x in grid])
    crossings = []
    for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
        if fa == 0.0:
            crossings.append(math.exp(a))
        elif fa * fb < 0:
            crossings.append(math.exp(brentq(gap, a, b, xtol=1e-9)))
    wins_min, wins_max = bool(values[0] > 0), bool(values[-1] > 0)
    if not crossings:
        message = (f"quantum cheaper everywhere in [{n_min:.3g}, {n_max:.3g}]" if wins_min
                   else f"quantum never cheaper in [{n_min:.3g}, {n_max:.3g}]")
    elif len(crossings) == 1:
        message = (f"quantum cheaper above n = {crossings[0]:.3g}" if wins_max
                   else f"quantum cheaper below n = {crossings[0]:.3g}")
    else:
        message = "costs cross at n = " + ", ".join(f"{c:.3g}" for c in crossings)
    return BreakEven(crossings=tuple(crossings), wins_at_min=wins_min, wins_at_max=wins_max,
                     min_advantage=float(np.exp(values.min())),
                     max_advantage=float(np.exp(values.max())), message=message)


# --------------------------------------------------------------------------------------------
# the one-segment cost model of chapters 6 and 8 (upload + QLSA + tomography)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostEstimate:
    """Operation counts of one quantum training segment against classical gradient descent.

    All counts are in the same abstract unit ("operations": a CNOT, an oracle query times the
    gates to address it, one gradient entry); every constant that converts them is an input.

    Attributes
    ----------
    n, steps, eps, sparsity, order, padding : echo of the inputs
    kappa : float
        Condition number used (given, or PNAS Lemma 3's ``3 (T + p + 1)``).
    success_probability : float
        Postselection probability used (given, or PNAS Lemma 5's bound).
    matrix_sparsity : float
        Non-zeros per row of the Eq. 6 matrix used for the QLSA.
    system_dimension : int
        ``(T + 1 + p) * sum_j n**j``.
    upload : float
        Operations to prepare the lifted initial state once: ``c_u * s * ceil(log2 n) * N(N+1)/2``
        (``j`` Gleinig-Hoefler copies of the ``s``-sparse weight state for level ``j``).
    qlsa : float
        Operations of one QLSA run: ``c_q * s_L * kappa * ceil(log2 D) * log2(1/eps)``
        (queries times the gates to address one entry of a ``D``-dimensional matrix).
    repeats : float
        Runs per successful postselection: ``1/sqrt(P)`` with amplitude amplification, else ``1/P``.
    per_copy : float
        ``(upload + qlsa) * repeats``: one copy of the output state.
    copies : float
        Copies for l2 tomography at precision eps: ``c_t * d * log2(d) / eps**2`` with ``d = s``
        (support known) or ``d = n``.
    quantum : float
        ``copies * per_copy``.
    classical : float
        ``T * c_g * classical_size``: T gradient evaluations of cost ``~ n`` each.
    advantage : float
        ``classical / quantum`` (> 1 means the quantum model is cheaper).
    settings : dict
        The remaining knobs (constants, tomography mode, amplitude amplification).
    """

    n: int
    steps: int
    eps: float
    sparsity: int
    order: int
    padding: int
    kappa: float
    success_probability: float
    matrix_sparsity: float
    system_dimension: int
    upload: float
    qlsa: float
    repeats: float
    per_copy: float
    copies: float
    quantum: float
    classical: float
    advantage: float
    settings: dict


def cost_model(
    n,
    *,
    steps,
    eps,
    sparsity,
    order=2,
    padding=None,
    kappa=None,
    success_probability=None,
    norm_ratio=1.0,
    model_sparsity=None,
    matrix_sparsity=None,
    tomography="support",
    amplitude_amplification=True,
    upload_constant=1.0,
    qlsa_constant=1.0,
    tomography_constant=1.0,
    gradient_constant=1.0,
    classical_size=None,
):
    """Cost of one quantum training segment of [1]_ against ``T`` classical GD steps.

    The quantum algorithm (NC Fig. 1 / Eq. 6) is: upload the ``s``-sparse weights and their
    tensor powers, solve the ``T``-step system with a QLSA, postselect the final time step and
    the first Carleman level, and repeat for enough copies to do tomography at precision
    :math:`\\epsilon`. With ``D = (T+1+p) sum_j n^j`` the system dimension,

    .. math::

        C_{\\rm Q} = \\underbrace{c_t\\,\\frac{d\\log_2 d}{\\epsilon^2}}_{\\text{copies}}
        \\times\\underbrace{P^{-1/2}}_{\\text{repeats}}\\times
        \\Big(\\underbrace{c_u\\,s\\,\\lceil\\log_2 n\\rceil\\tfrac{N(N+1)}{2}}_{\\text{upload}}
        + \\underbrace{c_q\\,s_L\\,\\kappa\\,\\lceil\\log_2 D\\rceil\\log_2(1/\\epsilon)}_{\\text{QLSA}}\\Big),
        \\qquad C_{\\rm cl} = T\\,c_g\\,n,

    with ``d = s`` when the support of the output is known (``tomography="support"``) or
    ``d = n``. The terms follow Gleinig-Hoefler upload [4]_ (:math:`O(s\\log n)` CNOTs), the
    Childs-Kothari-Somma QLSA [3]_ (:math:`O(s\\kappa\\,\\mathrm{polylog})` queries), and
    Kerenidis-Prakash l2 tomography [5]_ (:math:`O(d\\log d/\\epsilon^2)` copies). Defaults for
    :math:`\\kappa` and :math:`P` are PNAS's Lemma 3, :math:`\\kappa\\le 3(T+p+1)`, and Lemma 5,
    :math:`P \\ge (p+1)/(9(T+p+1)Nq^2)` [2]_ with ``T`` in place of PNAS's Euler steps ``m``.

    Parameters
    ----------
    n : int
        Model size (length of theta), >= 2.
    steps : int
        ``T`` >= 1.
    eps : float
        Target l2 precision, in (0, 1).
    sparsity : int
        ``s``: non-zeros of the weight vector, ``1 <= s <= n``.
    order : int, default 2
        Carleman order ``N``.
    padding : int, optional
        Padding rows ``p``; default ``T`` (PNAS's choice ``p = m``).
    kappa : float, optional
        Condition number, >= 1 (e.g. measured by :func:`check_assumptions`).
    success_probability : float, optional
        Postselection probability in (0, 1].
    norm_ratio : float, default 1.0
        PNAS's ``q = ||u_in|| / ||u(T)||`` in the default ``P``.
    model_sparsity : int, optional
        ``s_F``: non-zeros per row/column of the ``F_l`` (see
        :attr:`AssumptionReport.sparsity`); default ``sparsity``. For a pruned network the
        Hessian restricted to the kept weights is often much denser than this default.
    matrix_sparsity : float, optional
        Non-zeros per row of the Eq. 6 matrix; default ``N * s_F + 1`` (a level-``j`` row of the
        continuous Carleman matrix holds ``j`` copies of an ``s_F``-sparse row, plus the
        identity of Eq. 6).
    tomography : {"support", "dense"}
        Tomography dimension ``d = s`` or ``d = n``.
    amplitude_amplification : bool, default True
        ``1/sqrt(P)`` repeats instead of ``1/P``.
    upload_constant, qlsa_constant, tomography_constant, gradient_constant : float, default 1.0
        The constants ``c_u, c_q, c_t, c_g`` above (> 0).
    classical_size : float, optional
        Cost of one classical gradient in units of ``c_g``; default ``n`` (dense GD). Pass
        ``s`` to model classical training restricted to the sparse support.

    Returns
    -------
    CostEstimate

    Raises
    ------
    ValueError
        On any out-of-range input.

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Theorems 1-2 and Fig. 1.
    .. [2] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Lemmas 3 and 5.
    .. [3] A. M. Childs, R. Kothari, R. D. Somma, SIAM J. Comput. 46, 1920 (2017).
    .. [4] N. Gleinig, T. Hoefler, DAC 2021.
    .. [5] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020).

    Examples
    --------
    >>> small = cost_model(10**9, steps=100, eps=0.01, sparsity=1000)
    >>> large = cost_model(10**17, steps=100, eps=0.01, sparsity=1000)
    >>> bool(small.advantage < 1 < large.advantage)
    True
    >>> f"{crossover_size(steps=100, eps=0.01, sparsity=1000):.2g}"
    '5.4e+15'

    Used in chapter 6.
    """
    func = "cost_model"
    n = check_int(n, "n", func=func, minimum=2)
    steps = check_int(steps, "steps", func=func, minimum=1)
    eps = check_positive(eps, "eps", func=func)
    if eps >= 1:
        raise ValueError(f"{func}: eps must be in (0, 1), got {eps}")
    s = check_int(sparsity, "sparsity", func=func, minimum=1, maximum=n)
    order = check_int(order, "order", func=func, minimum=1)
    p = steps if padding is None else check_int(padding, "padding", func=func, minimum=0)
    q = check_positive(norm_ratio, "norm_ratio", func=func)
    check_choice(tomography, "tomography", ("support", "dense"), func=func)
    if not isinstance(amplitude_amplification, (bool, np.bool_)):
        raise ValueError(f"{func}: amplitude_amplification must be True or False, "
                         f"got {describe(amplitude_amplification)}")
    c_u = check_positive(upload_constant, "upload_constant", func=func)
    c_q = check_positive(qlsa_constant, "qlsa_constant", func=func)
    c_t = check_positive(tomography_constant, "tomography_constant", func=func)
    c_g = check_positive(gradient_constant, "gradient_constant", func=func)
    if kappa is None:
        kappa = 3.0 * (steps + p + 1)
    else:
        kappa = check_positive(kappa, "kappa", func=func)
        if kappa < 1:
            raise ValueError(f"{func}: kappa must be >= 1 (a condition number), got {kappa}")
    if success_probability is None:
        success_probability = (p + 1) / (9.0 * (steps + p + 1) * order * q**2)
    else:
        success_probability = check_positive(success_probability, "success_probability", func=func)
        if success_probability > 1:
            raise ValueError(f"{func}: success_probability must be in (0, 1], got {success_probability}")
    s_F = s if model_sparsity is None else check_int(model_sparsity, "model_sparsity", func=func,
                                                     minimum=1)
    s_L = (order * s_F + 1.0) if matrix_sparsity is None else check_positive(
        matrix_sparsity, "matrix_sparsity", func=func)
    size = float(n) if classical_size is None else check_positive(classical_size, "classical_size",
                                                                    func=func)

    dim = (steps + 1 + p) * _lifted_dimension(n, order)
    upload = c_u * s * math.ceil(math.log2(n)) * order * (order + 1) / 2
    qlsa = c_q * s_L * kappa * math.ceil(math.log2(dim)) * _log2(1.0 / eps)
    repeats = 1.0 / math.sqrt(success_probability) if amplitude_amplification else 1.0 / success_probability
    per_copy = (upload + qlsa) * repeats
    d = s if tomography == "support" else n
    copies = c_t * d * _log2(d) / eps**2
    quantum = copies * per_copy
    classical = steps * c_g * size
    return CostEstimate(
        n=n, steps=steps, eps=eps, sparsity=s, order=order, padding=p, kappa=float(kappa),
        success_probability=float(success_probability), matrix_sparsity=float(s_L),
        system_dimension=int(dim), upload=upload, qlsa=qlsa, repeats=repeats, per_copy=per_copy,
        copies=copies, quantum=quantum, classical=classical, advantage=classical / quantum,
        settings=dict(norm_ratio=q, model_sparsity=s_F, tomography=tomography,
                      amplitude_amplification=bool(amplitude_amplification), upload_constant=c_u,
                      qlsa_constant=c_q, tomography_constant=c_t, gradient_constant=c_g,
                      classical_size=classical_size),
    )


def crossover_size(*, n_max=10**30, **kwargs):
    """Smallest model size ``n`` at which :func:`cost_model` says the quantum segment is cheaper.

    Solves ``cost_model(n, **kwargs).advantage = 1`` for ``n`` in ``[sparsity, n_max]`` by
    bisection on ``log n`` (the quantum cost grows like ``log n`` at fixed ``s``, the classical
    one like ``n``, so the advantage is increasing in ``n``).

    Parameters
    ----------
    n_max : int, default 10**30
        Upper end of the search.
    **kwargs
        Keyword arguments of :func:`cost_model` (``steps``, ``eps``, ``sparsity`` required;
        ``classical_size`` must be left at its default).

    Returns
    -------
    float
        The crossover size (not rounded); ``inf`` if the quantum cost never wins below
        ``n_max``; ``sparsity`` if it already wins at ``n = sparsity``.

    Used in chapter 6.
    """
    func = "crossover_size"
    for key in ("steps", "eps", "sparsity"):
        if key not in kwargs:
            raise ValueError(f"{func}: the cost_model keyword {key!r} is required")
    if kwargs.get("classical_size") is not None:
        raise ValueError(f"{func}: classical_size must be left at its default (n) to find a crossover in n")
    n_max = check_int(n_max, "n_max", func=func, minimum=2)
    lo = max(int(_size(kwargs["sparsity"], "sparsity", func)), 2)
    if lo > n_max:
        raise ValueError(f"{func}: sparsity {lo} exceeds n_max {n_max}")

    def gap(log_n):
        return math.log(cost_model(max(int(round(math.exp(log_n))), lo), **kwargs).advantage)

    if gap(math.log(lo)) >= 0:
        return float(lo)
    if gap(math.log(n_max)) < 0:
        return math.inf
    return float(math.exp(brentq(gap, math.log(lo), math.log(n_max), xtol=1e-6)))


# --------------------------------------------------------------------------------------------
# resource estimate
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceEstimate:
    """Logical qubits of the Eq. 6 solver for one model (no error-correction overhead).

    Attributes
    ----------
    n, steps, order, padding, eps, kappa : echo of the inputs (``kappa`` after defaulting)
    weight_qubits : int
        ``ceil(log2 n)``, the register holding one copy of theta (the paper's ``m = log2 n``).
    carleman_qubits : int
        ``ceil(log2 sum_{j<=N} n**j)``: the whole lifted vector on one compact register.
    tensor_layout_qubits : int
        ``ceil(log2 N) + N * ceil(log2 n)``: level register plus ``N`` weight registers
        (the layout in which ``u^{(x) j}`` is ``j`` copies of the weight state).
    time_qubits : int
        ``ceil(log2(T + 1 + p))``.
    clock_qubits : int
        Phase-estimation register (given, or ``ceil(log2(kappa / eps))``).
    ancilla_qubits : int
        Reciprocal-rotation ancilla, Hermitian-dilation qubit, ... (given).
    total : int
        ``carleman_qubits + time_qubits + clock_qubits + ancilla_qubits``.
    lifted_dimension, history_dimension : int
        ``sum_j n**j`` and ``(T + 1 + p)`` times it.
    """

    n: int
    steps: int
    order: int
    padding: int
    eps: float
    kappa: float
    weight_qubits: int
    carleman_qubits: int
    tensor_layout_qubits: int
    time_qubits: int
    clock_qubits: int
    ancilla_qubits: int
    total: int
    lifted_dimension: int
    history_dimension: int


def resource_estimate(n, *, steps, order=2, padding=0, eps=1e-2, kappa=None, clock_qubits=None,
                      ancilla_qubits=2):
    """Logical-qubit count of the quantum ODE solver of [1]_ (Eq. 6) for a model of size ``n``.

    Registers: the lifted vector :math:`[u; u^{\\otimes 2}; \\dots; u^{\\otimes N}]` (dimension
    :math:`\\sum_{j\\le N} n^j`, Kronecker basis), the time register (:math:`T+1+p` blocks of
    Eq. 6), the phase-estimation clock of an HHL-type solver (:math:`\\lceil\\log_2(\\kappa/\\epsilon)
    \\rceil` qubits by default, the usual :math:`O(\\log(\\kappa/\\epsilon))`), and ancillas (the
    reciprocal rotation and the Hermitian dilation of the non-symmetric Eq. 6 matrix). No
    error-correction overhead and no workspace for the oracles are counted.

    Parameters
    ----------
    n : int
        Model size, >= 2.
    steps : int
        ``T`` >= 1.
    order : int, default 2
        Carleman order ``N`` >= 1.
    padding : int, default 0
        Padding ``p`` >= 0.
    eps : float, default 1e-2
        Precision, in (0, 1); only used for the default clock size.
    kappa : float, optional
        Condition number (>= 1); default PNAS Lemma 3's ``3 (T + p + 1)``.
    clock_qubits : int, optional
        Override the clock size.
    ancilla_qubits : int, default 2
        Ancillas (>= 0).

    Returns
    -------
    ResourceEstimate

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Eq. 6 and the text around it
       (``m = log2 n`` qubits for the weights).

    Examples
    --------
    >>> resource_estimate(7_451_044, steps=100).weight_qubits
    23

    Used in chapter 6.
    """
    func = "resource_estimate"
    n = check_int(n, "n", func=func, minimum=2)
    steps = check_int(steps, "steps", func=func, minimum=1)
    order = check_int(order, "order", func=func, minimum=1)
    padding = check_int(padding, "padding", func=func, minimum=0)
    eps = check_positive(eps, "eps", func=func)
    if eps >= 1:
        raise ValueError(f"{func}: eps must be in (0, 1), got {eps}")
    if kappa is None:
        kappa = 3.0 * (steps + padding + 1)
    else:
        kappa = check_positive(kappa, "kappa", func=func)
        if kappa < 1:
            raise ValueError(f"{func}: kappa must be >= 1, got {kappa}")
    if clock_qubits is None:
        clock = max(math.ceil(math.log2(kappa / eps)), 1)
    else:
        clock = check_int(clock_qubits, "clock_qubits", func=func, minimum=1)
    ancilla = check_int(ancilla_qubits, "ancilla_qubits", func=func, minimum=0)
    lifted = _lifted_dimension(n, order)
    blocks = steps + 1 + padding
    weight = _ceil_log2(n)
    carleman = _ceil_log2(lifted)
    time = _ceil_log2(blocks)
    return ResourceEstimate(
        n=n, steps=steps, order=order, padding=padding, eps=eps, kappa=float(kappa),
        weight_qubits=weight, carleman_qubits=carleman,
        tensor_layout_qubits=_ceil_log2(order) + order * weight, time_qubits=time,
        clock_qubits=clock, ancilla_qubits=ancilla, total=carleman + time + clock + ancilla,
        lifted_dimension=lifted, history_dimension=lifted * blocks,
    )


# --------------------------------------------------------------------------------------------
# every public function: arguments within the floating-point range, messages that name the
# function the user called, finite results
# --------------------------------------------------------------------------------------------

#: public functions whose result may be ``inf`` by design (documented in their docstrings)
_MAY_BE_INFINITE = {"crossover_size"}


def _finite_fields(result):
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


def _public(fn):
    """Wrap a public cost function: the three guarantees of the section comment above.

    - an integer argument beyond the floating-point range (more than 1000 bits) is refused
      with its name before any arithmetic (the formulas mix floats and exact integers);
    - a ``ValueError`` raised by an inner public function (say ``tomography_copies`` inside
      ``training_cost``) is re-raised naming the function called, with the inner one in
      parentheses; an ``OverflowError`` becomes a ``ValueError`` naming the function;
    - a non-finite result (an overflow of double precision) raises a ``ValueError``
      naming the field, except where ``inf`` is a documented answer.
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
            msg = str(exc)
            inner, sep, rest = msg.partition(": ")
            if sep and inner != name and inner.isidentifier():
                raise ValueError(f"{name}: {rest} (raised by {inner})") from exc
            raise
        except OverflowError as exc:
            raise ValueError(
                f"{name}: the arguments overflow double precision ({exc}); use smaller values"
            ) from exc
        if name not in _MAY_BE_INFINITE:
            bad = _finite_fields(result)
            if bad:
                field_name, value = bad[0]
                raise ValueError(
                    f"{name}: the {'result' if field_name == 'result' else field_name} is {value}: the "
                    "arguments overflow double precision; use smaller values"
                )
        return result

    return wrapper


_PUBLIC = [
    "gradient_cost", "hessian_cost", "third_derivative_cost", "coefficient_formation_cost",
    "oracle_query_cost", "upload_cost", "lifted_row_sparsity", "qlsa_queries",
    "postselection_repeats", "tomography_copies", "re_expansions", "classical_gd_cost",
    "training_cost", "break_even", "cost_model", "crossover_size", "resource_estimate",
]
for _name in _PUBLIC:
    globals()[_name] = _public(globals()[_name])
del _name
