"""Tightness of a segment's a priori guarantee: bound / measured error over random small segments.

Random polynomial losses (quadratic, cubic and quartic terms, n = 2 or 3, a learning rate up to 1.9/lambda_max),
segments of T = 1..4 steps at Carleman order 2 (symmetric basis), 12 clock qubits, 10^6 copies per
tomography stage. For every term of the budget (Taylor, truncation, solver, tomography, total) the
script prints how often the a priori bound is finite, whether it ever fails, and the distribution of
bound / error (median, 90th percentile, max) where the bound is finite and the error non-zero.

Usage: python benchmarks/bench_guarantee.py [--instances 40]
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np

from qsgd.derivative_bounds import polynomial_loss, polynomial_loss_bounds
from qsgd.pipeline import quantum_gd

TERMS = ("taylor", "truncation", "solver", "tomography", "total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    ratios = {t: [] for t in TERMS}
    finite = {t: 0 for t in TERMS}
    failures = {t: 0 for t in TERMS}
    for _ in range(args.instances):
        n = int(rng.integers(2, 4))
        H = rng.normal(size=(n, n))
        H = H @ H.T + 0.2 * np.eye(n)
        tensors = [0.0, rng.normal(size=n), 0.5 * H, 0.05 * rng.normal(size=(n, n, n)),
                   0.01 * rng.normal(size=(n, n, n, n))]
        eta = float(rng.uniform(0.2, 1.9) / np.linalg.eigvalsh(H)[-1])
        theta0 = 0.1 * rng.normal(size=n)
        bounds = polynomial_loss_bounds(tensors, theta0, radius=5.0, degree=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rep = quantum_gd(polynomial_loss(tensors), theta0, eta=eta, steps=int(rng.integers(1, 5)), order=2,
                             clock_qubits=12, shots=10**6, rng=int(rng.integers(2**31)), derivative_bounds=bounds,
                             basis="symmetric").report
        for t in TERMS:
            e = rep.errors[t]
            if math.isfinite(e.bound):
                finite[t] += 1
                failures[t] += e.error > e.bound * (1 + 1e-9) + 1e-14
                if e.error > 1e-12:
                    ratios[t].append(e.bound / e.error)
    print(f"{args.instances} random segments; bound / measured error where the bound is finite")
    print(f"{'term':>10s} {'finite':>7s} {'fails':>6s} {'median':>10s} {'90th pct':>10s} {'max':>10s}")
    for t in TERMS:
        r = np.array(ratios[t])
        stats = (f"{np.median(r):10.3g} {np.percentile(r, 90):10.3g} {r.max():10.3g}" if r.size
                 else f"{'-':>10s} {'-':>10s} {'-':>10s}")
        print(f"{t:>10s} {finite[t]:7d} {failures[t]:6d} {stats}")


if __name__ == "__main__":
    main()
