"""Cost of simulating HHL: dense circuit, spectral circuit, algorithm-level model, and a floor.

For total register sizes of 8 to 24 qubits (system + clock + flag) this times, on the same
random symmetric positive-definite system (eigenvalues evenly spaced in [1, 3], kappa = 3):

* ``dense``: ``qsgd.hhl.hhl_solve(construction="dense")``, c dense controlled
  ``UnitaryGate`` s e^{iAt2^j} on s+1 qubits (only up to 16 qubits: 20 qubits take minutes);
* ``spectral``: ``hhl_solve(construction="spectral")``, the same unitary in A's eigenbasis
  (one basis change, clock-controlled diagonals, one UCRY), end to end (eigh, build, Aer,
  postselection);
* ``model``: ``qsgd.hhl.hhl_model`` from the matrix (eigh included) and from a precomputed
  ``qsgd.decomposition.decompose``;
* ``floor``: Aer's time for an *equivalent random circuit*: the very instruction list that
  ``hhl_solve`` hands to Aer (same gate kinds on the same qubits), with random angles,
  phases and initial state. ``spectral / floor`` is the overhead of the circuit path over
  raw simulation of its gates. ``1q floor`` is Aer's time for a circuit of as many
  single-qubit gates as that list has instructions, on a state of that size, without gate
  fusion (the cheapest possible pass over the statevector, once per instruction); both
  floors are measured directly, so ``spec/floor`` and ``spec/1q`` are ratios of measured times.

It also checks that the model and the circuit give the same postselected state (``|diff|``),
prints the CX count of the spectral circuit by formula (``qsgd.hhl.hhl_cx_count``), and
times the model at dimension 4096 (12 system qubits; 13 with the dilation) with the
decomposition (``qsgd.decomposition.decompose``) timed separately. Each case runs in a fresh subprocess so
that the peak resident set size (``ru_maxrss``) belongs to that case alone.

Run: ``python benchmarks/bench_hhl.py`` (about three minutes on one core), or
``python benchmarks/bench_hhl.py --quick`` (the three smallest cases and dimension 1024, under a minute).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

# (system qubits, clock qubits): totals 8, 12, 16, 20, 24 with the flag qubit
CASES = [(3, 4), (5, 6), (7, 8), (7, 12), (10, 13)]
QUICK_CASES = CASES[:3]
DENSE_MAX_QUBITS = 16
MODEL_DIMENSION, MODEL_CLOCK = 4096, 14
QUICK_MODEL_DIMENSION = 1024


def _system(s: int):
    import numpy as np

    m = 2**s
    rng = np.random.default_rng(1000 + s)
    q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    return (q * np.linspace(1.0, 3.0, m)) @ q.T, rng.normal(size=m)


def _random_equivalent(aer_qc, rng):
    """Same instructions on the same qubits, random parameters."""
    import numpy as np
    from qiskit.circuit.library import DiagonalGate, Initialize

    out = aer_qc.copy_empty_like()
    for inst in aer_qc.data:
        op, qubits = inst.operation, inst.qubits
        if op.name == "initialize":
            v = rng.normal(size=2 ** len(qubits)) + 1j * rng.normal(size=2 ** len(qubits))
            out.append(Initialize(v / np.linalg.norm(v)), qubits)
        elif op.name == "diagonal":
            out.append(DiagonalGate(np.exp(1j * rng.uniform(0, 2 * np.pi, 2 ** len(qubits))).tolist()), qubits)
        elif op.name == "cp":
            out.cp(float(rng.uniform(0, 2 * np.pi)), *qubits)
        else:
            out.append(op, qubits)
    return out


def _aer_time(circ, fusion: bool = True, repeats: int = 1) -> float:
    from qiskit_aer import AerSimulator

    sim = AerSimulator(method="statevector", seed_simulator=0, fusion_enable=fusion)
    circ = circ.copy()
    circ.save_statevector()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        sim.run(circ).result()
        best = min(best, time.perf_counter() - start)
    return best


def _case(s: int, c: int) -> dict:
    import numpy as np
    from qiskit import QuantumCircuit

    from qsgd.decomposition import decompose
    from qsgd.hhl import hhl_circuit, hhl_cx_count, hhl_model, hhl_solve, state_preparation_cx
    from qsgd.hhl.circuit import setup
    from qsgd.hhl.solve import _for_aer

    A, b = _system(s)
    # warm-up: imports and Aer initialisation on a tiny system
    hhl_solve(np.diag([1.0, 2.0]), [1.0, 1.0], clock_qubits=3, count_gates=False, rng=0, construction="spectral")
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = s + c + 1

    dense_s = None
    if n <= DENSE_MAX_QUBITS:
        start = time.perf_counter()
        dense = hhl_solve(A, b, clock_qubits=c, count_gates=False, rng=0, construction="dense")
        dense_s = time.perf_counter() - start

    start = time.perf_counter()
    res = hhl_solve(A, b, clock_qubits=c, count_gates=False, rng=0, construction="spectral")
    spectral_s = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    model = hhl_model(A, b, clock_qubits=c)
    model_s = time.perf_counter() - start
    spec = decompose(A)
    start = time.perf_counter()
    hhl_model(spec, b, clock_qubits=c)
    model_pre_s = time.perf_counter() - start

    aer_qc = _for_aer(hhl_circuit(A, b, clock_qubits=c, construction="spectral"), final_basis=False)
    floor_s = _aer_time(_random_equivalent(aer_qc, np.random.default_rng(0)))
    # as many single-qubit gates as aer_qc has instructions, timed as one run (no difference of timings)
    passes = QuantumCircuit(n)
    for k in range(len(aer_qc.data)):
        passes.h(k % n)
    pass_floor_s = _aer_time(passes, fusion=False, repeats=2)

    problem = setup(A, b, clock_qubits=c, evolution_time=None, scaling=None, eigenvalue_bounds=None, accuracy=None,
                     max_qubits=24, func="bench")
    cx = hhl_cx_count(problem.system_qubits, c, state_preparation=state_preparation_cx(problem.rhs)).total
    diff = float(np.max(np.abs(model.statevector - res.statevector)))
    dense_diff = None if dense_s is None else float(np.max(np.abs(dense.statevector - res.statevector)))
    return {
        "s": s, "c": c, "qubits": n, "dense_s": dense_s, "spectral_s": spectral_s, "model_s": model_s,
        "model_pre_s": model_pre_s, "floor_s": floor_s, "pass_floor_s": pass_floor_s, "passes": len(aer_qc.data),
        "extra_rss_mib": peak_rss - base_rss, "statevector_mib": 16 * 2**n / 2**20, "diff": diff,
        "dense_diff": dense_diff, "fidelity": res.fidelity, "cx": cx,
    }


def _model_case(dilated: bool, m: int) -> dict:
    import numpy as np

    from qsgd.decomposition import decompose
    from qsgd.hhl import hhl_model

    rng = np.random.default_rng(7)
    if dilated:
        A = rng.normal(size=(m, m)) / np.sqrt(m) + 2.5 * np.eye(m)
    else:
        q, _ = np.linalg.qr(rng.normal(size=(m, m)))
        A = (q * np.linspace(1.0, 3.0, m)) @ q.T
    b = rng.normal(size=m)
    start = time.perf_counter()
    spec = decompose(A)
    spectrum_s = time.perf_counter() - start
    start = time.perf_counter()
    res = hhl_model(spec, b, clock_qubits=MODEL_CLOCK)
    model_s = time.perf_counter() - start
    start = time.perf_counter()
    shots = hhl_model(spec, b, clock_qubits=MODEL_CLOCK, shots=100_000, rng=0)
    shots_s = time.perf_counter() - start
    return {"dilated": dilated, "dimension": m, "qubits": res.num_qubits, "spectrum_s": spectrum_s, "model_s": model_s,
            "shots_s": shots_s, "fidelity": res.fidelity, "P": res.success_probability,
            "sampled_P": shots.sampled_probability}


def _run(args: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick: bool = False) -> None:
    rows = [_run(["--case", str(s), str(c)]) for s, c in (QUICK_CASES if quick else CASES)]
    dimension = QUICK_MODEL_DIMENSION if quick else MODEL_DIMENSION
    head = (f"{'qubits':>6} {'s':>2} {'c':>3} | {'dense':>7} {'spectral':>8} {'floor':>7} {'1q floor':>8} {'passes':>6} "
            f"{'spec/floor':>10} {'spec/1q':>7} | {'model':>7} {'model*':>7} {'spec/model':>10} | {'sv MiB':>7} {'RSS+ MiB':>8} | "
            f"{'|diff|':>8} {'CX formula':>10}")
    print("HHL on one thread: dense and spectral circuits on Aer, the algorithm-level model, and a floor")
    print(head)
    print("-" * len(head))
    for r in rows:
        dense = f"{r['dense_s']:>6.2f}s" if r["dense_s"] is not None else f"{'-':>7}"
        print(f"{r['qubits']:>6} {r['s']:>2} {r['c']:>3} | {dense} {r['spectral_s']:>7.3f}s {r['floor_s']:>6.3f}s "
              f"{r['pass_floor_s']:>7.3f}s {r['passes']:>6} {r['spectral_s'] / r['floor_s']:>10.2f} "
              f"{r['spectral_s'] / r['pass_floor_s']:>7.2f} | {r['model_s']:>6.3f}s {r['model_pre_s']:>6.3f}s "
              f"{r['spectral_s'] / r['model_s']:>10.3g} | {r['statevector_mib']:>7.0f} {r['extra_rss_mib']:>8.0f} | "
              f"{r['diff']:>8.1e} {r['cx']:>10d}")
    print()
    print("dense    = hhl_solve(construction='dense'), end to end (run only up to 16 qubits)")
    print("spectral = hhl_solve(construction='spectral'), end to end: eigh, build, Aer, postselection")
    print("floor    = Aer alone on the same instruction list with random parameters ('passes' instructions)")
    print("1q floor = Aer alone on 'passes' single-qubit gates on a state of that size (no fusion), timed directly")
    print("model    = hhl_model from the matrix (eigh included); model* = from a precomputed decompose(A)")
    print("RSS+     = peak resident set of the case above its post-import baseline (dense and spectral runs)")
    print("|diff|   = max |model - spectral circuit| over the postselected amplitudes")
    for r in rows:
        if r["dense_diff"] is not None:
            print(f"{r['qubits']} qubits: dense/spectral = {r['dense_s'] / r['spectral_s']:.3g}, "
                  f"max |dense - spectral| = {r['dense_diff']:.1e}")
    print()
    print(f"algorithm-level model at dimension {dimension} ({MODEL_CLOCK} clock qubits)")
    for dilated in (False, True):
        r = _run(["--model", str(int(dilated)), str(dimension)])
        kind = "non-symmetric (dilation, svd)" if dilated else "symmetric (eigh)"
        print(f"  {kind:30}: decomposition {r['spectrum_s']:6.2f}s, hhl_model {r['model_s']:6.3f}s, "
              f"with 100000 shots {r['shots_s']:6.3f}s, {r['qubits']} qubits, fidelity {r['fidelity']:.6f}, "
              f"P {r['P']:.4f} (sampled {r['sampled_P']:.4f})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(_case(int(sys.argv[2]), int(sys.argv[3]))))
    elif len(sys.argv) == 4 and sys.argv[1] == "--model":
        print(json.dumps(_model_case(bool(int(sys.argv[2])), int(sys.argv[3]))))
    elif len(sys.argv) == 2 and sys.argv[1] == "--quick":
        main(quick=True)
    elif len(sys.argv) == 1:
        main()
    else:
        sys.exit("usage: python benchmarks/bench_hhl.py [--quick]")
