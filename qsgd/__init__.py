"""qsgd: executable companion to Liu et al., "Towards provably efficient quantum
algorithms for large-scale machine-learning models", Nat. Commun. 15, 434 (2024).

The modules follow the paper's pipeline, one stage each; every chapter of the book
imports the stage it reproduces. Submodules are imported lazily, so ``import qsgd``
stays cheap (torch and qiskit load only when a stage that needs them is used).

Chapter 1 -- dissipative nonlinear ODEs and Carleman linearization (PNAS 2021)
    qsgd.ode          quadratic ODEs du/dt = F2 u(x)u + F1 u + F0(t), the R number,
                      the reference solver (solve_ivp), the forced viscous Burgers problem
    qsgd.carleman     carleman_matrix, lift, the truncated Euler/exact solution,
                      a-priori error bounds, Kronecker and symmetric (monomial) bases

Chapter 2 -- gradient descent as a nonlinear map (paper Eqs. 3-6)
    qsgd.gd           polynomial_map: a torch loss's GD update as sum_l F_l u^(x)l (torch.func)
    qsgd.carleman     discrete_carleman: the exact discrete-time lifting y(t+1) = C y(t) + b
    qsgd.history      history_system: the T-step block lower-bidiagonal system (Eq. 6),
                      read-out, postselection probability, condition number

Chapter 3 -- upload
    qsgd.upload       sparse_state_preparation (Gleinig-Hoefler), CNOT counts, weight upload

Chapter 4 -- the quantum linear-system solver
    qsgd.hhl          hhl_circuit, hhl_solve (phase estimation + ExactReciprocalGate, Aer)

Chapter 5 -- download
    qsgd.tomography   vector_tomography (l2 tomography with signs), norm recovery

Chapter 6 -- Theorems 1 and 2
    qsgd.theorem      check_assumptions (regime verdict), resource estimates
    qsgd.cost         the complete cost model: coefficient formation, upload, HHL/CKS/Costa solvers,
                      postselection, download, re-expansions, classical GD; break-even analysis

Chapter 7 -- the paper's numerical experiments (Figs. 2 and 3)
    qsgd.data         the Fashion-MNIST IDX files (read from local files, no download)
    qsgd.nn           CIFAR ResNet family, small CNN and MLP, digits data, pruning, training loop
    qsgd.spectrum     Hessian spectral density (Lanczos), exact spectra, error proxy (Eq. 7)
    qsgd.experiments  the Fig. 2 protocol at a chosen scale (also ``python -m qsgd``)
    qsgd.distributed  data-parallel Hessian spectra and Fig. 2 protocol under torchrun

Chapter 8 -- end to end
    qsgd.pipeline     quantum_gd: one quantum training segment; the alternating loop

Every public function and class of a stage is also reachable from the top level and imported
on first use: ``qsgd.quantum_gd`` is ``qsgd.pipeline.quantum_gd``, ``qsgd.hhl_solve`` is
``qsgd.hhl.hhl_solve``.

Shared
    qsgd.plots        figures shared by several chapters (the pipeline diagram)
    qsgd._validation  input checks that raise ValueError naming the argument; the size guard
    qsgd._linalg      spectral norms and eigenvalues of small dense matrices (ode, carleman, theorem)

Symbols (used the same way in code, docstrings and the book):
    n      number of trainable (unpruned) parameters, len(theta)
    T      number of gradient-descent steps in one quantum segment (``steps``)
    eta    learning rate
    N      Carleman truncation order (``order``)
    s      sparsity: non-zeros of theta or per row/column of F_l
    kappa  condition number of the linear system
    R      the PNAS ratio of nonlinearity and forcing to dissipation
    eps    target l2 precision of the downloaded weights
    shots  number of measured copies of a quantum state
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

__version__ = "0.1.0"

_SUBMODULES = (
    "ode",
    "carleman",
    "gd",
    "history",
    "upload",
    "hhl",
    "tomography",
    "theorem",
    "cost",
    "data",
    "nn",
    "spectrum",
    "experiments",
    "distributed",
    "pipeline",
    "plots",
)


@cache
def _public_names() -> dict[str, str]:
    """Map each public name of a stage (its ``__all__``) to the stage that defines it.

    Read from the modules' source with ``ast``, so ``import qsgd`` imports no stage (and
    neither torch nor qiskit). A name re-exported by a second stage (for example
    ``theorem.cost_model``, which comes from ``cost``) belongs to the stage that defines it;
    a name that two stages define separately (e.g. two ``MAX_QUBITS`` constants) is left to
    the submodules, ``qsgd.upload.MAX_QUBITS``, because ``qsgd.MAX_QUBITS`` would be ambiguous.
    """
    defined: dict[str, list[str]] = {}
    here = Path(__file__).parent
    for stage in _SUBMODULES:
        tree = ast.parse((here / f"{stage}.py").read_text(encoding="utf-8"))
        exported, own = set(), set()
        for node in tree.body:
            targets = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            own.update(targets)
            if "__all__" in targets and isinstance(node.value, (ast.List, ast.Tuple)):
                exported = {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
        for name in exported & own:
            defined.setdefault(name, []).append(stage)
    return {name: stages[0] for name, stages in defined.items() if len(stages) == 1 and name not in _SUBMODULES}


__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    """Lazy access: ``qsgd.hhl`` imports the stage, ``qsgd.quantum_gd`` the stage that defines it."""
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    stage = _public_names().get(name)
    if stage is not None:
        value = getattr(importlib.import_module(f"{__name__}.{stage}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qsgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_public_names()))
