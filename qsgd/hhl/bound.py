r"""A bound on the error of HHL's normalized output, from the finite-clock response and the spectrum bounds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qsgd._validation import as_vector, check_int, describe
from qsgd.hhl.filter import hhl_filter
from qsgd.hhl.parameters import HHLParameters

__all__ = ["hhl_error_bound"]


def hhl_error_bound(parameters: HHLParameters, *, points_per_bin: int = 64, eigenvalues: Any = None) -> float:
    r"""Bound on the error of the normalized HHL output, from the phase-estimation response.

    With :math:`f(\lambda)=(C/\lambda)(1+r(\lambda))` (:func:`qsgd.hhl.hhl_filter`), the
    unnormalized output is :math:`X+E` with :math:`\lVert E\rVert\le\max_j|r(\lambda_j)|\,\lVert X\rVert`,
    and normalizing at most doubles the relative error:

    .. math::

        \Bigl\lVert\tfrac{\tilde x}{\lVert\tilde x\rVert}-\tfrac{x}{\lVert x\rVert}\Bigr\rVert
        \le 2\sup_{\lambda_{\min}\le|\lambda|\le\lambda_{\max}}|r(\lambda)| .

    The supremum depends only on the parameters (clock, evolution time, scaling) and the bounds
    :math:`[\lambda_{\min}, \lambda_{\max}]` they were chosen from; it is evaluated on a grid of
    ``points_per_bin`` points per clock bin (signed eigenvalues for a dilation). It falls like
    :math:`\kappa\,2^{-c}`. Given the actual moduli (``eigenvalues``), the maximum over them
    replaces the supremum: the same derivation, a tighter bound for that matrix.

    Parameters
    ----------
    parameters : HHLParameters
        From :func:`qsgd.hhl.hhl_parameters`: the same object the circuit and the model run with.
    points_per_bin : int
    eigenvalues : array_like, optional
        The eigenvalue moduli (singular values) of the matrix, all within the parameters' bounds.

    Returns
    -------
    float

    Used in chapter 8.
    """
    func = "hhl_error_bound"
    if not isinstance(parameters, HHLParameters):
        raise ValueError(f"{func}: parameters must be an HHLParameters (see hhl_parameters), got {describe(parameters)}")
    points = check_int(points_per_bin, "points_per_bin", func=func, minimum=4)
    lower, upper = parameters.bounds.lower, parameters.bounds.upper
    t, c = parameters.evolution_time, parameters.clock_qubits
    if eigenvalues is None:
        bins = (upper - lower) * t * 2**c / (2.0 * math.pi)
        count = bins * points
        if not count <= 2**26:
            raise ValueError(f"{func}: the grid over [lower, upper] would hold {count:.3g} points "
                             f"({bins:.3g} clock bins x points_per_bin={points}); lower points_per_bin or the clock")
        grid = np.linspace(lower, upper, max(2, int(math.ceil(count)) + 1))
    else:
        grid = np.abs(as_vector(eigenvalues, "eigenvalues", func=func))
        if grid.min() < lower * (1 - 1e-12) or grid.max() > upper * (1 + 1e-12):
            raise ValueError(f"{func}: eigenvalues must lie in [lower, upper] = [{lower:.6g}, {upper:.6g}]")
    lam = grid if parameters.definite else np.concatenate([grid, -grid])
    f = hhl_filter(lam, clock_qubits=c, evolution_time=t, scaling=parameters.scaling, definite=parameters.definite)
    r = f * lam / parameters.constant - 1.0
    return float(2.0 * np.max(np.abs(r)))
