"""Carleman-Euler on the PNAS Burgers problem: Kronecker vs symmetric basis.

Runs the forced viscous Burgers test of PNAS (n_x = 16, 4000 time points, T = 3) at
truncation order N = 4 in both bases, timing assembly and all Euler steps, and reports
unknowns, non-zeros, seconds and the Kronecker/symmetric ratio measured in this run.
Then times the whole N = 1..4 sweep (reference solution included) as chapter 1 runs it.

Target: symmetric at least 10x faster than Kronecker at N = 4; the sweep under 60 s on
one core. Run with one thread (the Makefile's ``make bench`` sets it):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_carleman.py
"""

from __future__ import annotations

import time

import numpy as np

from qsgd.carleman import BASES, solve_carleman
from qsgd.ode import burgers, solve_reference


def best_of(repeats, func):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    prob = burgers()
    ref = solve_reference(prob)

    print(f"PNAS Burgers: nx = {prob.nx}, {prob.nt} time points ({prob.nt - 1} Euler steps), R = {prob.R:.4g}")
    print()
    print(f"{'basis':<10} {'N':>2} {'unknowns':>9} {'non-zeros':>10} {'seconds':>8} {'max_t err':>10}")
    rows = {}
    for basis in BASES:
        def run(basis=basis):
            return solve_carleman(prob, order=4, basis=basis)
        seconds, sol = best_of(3, run)
        err = np.linalg.norm(sol.u - ref, axis=1).max()
        rows[basis] = (seconds, sol)
        print(f"{basis:<10} {4:>2} {sol.dimension:>9,} {sol.nnz:>10,} {seconds:>8.3f} {err:>10.4g}")
    (tk, sk), (ts, ss) = rows["kronecker"], rows["symmetric"]
    print()
    print(f"ratio kronecker/symmetric at N = 4: time {tk / ts:.1f}x, non-zeros {sk.nnz / ss.nnz:.1f}x, "
          f"unknowns {sk.dimension / ss.dimension:.1f}x (target: time >= 10x)")
    print(f"max |u_kron - u_sym| = {np.abs(sk.u - ss.u).max():.2g}")
    print()

    for basis in BASES:
        def sweep(basis=basis):
            r = solve_reference(prob)
            return [np.linalg.norm(solve_carleman(prob, order=N, basis=basis).u - r, axis=1).max()
                    for N in range(1, 5)]
        seconds, errs = best_of(1, sweep)
        print(f"N = 1..4 sweep, {basis:<9}: {seconds:6.2f} s (target < 60 s); max_t errors "
              + ", ".join(f"{e:.4g}" for e in errs) + "  (paper: 0.12, 0.058, 0.029, 0.015)")


if __name__ == "__main__":
    main()
