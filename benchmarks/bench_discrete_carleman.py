"""Assembly speed of the discrete Carleman matrix (qsgd.carleman.discrete_carleman).

Problem: gradient descent on a sparse chain loss of n = 64 parameters,

    L(theta) = sum_i [ a_i theta_i^2 / 2 + c theta_i theta_{i+1} + d theta_i^2 theta_{i+1}
                       + e theta_i^3 / 6 ],

turned into the degree-2 polynomial map by qsgd.gd.polynomial_map (F1 tridiagonal, F2 with a
few entries per row) and lifted at truncation order N = 3, in both bases. Two expansion points:
theta0 = 0 (a stationary point, F0 = 0) and a random theta0 (F0 dense, as around pruned weights).

Reported per basis: unknowns, non-zeros of C, best-of-3 assembly seconds, non-zeros written per
second; the Kronecker/symmetric ratios; a cProfile breakdown of the symmetric assembly; and,
measured in the same run, the rate of SciPy's own
COO -> CSR conversion (``coo_array.tocsr()``, duplicates summed) on a random COO matrix of the
same shape and number of entries -- the floor any assembly that ends in a CSR conversion pays.
Target: each basis's assembly within 3x of that rate (non-zeros per second), that is a
ratio >= 0.33.

Run with one thread (``make bench`` sets it):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_discrete_carleman.py
"""

from __future__ import annotations

import cProfile
import pstats
import time

import numpy as np
import scipy.sparse as sp
import torch

from bench_carleman import best_of  # same folder: run as python benchmarks/bench_discrete_carleman.py
from qsgd.carleman import BASES, discrete_carleman
from qsgd.gd import polynomial_map

N_PARAMS, ORDER, REPEATS = 64, 3, 3


def chain_loss(n: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    a = 1.0 + torch.rand(n, generator=gen, dtype=torch.float64)

    def loss(th):
        return (0.5 * a * th**2).sum() + 0.3 * (th[:-1] * th[1:]).sum() \
            + 0.2 * (th[:-1] ** 2 * th[1:]).sum() + (th**3).sum() / 6

    return loss


def coo_to_csr_rate(shape, nnz, seed=0):
    """Non-zeros per second of scipy's coo_array -> csr_array on random entries."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, shape[0], nnz, dtype=np.int64)
    cols = rng.integers(0, shape[1], nnz, dtype=np.int64)
    vals = rng.standard_normal(nnz)
    seconds, out = best_of(REPEATS, lambda: sp.coo_array((vals, (rows, cols)), shape=shape).tocsr())
    return nnz / seconds, seconds, out.nnz


def profile(func, top=6):
    """Share of the run time spent inside each function (cProfile, own time), largest first."""
    prof = cProfile.Profile()
    prof.enable()
    func()
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    rows = sorted(((v[2], f"{k[0].split('/')[-1]}:{k[1]}({k[2]})") for k, v in stats.items()), reverse=True)
    return total, rows[:top]


def main():
    loss = chain_loss(N_PARAMS)
    points = {"F0 = 0 (theta0 stationary)": np.zeros(N_PARAMS),
              "F0 dense (random theta0)": 0.1 * np.random.default_rng(1).standard_normal(N_PARAMS)}
    print(f"discrete Carleman assembly: n = {N_PARAMS}, degree 2, N = {ORDER}, best of {REPEATS}")
    for label, theta0 in points.items():
        start = time.perf_counter()
        pm = polynomial_map(loss, theta0, eta=0.1, degree=2)
        t_map = time.perf_counter() - start
        F = pm.coefficients
        print()
        print(f"{label}: nnz(F0, F1, F2) = {np.count_nonzero(F[0])}, {F[1].nnz}, {F[2].nnz} "
              f"(polynomial_map {t_map:.2f} s)")
        print(f"{'basis':<10} {'unknowns':>9} {'non-zeros':>11} {'seconds':>8} {'nnz/s':>10}")
        rows = {}
        for basis in BASES:
            seconds, (C, _) = best_of(REPEATS, lambda basis=basis: discrete_carleman(pm, order=ORDER, basis=basis))
            rows[basis] = (seconds, C)
            print(f"{basis:<10} {C.shape[0]:>9,} {C.nnz:>11,} {seconds:>8.3f} {C.nnz / seconds:>10.3g}")
        (tk, Ck), (ts, Cs) = rows["kronecker"], rows["symmetric"]
        print(f"ratio kronecker/symmetric: time {tk / ts:.2f}x, non-zeros {Ck.nnz / Cs.nnz:.2f}x, "
              f"unknowns {Ck.shape[0] / Cs.shape[0]:.1f}x")
        for basis, (seconds, C) in rows.items():
            rate, t_conv, _ = coo_to_csr_rate(C.shape, C.nnz)
            print(f"  {basis:<10} scipy COO->CSR of {C.nnz:,} random entries ({C.shape[0]:,}^2): "
                  f"{t_conv:.3f} s, {rate:.3g} nnz/s; assembly rate / COO->CSR rate = "
                  f"{C.nnz / seconds / rate:.3g} (target >= 0.33)")
        total, rows = profile(lambda: discrete_carleman(F, order=ORDER, basis="symmetric"))
        print(f"  where the symmetric assembly spends its time ({total:.2f} s under cProfile, own time):")
        for seconds, name in rows:
            print(f"    {100 * seconds / total:5.1f} %  {name}")

if __name__ == "__main__":
    main()
