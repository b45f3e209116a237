"""The solvers' algorithm-level models without a decomposition (``qsgd.matfun``) against the decomposition path.

The systems are Eq. 6 systems (``qsgd.history.history_system``, T = 10 steps) of the discrete
Carleman lifting at order N = 2 (Kronecker basis) of a sparse dissipative quadratic map
u -> u + F0 + F1 u + F2 (u x u): F1 = -eta*H with H tridiagonal and positive definite, F2 with three
entries per row, so the Eq. 6 matrix L stays sparse. For each dimension the benchmark prints

* the decomposition path: ``decompose(L, method="normal")`` then ``hhl_model`` and
  ``polynomial_model`` on it (up to --max-dense unknowns);
* the matrix-free path: ``singular_value_bracket(L)`` (Lanczos, failure 1e-9 per side), then the
  HHL filter and the polynomial inverse applied as Chebyshev series of sparse products
  (``hhl_model(..., method="chebyshev")``, ``polynomial_model(L, ..., bounds=...)``);
* their agreement: both paths are run with the *same* parameters (those of the exact bounds) and
  the largest difference of the HHL statevector and of the polynomial output is printed;
* whether the bracket contains the exact extreme singular values (where they are known).

It ends with the fitted slope of log(time) against log(dimension) for each path and the peak
resident memory of the process. Timings are wall-clock on one thread (set OMP_NUM_THREADS=1);
they move with the machine, the ratios and slopes much less.

Usage: python benchmarks/bench_matfun.py [--clock 8] [--dims 462,990,2002,4180,100320] [--max-dense 4200]
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import scipy.sparse as sp

from qsgd.carleman import discrete_carleman
from qsgd.decomposition import decompose
from qsgd.hhl.model import hhl_model
from qsgd.hhl.parameters import PHASE_HEADROOM, hhl_parameters
from qsgd.history import history_system
from qsgd.matfun import singular_value_bracket
from qsgd.solvers.polynomial import polynomial_model

STEPS = 10
ETA = 0.1


def sparse_map(n: int, rng: np.random.Generator) -> list:
    """A sparse dissipative degree-2 map: F0 = -eta g, F1 = -eta H (H tridiagonal SPD), F2 three entries a row."""
    diag = 1.0 + rng.uniform(0.0, 1.0, n)
    off = 0.3 * rng.uniform(-1.0, 1.0, n - 1)
    H = sp.diags([off, diag, off], [-1, 0, 1], format="csr")
    cols = rng.integers(0, n * n, size=(n, 3))
    F2 = sp.csr_array((0.05 * rng.standard_normal(3 * n), (np.repeat(np.arange(n), 3), cols.ravel())),
                      shape=(n, n * n))
    F0 = -ETA * rng.standard_normal(n) / math.sqrt(n)
    return [F0, -ETA * sp.csr_array(H), -ETA * F2]


def weights_for(dimension: int) -> int:
    """The n whose Eq. 6 dimension (T + 1) (n + n^2) is closest to ``dimension``."""
    return min(range(2, 400), key=lambda n: abs((STEPS + 1) * (n + n * n) - dimension))


def system(n: int, rng: np.random.Generator):
    C, b = discrete_carleman(sparse_map(n, rng), order=2, basis="kronecker")
    L, rhs = history_system(C, b, np.zeros(C.shape[0]), STEPS)
    return sp.csr_array(L), np.asarray(rhs, dtype=float)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock", type=int, default=8, help="HHL clock qubits (default 8)")
    parser.add_argument("--eps", type=float, default=1e-2, help="polynomial accuracy (default 1e-2)")
    parser.add_argument("--dims", default="462,990,2002,4180,100320", help="target Eq. 6 dimensions")
    parser.add_argument("--max-dense", type=int, default=4200, help="largest dimension decomposed (default 4200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"Eq. 6 systems, T={STEPS}, N=2 (Kronecker), HHL clock {args.clock}, polynomial eps {args.eps:g}")
    print(f"{'dim':>7s} {'nnz(L)':>9s} | {'decomp s':>9s} {'model s':>8s} | {'bracket s':>9s} {'HHL s':>7s} "
          f"{'poly s':>7s} {'free s':>7s} | {'degree':>6s} {'|dHHL|':>9s} {'|dpoly|':>9s} {'kappa in':>8s}")
    rows = []
    for target in (int(x) for x in args.dims.split(",")):
        n = weights_for(target)
        L, rhs = system(n, rng)
        m = L.shape[0]
        bracket, t_bracket = timed(lambda: singular_value_bracket(L, rng=args.seed))
        free_params = hhl_parameters(bracket.bounds, clock_qubits=args.clock, headroom=PHASE_HEADROOM)
        free, t_hhl = timed(lambda: hhl_model(L, rhs, parameters=free_params, method="chebyshev"))
        poly_free, t_poly = timed(lambda: polynomial_model(L, rhs, eps=args.eps, bounds=bracket.bounds))
        t_free = t_bracket + t_hhl + t_poly
        row = {"dim": m, "free": t_free, "bracket": t_bracket, "hhl": t_hhl, "poly": t_poly,
               "degree": free.expansion.degree}
        d_hhl = d_poly = t_dec = t_model = math.nan
        inside = "-"
        if m <= args.max_dense:
            dec, t_dec = timed(lambda: decompose(L, method="normal"))
            params = hhl_parameters(dec, clock_qubits=args.clock, headroom=PHASE_HEADROOM)
            (ref, pref), t_model = timed(lambda: (hhl_model(dec, rhs, parameters=params),
                                                   polynomial_model(dec, rhs, eps=args.eps, bounds=bracket.bounds)))
            same = hhl_model(L, rhs, parameters=params, method="chebyshev")
            d_hhl = float(np.max(np.abs(same.statevector - ref.statevector)))
            d_poly = float(np.max(np.abs(poly_free.amplitudes - pref.amplitudes)))
            inside = "yes" if bracket.contains(float(dec.sigma[-1]), float(dec.sigma[0])) else "NO"
            row.update(dec=t_dec + t_model)
        rows.append(row)
        print(f"{m:7d} {L.nnz:9d} | {t_dec:9.3f} {t_model:8.3f} | {t_bracket:9.3f} {t_hhl:7.3f} {t_poly:7.3f} "
              f"{t_free:7.3f} | {free.expansion.degree:6d} {d_hhl:9.2e} {d_poly:9.2e} {inside:>8s}", flush=True)
    for key, label in (("free", "matrix-free"), ("dec", "decomposition")):
        pts = [(r["dim"], r[key]) for r in rows if key in r]
        if len(pts) >= 2:
            x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
            print(f"{label:>13s} path: time ~ dim^{np.polyfit(x, y, 1)[0]:.2f} over dims {pts[0][0]}..{pts[-1][0]}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak resident memory of the process: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
