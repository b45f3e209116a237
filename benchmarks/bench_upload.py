"""CNOT cost of sparse state preparation (chapter 3, claim 11).

For random s-sparse real unit vectors on n qubits (20 per (n, s), seeded), the median
CNOT count after ``transpile(basis_gates=["cx", "u"], optimization_level=1,
seed_transpiler=0)`` of

* ``qsgd.upload.sparse_state_preparation`` (our Gleinig-Hoefler),
* qiskit's dense ``StatePreparation`` (n <= 12; synthesis failures are counted),
* qclib's ``MergeInitialize`` (the public implementation of the same paper), when
  qclib can be imported. It is not a dependency of qsgd: install it for this script
  alone into a scratch directory with ``--install-qclib`` (runs
  ``pip install --no-deps --target /tmp/qsgd_qclib qclib deprecation sympy graphviz
  tensorly``) or point ``--qclib-path`` at such a directory. Without it the qclib
  column reads "n/a".

Every circuit of ours is checked against the target with a statevector (fidelity
>= 1 - 1e-10). Then the construction time for n = 16, s = 64 (median of 5).

Usage: python benchmarks/bench_upload.py [--install-qclib] [--qclib-path DIR] [--repeats 20]
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import StatePreparation
from qiskit.quantum_info import Statevector

from qsgd.upload import cnot_count, sparse_state_preparation

QUBITS = (8, 10, 12, 16)
SPARSITIES = (4, 8, 16, 32)
DENSE_MAX_QUBITS = 12
DEFAULT_QCLIB = Path("/tmp/qsgd_qclib")


def random_state(n: int, s: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    index = np.sort(rng.choice(2**n, size=s, replace=False))
    values = rng.normal(size=s)
    return index, values / np.linalg.norm(values)


def load_qclib(path: Path, install: bool):
    """MergeInitialize from a scratch --target directory, or (None, reason)."""
    if install and not (path / "qclib").is_dir():
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(path),
               "qclib", "deprecation", "sympy", "graphviz", "tensorly"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode:
            return None, f"pip install failed: {done.stderr.strip().splitlines()[-1:]}"
    if not (path / "qclib").is_dir():
        return None, f"not installed in {path} (run with --install-qclib)"
    sys.path.append(str(path))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module("qclib.state_preparation")
            version = importlib.import_module("importlib.metadata").version("qclib")
        return module.MergeInitialize, f"qclib {version}"
    except Exception as exc:  # an optional cross-check: report and go on
        return None, f"import failed: {type(exc).__name__}: {exc}"


def qclib_circuit(merge_initialize, n, index, values) -> QuantumCircuit:
    # qclib's dict keys are bit strings whose first character is qubit 0
    data = {format(int(i), f"0{n}b")[::-1]: float(v) for i, v in zip(index, values)}
    qc = QuantumCircuit(n)
    qc.append(merge_initialize(data), range(n))
    return qc


def fidelity(qc: QuantumCircuit, n: int, index, values) -> float:
    target = np.zeros(2**n)
    target[index] = values
    return float(abs(np.vdot(target, Statevector(qc).data)) ** 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--install-qclib", action="store_true")
    parser.add_argument("--qclib-path", type=Path, default=DEFAULT_QCLIB)
    args = parser.parse_args(argv)

    merge_initialize, qclib_note = load_qclib(args.qclib_path, args.install_qclib)
    print(f"qclib MergeInitialize: {qclib_note}")
    print(f"median CNOTs over {args.repeats} random real s-sparse states, transpile to {{cx, u}}, "
          "optimization_level=1, seed_transpiler=0")
    header = (f"{'n':>3} {'s':>3} {'qsgd GH':>8} {'(min-max)':>10} {'s*n':>5} {'qclib GH':>9} "
              f"{'qclib/qsgd':>10} {'StatePrep':>10} {'SP/qsgd':>8} {'SP fails':>8}")
    print(header)
    print("-" * len(header))
    worst_fidelity = 1.0
    for n in QUBITS:
        for s in SPARSITIES:
            rng = np.random.default_rng(1000 * n + s)
            ours, theirs, dense, fails = [], [], [], 0
            for _ in range(args.repeats):
                index, values = random_state(n, s, rng)
                vec = np.zeros(2**n)
                vec[index] = values
                qc = sparse_state_preparation(dict(zip(index.tolist(), values)), num_qubits=n)
                worst_fidelity = min(worst_fidelity, fidelity(qc, n, index, values))
                ours.append(cnot_count(qc))
                if merge_initialize is not None:
                    theirs.append(cnot_count(qclib_circuit(merge_initialize, n, index, values)))
                if n <= DENSE_MAX_QUBITS:
                    qc_dense = QuantumCircuit(n)
                    qc_dense.append(StatePreparation(vec), range(n))
                    try:
                        dense.append(cnot_count(qc_dense))
                    except Exception:  # qiskit's synthesis can fail numerically at n = 12
                        fails += 1
            med = float(np.median(ours))
            q = f"{np.median(theirs):9.1f} {np.median(theirs) / med:10.2f}" if theirs else f"{'n/a':>9} {'':>10}"
            if dense:
                d = f"{np.median(dense):10.1f} {np.median(dense) / med:8.1f} {fails:>8d}"
            elif n > DENSE_MAX_QUBITS:
                d = f"{'not run':>10} {'':>8} {'':>8}"
            else:
                d = f"{'failed':>10} {'':>8} {fails:>8d}"
            print(f"{n:3d} {s:3d} {med:8.1f} {f'({min(ours)}-{max(ours)})':>10} {s * n:5d} {q} {d}", flush=True)
    print(f"worst fidelity of our circuits: 1 - {1 - worst_fidelity:.2e}")
    assert worst_fidelity >= 1 - 1e-10

    n, s = 16, 64
    rng = np.random.default_rng(1664)
    times, times_qclib, cx = [], [], []
    for _ in range(5):
        index, values = random_state(n, s, rng)
        start = time.perf_counter()
        qc = sparse_state_preparation(dict(zip(index.tolist(), values)), num_qubits=n)
        times.append(time.perf_counter() - start)
        cx.append(cnot_count(qc))
        if merge_initialize is not None:
            start = time.perf_counter()
            qc_q = qclib_circuit(merge_initialize, n, index, values)
            qc_q.decompose(reps=3)  # qclib builds its circuit lazily, on first use of the definition
            times_qclib.append(time.perf_counter() - start)
    line = f"construction n={n}, s={s}: qsgd {np.median(times):.3f} s (median of 5), {np.median(cx):.0f} CNOTs"
    if times_qclib:
        line += f"; qclib {np.median(times_qclib):.3f} s"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
