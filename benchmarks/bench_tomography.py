"""Speed of ``qsgd.tomography.vector_tomography`` (chapter 5, claim 12).

Wall time per call and shots per second (copies of the state processed, both stages,
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

Usage: python benchmarks/bench_tomography.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import StatePreparation

from qsgd.tomography import predicted_error, vector_tomography
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
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
            t, res = timed(x, shots, args.repeats, seed=n)
            report("statevector, dense", d, d, shots, t, res, x)

    n = 10
    d = 2**n
    x = rng.normal(size=d)
    x /= np.linalg.norm(x)
    dense_prep = QuantumCircuit(n)
    dense_prep.append(StatePreparation(x), range(n))
    for shots in (10**4, 10**6):
        t, res = timed(dense_prep, shots, max(1, args.repeats // 2), seed=1)
        report("Aer circuit, dense (SP)", d, d, shots, t, res, x)
        t_sv, _ = timed(x, shots, args.repeats, seed=1)
        rows.append(("ratio", d, shots, t / t_sv, 0.0))

    xs = np.zeros(d)
    xs[rng.choice(d, 16, replace=False)] = rng.normal(size=16)
    xs /= np.linalg.norm(xs)
    sparse_prep = sparse_state_preparation(xs)
    for shots in (10**4, 10**6):
        t, res = timed(sparse_prep, shots, max(1, args.repeats // 2), seed=2)
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
