"""How tight the a priori HHL error bound is, and how it falls with the clock.

For kappa in (2, 10, 56) and c = 6..14 clock qubits (chapter 8's policy: lambda_max at phase
``qsgd.hhl.PHASE_HEADROOM`` = 3/8, spectrum [1/kappa, 1], positive definite; ``--dilated`` adds the signed clock of a
non-symmetric system) this prints

* ``bound``: :func:`qsgd.hhl.bound.hhl_error_bound`, the a priori bound from the parameters alone;
* ``estimate``: :func:`qsgd.hhl.bound.hhl_error_estimate`, the exact finite-clock error of the model
  (the supremum over a grid of 8 points per clock bin, from the same filter the model simulates);
* ``ratio``: bound / estimate, how loose the bound is (reported, not a target; inf where the
  bound is infinite, i.e. the clock does not resolve lambda_min);

and, per kappa, the least-squares slope of log2(bound) against c over the finite values (-1
would be exactly kappa 2^-c; the bound carries a logarithm). The times are those of the two
calls: the bound is closed form, the estimate evaluates the filter on every grid point.

Run: ``python benchmarks/bench_hhl_bound.py`` (under a minute on one core; ``--dilated`` doubles it).
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

from qsgd.decomposition import SpectralBounds
from qsgd.hhl import PHASE_HEADROOM, HHLResolutionWarning, hhl_parameters
from qsgd.hhl.bound import hhl_error_bound, hhl_error_estimate

KAPPAS = (2.0, 10.0, 56.0)
CLOCKS = range(6, 15)
POINTS_PER_BIN = 8


def main(systems=(True,)) -> None:
    print(f"{'system':>9} {'kappa':>5} {'c':>3} {'bound':>10} {'estimate':>10} {'ratio':>7} {'t_bound':>8} {'t_est':>7}")
    for definite in systems:
        label = "definite" if definite else "dilated"
        for kappa in KAPPAS:
            spectrum = SpectralBounds(1.0 / kappa, 1.0, definite, not definite, "known")
            cs, logs = [], []
            for c in CLOCKS:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", HHLResolutionWarning)
                    p = hhl_parameters(spectrum, clock_qubits=c, headroom=PHASE_HEADROOM)
                t0 = time.perf_counter()
                bound = hhl_error_bound(p)
                t1 = time.perf_counter()
                estimate = hhl_error_estimate(p, points_per_bin=POINTS_PER_BIN)
                t2 = time.perf_counter()
                ratio = bound / estimate
                print(f"{label:>9} {kappa:5.0f} {c:3d} {bound:10.4g} {estimate:10.4g} {ratio:7.3g} "
                      f"{t1 - t0:8.4f} {t2 - t1:7.3f}")
                if math.isfinite(bound):
                    cs.append(c)
                    logs.append(math.log2(bound))
            if len(cs) >= 2:
                slope = np.polyfit(cs, logs, 1)[0]
                print(f"{label:>9} {kappa:5.0f}   slope of log2(bound) vs c over c = {cs[0]}..{cs[-1]}: {slope:.3f}")


if __name__ == "__main__":
    main((True, False) if "--dilated" in sys.argv[1:] else (True,))
