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
    qsgd.nn           CIFAR ResNet family, small MLP, digits data, pruning, training loop
    qsgd.spectrum     Hessian spectral density (Lanczos), exact spectra, error proxy (Eq. 7)
    qsgd.experiments  the Fig. 2 protocol at a chosen scale (also ``python -m qsgd``)

Chapter 8 -- end to end
    qsgd.pipeline     quantum_gd: one quantum training segment; the alternating loop

Shared
    qsgd.plots        figures shared by several chapters (the pipeline diagram)
    qsgd._validation  input checks that raise ValueError naming the argument

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

import importlib

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
    "nn",
    "spectrum",
    "experiments",
    "pipeline",
    "plots",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'qsgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
