"""Error bound and speed of ``qsgd.tomography.vector_tomography`` (chapters 5 and 8, claim 12).

**Bound** (``--part bound``): for s in (4, 16, 64, 256) and shots in (1e2, 1e3, 1e4, 1e5),
the finite-sample bound ``tomography_error_bound`` and the delta-method
``tomography_error_estimate`` (both at the default confidence 0.999), and the measured l2
error over ``--replicates`` runs of the statevector path (median, 90th percentile, max, and
the fraction above the estimate) on two s-sparse states with random signs:

* *decaying*: magnitudes geometric from 1 down to 1e-8 (before normalization), so at every
  shot count some entries sit near 1/sqrt(shots);
* *near threshold*: half the entries at 1/sqrt(shots), a quarter at 1e-16 (the family on which
  the estimate fails most often in ``tests/test_tomography.py``).

``bound/max`` is the tightness of the bound (reported, not a target); the bound must never be
below ``max`` by more than chance at 0.999 allows.

**Speed** (``--part speed``): wall time per call and shots per second (copies of the state processed, both stages,
``total_shots / time``) for

* the statevector path (NumPy multinomial sampling of both stages) on random dense
  real unit vectors with d = 2^10 and d = 2^16, at several shot counts;
* the Aer circuit path at 10 qubits: a dense state prepared by Qiskit's
  ``StatePreparation`` and a 16-sparse state prepared by
  ``qsgd.upload.sparse_state_preparation``. This time includes validating the circuit
  (one statevector simulation), building the controlled sign circuit, transpiling
  it and running both circuits on ``AerSimulator``.

Each entry is the median of ``--repeats`` calls (after one warm-up call). The ratio
columns compare the paths measured in this run. The error column is the l2 error of
the last call, next to the prediction sqrt((s-1)/(4 shots)).

Usage: python benchmarks/bench_tomography.py [--part all|bound|speed] [--repeats 5] [--replicates 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import StatePreparation

from qsgd.tomography import predicted_error
from qsgd.tomography_bounds import tomography_error_bound, tomography_error_estimate
from qsgd.tomography import vector_tomography
from qsgd.upload import sparse_state_preparation


def timed(state, shots: int, repeats: int, seed: int, **kwargs):
    rng = np.random.default_rng(seed)
    vector_tomography(state, shots=shots, rng=rng, **kwargs)  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = vector_tomography(state, shots=shots, rng=rng, **kwargs)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), res


def decaying_state(s: int, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Magnitudes 1 .. 1e-8, geometric, random signs (the same state at every shot count)."""
    x = np.logspace(0.0, -8.0, s) * rng.choice([-1.0, 1.0], s)
    return x / np.linalg.norm(x)


def near_threshold_state(s: int, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Half the entries at 1/sqrt(shots) (at most half the weight), a quarter at 1e-16; random signs."""
    k, tiny = s // 2, s // 4
    v = np.empty(s)
    v[:k] = min(1.0 / np.sqrt(shots), np.sqrt(0.5 / k))  # at most half the weight
    v[k:k + tiny] = 1e-16
    v[k + tiny:] = np.sqrt((1.0 - k * v[0] ** 2) / (s - k - tiny))
    v = rng.permutation(v) * rng.choice([-1.0, 1.0], s)
    return v / np.linalg.norm(v)


def bound_table(replicates: int) -> None:
    for name, make in (("decaying", decaying_state), ("near threshold", near_threshold_state)):
        print(f"state: {name}, {replicates} replicates per row, confidence 0.999")
        header = (f"{'s':>4} {'shots':>7} {'bound':>8} {'estimate':>9} {'median':>9} {'p90':>9} {'max':>9} "
                  f"{'>estimate':>10} {'>bound':>7} {'bound/max':>10}")
        print(header)
        print("-" * len(header))
        for s in (4, 16, 64, 256):
            for shots in (10**2, 10**3, 10**4, 10**5):
                rng = np.random.default_rng(1000 * s + shots)
                x = make(s, shots, rng)
                errors = np.array([vector_tomography(x, shots=shots, rng=rng).error(x) for _ in range(replicates)])
                bound, estimate = tomography_error_bound(s, shots), tomography_error_estimate(s, shots)
                print(f"{s:>4} {shots:>7} {bound:>8.4f} {estimate:>9.4f} {np.median(errors):>9.4f} "
                      f"{np.quantile(errors, 0.9):>9.4f} {errors.max():>9.4f} {np.mean(errors > estimate):>10.3f} "
                      f"{np.mean(errors > bound):>7.3f} {bound / errors.max():>10.2f}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "bound", "speed"), default="all")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args()
    if args.part in ("all", "bound"):
        bound_table(args.replicates)
    if args.part in ("all", "speed"):
        speed_table(args.repeats)


def speed_table(repeats: int) -> None:
    rng = np.random.default_rng(0)

    rows = []
    header = f"{'path':<28} {'d':>7} {'s':>6} {'shots/circuit':>13} {'wall time [s]':>14} {'shots/s':>11} {'error':>8} {'pred.':>8}"
    print(header)
    print("-" * len(header))

    def report(label, d, s, shots, t, res, truth):
        rate = res.total_shots / t
        rows.append((label, d, shots, t, rate))
        print(f"{label:<28} {d:>7} {s:>6} {shots:>13} {t:>14.4g} {rate:>11.3g} "
              f"{res.error(truth):>8.3g} {predicted_error(shots, sparsity=s):>8.3g}")

    for n in (10, 16):
        d = 2**n
        x = rng.normal(size=d)
        x /= np.linalg.norm(x)
        for shots in (10**4, 10**6, 10**8):
            t, res = timed(x, shots, repeats, seed=n)
            report("statevector, dense", d, d, shots, t, res, x)

    n = 10
    d = 2**n
    x = rng.normal(size=d)
    x /= np.linalg.norm(x)
    dense_prep = QuantumCircuit(n)
    dense_prep.append(StatePreparation(x), range(n))
    for shots in (10**4, 10**6):
        t, res = timed(dense_prep, shots, max(1, repeats // 2), seed=1)
        report("Aer circuit, dense (SP)", d, d, shots, t, res, x)
        t_sv, _ = timed(x, shots, repeats, seed=1)
        rows.append(("ratio", d, shots, t / t_sv, 0.0))

    xs = np.zeros(d)
    xs[rng.choice(d, 16, replace=False)] = rng.normal(size=16)
    xs /= np.linalg.norm(xs)
    sparse_prep = sparse_state_preparation(xs)
    for shots in (10**4, 10**6):
        t, res = timed(sparse_prep, shots, max(1, repeats // 2), seed=2)
        report("Aer circuit, 16-sparse (GH)", d, 16, shots, t, res, xs)

    print()
    print("Aer circuit path / statevector path, same d = 2^10 and shots (wall-time ratio):")
    for label, d, shots, ratio, _ in rows:
        if label == "ratio":
            print(f"  shots {shots:>9}: {ratio:8.3g}x")
    sv = {(d, s): t for label, d, s, t, _ in rows if label == "statevector, dense"}
    print("statevector path, d = 2^16 / d = 2^10 (wall-time ratio, 64x more amplitudes):")
    for shots in (10**4, 10**6, 10**8):
        print(f"  shots {shots:>9}: {sv[(2**16, shots)] / sv[(2**10, shots)]:8.3g}x")


if __name__ == "__main__":
    main()
