r"""Downloading the weights: l2 tomography of a real state, with signs, and its norm.

Step V of the algorithm of [1]_ turns the output state of the linear-system
solver, :math:`|\theta(T)\rangle = \theta(T) / \|\theta(T)\|`, back into
classical numbers. The paper cites classical shadows [2]_ and projected least
squares [3]_ and states that precision :math:`\epsilon` costs about
:math:`1/\epsilon^2` copies. For a *pure, real* state the standard tool is the
:math:`\ell_2` vector-state tomography of Kerenidis and Prakash [4]_, which this
module implements in two stages of ``shots`` copies each:

1. **Magnitudes.** Measure :math:`|x\rangle = \sum_i x_i |i\rangle` in the
   computational basis ``shots`` times. With :math:`n_i` the number of outcomes
   :math:`i`, :math:`\hat p_i = n_i / \text{shots}` is an unbiased estimate of
   :math:`x_i^2`, and :math:`\tilde x_i = \sqrt{\hat p_i}` estimates :math:`|x_i|`.
   :math:`\tilde x` is itself a unit vector, supported on the observed outcomes.
2. **Signs (interference).** Load :math:`\tilde x` as a state with a preparation
   circuit :math:`V` and build, with one ancilla,

   .. math::
       H_a \; \big(|0\rangle\langle 0|_a \otimes U + |1\rangle\langle 1|_a \otimes V\big)
       \; H_a \; |0\rangle_a|0\rangle
       = \tfrac12 |0\rangle (x + \tilde x) + \tfrac12 |1\rangle (x - \tilde x),

   where :math:`U|0\rangle = |x\rangle`. Measuring ancilla and register gives
   outcome :math:`(b, i)` with probability
   :math:`(x_i \pm \tilde x_i)^2 / 4` (:math:`+` for :math:`b = 0`). Flipping the
   sign of :math:`x_i` swaps the two probabilities and leaves all others alone, so
   the likelihood-ratio test for the sign of :math:`x_i` is simply
   :math:`n(0, i) \gtrless n(1, i)`; ties (both counts small, so
   :math:`|x_i| \lesssim 1/\sqrt{\text{shots}}`) are resolved to :math:`+`. [4]_
   uses the threshold :math:`n(0, i) > 0.4\,\hat p_i\,\text{shots}` instead.

The estimate is :math:`\hat x_i = \sigma_i \tilde x_i`. Theorem 4.3 of [4]_: with
:math:`\text{shots} = 36\, d \ln d / \delta^2` per stage,
:math:`\|x - \hat x\|_2 \le \sqrt 7\,\delta` with probability at least
:math:`1 - 1/d^{0.83}` (:func:`shots_bound`). In practice the error is governed by
the magnitude stage: by the delta method
:math:`\mathbb E (\sqrt{\hat p_i} - |x_i|)^2 \approx (1 - x_i^2) / (4\,\text{shots})`
for :math:`x_i^2\,\text{shots} \gg 1`, so for a state with :math:`s` non-zero
amplitudes

.. math::
    \mathbb E\,\|x - \hat x\|_2^2 \approx \frac{s - 1}{4\,\text{shots}},

(:func:`predicted_error`), the :math:`\text{shots}^{-1/2}` law of claim 12. That
approximation, and the :math:`\chi^2` quantile built on it (:func:`tomography_error_estimate`),
needs every :math:`x_i^2\,\text{shots} \gg 1`; a state with amplitudes near or below
:math:`1/\sqrt{\text{shots}}` (a postselected state with :math:`10^{-16}` entries, a decaying
spectrum) exceeds it often. :func:`tomography_error_bound` is a finite-sample bound that holds
for *every* state with :math:`s` non-zeros at the stated confidence (multinomial concentration in
relative entropy for the magnitudes, a Chernoff bound on the sign decisions), of order
:math:`\sqrt{(s + \ln(1/\alpha))/\text{shots}}`; :func:`tomography_shots_for` inverts it. Sampling
never reports an index outside the support of :math:`x`, so the error of an
s-sparse state scales with :math:`\sqrt{s/\text{shots}}`, not
:math:`\sqrt{d/\text{shots}}`. A known support (the pruning mask) can also be
imposed with ``support=``: outcomes outside it are discarded, which removes the
leakage of an imperfect solver, and :math:`V` then loads at most :math:`s`
amplitudes.

**The reference state** :math:`\tilde x` is a classical description (the
magnitudes) turned into a circuit: by :func:`qsgd.upload.sparse_state_preparation`
(Gleinig-Hoefler, :math:`O(s\,n)` CNOTs for :math:`s` observed outcomes on
:math:`n` qubits) when it has at most ``SPARSE_REFERENCE_MAX`` non-zeros, by
Qiskit's ``StatePreparation`` (about :math:`2^n` CNOTs) otherwise. This is fine for
the register sizes simulated here; at scale one would use QRAM-style loading, as
[4]_ assumes.

**Norm recovery.** Tomography of a normalized state returns a direction only. The
length follows from numbers the algorithm already has (:func:`recover_norm`):

* HHL [5]_ prepares :math:`|b\rangle = b/\|b\|`; after eigenvalue inversion the
  flag qubit reads 1 with amplitude :math:`C/\lambda_j` on eigenvector
  :math:`j`, so the success probability is
  :math:`p = C^2 \|A^{-1} b\|^2 / \|b\|^2` and
  :math:`\|x\| = \|A^{-1}b\| = \|b\| \sqrt{p} / C`;
* postselecting a block :math:`v` (time :math:`T`, Carleman level 1) of a unit
  history state :math:`Y/\|Y\|` succeeds with probability
  :math:`p = \|v\|^2/\|Y\|^2`, so :math:`\|v\| = \|Y\| \sqrt{p}`;
* both together: :math:`\|\theta(T)\| = \|\text{rhs}\|\sqrt{p_{\rm HHL}\,
  p_{\rm block}}/C`.

:math:`p` is estimated from the same repetitions that feed the tomography (the
fraction of runs that pass the postselection), :math:`\hat p = k/M`, so the norm
carries the relative standard error
:math:`\tfrac12\sqrt{(1-p)/(p M)}` (:func:`norm_relative_error`), plus the
solver's own bias (finite clock register) which tomography cannot see.

**Signs without a reference: Hadamard pairs.** The shot mode of
:func:`qsgd.hhl.hhl_solve` (and the sampling of :func:`qsgd.hhl.hhl_model`) reads its
real output with a second scheme, which needs neither an ancilla nor a prepared
reference: the postselected register is measured in the computational basis
(magnitudes, as stage 1 above) and, in :math:`s` further settings, after a Hadamard
on one qubit :math:`j` each, which shows the pair :math:`i, i \oplus 2^j` with
probabilities :math:`(x_i \pm x_{i \oplus 2^j})^2/2` and so the sign of their product.
The relative signs are propagated over the hypercube of the support along a maximum
spanning tree (:func:`hadamard_pair_counts` samples the :math:`s+1` settings,
:func:`pair_signs` and :func:`amplitudes_from_pair_counts` rebuild the amplitudes up
to a global sign). It costs :math:`s+1` settings instead of the two of
:func:`vector_tomography`, but only single-qubit gates on the register itself.

Used in chapter 5 (``book/05_tomography.ipynb``) and by the end-to-end pipeline.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning
   models", Nat. Commun. 15, 434 (2024), arXiv:2303.03428.
.. [2] H.-Y. Huang, R. Kueng, J. Preskill, "Predicting many properties of a quantum
   system from very few measurements", Nat. Phys. 16, 1050 (2020).
.. [3] M. Guta, J. Kahn, R. Kueng, J. A. Tropp, "Fast state tomography with optimal
   error bounds", J. Phys. A 53, 204001 (2020).
.. [4] I. Kerenidis, A. Prakash, "A quantum interior point method for LPs and SDPs",
   ACM Trans. Quantum Comput. 1, 5 (2020), arXiv:1808.09266, Sec. 4.
.. [5] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems
   of equations", Phys. Rev. Lett. 103, 150502 (2009).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit.library import StatePreparation
from qiskit.quantum_info import Statevector
from qiskit_aer import AerSimulator

from qsgd._validation import (
    as_matrix,
    as_rng,
    as_vector,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    describe,
)
from qsgd.upload import sparse_state_preparation

__all__ = [
    "TOMOGRAPHY_MAX_QUBITS",
    "SPARSE_REFERENCE_MAX",
    "TomographyResult",
    "vector_tomography",
    "sign_circuit",
    "shots_bound",
    "predicted_error",
    "recover_norm",
    "norm_relative_error",
    "hadamard_pair_counts",
    "pair_signs",
    "amplitudes_from_pair_counts",
]

#: largest register accepted on the circuit path (Aer statevector simulation)
TOMOGRAPHY_MAX_QUBITS = 20

#: the sign circuit loads a reference with at most this many non-zeros sparsely
SPARSE_REFERENCE_MAX = 32

#: tolerance on the unit norm of a statevector input and on imaginary parts
_ATOL = 1e-8


# ---------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------


def _real_unit_vector(state: Any, func: str, name: str = "state") -> np.ndarray:
    """A real unit vector from an array, list, torch tensor or qiskit Statevector (named ``name`` in errors)."""
    data = getattr(state, "data", state) if not isinstance(state, np.ndarray) else state
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:  # pragma: no cover - exotic input
        raise ValueError(f"{func}: {name} must be numeric, got {describe(state)}") from exc
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{func}: {name} must be numeric, got {describe(state)}")
    if np.iscomplexobj(arr):
        imag = float(np.max(np.abs(arr.imag))) if arr.size else 0.0
        if imag > _ATOL:
            raise ValueError(
                f"{func}: {name} has complex amplitudes (max |imag| = {imag:.3g}); only real "
                "amplitudes are supported: the sign circuit recovers signs, not phases"
            )
        arr = arr.real
    vec = as_vector(arr, name, func=func, allow_zero=False)
    d = vec.shape[0]
    if d < 2 or d & (d - 1):
        raise ValueError(f"{func}: {name} must have a power-of-two length >= 2 (a qubit register), got {d}")
    norm = float(np.linalg.norm(vec))
    if abs(norm - 1.0) > _ATOL:
        raise ValueError(
            f"{func}: {name} must be normalized (unit 2-norm), got norm {norm:.6g}; tomography "
            "returns a direction, pass state / norm and keep the norm (see recover_norm)"
        )
    return vec / norm


def _is_unitary(circuit) -> bool:
    """No measurements, resets or classical bits (the circuit can be controlled on an ancilla)."""
    return not circuit.num_clbits and not any(inst.operation.name in ("measure", "reset") for inst in circuit.data)


def _circuit_state(circuit, func: str) -> np.ndarray:
    """Validate a preparation circuit and return its (real) output amplitudes."""
    n = circuit.num_qubits
    if n < 1 or n > TOMOGRAPHY_MAX_QUBITS:
        raise ValueError(f"{func}: the circuit must act on 1 to {TOMOGRAPHY_MAX_QUBITS} qubits, got {n}")
    if not _is_unitary(circuit):
        raise ValueError(
            f"{func}: the state circuit must be unitary (no measurements, resets or classical bits): "
            "it is run controlled by an ancilla in the sign stage"
        )
    try:
        amplitudes = Statevector(circuit).data
    except Exception as exc:  # qiskit raises several types for non-unitary content
        raise ValueError(f"{func}: could not simulate the state circuit: {exc}") from exc
    return _real_unit_vector(amplitudes, func)


def _check_support(support: Any, d: int, func: str) -> np.ndarray | None:
    if support is None:
        return None
    if hasattr(support, "detach"):
        support = support.detach().cpu().numpy()
    arr = np.asarray(support)
    if arr.dtype == bool:
        if arr.ndim != 1 or arr.shape[0] != d:
            raise ValueError(f"{func}: a boolean support must be a mask of length {d}, got shape {arr.shape}")
        arr = np.flatnonzero(arr)
    elif arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise ValueError(
            f"{func}: support must be a 1-D array of integer indices or a boolean mask, got {describe(support)}"
        )
    if arr.size == 0:
        raise ValueError(f"{func}: support is empty")
    if arr.min() < 0 or arr.max() >= d:
        bad = arr[(arr < 0) | (arr >= d)]
        raise ValueError(f"{func}: support has indices outside [0, {d}): {bad[:5].tolist()}")
    return np.unique(arr.astype(np.int64))


# ---------------------------------------------------------------------------
# the interference circuit
# ---------------------------------------------------------------------------


def sign_circuit(preparation, reference: Any, *, loader: str = "auto", measure: bool = True):
    r"""The interference circuit of the sign stage of Kerenidis-Prakash tomography.

    On ``n + 1`` qubits (register ``q`` = qubits ``0..n-1``, ancilla ``a`` = qubit
    ``n``, the most significant bit of an outcome) it prepares

    .. math::
        \tfrac12 |0\rangle_a (x + \tilde x) + \tfrac12 |1\rangle_a (x - \tilde x),

    with :math:`x = U|0\rangle` the state of ``preparation`` and :math:`\tilde x`
    the real unit vector ``reference``: Hadamard on the ancilla, ``U`` controlled
    on ancilla :math:`= 0`, a preparation :math:`V` of :math:`\tilde x`
    controlled on ancilla :math:`= 1`, Hadamard on the ancilla. Outcome :math:`k = i + b\,2^n` has
    probability :math:`(x_i + (-1)^b \tilde x_i)^2/4` (stage 2 of [1]_, Sec. 4).

    Parameters
    ----------
    preparation : QuantumCircuit
        Unitary circuit with :math:`U|0\ldots0\rangle = |x\rangle` on ``n`` qubits.
    reference : array_like
        Real unit vector :math:`\tilde x` of length :math:`2^n` (in tomography the
        magnitude estimate; any real unit vector works).
    loader : {"auto", "sparse", "dense"}, keyword-only
        How :math:`V` is built: ``"sparse"`` with
        :func:`qsgd.upload.sparse_state_preparation` (Gleinig-Hoefler,
        :math:`O(s\,n)` CNOTs), ``"dense"`` with Qiskit's ``StatePreparation``
        (:math:`\approx 2^n` CNOTs, but simulated natively and fast by Aer);
        ``"auto"`` takes the sparse loader for at most ``SPARSE_REFERENCE_MAX``
        non-zeros (its classical compilation grows quickly with :math:`s`), the
        dense one otherwise.
    measure : bool, keyword-only
        Append ``measure_all`` (default); ``False`` leaves a unitary circuit, for
        statevector checks.

    Returns
    -------
    QuantumCircuit

    Raises
    ------
    ValueError
        For a non-circuit, a circuit with measurements, a reference of the wrong
        length, complex or unnormalized.

    References
    ----------
    .. [1] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020), Sec. 4.

    Used in chapter 5.
    """
    func = "sign_circuit"
    check_choice(loader, "loader", {"auto", "sparse", "dense"}, func=func)
    measure = check_bool(measure, "measure", func=func)
    if not isinstance(preparation, QuantumCircuit):
        raise ValueError(f"{func}: preparation must be a qiskit QuantumCircuit, got {describe(preparation)}")
    if not _is_unitary(preparation):
        raise ValueError(f"{func}: preparation must be unitary (no measurements, resets or classical bits)")
    n = preparation.num_qubits
    ref = _real_unit_vector(reference, func, "reference")
    if ref.shape[0] != 2**n:
        raise ValueError(f"{func}: reference must have length 2**{n} = {2**n}, got {ref.shape[0]}")
    if loader == "auto":
        loader = "sparse" if np.count_nonzero(ref) <= SPARSE_REFERENCE_MAX else "dense"
    if loader == "sparse":
        v = sparse_state_preparation(ref, num_qubits=n)
    else:
        v = QuantumCircuit(n)
        v.append(StatePreparation(ref), range(n))
    reg = QuantumRegister(n, "q")
    anc = QuantumRegister(1, "a")
    qc = QuantumCircuit(reg, anc, name="kp_sign")
    qc.h(anc[0])
    u_gate = preparation.to_gate(label="U")
    v_gate = v.to_gate(label="V")
    qc.append(u_gate.control(1, ctrl_state=0), [anc[0], *reg])
    qc.append(v_gate.control(1, ctrl_state=1), [anc[0], *reg])
    qc.h(anc[0])
    if measure:
        qc.measure_all()
    return qc


# ---------------------------------------------------------------------------
# tomography
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TomographyResult:
    r"""Outcome of :func:`vector_tomography`.

    Attributes
    ----------
    estimate : ndarray of shape (d,)
        The estimated real unit vector :math:`\hat x_i = \sigma_i \sqrt{\hat p_i}`
        (zero outside the support).
    magnitudes : ndarray of shape (d,)
        :math:`\sqrt{\hat p_i}`, the unit-norm magnitude estimate (stage 1).
    signs : ndarray of shape (d,)
        :math:`\sigma_i \in \{-1, +1\}` where the magnitude is non-zero, 0 elsewhere.
    counts : ndarray of shape (d,)
        Stage-1 outcome counts :math:`n_i` (all of them, also outside ``support``).
    sign_counts : ndarray of shape (2, d)
        Stage-2 counts :math:`n(b, i)`, ancilla :math:`b = 0` (row 0) or 1.
    support : ndarray of int
        The indices the estimate may be non-zero on: the ``support`` argument if
        given, otherwise the observed outcomes of stage 1.
    support_weight : float
        Fraction of stage-1 shots that fell in ``support`` (1 without a support);
        estimates :math:`\|P_S x\|^2`.
    shots_per_circuit : int
        Shots on each of the two circuits.
    total_shots : int
        Copies of the state used in all, ``2 * shots_per_circuit``.
    num_qubits : int
        Register size :math:`n`, :math:`d = 2^n`.
    method : str
        ``"statevector"`` (numpy multinomial sampling) or ``"circuit"`` (Aer).
    sign_circuit : QuantumCircuit or None
        The stage-2 circuit that was run (circuit path only).
    settings : dict
        The arguments and seeds the run used.
    """

    estimate: np.ndarray
    magnitudes: np.ndarray
    signs: np.ndarray
    counts: np.ndarray
    sign_counts: np.ndarray
    support: np.ndarray
    support_weight: float
    shots_per_circuit: int
    total_shots: int
    num_qubits: int
    method: str
    sign_circuit: Any = field(default=None, repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def dimension(self) -> int:
        """d, the length of the state vector."""
        return int(self.estimate.shape[0])

    def error(self, truth: Any) -> float:
        r""":math:`\|\hat x - x\|_2` against a reference vector ``truth`` (normalized here)."""
        ref = as_vector(truth, "truth", func="TomographyResult.error", size=self.dimension, allow_zero=False)
        return float(np.linalg.norm(self.estimate - ref / np.linalg.norm(ref)))


def _magnitudes(counts: np.ndarray, support: np.ndarray | None, func: str) -> tuple[np.ndarray, float]:
    total = counts.sum()
    if support is None:
        return np.sqrt(counts / total), 1.0
    kept = np.zeros_like(counts)
    kept[support] = counts[support]
    inside = kept.sum()
    if inside == 0:
        raise ValueError(
            f"{func}: none of the {int(total)} stage-1 shots fell in the given support "
            f"({support.size} indices); the state has (almost) no weight there"
        )
    return np.sqrt(kept / inside), float(inside / total)


def _signs(sign_counts: np.ndarray, magnitudes: np.ndarray) -> np.ndarray:
    signs = np.where(sign_counts[1] > sign_counts[0], -1.0, 1.0)
    signs[magnitudes == 0] = 0.0
    return signs


def _sample_statevector(x: np.ndarray, shots: int, support, rng: np.random.Generator, func: str):
    d = x.shape[0]
    p = x * x
    counts = rng.multinomial(shots, p / p.sum())
    mags, weight = _magnitudes(counts, support, func)
    q = np.concatenate([(x + mags) ** 2, (x - mags) ** 2]) / 4.0
    sign_counts = rng.multinomial(shots, q / q.sum()).reshape(2, d)
    return counts, mags, weight, sign_counts


def _aer_counts(circuit, shots: int, seed_simulator: int, seed_transpiler: int, width: int) -> np.ndarray:
    sim = AerSimulator(method="statevector", seed_simulator=seed_simulator)
    compiled = transpile(circuit, sim, seed_transpiler=seed_transpiler, optimization_level=1)
    raw = sim.run(compiled, shots=shots).result().get_counts()
    out = np.zeros(2**width, dtype=np.int64)
    for key, value in raw.items():
        out[int(key.replace(" ", ""), 2)] += value
    return out


def _sample_circuit(circuit, shots: int, support, rng: np.random.Generator, func: str):
    n = circuit.num_qubits
    seeds = rng.integers(0, 2**31 - 1, size=3)
    magnitude_circuit = circuit.copy()
    magnitude_circuit.measure_all()
    counts = _aer_counts(magnitude_circuit, shots, int(seeds[0]), int(seeds[2]), n)
    mags, weight = _magnitudes(counts, support, func)
    sc = sign_circuit(circuit, mags)
    sign_counts = _aer_counts(sc, shots, int(seeds[1]), int(seeds[2]), n + 1).reshape(2, 2**n)
    seeds_used = {"seed_magnitudes": int(seeds[0]), "seed_signs": int(seeds[1]), "seed_transpiler": int(seeds[2])}
    return counts, mags, weight, sign_counts, sc, seeds_used


def vector_tomography(state: Any, *, shots: int, rng: Any = None, support: Any = None) -> TomographyResult:
    r"""l2 tomography of a real unit vector with signs (Kerenidis-Prakash).

    Stage 1 samples the state ``shots`` times in the computational basis and
    takes :math:`\tilde x_i = \sqrt{n_i/\text{shots}}`; stage 2 runs the
    interference circuit :func:`sign_circuit` ``shots`` times and sets
    :math:`\sigma_i = -1` iff :math:`n(1, i) > n(0, i)`; the estimate is
    :math:`\hat x = \sigma \odot \tilde x`. This is the download of step V in
    [1]_ (claim 12 of the companion: error :math:`\propto \text{shots}^{-1/2}`)
    with the sign recovery of [2]_; see the module docstring for the maths.

    Parameters
    ----------
    state : QuantumCircuit, array_like or qiskit Statevector
        *Circuit path*: a unitary circuit preparing the state from
        :math:`|0\ldots0\rangle`; both stages run on ``AerSimulator`` with
        seeds drawn from ``rng`` (the stage-2 circuit controls it on an ancilla,
        so its global phase counts as part of the state). *Statevector path*: a
        real unit vector of length :math:`2^n` (NumPy array, torch tensor or
        ``Statevector``); both stages draw the outcome counts with
        ``rng.multinomial`` from the exact outcome probabilities, which is the
        same distribution without building circuits (for large sweeps).
    shots : int, keyword-only
        Copies measured per stage (>= 1); ``2 * shots`` copies in all.
    rng : None, int or numpy Generator, keyword-only
        Randomness, ``np.random.default_rng(rng)``; the Aer and transpiler seeds
        are drawn from it, so a fixed seed gives identical results.
    support : array_like of int or bool mask, keyword-only
        Known non-zero positions (e.g. the pruning mask): stage-1 outcomes
        outside it are discarded, the magnitudes are renormalized on it, and the
        estimate is zero outside it. Default: the observed outcomes.

    Returns
    -------
    TomographyResult

    Raises
    ------
    ValueError
        If ``shots < 1``; the state is not normalized (norm further than 1e-8
        from 1), has complex amplitudes (only real states are supported: the
        interference circuit recovers signs, not phases), has a length that is
        not a power of two, or is not finite; the circuit has measurements or
        more than ``TOMOGRAPHY_MAX_QUBITS`` qubits; ``support`` has indices outside
        ``[0, d)`` or no stage-1 shot falls inside it.

    Notes
    -----
    Expected error :math:`\approx \sqrt{(s-1)/(4\,\text{shots})}` for a state
    with :math:`s` non-zero amplitudes well above :math:`1/\sqrt{\text{shots}}`
    (:func:`predicted_error`); the worst-case guarantee of [2]_ is
    :func:`shots_bound`. The statevector path costs :math:`O(d)` per call
    independently of ``shots``.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), step V of the algorithm
       ("use tomography to get classical theta(T)").
    .. [2] I. Kerenidis, A. Prakash, "A quantum interior point method for LPs and
       SDPs", ACM Trans. Quantum Comput. 1, 5 (2020), Algorithm 4.1, Theorem 4.3.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.6, -0.48, 0.0, 0.64])
    >>> res = vector_tomography(x, shots=100_000, rng=1)
    >>> np.sign(res.estimate).tolist()
    [1.0, -1.0, 0.0, 1.0]
    >>> bool(res.error(x) < 0.01)
    True

    Used in chapters 5 and 8.
    """
    func = "vector_tomography"
    shots = check_int(shots, "shots", func=func, minimum=1)
    gen = as_rng(rng, func=func)
    if isinstance(state, QuantumCircuit):
        _circuit_state(state, func)  # validated only; the sampling uses the simulator
        n = state.num_qubits
        sup = _check_support(support, 2**n, func)
        counts, mags, weight, sign_counts, sc, seeds = _sample_circuit(state, shots, sup, gen, func)
        method = "circuit"
    else:
        x = _real_unit_vector(state, func)
        n = int(x.shape[0]).bit_length() - 1
        sup = _check_support(support, x.shape[0], func)
        counts, mags, weight, sign_counts = _sample_statevector(x, shots, sup, gen, func)
        sc, seeds, method = None, {}, "statevector"
    signs = _signs(sign_counts, mags)
    estimate = signs * mags
    observed = np.flatnonzero(mags)
    settings = {
        "shots": shots,
        "support_given": sup is not None,
        "method": method,
        "sign_rule": "n(1,i) > n(0,i) -> -1, else +1",
        "reference_loader": "auto (sparse_state_preparation up to SPARSE_REFERENCE_MAX non-zeros, else StatePreparation)",
        **seeds,
    }
    return TomographyResult(
        estimate=estimate,
        magnitudes=mags,
        signs=signs,
        counts=counts,
        sign_counts=sign_counts,
        support=observed if sup is None else sup,
        support_weight=weight,
        shots_per_circuit=shots,
        total_shots=2 * shots,
        num_qubits=n,
        method=method,
        sign_circuit=sc,
        settings=settings,
    )


# ---------------------------------------------------------------------------
# Hadamard-pair sign tomography (the read-out of qsgd.hhl's shot mode)
# ---------------------------------------------------------------------------


def _register_qubits(length: int, name: str, func: str) -> int:
    """``s`` for a register of ``2**s`` amplitudes (``s >= 1``), else ValueError naming *name*."""
    if length < 2 or length & (length - 1):
        raise ValueError(f"{func}: {name} must have a power-of-two length >= 2 (a qubit register), got {length}")
    return length.bit_length() - 1


def _count_table(counts: Any, name: str, func: str, *, columns: int | None = None) -> np.ndarray:
    """A finite, non-negative 2-D table of outcome counts (one row per measurement setting)."""
    table = as_matrix(counts, name, func=func, sparse=False)
    if columns is not None and table.shape[1] != columns:
        raise ValueError(f"{func}: {name} must have {columns} columns (one per outcome), got shape {table.shape}")
    if np.any(table < 0):
        raise ValueError(f"{func}: {name} must be non-negative outcome counts, got the entry {float(table.min()):.6g}")
    return table


def hadamard_pair_counts(state: Any, shots: int, *, rng: Any = None) -> np.ndarray:
    r"""Sample the :math:`s+1` measurement settings of Hadamard-pair sign tomography.

    ``state`` holds the real amplitudes :math:`x` of an :math:`s`-qubit register *after a
    postselection* (for HHL: flag = 1, clock = 0), so :math:`\|x\|^2 = P \le 1` is the
    probability that the postselection succeeds. Each setting is run on ``shots`` copies:

    * setting 0 measures the register in the computational basis: outcome :math:`i` with
      probability :math:`x_i^2`;
    * setting :math:`1 + j` (:math:`j = 0, \ldots, s-1`) first applies a Hadamard to qubit
      :math:`j`: for the pair :math:`i` (bit :math:`j` = 0), :math:`i' = i \oplus 2^j`,
      outcome :math:`i` has probability :math:`(x_i + x_{i'})^2/2` and :math:`i'` has
      :math:`(x_i - x_{i'})^2/2`;

    and in every setting a copy fails the postselection with probability :math:`1 - P`. The
    counts are one multinomial draw per setting over the :math:`2^s` outcomes and the
    failure outcome (whose count is dropped), in the order of the settings, so a seeded
    ``rng`` reproduces them exactly. :func:`amplitudes_from_pair_counts` rebuilds :math:`x`
    from them up to a global sign.

    Parameters
    ----------
    state : (2**s,) array_like
        Real, finite amplitudes with :math:`\|x\|^2 \le 1` (up to :math:`10^{-8}`),
        :math:`s \ge 1`; the zero vector is allowed (the postselection never succeeds).
    shots : int
        Copies per setting (>= 1); :math:`(s+1)\,\text{shots}` in all.
    rng : None, int or numpy.random.Generator, keyword-only
        ``np.random.default_rng(rng)``; a Generator is drawn from in place.

    Returns
    -------
    ndarray of float, shape (s + 1, 2**s)
        Row 0: the computational-basis counts; row :math:`1 + j`: the counts after the
        Hadamard on qubit :math:`j`. Each row sums to the number of copies that passed the
        postselection in that setting.

    Raises
    ------
    ValueError
        For a complex, non-finite or empty ``state``, a length that is not a power of two
        :math:`\ge 2`, :math:`\|x\|^2 > 1`, ``shots < 1`` or a bad ``rng``.

    Examples
    --------
    >>> counts = hadamard_pair_counts([0.6, -0.8], 1000, rng=0)
    >>> counts.shape, counts.sum(axis=1).tolist()
    ((2, 2), [1000.0, 1000.0])
    """
    func = "hadamard_pair_counts"
    amps = as_vector(state, "state", func=func)
    s = _register_qubits(amps.shape[0], "state", func)
    shots = check_int(shots, "shots", func=func, minimum=1, maximum=2**62)
    gen = as_rng(rng, func=func)
    prob = float(np.vdot(amps, amps).real)
    if prob > 1.0 + _ATOL:
        raise ValueError(
            f"{func}: state must have squared norm <= 1 (the success probability of the postselection), "
            f"got {prob:.6g}"
        )
    fail = max(0.0, 1.0 - prob)

    def draw(setting: np.ndarray) -> np.ndarray:
        p = np.append(np.abs(setting) ** 2, fail)
        return gen.multinomial(shots, p / p.sum())[:-1].astype(float)

    counts = np.empty((s + 1, amps.shape[0]))
    counts[0] = draw(amps)
    idx = np.arange(amps.shape[0])
    for j in range(s):
        partner = idx ^ (1 << j)
        low = ((idx >> j) & 1) == 0
        # Hadamard on qubit j: (x_lo + x_hi)/sqrt2 on lo, (x_lo - x_hi)/sqrt2 on hi
        counts[1 + j] = draw(np.where(low, amps + amps[partner], amps[partner] - amps) / math.sqrt(2.0))
    return counts


def _pair_signs(mag: np.ndarray, pair_counts: np.ndarray, s: int) -> np.ndarray:
    """:func:`pair_signs` on checked input (Prim over the hypercube of the support)."""
    signs = np.zeros(mag.size)
    active = mag > 0
    if not np.any(active):
        return np.ones(mag.size)
    start = int(np.argmax(mag))
    signs[start] = 1.0
    heap: list[tuple[float, int, int, int]] = []

    def push(i: int):
        for j in range(s):
            k = i ^ (1 << j)
            if active[k] and signs[k] == 0.0:
                heapq.heappush(heap, (-mag[i] * mag[k], i, k, j))

    push(start)
    while heap:
        _, i, k, j = heapq.heappop(heap)
        if signs[k] != 0.0:
            continue
        lo, hi = (i, k) if not (i >> j) & 1 else (k, i)
        # after H on qubit j: P(lo) ~ (x_lo + x_hi)^2 / 2, P(hi) ~ (x_lo - x_hi)^2 / 2
        same = pair_counts[j][lo] >= pair_counts[j][hi]
        signs[k] = signs[i] * (1.0 if same else -1.0)
        push(k)
    signs[signs == 0.0] = 1.0
    return signs


def pair_signs(magnitudes: Any, pair_counts: Any) -> np.ndarray:
    r"""Relative signs of real amplitudes from the Hadamard settings of :func:`hadamard_pair_counts`.

    After a Hadamard on qubit :math:`j` the pair :math:`i` (bit :math:`j` = 0),
    :math:`i' = i \oplus 2^j` is seen with probabilities :math:`(x_i \pm x_{i'})^2/2`, so
    :math:`x_i x_{i'} \ge 0` is the likelihood-ratio decision
    :math:`n_j(i) \ge n_j(i')`. Each such pair is an edge of the hypercube over the
    support (the outcomes with non-zero magnitude); the signs are propagated from the
    largest magnitude (sign :math:`+1`) along a maximum spanning tree with edge weights
    :math:`|x_i|\,|x_{i'}|` (Prim's algorithm), so every sign rests on the most reliable
    chain of comparisons. Outcomes the tree does not reach (magnitude zero, or cut off from
    the rest of the support) get :math:`+1`.

    Unlike the interference stage of :func:`vector_tomography`, which compares :math:`x`
    with a reference state loaded by a controlled preparation circuit, this needs no
    reference and no ancilla -- only one Hadamard per qubit on the register itself -- at
    the price of :math:`s` extra settings instead of one, and of signs that are relative
    (the global sign is not observable).

    Parameters
    ----------
    magnitudes : (2**s,) array_like
        Non-negative estimates of :math:`|x_i|` (any scale; only their products are
        compared).
    pair_counts : (s, 2**s) array_like
        Non-negative counts; row :math:`j` after the Hadamard on qubit :math:`j` (rows
        1 to :math:`s` of :func:`hadamard_pair_counts`).

    Returns
    -------
    ndarray of float, shape (2**s,)
        :math:`\pm 1`, with :math:`+1` at the largest magnitude.

    Raises
    ------
    ValueError
        For non-finite, negative or complex input, a length that is not a power of two
        :math:`\ge 2`, or ``pair_counts`` of a shape other than :math:`(s, 2^s)`.

    Examples
    --------
    >>> pair_signs([0.6, 0.8], [[2.0, 98.0]]).tolist()  # (x0 - x1)^2 dominates: opposite signs
    [-1.0, 1.0]
    """
    func = "pair_signs"
    mag = as_vector(magnitudes, "magnitudes", func=func)
    if np.any(mag < 0):
        raise ValueError(f"{func}: magnitudes must be non-negative, got the entry {float(mag.min()):.6g}")
    s = _register_qubits(mag.shape[0], "magnitudes", func)
    table = _count_table(pair_counts, "pair_counts", func, columns=mag.shape[0])
    if table.shape[0] != s:
        raise ValueError(f"{func}: pair_counts must have {s} rows (one per qubit), got shape {table.shape}")
    return _pair_signs(mag, table, s)


def amplitudes_from_pair_counts(counts: Any) -> np.ndarray:
    r"""Real amplitudes, up to a global sign, from the counts of :func:`hadamard_pair_counts`.

    The magnitudes come from the computational-basis row,
    :math:`|\hat x_i| = \sqrt{n_0(i)/\sum_k n_0(k)}` (a unit vector; all zero if no copy
    passed the postselection), the relative signs from the Hadamard rows by
    :func:`pair_signs`. The overall sign is that of the largest entry, :math:`+1`; a caller
    that knows the sign from elsewhere flips it. The error behaves as the magnitude stage
    of :func:`vector_tomography` (module docstring), :math:`\approx\sqrt{(k-1)/(4 N_0)}`
    for :math:`k` non-zero amplitudes and :math:`N_0` postselected copies, as long as the
    sign decisions along the spanning tree are right.

    Parameters
    ----------
    counts : (s + 1, 2**s) array_like
        Non-negative counts: row 0 in the computational basis, row :math:`1 + j` after a
        Hadamard on qubit :math:`j`.

    Returns
    -------
    ndarray of float, shape (2**s,)
        Unit norm, or zero when row 0 is all zero.

    Raises
    ------
    ValueError
        For non-finite, negative or complex counts, or a shape other than
        :math:`(s + 1, 2^s)` with :math:`s \ge 1`.

    Examples
    --------
    >>> x = amplitudes_from_pair_counts(hadamard_pair_counts([0.6, -0.8], 100_000, rng=1))
    >>> np.round(x, 2).tolist()  # the largest entry is made positive
    [-0.6, 0.8]
    """
    func = "amplitudes_from_pair_counts"
    table = _count_table(counts, "counts", func)
    s = _register_qubits(table.shape[1], "each row of counts", func)
    if table.shape[0] != s + 1:
        raise ValueError(f"{func}: counts must have {s + 1} rows (s + 1 settings for s = {s} qubits), "
                         f"got shape {table.shape}")
    mag = np.sqrt(table[0] / max(table[0].sum(), 1.0))
    return mag * _pair_signs(mag, table[1:], s)


# ---------------------------------------------------------------------------
# costs
# ---------------------------------------------------------------------------


def shots_bound(dimension: int, eps: float) -> int:
    r"""Shots per stage that Theorem 4.3 of Kerenidis-Prakash guarantees for error eps.

    With :math:`N = 36\, d \ln d / \delta^2` copies per stage the estimate
    satisfies :math:`\|x - \hat x\|_2 \le \sqrt 7\,\delta` with probability at
    least :math:`1 - d^{-0.83}` [1]_. For a target :math:`\epsilon = \sqrt7\,\delta`
    this is :math:`N = 252\, d \ln d / \epsilon^2`, the :math:`O(d \log d /
    \epsilon^2)` download cost quoted in chapter 5 (and the :math:`1/\epsilon^2`
    of [2]_).

    Parameters
    ----------
    dimension : int
        :math:`d \ge 2` (use the support size :math:`s` for a sparse download).
    eps : float
        Target l2 error, > 0.

    Returns
    -------
    int
        :math:`\lceil 252\, d \ln d / \epsilon^2 \rceil`.

    References
    ----------
    .. [1] I. Kerenidis, A. Prakash, ACM Trans. Quantum Comput. 1, 5 (2020), Theorem 4.3.
    .. [2] Liu et al., Nat. Commun. 15, 434 (2024), discussion of Theorem 1.

    Used in chapter 5.
    """
    func = "shots_bound"
    d = check_int(dimension, "dimension", func=func, minimum=2)
    eps = check_positive(eps, "eps", func=func)
    log_shots = math.log(36.0 * 7.0 * d * math.log(d)) - 2.0 * math.log(eps)
    if log_shots > 700:  # beyond the float range
        raise ValueError(f"{func}: eps = {eps:.4g} is so small that the number of shots overflows")
    return int(math.ceil(36.0 * 7.0 * d * math.log(d) / eps**2))


def predicted_error(shots: Any, *, sparsity: int) -> np.ndarray | float:
    r"""Typical l2 error :math:`\sqrt{(s - 1)/(4\,\text{shots})}` of :func:`vector_tomography`.

    Delta method on the magnitudes: :math:`\operatorname{Var}\sqrt{\hat p_i}
    \approx (1 - p_i)/(4\,\text{shots})`, summed over the :math:`s` non-zero
    entries (:math:`\sum_i (1 - p_i) = s - 1`); valid when every non-zero
    :math:`p_i\,\text{shots} \gg 1` (then the sign errors are rare). Inverted,
    an error :math:`\epsilon` needs about :math:`(s - 1)/(4 \epsilon^2)` shots.

    Parameters
    ----------
    shots : int or array_like
        Shots per stage (>= 1).
    sparsity : int, keyword-only
        :math:`s`, the number of non-zero amplitudes (>= 1).

    Returns
    -------
    float or ndarray

    Used in chapter 5.
    """
    func = "predicted_error"
    s = check_int(sparsity, "sparsity", func=func, minimum=1)
    raw = np.asarray(shots) if shots is not None and not isinstance(shots, (str, bytes)) else np.asarray([])
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"{func}: shots must be a real number or an array of them, got {describe(shots)}")
    m = raw.astype(float)
    if m.size == 0 or not np.all(np.isfinite(m)) or np.any(m < 1):
        raise ValueError(f"{func}: shots must be >= 1, got {describe(shots)}")
    out = np.sqrt((s - 1) / (4.0 * m))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# norm recovery
# ---------------------------------------------------------------------------


def recover_norm(success_probability: float, *, reference_norm: float, scaling: float = 1.0) -> float:
    r"""Length of a vector that comes out of a quantum solver only as a direction.

    .. math::
        \|v\| = \text{reference\_norm} \cdot \sqrt{p} / C .

    * HHL [1]_ on :math:`A x = b`: :math:`p` is the probability that the flag
      qubit reads 1, :math:`C` the constant of the eigenvalue inversion
      (amplitude :math:`C/\lambda`) and ``reference_norm`` :math:`=\|b\|`, since
      :math:`p = C^2 \|A^{-1} b\|^2/\|b\|^2`.
    * Postselecting a block :math:`v` of a normalized vector :math:`Y/\|Y\|` (the
      time-:math:`T`, level-1 block of the history state of Eq. (6) of [2]_):
      :math:`p = \|v\|^2/\|Y\|^2`, ``reference_norm`` :math:`= \|Y\|`,
      :math:`C = 1`.
    * Both: :math:`p = p_{\rm HHL}\, p_{\rm block}`, ``reference_norm`` the norm
      of the right-hand side, :math:`C` the HHL constant.

    With :math:`p` estimated as the accepted fraction of :math:`M` runs, the
    relative error of the result is about
    :math:`\tfrac12\sqrt{(1-p)/(pM)}` (:func:`norm_relative_error`). The bias of
    the solver itself (eigenvalues rounded on a finite clock register changes
    :math:`C/\lambda`) enters :math:`p` unchanged and is not corrected.

    Parameters
    ----------
    success_probability : float
        :math:`p \in (0, 1]`.
    reference_norm : float, keyword-only
        Known norm of the prepared input (> 0).
    scaling : float, keyword-only
        :math:`C > 0` (1 for a plain postselection).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For :math:`p \notin (0, 1]` or a non-positive norm or scaling.

    References
    ----------
    .. [1] A. W. Harrow, A. Hassidim, S. Lloyd, Phys. Rev. Lett. 103, 150502 (2009).
    .. [2] Liu et al., Nat. Commun. 15, 434 (2024), Eq. (6) and step V.

    Examples
    --------
    >>> import numpy as np
    >>> A, b = np.diag([1.0, 2.0]), np.array([3.0, 4.0])
    >>> C = 0.5  # below the smallest eigenvalue, so C / lambda <= 1
    >>> p = C**2 * np.linalg.norm(np.linalg.solve(A, b))**2 / np.linalg.norm(b)**2
    >>> round(recover_norm(p, reference_norm=5.0, scaling=C), 12)
    3.605551275464

    Used in chapters 5 and 8.
    """
    func = "recover_norm"
    p = check_positive(success_probability, "success_probability", func=func)
    if p > 1.0 + 1e-12:
        raise ValueError(f"{func}: success_probability must be in (0, 1], got {p}")
    ref = check_positive(reference_norm, "reference_norm", func=func)
    c = check_positive(scaling, "scaling", func=func)
    return ref * math.sqrt(min(p, 1.0)) / c


def norm_relative_error(success_probability: float, shots: int) -> float:
    r"""Relative standard error :math:`\tfrac12\sqrt{(1-p)/(p\,M)}` of :func:`recover_norm`.

    :math:`\hat p = k/M` is binomial, so :math:`\operatorname{sd}(\hat p) =
    \sqrt{p(1-p)/M}` and, by the delta method,
    :math:`\operatorname{sd}(\sqrt{\hat p})/\sqrt p = \tfrac12\sqrt{(1-p)/(pM)}`.

    Parameters
    ----------
    success_probability : float
        :math:`p \in (0, 1]`.
    shots : int
        :math:`M`, the number of runs (accepted or not) that estimated :math:`p`.

    Returns
    -------
    float

    Used in chapter 5.
    """
    func = "norm_relative_error"
    p = check_positive(success_probability, "success_probability", func=func)
    if p > 1.0 + 1e-12:
        raise ValueError(f"{func}: success_probability must be in (0, 1], got {p}")
    m = check_int(shots, "shots", func=func, minimum=1)
    return 0.5 * math.sqrt(max(1.0 - p, 0.0) / (p * m))
