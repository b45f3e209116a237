"""Cost of simulating HHL classically vs solving the same system with NumPy (chapter 4).

For total register sizes of about 8, 12, 16 and 20 qubits (system + clock + flag) this
times ``qsgd.hhl.hhl_solve`` on Aer's statevector method (exact postselection, no gate
counting) and ``numpy.linalg.solve`` on the same random symmetric positive-definite
system (eigenvalues evenly spaced in [1, 3], so kappa = 3), and reports the peak memory.
Each case runs in a fresh subprocess so that the peak resident set size
(``resource.getrusage(...).ru_maxrss``) belongs to that case alone; the resident size
right after the imports is subtracted (``extra RSS``). ``tracemalloc`` gives the peak
of the Python-side allocations of ``hhl_circuit`` (the dense controlled unitaries built
in NumPy); Aer's C++ statevector is only visible in the RSS. The three stages of
``hhl_solve`` (build, transpile to Aer's gate set, simulate) are also timed one by one.

Run: ``python benchmarks/bench_hhl.py`` (one to two minutes on one core).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc

# (system qubits, clock qubits): totals 8, 12, 16, 20 (with the flag qubit)
CASES = [(3, 4), (5, 6), (7, 8), (7, 12)]


def _case(s: int, c: int) -> dict:
    import numpy as np

    from qsgd.hhl import hhl_circuit, hhl_solve

    m = 2**s
    rng = np.random.default_rng(1000 + s)
    q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    A = (q * np.linspace(1.0, 3.0, m)) @ q.T
    b = rng.normal(size=m)
    # warm-up: imports and Aer initialisation on a tiny system
    hhl_solve(np.diag([1.0, 2.0]), [1.0, 1.0], clock_qubits=3, count_gates=False, rng=0)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    for _ in range(20):
        x = np.linalg.solve(A, b)
    numpy_s = (time.perf_counter() - start) / 20

    # where the time goes: the same three stages hhl_solve runs, timed one by one
    from qiskit import transpile
    from qiskit_aer import AerSimulator

    start = time.perf_counter()
    qc = hhl_circuit(A, b, clock_qubits=c)
    build_s = time.perf_counter() - start
    tracemalloc.start()
    hhl_circuit(A, b, clock_qubits=c)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sim = AerSimulator(method="statevector", seed_simulator=0)
    circ = qc.copy()
    circ.save_statevector()
    start = time.perf_counter()
    tqc = transpile(circ, sim, optimization_level=0, seed_transpiler=0)
    transpile_s = time.perf_counter() - start
    start = time.perf_counter()
    sim.run(tqc).result()
    run_s = time.perf_counter() - start
    del tqc, circ

    start = time.perf_counter()
    res = hhl_solve(A, b, clock_qubits=c, count_gates=False, rng=0)
    hhl_s = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fid = float(np.dot(res.solution, x / np.linalg.norm(x)) ** 2)
    return {
        "s": s,
        "c": c,
        "qubits": qc.num_qubits,
        "dim": m,
        "numpy_s": numpy_s,
        "build_s": build_s,
        "transpile_s": transpile_s,
        "run_s": run_s,
        "hhl_s": hhl_s,
        "py_peak_mib": py_peak / 2**20,
        "extra_rss_mib": peak_rss - base_rss,
        "statevector_mib": 16 * 2**qc.num_qubits / 2**20,
        "numpy_mib": 8 * m * m / 2**20,
        "fidelity": fid,
    }


def main() -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    rows = []
    for s, c in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--case", str(s), str(c)], capture_output=True, text=True, env=env, check=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    head = (
        f"{'qubits':>6} {'s':>2} {'c':>3} {'dim':>5} | {'numpy solve':>11} {'build':>7} {'transpile':>9} {'Aer run':>8} {'hhl_solve':>9} "
        f"{'ratio':>9} | {'sv MiB':>7} {'py peak':>8} {'RSS+':>7} {'np MiB':>7} | {'fidelity':>8}"
    )
    print("HHL on Aer statevector (exact postselection) vs numpy.linalg.solve, 1 thread")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['qubits']:>6} {r['s']:>2} {r['c']:>3} {r['dim']:>5} | {r['numpy_s'] * 1e6:>9.1f}us "
            f"{r['build_s']:>6.3f}s {r['transpile_s']:>8.3f}s {r['run_s']:>7.3f}s {r['hhl_s']:>8.3f}s {r['hhl_s'] / r['numpy_s']:>9.3g} | "
            f"{r['statevector_mib']:>7.2f} {r['py_peak_mib']:>8.1f} {r['extra_rss_mib']:>7.1f} "
            f"{r['numpy_mib']:>7.3f} | {r['fidelity']:>8.5f}"
        )
    print()
    print("ratio = hhl_solve time / numpy.linalg.solve time on the same system")
    print("build = hhl_circuit (dense e^{iAt 2^j} blocks from eigh), transpile = to Aer's gate set,")
    print("Aer run = statevector simulation; hhl_solve = all three + postselection (timed on its own);")
    print("py peak = tracemalloc peak of hhl_circuit (the dense blocks); RSS+ = peak resident set above")
    print("the post-import baseline (Aer statevector and transpiled copies included)")
    for a, b in zip(rows, rows[1:]):
        print(
            f"{a['qubits']} -> {b['qubits']} qubits: hhl_solve x{b['hhl_s'] / a['hhl_s']:.3g}, "
            f"numpy x{b['numpy_s'] / a['numpy_s']:.3g}, statevector x{b['statevector_mib'] / a['statevector_mib']:.3g}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(_case(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
