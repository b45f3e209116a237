r"""The cost of quantum training against classical gradient descent, term by term.

The paper's headline is a quantum training time :math:`\mathcal O(T\,\mathrm{poly}(\log n,
1/\epsilon))` against a classical :math:`\mathrm{poly}(n)` ([1]_, Theorems 1-2). Whether that
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
   discrete-adiabatic solver of Costa et al.), with condition number :func:`default_kappa`
   unless a measured one is given;
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

Layout. The terms live in :mod:`qsgd.cost_terms` and the logical-qubit count in
:mod:`qsgd.cost_resources`; this module adds them up and re-exports every public name, so
``from qsgd.cost import <name>`` is the one import to use. A bad argument of any public function
raises a ``ValueError`` that names the function, the argument and the value
(:func:`qsgd.cost_terms.public_errors`).

Functions
---------
default_kappa
    The default condition number of Eq. 6, PNAS Lemma 3's ``3 (T + p + 1)``.
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
    Named assumption sets and the model sizes at which the two costs cross (a :class:`BreakEven`).
resource_estimate
    Logical qubits of the Eq. 6 solver for one model (a :class:`ResourceEstimate`), with the
    clock register of :func:`qsgd.hhl.required_clock_qubits`.

Used in chapters 6 and 8.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for large-scale
   machine-learning models", Nat. Commun. 15, 434 (2024).
.. [2] J.-P. Liu et al., "Efficient quantum algorithm for dissipative nonlinear differential
   equations", PNAS 118, e2026805118 (2021).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from qsgd._validation import check_choice, check_float_range, check_int, check_positive, describe
from qsgd.cost_resources import ResourceEstimate, resource_estimate
from qsgd.cost_terms import (
    COSTA_WALK_CONSTANT,
    COSTA_WALK_CONSTANT_OBSERVED,
    GRADIENT_FACTOR,
    HVP_FACTOR,
    QLSA_SOLVERS,
    THIRD_FACTOR,
    _kappa,
    _lifted_dimension,
    _size,
    _unit_interval,
    classical_gd_cost,
    coefficient_formation_cost,
    default_kappa,
    gradient_cost,
    hessian_cost,
    lifted_row_sparsity,
    oracle_query_cost,
    postselection_repeats,
    public_errors,
    qlsa_queries,
    re_expansions,
    third_derivative_cost,
    tomography_copies,
    upload_cost,
)

__all__ = [
    # constants (qsgd.cost_terms)
    "QLSA_SOLVERS",
    "COSTA_WALK_CONSTANT",
    "COSTA_WALK_CONSTANT_OBSERVED",
    "GRADIENT_FACTOR",
    "HVP_FACTOR",
    "THIRD_FACTOR",
    # the terms (qsgd.cost_terms)
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
    # the whole run and its break-even (this module)
    "TrainingCost",
    "training_cost",
    "AssumptionSet",
    "ASSUMPTION_SETS",
    "BreakEven",
    "break_even",
    # logical qubits (qsgd.cost_resources)
    "ResourceEstimate",
    "resource_estimate",
]


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


@public_errors
def training_cost(n, *, total_steps, steps, eps, kappa=None, solver="costa", access="oracle",
                  model_sparsity=None, weight_sparsity=None, readout="support", order=2,
                  degree=2, padding=None, success_probability=None, amplitude_amplification=True,
                  loss_cost=None, walk_constant=COSTA_WALK_CONSTANT):
    r"""Cost of training a model of ``n`` weights for ``total_steps`` steps, quantum vs classical.

    .. math::

        C_{\rm Q} = R\Big[C_{\rm form} + \underbrace{\frac{d}{\epsilon^2}}_{\rm copies}
        \underbrace{P^{-1/2}}_{\rm postselection}\big(C_{\rm up}
        + Q_{\rm QLSA}(s_L, \kappa, \epsilon)\,c_{\rm query}\big)\Big],
        \qquad C_{\rm cl} = \texttt{total\_steps}\times C_{\rm step},

    with ``R`` = :func:`re_expansions`, :math:`C_{\rm form}` = :func:`coefficient_formation_cost`
    (0 with oracle access), :math:`C_{\rm up}` = :func:`upload_cost`, ``s_L`` =
    :func:`lifted_row_sparsity` (discrete lift of ``F_0``, ``I + F_1`` and, for ``degree = 2``,
    ``F_2`` with ``s_F**2`` non-zeros per row), :math:`Q_{\rm QLSA}` = :func:`qlsa_queries`,
    :math:`c_{\rm query}` = :func:`oracle_query_cost` of the system dimension, ``d`` from
    :func:`tomography_copies` and :math:`C_{\rm step}` from :func:`classical_gd_cost` with the same
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
        Condition number of Eq. 6 (>= 1); default :func:`default_kappa` ``(T, p)``, PNAS
        Lemma 3's ``3 (T + p + 1)`` [2]_.
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
        ``P``; default PNAS Lemma 5's ``(p + 1) / (9 (T + p + 1) N)`` (``q = 1``) [2]_.
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

    Used in chapters 6 and 8.
    """
    func = "training_cost"
    n = _size(n, "n", func, minimum=2.0)
    total_steps = check_int(total_steps, "total_steps", func=func, minimum=1)
    steps = check_int(steps, "steps", func=func, minimum=1, maximum=total_steps)
    eps = _unit_interval(eps, "eps", func)
    check_choice(solver, "solver", QLSA_SOLVERS, func=func)
    check_choice(access, "access", ("oracle", "formed"), func=func)
    order = check_int(order, "order", func=func, minimum=1)
    degree = check_int(degree, "degree", func=func, minimum=1, maximum=2)
    p = steps if padding is None else check_int(padding, "padding", func=func, minimum=0)
    kappa = default_kappa(steps, p) if kappa is None else _kappa(kappa, func)
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


#: largest grid of :func:`break_even` (10**9 points would need 7.5 GiB and hours of cost-model calls)
_BREAK_EVEN_MAX_NUM = 10**6


@public_errors
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
        Grid points, ``3 <= num <= 10**6`` (the grid is held in memory, and each point
        evaluates the cost model).
    **kwargs
        The remaining :func:`training_cost` keywords (``total_steps``, ``steps``, ``eps``,
        ``kappa``, ``solver``, ...).

    Returns
    -------
    BreakEven

    Used in chapters 6 and 8.
    """
    func = "break_even"
    if not isinstance(assumptions, AssumptionSet):
        raise ValueError(f"{func}: assumptions must be an AssumptionSet, got {describe(assumptions)}")
    n_min = _size(n_min, "n_min", func, minimum=2.0)
    n_max = check_positive(n_max, "n_max", func=func)
    if n_max <= n_min:
        raise ValueError(f"{func}: n_max must be > n_min = {n_min:g}, got {n_max}")
    num = check_int(num, "num", func=func, minimum=3, maximum=_BREAK_EVEN_MAX_NUM)

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
