"""The polynomial (QSVT) solver of ``qsgd.solvers.polynomial`` over a grid of condition numbers and accuracies.

For each kappa in (2, 5, 10, 20, 50, 100) and eps in (1e-2, 1e-4), on a random non-symmetric
matrix with singular values spread over [1/kappa, 1] (both ends included) and a random
right-hand side, prints the polynomial's degree (the block-encoding calls of one run), the
measured error of the normalized output, the a-priori error bound 2*delta, the success
probability of one run, and for comparison the query prices of ``qsgd.cost.qlsa_queries`` for
the Childs-Kothari-Somma and Costa et al. solvers at the same (kappa, eps). Ends with the fitted
slope of log(degree) against log(kappa * ln(kappa / eps)) (1 for the O(kappa log(kappa/eps))
scaling). All numbers come from the algorithm-level model, not from a circuit.

Usage: python benchmarks/bench_polynomial.py [--dimension 16] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from qsgd.decomposition import decompose
from qsgd.solvers.polynomial import polynomial_model

KAPPAS = (2, 5, 10, 20, 50, 100)
EPSILONS = (1e-2, 1e-4)


def _qlsa_queries():
    """``qlsa_queries`` from wherever the cost model keeps it."""
    try:
        from qsgd.cost import qlsa_queries
    except ImportError:  # the cost model's terms live in their own module
        from qsgd.cost_terms import qlsa_queries
    return qlsa_queries


def _matrix(rng: np.random.Generator, m: int, kappa: float) -> np.ndarray:
    s = np.concatenate([[1.0, 1.0 / kappa], np.exp(rng.uniform(-math.log(kappa), 0.0, m - 2))])
    Q1, _ = np.linalg.qr(rng.standard_normal((m, m)))
    Q2, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return Q1 @ np.diag(s) @ Q2.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimension", type=int, default=16, help="matrix dimension m (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random matrices (default 0)")
    args = parser.parse_args()
    qlsa_queries = _qlsa_queries()
    rng = np.random.default_rng(args.seed)

    start = time.perf_counter()
    print(f"random non-symmetric {args.dimension}x{args.dimension} matrices, seed {args.seed}")
    print(f"{'kappa':>6s} {'eps':>7s} {'degree':>7s} {'error':>10s} {'bound':>10s} {'P_success':>10s} "
          f"{'CKS':>10s} {'Costa':>10s}")
    degrees, scales = [], []
    for eps in EPSILONS:
        for kappa in KAPPAS:
            A = _matrix(rng, args.dimension, float(kappa))
            b = rng.standard_normal(args.dimension)
            res = polynomial_model(decompose(A), b, eps=eps)
            cks = qlsa_queries(kappa, eps, solver="cks")
            costa = qlsa_queries(kappa, eps, solver="costa")
            print(f"{kappa:6d} {eps:7.0e} {res.queries:7d} {res.error:10.3e} {res.error_bound:10.3e} "
                  f"{res.success_probability:10.4f} {cks:10.4g} {costa:10.4g}")
            degrees.append(res.queries)
            scales.append(kappa * math.log(kappa / eps))
    slope, intercept = np.polyfit(np.log(scales), np.log(degrees), 1)
    print(f"\nfit: degree ~ {math.exp(intercept):.3g} * (kappa ln(kappa/eps))^{slope:.3f}")
    print(f"time: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
