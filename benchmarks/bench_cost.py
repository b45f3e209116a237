"""Break-even model sizes of ``qsgd.cost`` (chapter 6) over a grid of settings.

For every assumption set of ``qsgd.cost.ASSUMPTION_SETS`` and every linear solver, prints the
model sizes at which quantum and classical training cost the same, for a chosen segment length
``T``, run length, precision and condition number, and the ratio classical/quantum at the
paper's two model sizes. Also prints the time of one ``break_even`` search (the grid and the
root refinement), as a ratio to one ``training_cost`` evaluation measured in the same run.

Usage: python benchmarks/bench_cost.py [--steps 100] [--total-steps 1000] [--eps 0.01] [--kappa 30]
"""

from __future__ import annotations

import argparse
import time

from qsgd import cost
from qsgd.theorem import PAPER_MODELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="segment length T (default 100)")
    parser.add_argument("--total-steps", type=int, default=1000, help="steps of the run (default 1000)")
    parser.add_argument("--eps", type=float, default=0.01, help="download precision (default 0.01)")
    parser.add_argument("--kappa", type=float, default=30.0, help="condition number of Eq. 6 (default 30)")
    args = parser.parse_args()
    run = dict(total_steps=args.total_steps, steps=args.steps, eps=args.eps, kappa=args.kappa)

    print(f"T = {args.steps}, {args.total_steps} steps, eps = {args.eps}, kappa = {args.kappa}")
    print(f"{'set':3s} {'solver':6s} {'break-even':44s}" + "".join(f"{name[:20]:>22s}" for name in PAPER_MODELS))
    for key, a in cost.ASSUMPTION_SETS.items():
        for solver in cost.QLSA_SOLVERS:
            be = cost.break_even(a, n_min=10.0, n_max=1e30, **{**run, "solver": solver})
            adv = [cost.training_cost(n, **a.kwargs(n), **{**run, "solver": solver}).advantage
                   for n in PAPER_MODELS.values()]
            print(f"{key:3s} {solver:6s} {be.message:44s}" + "".join(f"{v:22.3g}" for v in adv))

    a = cost.ASSUMPTION_SETS["A"]
    start = time.perf_counter()
    for _ in range(200):
        cost.training_cost(1e9, **a.kwargs(1e9), **run)
    one = (time.perf_counter() - start) / 200
    start = time.perf_counter()
    cost.break_even(a, n_min=10.0, n_max=1e30, **run)
    search = time.perf_counter() - start
    print(f"\none training_cost: {one * 1e6:.1f} us; one break_even search: {search * 1e3:.1f} ms "
          f"= {search / one:.0f} evaluations")


if __name__ == "__main__":
    main()
