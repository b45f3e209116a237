r"""The algorithm-level model of HHL: the circuit's postselected output from a decomposition, no circuit.

Postselection multiplies each eigenvector of the inverted Hermitian matrix by the exact
finite-clock filter :math:`g(\lambda)` of :func:`qsgd.hhl.hhl_filter`, so :func:`hhl_model`
computes the output, the success probability and the shot statistics of
:func:`qsgd.hhl.hhl_solve` from :math:`A`'s :class:`qsgd.decomposition.Decomposition` alone, at
dimensions no statevector holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qsgd._validation import as_rng, as_vector, check_choice, check_int, check_memory, estimate_bytes
from qsgd.decomposition import Decomposition, SpectralBounds, decompose, dense_square, refuse_singular
from qsgd.hhl.filter import FilterExpansion, filter_expansion, hhl_filter
from qsgd.hhl.parameters import (
    MAX_CLOCK_QUBITS,
    HHLParameters,
    check_enclosure,
    given_parameters,
    hhl_parameters,
    resolve_bounds,
)
from qsgd.tomography import amplitudes_from_pair_counts, hadamard_pair_counts

__all__ = ["HHLModelResult", "hhl_model", "SIGN_CIRCUIT", "SIGN_LARGEST_POSITIVE", "MODEL_METHODS"]

#: how :func:`hhl_model` evaluates the filter: on a decomposition, or as a Chebyshev series of products
MODEL_METHODS = ("decomposition", "chebyshev")


#: the two sign conventions of HHLResult.sign_convention / HHLModelResult
SIGN_CIRCUIT = "circuit"
SIGN_LARGEST_POSITIVE = "largest entry positive"


def fix_phase(v: np.ndarray) -> np.ndarray:
    """``v`` rotated to the nearest real axis, keeping the sign the circuit produced (exact mode)."""
    k = int(np.argmax(np.abs(v)))
    phi = float(np.angle(v[k]))
    # rotate to the nearest real axis, keeping the sign the circuit produced
    phi = (phi + math.pi / 2) % math.pi - math.pi / 2
    return np.real(v * np.exp(-1j * phi))


def largest_positive(v: np.ndarray) -> np.ndarray:
    """``v`` with the global sign that makes its largest entry positive (the shot mode's convention)."""
    return v * np.sign(v[int(np.argmax(np.abs(v)))]) if np.any(v) else v




@dataclass(frozen=True)
class HHLModelResult:
    r"""Result of :func:`hhl_model`: the finite-clock HHL output computed without a circuit.

    Sign convention: the circuit's amplitudes are real and its ideal output is
    :math:`+C H^{-1}|b\rangle` (:math:`C>0`), so ``statevector`` equals the circuit's
    postselected amplitudes *with their sign* (global phase 1), and ``solution`` is that
    block normalized, not sign-fixed: it approximates :math:`+A^{-1}b/\|A^{-1}b\|`. With
    ``shots`` the sign is not observable and ``sampled_solution`` is fixed so that its
    largest entry is positive (as :func:`hhl_solve` does).

    Attributes
    ----------
    solution : ndarray, shape (m,)
        Exact postselected output, normalized.
    amplitudes : ndarray, shape (m,)
        Unnormalized amplitudes of the solution block, :math:`\approx C A^{-1}b/\|b\|`.
    statevector : ndarray, shape (2**system_qubits,)
        Unnormalized real amplitudes of ``system`` given flag = 1, clock = 0 (padding and
        dilation included), as ``HHLResult.statevector``.
    success_probability : float
        :math:`P = \|\text{statevector}\|^2`.
    solution_norm : float
        :math:`\|b\|\sqrt P/C`.
    reference : ndarray
        :math:`A^{-1}b` normalized (from the decomposition, or a sparse LU solve with
        ``method="chebyshev"``; NaN for a LinearOperator without ``reference=``).
    fidelity : float
        :math:`\langle\text{solution}, \text{reference}\rangle^2`.
    eigenvalues, filter : ndarray or None
        The signed eigenvalues of the inverted Hermitian matrix (:math:`\lambda`, or
        :math:`+\sigma` then :math:`-\sigma` for a dilation) and :math:`g` there
        (:func:`hhl_filter`); None with ``method="chebyshev"``.
    num_qubits, system_qubits, clock_qubits : int
    evolution_time, scaling, reciprocal_constant : float
    bounds : SpectralBounds
    shots : int or None
    counts : ndarray or None
        With shots: postselected outcome counts of ``system`` (length :math:`2^s`); their
        sum is the number of successes.
    sampled_solution : ndarray or None
        With shots: the estimate :func:`hhl_solve` forms from the same measurements
        (magnitudes from ``counts``, relative signs from :math:`s` Hadamard runs).
    sampled_probability : float or None
        With shots: successes / shots.
    expansion : FilterExpansion or None
        With ``method="chebyshev"``: the Chebyshev series of the filter that was applied, its
        degree (products by :math:`A`) and its error bound.
    """

    solution: np.ndarray
    amplitudes: np.ndarray = field(repr=False)
    statevector: np.ndarray = field(repr=False)
    success_probability: float
    solution_norm: float
    reference: np.ndarray = field(repr=False)
    fidelity: float
    eigenvalues: np.ndarray = field(repr=False)
    filter: np.ndarray = field(repr=False)
    num_qubits: int
    system_qubits: int
    clock_qubits: int
    evolution_time: float
    scaling: float
    reciprocal_constant: float
    bounds: SpectralBounds
    shots: int | None = None
    counts: np.ndarray | None = field(default=None, repr=False)
    sampled_solution: np.ndarray | None = field(default=None, repr=False)
    sampled_probability: float | None = None
    sign_convention: str = field(default="circuit", repr=False)
    parameters: HHLParameters | None = field(default=None, repr=False)
    expansion: FilterExpansion | None = field(default=None, repr=False)


def hhl_model(
    A: Any,
    b: Any,
    *,
    clock_qubits: int | None = None,
    evolution_time: float | None = None,
    scaling: float | None = None,
    eigenvalue_bounds: Any = None,
    accuracy: float | None = None,
    shots: int | None = None,
    rng: Any = None,
    max_bytes: float | None = None,
    parameters: HHLParameters | None = None,
    method: str = "decomposition",
    tolerance: float = 1e-10,
    reference: Any = None,
) -> HHLModelResult:
    r"""The output of the HHL circuit of :func:`hhl_circuit`, computed without a circuit.

    The circuit multiplies each eigenvector of the Hermitian matrix it inverts by the
    filter :math:`g(\lambda)` of :func:`hhl_filter` (finite clock, Fejér leakage,
    unrotated bins included), so with :math:`|b\rangle = b/\|b\|`:

    * symmetric :math:`A = V\Lambda V^{\mathsf T}`: output
      :math:`V g(\Lambda) V^{\mathsf T}|b\rangle` on the first :math:`m` entries;
    * otherwise (dilation), with :math:`A = U\Sigma W^{\mathsf T}`,
      :math:`\beta = U^{\mathsf T}|b\rangle` and :math:`g_\pm = g(\pm\sigma)`: the block
      of the top system qubit 0 holds :math:`U\,\tfrac{g_++g_-}{2}\beta` (the leakage; zero
      for an odd filter) and the solution block holds :math:`W\,\tfrac{g_+-g_-}{2}\beta
      \approx C A^{-1}|b\rangle`.

    Padding adds eigenvectors orthogonal to :math:`|b\rangle`, so it changes nothing but
    the register size. The parameters (evolution time, scaling) are those of
    :func:`hhl_circuit` for the same arguments; the tests check the statevector against
    the Aer simulation of the circuit to :math:`10^{-9}`. Cost: one pass over the
    decomposition and :math:`O(m\,2^c)` for the filter, after the :math:`O(m^3)`
    decomposition, which a precomputed :class:`qsgd.decomposition.Decomposition` skips.

    Parameters
    ----------
    A : (m, m) array_like, sparse matrix, or Decomposition
        The matrix, or its decomposition from :func:`qsgd.decomposition.decompose`.
    b : (m,) array_like
        Right-hand side, finite and non-zero.
    clock_qubits, evolution_time, scaling, eigenvalue_bounds, accuracy
        As in :func:`hhl_circuit` (with a Decomposition, ``eigenvalue_bounds`` may be None,
        ``"exact"``, a pair or a SpectralBounds).
    shots : int, optional
        Also sample the measurements of :func:`hhl_solve`'s shot mode: one run of
        ``shots`` copies measured in the computational basis, and :math:`s` runs with a
        Hadamard on one system qubit each (multinomial draws over the postselected
        outcomes and the failure outcome).
    rng : None, int or numpy.random.Generator
        Drives the sampling; see ``numpy.random.default_rng``.
    max_bytes : float, optional
        Size guard (default 4 GiB): the dense decomposition of ``A``, the :math:`2^s`
        statevector and the :math:`2^c` clock bins.
    method : {"decomposition", "chebyshev"}
        ``"decomposition"``: as above. ``"chebyshev"``: no decomposition; the filter is applied to
        :math:`(b, 0)` as the Chebyshev series of :func:`qsgd.hhl.filter_expansion` in the dilation
        (or in :math:`A` when symmetric), one product by :math:`A` or :math:`A^{\mathsf T}` per
        degree (:func:`qsgd.matfun.chebyshev_dilation`); ``A`` may be a sparse matrix or a
        ``LinearOperator``, and ``parameters`` must be given (bounds from, e.g.,
        :func:`qsgd.matfun.singular_value_bracket`). The output agrees with the decomposition
        path to the series' ``error_bound`` times :math:`\|b\|`-normalized amplitudes.
    tolerance : float, default 1e-10
        ``method="chebyshev"``: the target of the series' error bound.
    reference : array_like, optional
        ``method="chebyshev"``: the exact :math:`A^{-1}b` if known (default: a sparse LU solve
        of a matrix ``A``; NaN for a LinearOperator).

    Returns
    -------
    HHLModelResult
        ``sign_convention`` as in :class:`HHLResult`: ``solution`` keeps the circuit's sign,
        ``sampled_solution`` has its largest entry positive.

    Raises
    ------
    ValueError
        As :func:`hhl_circuit` (no qubit limit), for a non-positive ``shots`` and for an
        ``A`` of the wrong type.

    Warns
    -----
    HHLResolutionWarning
        When the smallest eigenvalue lies below the first clock bin.

    Examples
    --------
    >>> res = hhl_model([[1, -1 / 3], [-1 / 3, 1]], [1, 0], clock_qubits=3, scaling=2 / 8)
    >>> np.round(res.solution, 4), round(res.success_probability, 4)
    (array([0.9487, 0.3162]), 0.625)
    """
    func = "hhl_model"
    method = check_choice(method, "method", MODEL_METHODS, func=func)
    if method == "chebyshev":
        return _chebyshev_model(A, b, parameters=parameters, clock_qubits=clock_qubits, tolerance=tolerance,
                                reference=reference, shots=shots, rng=rng, max_bytes=max_bytes,
                                keywords={"evolution_time": evolution_time, "scaling": scaling,
                                          "eigenvalue_bounds": eigenvalue_bounds, "accuracy": accuracy})
    if shots is not None:
        shots = check_int(shots, "shots", func=func, minimum=1, maximum=2**62)
    generator = as_rng(rng, func=func)
    keywords = {"evolution_time": evolution_time, "scaling": scaling, "eigenvalue_bounds": eigenvalue_bounds,
                "accuracy": accuracy}
    c = check_int(given_parameters(parameters, clock_qubits, keywords, func), "clock_qubits", func=func,
                  minimum=1, maximum=MAX_CLOCK_QUBITS)
    check_memory(estimate_bytes(6, 2.0**c), what=f"the {c}-qubit clock ({2.0**c:.3g} bins)",
                 max_bytes=max_bytes, func=func)
    if isinstance(A, Decomposition):
        spec, mat = A, None
        refuse_singular(float(np.min(spec.moduli)), float(np.max(spec.moduli)), func)
        if spec.left is None:
            raise ValueError(f"{func}: A is a Decomposition of values only (decompose(..., vectors=False)); "
                             "the model needs its vectors")
    else:
        mat = dense_square(A, func, max_bytes=max_bytes)
        spec = decompose(mat, max_bytes=max_bytes, func=func)
    m = spec.dimension
    vec = as_vector(b, "b", func=func, size=m, allow_zero=False)
    if parameters is None:
        bounds = resolve_bounds(eigenvalue_bounds, exact=spec.bounds, mat=mat, func=func, max_bytes=max_bytes)
        parameters = hhl_parameters(bounds, clock_qubits=c, evolution_time=evolution_time, scaling=scaling,
                                    accuracy=accuracy, func=func, stacklevel=2)
    else:
        check_enclosure(parameters.bounds, spec.bounds, func)
    out = _model_output(spec, vec / np.linalg.norm(vec), clock_qubits=c, evolution_time=parameters.evolution_time,
                        scaling=parameters.scaling, definite=parameters.bounds.definite)
    return _result(out, vec, parameters, c, shots, generator, func)


def _model_output(spec: Decomposition, unit: np.ndarray, *, clock_qubits: int, evolution_time: float,
                  scaling: float, definite: bool) -> dict:
    """The postselected register of the HHL circuit from the decomposition (module docstring of :func:`hhl_model`).

    Returns the fields of :class:`HHLModelResult` it determines (``statevector``,
    ``amplitudes``, ``reference``, ``eigenvalues``, ``filter``, ``system_qubits``) and
    ``window``, the slice of ``statevector`` that holds the solution block.
    """
    m = spec.dimension
    size_bits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    s = size_bits + (1 if spec.dilated else 0)
    dim = 2**size_bits
    state = np.zeros(2**s)
    beta = spec.left.T @ unit
    if not spec.dilated:
        lam = spec.values
        filt = hhl_filter(lam, clock_qubits=clock_qubits, evolution_time=evolution_time, scaling=scaling,
                          definite=definite)
        block = spec.left @ (filt * beta)
        window = slice(0, m)
        reference = spec.left @ (beta / lam)
        eigenvalues = lam
    else:
        sigma = spec.values
        eigenvalues = np.concatenate([sigma, -sigma])
        filt = hhl_filter(eigenvalues, clock_qubits=clock_qubits, evolution_time=evolution_time, scaling=scaling,
                          definite=definite)
        gp, gm = filt[: sigma.size], filt[sigma.size :]
        state[:m] = spec.left @ (0.5 * (gp + gm) * beta)
        block = spec.right @ (0.5 * (gp - gm) * beta)
        window = slice(dim, dim + m)
        reference = spec.right @ (beta / sigma)
    state[window] = block
    return {"statevector": state, "amplitudes": block, "reference": reference / np.linalg.norm(reference),
            "eigenvalues": eigenvalues, "filter": filt, "system_qubits": s, "window": window}


def _chebyshev_model(A, b, *, parameters, clock_qubits, tolerance, reference, shots, rng, max_bytes, keywords):
    """:func:`hhl_model` with ``method="chebyshev"``: the filter as a Chebyshev series of products by A."""
    from qsgd.matfun import as_operator, chebyshev_apply, chebyshev_dilation, reference_direction

    func = "hhl_model"
    if parameters is None:
        raise ValueError(f"{func}: method='chebyshev' needs parameters= (an HHLParameters from hhl_parameters, "
                         "e.g. with the bounds of qsgd.matfun.singular_value_bracket)")
    c = given_parameters(parameters, clock_qubits, keywords, func)
    if shots is not None:
        shots = check_int(shots, "shots", func=func, minimum=1, maximum=2**62)
    generator = as_rng(rng, func=func)
    if isinstance(A, Decomposition):
        raise ValueError(f"{func}: method='chebyshev' takes the matrix or a LinearOperator, not a Decomposition")
    op, mat = as_operator(A, func)
    m = op.shape[0]
    vec = as_vector(b, "b", func=func, size=m, allow_zero=False)
    bounds = parameters.bounds
    size_bits = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    s = size_bits + (1 if bounds.dilated else 0)
    check_memory(estimate_bytes(8, m) + estimate_bytes(2.0**s), what=f"the {s}-qubit system register",
                 max_bytes=max_bytes, func=func)
    series = filter_expansion(parameters, tolerance=tolerance)
    unit = vec / np.linalg.norm(vec)
    state = np.zeros(2**s)
    if bounds.dilated:
        top, block = chebyshev_dilation(op, unit, series.coefficients, radius=series.radius)
        state[:m] = top
        window = slice(2**size_bits, 2**size_bits + m)
    else:
        block = chebyshev_apply(op, unit, series.coefficients, radius=series.radius)
        window = slice(0, m)
    state[window] = block
    if reference is None:
        ref = reference_direction(mat, unit)
    else:
        ref = as_vector(reference, "reference", func=func, size=m, allow_zero=False)
        ref = ref / np.linalg.norm(ref)
    out = {"statevector": state, "amplitudes": block, "reference": ref, "eigenvalues": None, "filter": None,
           "system_qubits": s, "window": window}
    return _result(out, vec, parameters, c, shots, generator, func, expansion=series)


def _result(out: dict, vec: np.ndarray, parameters: HHLParameters, c: int, shots, generator, func: str,
            expansion: FilterExpansion | None = None) -> HHLModelResult:
    """The :class:`HHLModelResult` of a modelled register ``out`` (the fields of :func:`_model_output`)."""
    state, block = out["statevector"], out["amplitudes"]
    probability = float(np.dot(state, state))
    norm = float(np.linalg.norm(block))
    if not (math.isfinite(probability) and math.isfinite(norm)):
        raise ValueError(f"{func}: the modelled output is not finite (norm {norm}); check A, b and the parameters")
    solution = block / norm if norm > 0 else np.full(block.size, np.nan)
    counts = sampled = sampled_p = None
    if shots is not None:
        counts, sampled, sampled_p = _model_shots(state, out["window"], shots, generator)
    return HHLModelResult(
        solution=solution, amplitudes=block, statevector=state, success_probability=probability,
        solution_norm=float(np.linalg.norm(vec) * math.sqrt(probability) / parameters.constant),
        reference=out["reference"], fidelity=float(np.dot(solution, out["reference"]) ** 2) if norm > 0 else 0.0,
        eigenvalues=out["eigenvalues"], filter=out["filter"], num_qubits=out["system_qubits"] + c + 1,
        system_qubits=out["system_qubits"], clock_qubits=c, evolution_time=float(parameters.evolution_time),
        scaling=float(parameters.scaling), reciprocal_constant=parameters.constant, bounds=parameters.bounds,
        shots=shots, counts=counts, sampled_solution=sampled, sampled_probability=sampled_p,
        sign_convention=SIGN_CIRCUIT, parameters=parameters, expansion=expansion,
    )


def _model_shots(state: np.ndarray, window: slice, shots: int, generator: np.random.Generator):
    """Counts, sampled solution and sampled success probability of :func:`hhl_solve`'s shot mode.

    The :math:`s+1` settings are sampled from the exact postselected amplitudes by
    :func:`qsgd.tomography.hadamard_pair_counts` and read as :func:`hhl_solve` reads Aer's
    counts (:func:`qsgd.tomography.amplitudes_from_pair_counts`, largest entry positive).
    """
    table = hadamard_pair_counts(state, shots, rng=generator)
    counts = table[0].copy()
    est = largest_positive(amplitudes_from_pair_counts(table)[window])
    sampled = est / np.linalg.norm(est) if np.any(est) else np.full(est.size, np.nan)
    return counts, sampled, float(counts.sum() / shots)


# --------------------------------------------------------------------------- gate counts
