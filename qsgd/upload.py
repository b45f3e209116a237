r"""Uploading a sparse weight vector: Gleinig-Hoefler sparse state preparation.

Theorem 1 of [1]_ starts from the weight vector :math:`\theta(0)` loaded as the
quantum state :math:`|\theta\rangle = \sum_i \theta_i |i\rangle / \|\theta\|`.
After magnitude pruning only :math:`s \ll 2^{n_q}` amplitudes are non-zero, and the
paper relies on the sparse state-preparation algorithm of Gleinig and Hoefler [2]_
(ref. 33 of [1]_), which uses :math:`O(s\,n_q)` CNOT gates on :math:`n_q` qubits instead
of the :math:`\Theta(2^{n_q})` of a dense method.

The algorithm (Algorithm 1 of [2]_) works backwards: it builds a circuit :math:`U`
with :math:`U|\psi\rangle = |0\ldots0\rangle` and returns :math:`U^\dagger`. While the
support :math:`S = \{x : \psi_x \neq 0\}` has more than one element it

1. picks two strings :math:`x_1, x_2 \in S`, a bit :math:`b` where they differ, and a
   set :math:`C` of control bits on which :math:`x_1` and :math:`x_2` agree and which
   separates them from every other string of :math:`S`;
2. applies CNOTs controlled by bit :math:`b` onto every other bit where the two
   strings differ, so that they now differ in bit :math:`b` only (the CNOTs permute
   the rest of :math:`S` as well, but leave the bits of :math:`C` alone);
3. applies a rotation :math:`R_y(\vartheta) R_z(\lambda)` to qubit :math:`b`, controlled
   on the bits :math:`C` having the values of :math:`x_1`, which moves the two
   amplitudes (phases included) onto one string; :math:`|S|` drops by one.

The last remaining string is mapped to :math:`|0\ldots0\rangle` by X gates.

Choosing the pair. The cost of one merge is :math:`(d - 1) + c(|C|)`: :math:`d` is
the Hamming distance of the pair and :math:`c(k)` the CNOT cost of a rotation with
:math:`k` controls. We scan pairs by increasing :math:`d`, find a small separating
set :math:`C` for each by greedy set cover (bits outside the differing set, so the
CNOTs of step 2 cannot spoil it), and keep the cheapest merge; the scan stops as soon
as :math:`d - 1` alone exceeds the best cost found. Only bits that distinguish the
pair from the rest of the support become controls, so :math:`|C| \le \lceil\log_2
|S|\rceil` in typical cases and never more than :math:`n_q - 1`.

Multi-controlled rotations. A rotation :math:`R(\vartheta)` (:math:`R_y` or
:math:`R_z`) controlled on :math:`k` qubits being in the pattern :math:`c^*` is a
uniformly controlled rotation whose angles vanish except at :math:`c^*`; its Gray-code
circuit [3]_ alternates :math:`2^k` rotations :math:`R(\pm\vartheta/2^k)` with
:math:`2^k` CNOTs. For :math:`R_y R_z` (complex amplitudes) the two Gray-code
sequences share a CNOT, :math:`2^{k+1} - 2` in all. When Qiskit's linear-size
``mcry``/``mcrz`` are cheaper (from :math:`k = 6` on), those are used instead.

Symbols: :math:`n_q` is the number of qubits (``num_qubits``), :math:`s` the number of
non-zero amplitudes (the glossary's :math:`n`, the number of weights, is
:math:`\le 2^{n_q}`). Qubit order is Qiskit's little-endian one: amplitude index
:math:`i = \sum_q b_q 2^q` where :math:`b_q` is the value of qubit :math:`q`.

Used in chapter 3 (``book/03_upload.ipynb``) and by the end-to-end pipeline.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning
   models", Nat. Commun. 15, 434 (2024), arXiv:2303.03428.
.. [2] N. Gleinig, T. Hoefler, "An efficient algorithm for sparse quantum state
   preparation", 58th ACM/IEEE Design Automation Conference (DAC), 433-438 (2021).
.. [3] M. Mottonen, J. J. Vartiainen, V. Bergholm, M. M. Salomaa, "Quantum circuits
   for general multiqubit gates", Phys. Rev. Lett. 93, 130502 (2004).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from qiskit import QuantumCircuit, transpile
from qiskit.circuit.library import StatePreparation

from qsgd._validation import as_vector, check_bool, check_int, check_memory, describe, estimate_bytes

__all__ = [
    "UPLOAD_MAX_QUBITS",
    "sparse_state_preparation",
    "cnot_count",
    "dense_cnot_count",
    "PreparationChoice",
    "cheapest_state_preparation",
    "UploadResult",
    "upload_weights",
]

#: the largest register we build: basis indices are handled as signed 64-bit integers
UPLOAD_MAX_QUBITS = 62

#: amplitudes are taken as normalized when their 2-norm is within this of 1
NORM_ATOL = 1e-8

#: relative size of the imaginary part of a0 * conj(a1) below which a pair needs no R_z
_PHASE_RTOL = 1e-13

#: largest number of candidate pairs examined per merge once a feasible one is known
_MAX_PAIRS = 4000

#: memory per gate of a built circuit (Qiskit instruction objects), for the size guard
_BYTES_PER_GATE = 512


# --------------------------------------------------------------------------- input


def _amplitude_dict(amplitudes: Any, num_qubits: int | None, func: str) -> tuple[dict[int, complex], int]:
    """Turn dense / sparse / dict input into ``({index: amplitude}, num_qubits)``."""
    if isinstance(amplitudes, dict):
        if not amplitudes:
            raise ValueError(f"{func}: amplitudes is an empty dict (the zero vector)")
        support: dict[int, complex] = {}
        for key, value in amplitudes.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
                raise ValueError(
                    f"{func}: dict keys must be integer basis indices (little-endian), got {describe(key)}"
                )
            if int(key) < 0:
                raise ValueError(f"{func}: basis index {int(key)} is out of range (negative)")
            try:
                amp = complex(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{func}: amplitude of index {int(key)} is not a number: {describe(value)}") from exc
            if not (math.isfinite(amp.real) and math.isfinite(amp.imag)):
                raise ValueError(f"{func}: amplitude of index {int(key)} is not finite ({value})")
            if amp != 0:
                support[int(key)] = amp
        needed = max(1, max(int(k) for k in amplitudes).bit_length())
        if num_qubits is None:
            num_qubits = needed
        elif needed > num_qubits:
            bad = max(int(k) for k in amplitudes)
            raise ValueError(
                f"{func}: basis index {bad} is out of range for num_qubits={num_qubits} "
                f"(indices must be < 2**{num_qubits} = {2**num_qubits})"
            )
        return support, num_qubits

    if sp.issparse(amplitudes):
        shape = amplitudes.shape
        if not (len(shape) == 1 or (len(shape) == 2 and 1 in shape)):
            raise ValueError(f"{func}: amplitudes must be a sparse vector, got shape {shape}")
        length = max(shape)
        coo = sp.coo_array(amplitudes)
        coo.sum_duplicates()
        index = coo.coords[1] if len(shape) == 2 and shape[0] == 1 else coo.coords[0]
        values = np.asarray(coo.data)
        if not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"{func}: amplitudes must be numeric, got dtype {values.dtype}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{func}: amplitudes has non-finite entries at indices {index[~np.isfinite(values)][:5].tolist()}")
    else:
        if hasattr(amplitudes, "detach"):  # torch tensor, without importing torch
            amplitudes = amplitudes.detach().cpu().numpy()
        dtype = complex if np.iscomplexobj(amplitudes) else float
        vec = as_vector(amplitudes, "amplitudes", func=func, dtype=dtype)
        length = vec.shape[0]
        index = np.flatnonzero(vec)
        values = vec[index]
    if num_qubits is None:
        if length < 2 or length & (length - 1):
            hint = max(1, math.ceil(math.log2(max(length, 2))))
            raise ValueError(
                f"{func}: amplitudes has length {length}, which is not a power of two >= 2; "
                f"pass num_qubits={hint} to pad it with zeros to length {2**hint}"
            )
        num_qubits = length.bit_length() - 1
    elif length > 2**num_qubits:
        raise ValueError(
            f"{func}: amplitudes has length {length}, more than 2**num_qubits = {2**num_qubits}"
        )
    support = {int(i): complex(v) for i, v in zip(index, values) if v != 0}
    return support, num_qubits


def _support_guard(s: int, num_qubits: int, max_bytes, func: str) -> None:
    """The circuit has about s * 2 n_q gates (a merge: d - 1 CNOTs and a controlled rotation)."""
    check_memory(
        float(s) * (2 * num_qubits + 2) * _BYTES_PER_GATE + 200.0 * s,
        what=f"the preparation circuit of {s:,} non-zero amplitudes on {num_qubits} qubits "
        f"(about {2 * s * num_qubits:,} gates)",
        max_bytes=max_bytes,
        func=func,
    )


def _normalized_support(amplitudes, num_qubits, normalize, func, max_bytes=None):
    if num_qubits is not None:
        num_qubits = check_int(num_qubits, "num_qubits", func=func, minimum=1, maximum=UPLOAD_MAX_QUBITS)
    if isinstance(amplitudes, np.ndarray) or hasattr(amplitudes, "detach"):
        # dense input: count its non-zeros and refuse before building the support dict
        dense = amplitudes.detach().cpu().numpy() if hasattr(amplitudes, "detach") else amplitudes
        if dense.size > 2**16 and dense.dtype.kind in "biufc":
            width = max(num_qubits or 0, max(1, math.ceil(math.log2(dense.size))))
            _support_guard(int(np.count_nonzero(dense)), width, max_bytes, func)
    support, num_qubits = _amplitude_dict(amplitudes, num_qubits, func)
    _support_guard(len(support), num_qubits, max_bytes, func)
    if num_qubits > UPLOAD_MAX_QUBITS:
        raise ValueError(
            f"{func}: {num_qubits} qubits requested, more than the {UPLOAD_MAX_QUBITS} this method supports "
            "(basis indices are handled as 64-bit integers)"
        )
    if not support:
        raise ValueError(f"{func}: amplitudes is the zero vector; a quantum state needs a non-zero vector")
    # scale by the largest modulus first: squares of entries near 1e300 (or 1e-300) would overflow
    # (underflow), while the scaled squares lie in [0, 1] and sum to at least 1
    scale = max(abs(a) for a in support.values())
    scaled = {k: a / scale for k, a in support.items()}
    unit = math.sqrt(math.fsum(abs(a) ** 2 for a in scaled.values()))
    norm = scale * unit  # may be inf for entries near the float limit; the state itself is still finite
    if not normalize and abs(norm - 1.0) > NORM_ATOL:
        raise ValueError(
            f"{func}: amplitudes has 2-norm {norm:.10g}, not 1; divide by the norm first "
            "or pass normalize=True"
        )
    return {k: a / unit for k, a in scaled.items()}, num_qubits, norm


# ------------------------------------------------------------- controlled rotations


def _gray_pattern(i: int) -> int:
    return i ^ (i >> 1)


def _mux_rotation(qc: QuantumCircuit, gate: str, theta: float, controls, values, target, *, rotated: bool, skip_cx: bool):
    """Append ``R(theta)`` on *target* controlled on *controls* == *values* (Gray code).

    The uniformly controlled rotation with angle theta at pattern c* and 0 elsewhere
    has the circuit R(phi_0) CX R(phi_1) CX ... where the CNOTs walk the controls
    through a cyclic Gray code and phi_g = theta 2^-k (-1)^{c*.g} for the parity
    pattern g seen by each rotation. With ``rotated`` the cyclic sequence starts
    one place earlier, with the CNOT from the top control. ``skip_cx`` leaves out
    the top control's CNOT at the end (plain) or at the start (rotated): an R_z
    sequence followed by a rotated R_y sequence shares that CNOT, which cancels.
    """
    k = len(controls)
    star = sum(1 << j for j, v in enumerate(values) if v)
    size = 1 << k
    add = qc.ry if gate == "ry" else qc.rz

    def changed(i):  # control whose CNOT follows the i-th rotation
        return (_gray_pattern(i) ^ _gray_pattern((i + 1) % size)).bit_length() - 1

    def angle(pattern):
        return theta / size * (-1) ** ((star & pattern).bit_count())

    if not rotated:
        for i in range(size):
            add(angle(_gray_pattern(i)), target)
            if i < size - 1 or not skip_cx:
                qc.cx(controls[changed(i)], target)
    else:
        top = 1 << (k - 1)
        if not skip_cx:
            qc.cx(controls[k - 1], target)
        for i in range(size):
            add(angle(_gray_pattern(i) ^ top), target)
            if i < size - 1:
                qc.cx(controls[changed(i)], target)


def _qiskit_mc(qc: QuantumCircuit, gate: str, theta: float, controls, values, target):
    flips = [c for c, v in zip(controls, values) if not v]
    if flips:
        qc.x(flips)
    if gate == "ry":
        qc.mcry(theta, list(controls), target)
    else:
        qc.mcrz(theta, list(controls), target)
    if flips:
        qc.x(flips)


@lru_cache(maxsize=None)
def _qiskit_mc_cost(gate: str, k: int) -> int:
    qc = QuantumCircuit(k + 1)
    _qiskit_mc(qc, gate, 0.7, list(range(k)), [1] * k, k)
    return cnot_count(qc)


def _mux_cost(k: int, complex_: bool) -> int:
    return (2 ** (k + 1) - 2) if complex_ else 2**k


def _qiskit_cost(k: int, complex_: bool) -> int:
    return _qiskit_mc_cost("ry", k) + (_qiskit_mc_cost("rz", k) if complex_ else 0)


def _use_mux(k: int, complex_: bool) -> bool:
    return k <= 5 or _mux_cost(k, complex_) <= _qiskit_cost(k, complex_)


@lru_cache(maxsize=None)
def _rotation_cost(k: int, complex_: bool) -> int:
    """CNOTs of a rotation controlled on k qubits (``complex_``: R_y R_z, else R_y)."""
    if k == 0:
        return 0
    return _mux_cost(k, complex_) if _use_mux(k, complex_) else _qiskit_cost(k, complex_)


def _controlled_rotation(qc: QuantumCircuit, theta: float, lam: float | None, controls, values, target):
    """Append ``R_y(theta) R_z(lam)`` (``lam=None``: no R_z) controlled on ``controls == values``."""
    k = len(controls)
    if k == 0:
        if lam is not None:
            qc.rz(lam, target)
        qc.ry(theta, target)
        return
    complex_ = lam is not None
    if _use_mux(k, complex_):
        if complex_:
            # R_z ends with the top control's CNOT and the rotated R_y starts with it: both cancel
            _mux_rotation(qc, "rz", lam, controls, values, target, rotated=False, skip_cx=True)
            _mux_rotation(qc, "ry", theta, controls, values, target, rotated=True, skip_cx=True)
        else:
            _mux_rotation(qc, "ry", theta, controls, values, target, rotated=False, skip_cx=False)
    else:
        if complex_:
            _qiskit_mc(qc, "rz", lam, controls, values, target)
        _qiskit_mc(qc, "ry", theta, controls, values, target)


# ------------------------------------------------------------------ the algorithm


def _greedy_cover(uncovered: int, columns: list[tuple[int, int]], budget: int | None, base: int, complex_: bool):
    """Greedy set cover of the row mask *uncovered* by *columns* ``[(q, rows of q)]``.

    Returns the chosen qubits, or None when impossible or when the cost
    ``base + rotation_cost(len(chosen))`` can no longer beat *budget*.
    """
    chosen: list[int] = []
    while uncovered:
        if budget is not None and base + _rotation_cost(len(chosen) + 1, complex_) >= budget:
            return None
        best_q, best_rows, best_gain = -1, 0, 0
        for q, rows in columns:
            gain = (rows & uncovered).bit_count()
            if gain > best_gain:
                best_q, best_rows, best_gain = q, rows, gain
        if best_gain == 0:
            return None
        chosen.append(best_q)
        uncovered &= ~best_rows
    return chosen


def _needs_rz(a0: complex, a1: complex) -> bool:
    cross = a0 * a1.conjugate()
    return abs(cross.imag) > _PHASE_RTOL * abs(a0) * abs(a1)


def _select_merge(
    strings: list[int], amps: list[complex], num_qubits: int, keep: int = 1, bound: int | None = None
):
    """The cheapest merges: up to *keep* tuples (cost, i, j, controls), cheapest first.

    The cost of merging strings i and j is (d - 1) + rotation_cost(len(controls)).
    Only merges cheaper than *bound* are returned (possibly none).
    """
    s = len(strings)
    allrows = (1 << s) - 1
    column = [0] * num_qubits
    for r, x in enumerate(strings):
        for q in range(num_qubits):
            if (x >> q) & 1:
                column[q] |= 1 << r
    arr = np.asarray(strings, dtype=np.int64)
    dist = np.bitwise_count(arr[:, None] ^ arr[None, :])
    iu, ju = np.triu_indices(s, k=1)
    pair_d = dist[iu, ju]
    order = np.argsort(pair_d, kind="stable")

    found: list[tuple[int, int, int, list[int]]] = []
    best_cost = bound  # cost of the keep-th best so far (the bound for pruning)
    real = all(a.imag == 0 for a in amps)
    examined = 0
    cover_cache: dict[int, list[tuple[int, int]]] = {}
    for i, j, d in zip(iu[order].tolist(), ju[order].tolist(), pair_d[order].tolist()):
        if best_cost is not None and (d - 1 >= best_cost or (examined >= _MAX_PAIRS and found)):
            break
        examined += 1
        xi, xj = strings[i], strings[j]
        cover = cover_cache.get(i)
        if cover is None:  # (q, rows whose bit q differs from x_i's)
            cover = [(q, (column[q] ^ allrows) if (xi >> q) & 1 else column[q]) for q in range(num_qubits)]
            cover_cache[i] = cover
        delta = xi ^ xj
        allowed = [item for item in cover if not (delta >> item[0]) & 1]
        complex_ = not real and _needs_rz(amps[i], amps[j])
        uncovered = allrows & ~(1 << i) & ~(1 << j)
        controls = _greedy_cover(uncovered, allowed, best_cost, d - 1, complex_)
        if controls is None:
            continue
        cost = d - 1 + _rotation_cost(len(controls), complex_)
        if best_cost is None or cost < best_cost:
            found.append((cost, i, j, sorted(controls)))
            found.sort(key=lambda item: item[0])
            del found[keep:]
            if len(found) == keep:
                best_cost = found[-1][0]
    return found


def _merge_rotation(a0: complex, a1: complex, v: int) -> tuple[float, float | None, complex]:
    """Angles of R_y(theta) R_z(lam) sending (a0, a1) to r e^{i beta} on bit value v; the new amplitude.

    With a_k = |a_k| e^{i phi_k}: R_z(phi_0 - phi_1) gives both the phase
    beta = (phi_0 + phi_1)/2, then R_y(v pi - 2 atan2(|a1|, |a0|)) rotates the real
    pair (|a0|, |a1|) onto |v>. When a1/a0 is real the R_z is skipped (lam is None)
    and the signed pair is rotated directly.
    """
    lam: float | None = None
    if _needs_rz(a0, a1):
        alpha, gamma = float(np.angle(a0)), float(np.angle(a1))
        lam = alpha - gamma
        phase = complex(np.exp(1j * ((alpha + gamma) / 2)))
        u0, u1 = abs(a0), abs(a1)
    else:
        ref = a0 if abs(a0) >= abs(a1) else a1
        phase = ref / abs(ref)  # stays real for real input
        u0, u1 = (a0 / phase).real, (a1 / phase).real
    theta = v * math.pi - 2.0 * math.atan2(u1, u0)
    return theta, lam, math.hypot(u0, u1) * phase


def _apply_merge(state: dict[int, complex], xi: int, xj: int, b: int, v: int):
    """The support after aligning x_i, x_j on bit b and merging them onto bit value v."""
    delta = xi ^ xj
    flip = delta & ~(1 << b)
    new = {(x ^ flip) if (x >> b) & 1 else x: a for x, a in state.items()}
    low = xi if not (xi >> b) & 1 else xj
    a0, a1 = new.pop(low), new.pop(low | (1 << b))
    theta, lam, merged = _merge_rotation(a0, a1, v)
    new[low | (v << b)] = merged
    return new, low, theta, lam


#: supports up to this size choose each merge with a one-step lookahead
_LOOKAHEAD_MAX = 64
#: number of cheapest merges compared by their lookahead
_LOOKAHEAD_KEEP = 3


def _next_cost(state: dict[int, complex], num_qubits: int, bound: int | None) -> int:
    """Cost of the cheapest next merge, or *bound* when none is cheaper than it."""
    if len(state) <= 1:
        return 0
    strings = sorted(state)
    found = _select_merge(strings, [state[x] for x in strings], num_qubits, bound=bound)
    return found[0][0] if found else bound


def _plan_merge(state: dict[int, complex], num_qubits: int, lookahead: bool):
    """(x_i, x_j, b, v, controls) for the next merge."""
    strings = sorted(state)
    amps = [state[x] for x in strings]
    candidates = _select_merge(strings, amps, num_qubits, keep=_LOOKAHEAD_KEEP if lookahead else 1)
    best = None
    for cost, i, j, controls in candidates:
        xi, xj = strings[i], strings[j]
        delta = xi ^ xj
        bits = [q for q in range(num_qubits) if (delta >> q) & 1]
        options = [(b, v) for b in bits for v in (0, 1)] if lookahead and len(state) > 2 else [(bits[0], 0)]
        for b, v in options:
            total = cost
            if len(options) > 1:
                bound = None if best is None else best[0] - cost
                if bound is not None and bound <= 0:
                    continue
                total += _next_cost(_apply_merge(state, xi, xj, b, v)[0], num_qubits, bound)
            if best is None or total < best[0]:
                best = (total, xi, xj, b, v, controls)
    return best[1:]


def _disentangle(support: dict[int, complex], num_qubits: int, budget: int | None = None):
    r"""``(U, A, cx)``: the circuit U with U|psi> = A|0...0>, the final amplitude A (|A| = 1) and
    the CNOT count of U by the merge-cost formula.

    With a ``budget``, returns ``None`` as soon as the CNOTs spent plus a lower bound on the rest
    exceed it: every merge while more than two strings remain needs at least one control, so
    costs at least 2 CNOTs (:math:`2^k` or :math:`2^{k+1}-2` with :math:`k \ge 1`).
    """
    qc = QuantumCircuit(num_qubits)
    state = dict(support)
    lookahead = len(state) <= _LOOKAHEAD_MAX
    spent = 0
    while len(state) > 1:
        if budget is not None and spent + 2 * max(0, len(state) - 2) > budget:
            return None
        xi, xj, b, v, controls = _plan_merge(state, num_qubits, lookahead)
        delta = xi ^ xj
        for q in range(num_qubits):
            if (delta >> q) & 1 and q != b:
                qc.cx(b, q)
        state, low, theta, lam = _apply_merge(state, xi, xj, b, v)
        _controlled_rotation(qc, theta, lam, controls, [(low >> q) & 1 for q in controls], b)
        spent += delta.bit_count() - 1 + _rotation_cost(len(controls), lam is not None)
    if budget is not None and spent > budget:
        return None
    ((last, amp),) = state.items()
    ones = [q for q in range(num_qubits) if (last >> q) & 1]
    if ones:
        qc.x(ones)
    return qc, amp, spent


def _sparse_circuit(undo: QuantumCircuit, amp: complex, s: int) -> QuantumCircuit:
    """``U^dagger`` with the global phase of the last amplitude: prepares the state exactly."""
    circuit = undo.inverse()
    circuit.global_phase = float(np.angle(amp)) + circuit.global_phase
    circuit.name = f"sparse_prep_s{s}"
    return circuit


def sparse_state_preparation(
    amplitudes: Any,
    *,
    num_qubits: int | None = None,
    normalize: bool = False,
    max_bytes: float | None = None,
) -> QuantumCircuit:
    r"""Circuit preparing an s-sparse state with O(s n_q) CNOTs (Gleinig-Hoefler).

    Builds a unitary circuit :math:`V` on :math:`n_q` qubits with
    :math:`V|0\ldots0\rangle = \sum_x \psi_x |x\rangle` exactly (global phase
    included), by Algorithm 1 of [2]_: merge the support pairwise with CNOTs and
    multi-controlled rotations until one basis string is left, then invert. This is
    the upload step that Theorem 1 of [1]_ assumes (claim 11 of the companion).

    Parameters
    ----------
    amplitudes : array_like, scipy sparse vector, torch tensor or dict
        The state: a dense 1-D array of length :math:`2^n`, a sparse vector (shape
        ``(d,)``, ``(d, 1)`` or ``(1, d)``), or a dict ``{basis index: amplitude}``.
        Real or complex. Index :math:`i = \sum_q b_q 2^q` (Qiskit's little-endian
        order). Exact zeros are not part of the support.
    num_qubits : int, optional
        Number of qubits :math:`n_q`. Required when a dense or sparse input has a
        length that is not a power of two (it is then padded with zeros). For a dict
        it defaults to the bit length of the largest index.
    normalize : bool, default False
        Divide by the 2-norm first (computed after scaling by the largest modulus, so
        entries near the float limits neither overflow nor underflow). Otherwise a norm
        further than 1e-8 from 1 is an error (a norm within 1e-8 of 1 is corrected silently).
    max_bytes : float, optional
        Refuse (``ValueError``) when the circuit, estimated at about :math:`2 s n_q`
        gates, would exceed this (default 4 GiB); checked before the support is collected.

    Returns
    -------
    QuantumCircuit
        ``num_qubits`` qubits, gates ``cx``, ``ry``, ``rz``, ``x`` (and Qiskit's ``mcry``/``mcrz``
        for rotations with six or more controls); no measurements or resets, so it
        can be inverted and controlled.

    Raises
    ------
    ValueError
        For the zero vector, non-finite entries, an unnormalized input with
        ``normalize=False`` (the message gives the norm), a length that is not a
        power of two without ``num_qubits``, an index out of range, or more than
        ``UPLOAD_MAX_QUBITS`` qubits.

    Notes
    -----
    A merge of two strings at Hamming distance :math:`d` costs :math:`d - 1` CNOTs
    plus a rotation with :math:`k` controls, :math:`2^k` CNOTs for real amplitudes
    (:math:`2^{k+1} - 2` for complex ones); the pair is chosen to minimize this
    (module docstring). With :math:`s - 1` merges, :math:`d \le n_q` and
    :math:`k \le n_q - 1`, the count is :math:`O(s\,n_q)` when the rotations use linear
    decompositions; in practice :math:`k \approx \log_2 s`.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Theorem 1 and ref. 33.
    .. [2] N. Gleinig, T. Hoefler, "An efficient algorithm for sparse quantum state
       preparation", DAC 2021, 433-438.

    Examples
    --------
    >>> import numpy as np
    >>> from qiskit.quantum_info import Statevector
    >>> psi = {0b000: 0.6, 0b101: -0.8j}
    >>> qc = sparse_state_preparation(psi, num_qubits=3)
    >>> np.allclose(Statevector(qc).data[[0, 5]], [0.6, -0.8j])
    True

    Used in chapter 3.
    """
    func = "sparse_state_preparation"
    normalize = check_bool(normalize, "normalize", func=func)
    support, n, _ = _normalized_support(amplitudes, num_qubits, normalize, func, max_bytes)
    undo, amp, _ = _disentangle(support, n)
    return _sparse_circuit(undo, amp, len(support))


def cnot_count(circuit: QuantumCircuit, *, seed_transpiler: int = 0, optimization_level: int = 1) -> int:
    """Number of CNOTs of *circuit* after transpiling to the basis ``{cx, u}``.

    The cost measure of claim 11: ``transpile(circuit, basis_gates=["cx", "u"],
    optimization_level=optimization_level, seed_transpiler=seed_transpiler)``,
    then the count of ``cx`` gates.

    Parameters
    ----------
    circuit : QuantumCircuit
    seed_transpiler : int, default 0
        Seed of the transpiler's randomized passes (fixed for repeatable counts).
    optimization_level : int, default 1
        0 to 3, as in :func:`qiskit.transpile`.

    Returns
    -------
    int

    Used in chapter 3.
    """
    func = "cnot_count"
    if not isinstance(circuit, QuantumCircuit):
        raise ValueError(f"{func}: circuit must be a qiskit QuantumCircuit, got {describe(circuit)}")
    seed = check_int(seed_transpiler, "seed_transpiler", func=func, minimum=0)
    level = check_int(optimization_level, "optimization_level", func=func, minimum=0, maximum=3)
    compiled = transpile(circuit, basis_gates=["cx", "u"], optimization_level=level, seed_transpiler=seed)
    return int(compiled.count_ops().get("cx", 0))


def dense_cnot_count(num_qubits: int) -> int:
    r"""CNOTs of Qiskit's dense ``StatePreparation`` on :math:`n_q` qubits: :math:`2^{n_q} - n_q - 1`.

    The count of :func:`cnot_count` (basis ``{cx, u}``, optimization level 0 or 1) for
    generic amplitudes, real or complex: the uniformly controlled :math:`R_y` (and
    :math:`R_z`) cascade of [1]_ as Qiskit builds it, with the CNOTs of neighbouring
    multiplexors cancelled (0, 1, 4, 11, 26, 57, 120 for :math:`n_q = 1, \ldots, 7`). A state
    with vanishing angles (few non-zeros, or structure) may compile to fewer, so the
    formula is an upper bound in general and exact for generic states.

    Parameters
    ----------
    num_qubits : int
        :math:`n_q \ge 1`.

    Returns
    -------
    int

    References
    ----------
    .. [1] M. Mottonen, J. J. Vartiainen, V. Bergholm, M. M. Salomaa, "Transformation of
       quantum states using uniformly controlled rotations", Quantum Inf. Comput. 5, 467 (2005).

    Examples
    --------
    >>> [dense_cnot_count(n) for n in range(1, 8)]
    [0, 1, 4, 11, 26, 57, 120]

    Used in chapter 3 and by :func:`qsgd.hhl.hhl_circuit`.
    """
    n = check_int(num_qubits, "num_qubits", func="dense_cnot_count", minimum=1, maximum=UPLOAD_MAX_QUBITS)
    return 2**n - n - 1


@dataclass(frozen=True)
class PreparationChoice:
    r"""The cheaper of the sparse and the dense preparation of one state (:func:`cheapest_state_preparation`).

    Attributes
    ----------
    circuit : QuantumCircuit
        Prepares the state exactly (global phase included) from :math:`|0\ldots0
angle`:
        :func:`sparse_state_preparation`'s circuit, or one ``StatePreparation`` gate.
    construction : {"sparse", "dense"}
        Which one was chosen.
    cx_count : int
        CNOTs of the chosen circuit by formula (``sparse_cx`` or ``dense_cx``).
    sparse_cx : int or None
        CNOTs of the Gleinig-Hoefler circuit by its merge costs; ``None`` when it was not
        planned to the end because it could not beat ``dense_cx`` (each merge with more than
        two strings left costs at least 2, so :math:`2(s-2) > ` ``dense_cx`` settles it at once).
    dense_cx : int
        :func:`dense_cnot_count` of ``num_qubits``.
    num_qubits : int
    sparsity : int
        :math:`s`, the number of non-zero amplitudes.
    """

    circuit: QuantumCircuit
    construction: str
    cx_count: int
    sparse_cx: int | None
    dense_cx: int
    num_qubits: int
    sparsity: int


def cheapest_state_preparation(
    amplitudes: Any,
    *,
    num_qubits: int | None = None,
    normalize: bool = False,
    max_bytes: float | None = None,
) -> PreparationChoice:
    r"""Prepare a state with whichever of the sparse and the dense circuit costs fewer CNOTs.

    Compares, by formula and without transpiling, the CNOTs of the Gleinig-Hoefler circuit of
    :func:`sparse_state_preparation` (the sum of its merge costs :math:`(d - 1) + c(k)`, see
    the module docstring; equal to :func:`cnot_count` of the circuit when no rotation has
    six or more controls) with :func:`dense_cnot_count`, :math:`2^{n_q} - n_q - 1`, of
    Qiskit's ``StatePreparation``, and returns the cheaper circuit; a tie goes to the sparse
    one. The sparse planner stops as soon as it cannot win (see
    :class:`PreparationChoice`), so a nearly dense state costs little time. The sparse
    circuit wins while :math:`s\,n_q \ll 2^{n_q}`, the regime of Theorem 1 of [1]_; for a
    fraction of non-zeros near one half or more the dense one does.

    Parameters
    ----------
    amplitudes, num_qubits, normalize, max_bytes
        As in :func:`sparse_state_preparation` (``max_bytes`` also guards the dense
        vector of :math:`2^{n_q}` amplitudes when that circuit is chosen).

    Returns
    -------
    PreparationChoice

    Raises
    ------
    ValueError
        As :func:`sparse_state_preparation`.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Theorem 1 and ref. 33.

    Examples
    --------
    >>> import numpy as np
    >>> sparse = cheapest_state_preparation({0: 0.6, 5: 0.8}, num_qubits=6)
    >>> sparse.construction, sparse.cx_count, sparse.dense_cx
    ('sparse', 1, 57)
    >>> full = cheapest_state_preparation(np.full(64, 0.125))
    >>> full.construction, full.cx_count, full.sparse_cx
    ('dense', 57, None)

    Used in chapter 3, by :func:`upload_weights` and by :func:`qsgd.hhl.hhl_circuit`.
    """
    func = "cheapest_state_preparation"
    normalize = check_bool(normalize, "normalize", func=func)
    support, n, _ = _normalized_support(amplitudes, num_qubits, normalize, func, max_bytes)
    s = len(support)
    dense_cx = 2**n - n - 1
    planned = None if 2 * max(0, s - 2) > dense_cx else _disentangle(support, n, budget=dense_cx)
    if planned is not None:
        undo, amp, sparse_cx = planned
        return PreparationChoice(circuit=_sparse_circuit(undo, amp, s), construction="sparse", cx_count=sparse_cx,
                                 sparse_cx=sparse_cx, dense_cx=dense_cx, num_qubits=n, sparsity=s)
    check_memory(estimate_bytes(2**n, itemsize=16), what=f"the dense state of {n} qubits", max_bytes=max_bytes,
                 func=func)
    real = all(a.imag == 0 for a in support.values())
    vec = np.zeros(2**n, dtype=float if real else complex)
    for k, a in support.items():
        vec[k] = a.real if real else a
    circuit = QuantumCircuit(n, name=f"dense_prep_s{s}")
    circuit.append(StatePreparation(vec, normalize=True), range(n))
    return PreparationChoice(circuit=circuit, construction="dense", cx_count=dense_cx, sparse_cx=None,
                             dense_cx=dense_cx, num_qubits=n, sparsity=s)


@dataclass(frozen=True)
class UploadResult:
    r"""A weight vector split into a classical norm and a quantum direction.

    Attributes
    ----------
    circuit : QuantumCircuit
        Prepares :math:`|\theta\rangle = \sum_i (\theta_i / \|\theta\|) |i\rangle`
        from :math:`|0\ldots0\rangle` (indices beyond the weights are padding zeros).
    norm : float
        :math:`\|\theta\|_2`, kept classically.
    support : ndarray of int
        Sorted indices of the non-zero weights (s of them).
    num_qubits : int
        :math:`n_q = \lceil \log_2 d \rceil` for :math:`d` weights, unless given.
    size : int
        :math:`d`, the number of weights (zeros included) before padding.
    shape : tuple of int
        Shape of the weights as given (they are flattened in C order);
        ``result.weights(state).reshape(result.shape)`` restores it.
    construction : {"sparse", "dense"}
        Which preparation :func:`cheapest_state_preparation` chose: the Gleinig-Hoefler
        circuit or Qiskit's dense ``StatePreparation``.
    cx_count : int or None
        CNOTs of ``circuit`` by formula (:class:`PreparationChoice`); ``None`` only for a
        result built by hand without it.
    """

    circuit: QuantumCircuit
    norm: float
    support: np.ndarray
    num_qubits: int
    size: int
    shape: tuple = ()
    construction: str = "sparse"
    cx_count: int | None = None

    @property
    def sparsity(self) -> int:
        """s, the number of non-zero weights."""
        return int(self.support.size)

    def weights(self, state: Any) -> np.ndarray:
        """Rescale a state's first ``size`` amplitudes by the norm (real part for real weights)."""
        data = as_vector(getattr(state, "data", state), "state", func="UploadResult.weights", allow_complex=True)
        if data.shape[0] < self.size:
            raise ValueError(f"UploadResult.weights: state has {data.shape[0]} amplitudes, fewer than the "
                             f"{self.size} weights")
        return (self.norm * data[: self.size]).real.copy()


def upload_weights(weights: Any, *, num_qubits: int | None = None, max_bytes: float | None = None) -> UploadResult:
    r"""Upload a (pruned) weight vector: norm classically, direction as a state.

    Flattens *weights* (C order, as ``torch.flatten``), pads it with zeros to
    :math:`2^{n_q}` entries and prepares :math:`\theta/\|\theta\|` with
    :func:`cheapest_state_preparation`: the Gleinig-Hoefler circuit of
    :func:`sparse_state_preparation`, or Qiskit's dense ``StatePreparation`` when that costs
    fewer CNOTs by formula (``UploadResult.construction`` says which). This is the upload of
    :math:`\theta(0)` in Theorem 1 of [1]_: after pruning the vector is s-sparse and costs
    :math:`O(s\,n_q)` CNOTs.

    Parameters
    ----------
    weights : array_like or torch.Tensor
        Real weights of any shape (a parameter tensor, or all parameters concatenated),
        flattened in C order; the shape is kept in ``UploadResult.shape``.
    num_qubits : int, optional
        Register size; defaults to :math:`\lceil \log_2 d \rceil` (at least 1).
    max_bytes : float, optional
        Size guard, as in :func:`sparse_state_preparation`.

    Returns
    -------
    UploadResult

    Raises
    ------
    ValueError
        For all-zero or non-finite weights, complex weights, or a ``num_qubits`` too
        small for the number of weights.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Theorem 1 and ref. 33.

    Used in chapter 3.
    """
    func = "upload_weights"
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    if weights is None or isinstance(weights, (str, bytes, dict)) or sp.issparse(weights):
        raise ValueError(f"{func}: weights must be a real numeric array or tensor, got {describe(weights)}")
    if np.iscomplexobj(weights):
        raise ValueError(f"{func}: weights must be real, got a complex array")
    try:
        arr = np.asarray(weights, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{func}: weights must be numeric, got {describe(weights)}") from exc
    shape = tuple(int(k) for k in arr.shape)
    flat = as_vector(arr.reshape(-1), "weights", func=func, allow_zero=False)
    size = flat.shape[0]
    if num_qubits is None:
        num_qubits = max(1, math.ceil(math.log2(size)))
    num_qubits = check_int(num_qubits, "num_qubits", func=func, minimum=1, maximum=UPLOAD_MAX_QUBITS)
    if size > 2**num_qubits:
        raise ValueError(f"{func}: {size} weights do not fit in num_qubits={num_qubits} (2**{num_qubits} amplitudes)")
    _support_guard(int(np.count_nonzero(flat)), num_qubits, max_bytes, func)
    scale = float(np.max(np.abs(flat)))
    norm = scale * float(np.linalg.norm(flat / scale))  # scaled first: squares near 1e300 would overflow
    if not math.isfinite(norm):  # the norm itself is beyond the float range
        raise ValueError(f"{func}: the 2-norm of weights overflows (largest |weight| = {scale:.4g})")
    choice = cheapest_state_preparation(flat / norm, num_qubits=num_qubits, max_bytes=max_bytes)
    return UploadResult(
        circuit=choice.circuit,
        norm=norm,
        support=np.flatnonzero(flat),
        num_qubits=num_qubits,
        size=size,
        shape=shape,
        construction=choice.construction,
        cx_count=choice.cx_count,
    )
