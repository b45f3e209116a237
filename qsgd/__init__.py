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

    qsgd.carleman_bounds  the a priori truncation bound of the discrete Carleman system (the
                      discrete analogue of PNAS Lemma 1) and the trajectory radius it needs

Chapter 2 -- gradient descent as a nonlinear map (paper Eqs. 3-6)
    qsgd.gd           polynomial_map: a torch loss's GD update as sum_l F_l u^(x)l (torch.func)
    qsgd.carleman     discrete_carleman: the exact discrete-time lifting y(t+1) = C y(t) + b
    qsgd.derivative_bounds  bounds on a loss's derivatives (polynomial losses, tanh networks)
                      for the a priori Taylor bound of qsgd.gd.taylor_error_bound
    qsgd.history      history_system: the T-step block lower-bidiagonal system (Eq. 6),
                      read-out, postselection probability, condition number
    qsgd.lifting_operators  the order-2 Carleman matrix and the Eq. 6 matrix as products only
                      (O(n^3) per product, no n^4 block): solves, transposes, both bases

Chapter 3 -- upload
    qsgd.upload       sparse_state_preparation (Gleinig-Hoefler), CNOT counts, weight upload

Chapter 4 -- the quantum linear-system solver
    qsgd.decomposition  decompose: the one Decomposition (eigen/singular values and vectors) that
                      every solver, the theorem checks and the pipeline use; condition_number
    qsgd.hhl          a package, one job a module: parameters (HHLParameters), filter, circuit,
                      solve (Aer), model (algorithm level), bound, resources (CX formulas)
    qsgd.solvers      the solver registry SOLVERS: "hhl" and "polynomial" (QSVT-style inverse)
    qsgd.matfun       matrix functions without a decomposition: the Lanczos bracket of the extreme
                      singular values, Chebyshev series applied by sparse products

Chapter 5 -- download
    qsgd.tomography   vector_tomography (l2 tomography with signs), norm recovery
    qsgd.tomography_bounds  the finite-sample bound valid for every state, its estimate, the copies

Chapter 6 -- Theorems 1 and 2
    qsgd.theorem      check_assumptions (regime verdict), resource estimates
    qsgd.cost         the complete cost model: coefficient formation, upload, HHL/CKS/Costa solvers,
                      postselection, download, re-expansions, classical GD; break-even analysis

    qsgd.guarantee    a segment's a priori error guarantee (every term bounded before the run),
                      the planner that picks T, clock qubits and copies for a tolerance

Chapter 7 -- the paper's numerical experiments (Figs. 2 and 3)
    qsgd.data         the Fashion-MNIST IDX files (read from local files, no download)
    qsgd.nn           CIFAR ResNet family, small CNN and MLP, digits data, pruning, training loop
    qsgd.spectrum     Hessian spectral density (Lanczos), exact spectra, error proxy (Eq. 7)
    qsgd.experiments  the Fig. 2 protocol at a chosen scale (also ``python -m qsgd``)
    qsgd.distributed  data-parallel Hessian spectra and Fig. 2 protocol under torchrun

Chapter 8 -- end to end
    qsgd.pipeline     quantum_gd: one quantum training segment, its error budget and its guarantee
    qsgd.training     quantum_training: the alternating protocol, its guarantee across the run
    qsgd.stored_training  the 200-weight runs too long for a chapter: one resumable command
                      (python -m qsgd train), one small results file each

Chapter 9 -- physical resources
    qsgd.physical     logical counts of a segment from Qualtran (block encoding, solver, upload) and
                      physical qubits, code distance and runtime from the QDK resource estimator;
                      wall-clock against one GPU; chapter 6's hand counts against the libraries

Every public function and class of a stage is also reachable from the top level and imported
on first use: ``qsgd.quantum_gd`` is ``qsgd.pipeline.quantum_gd``, ``qsgd.hhl_solve`` is
``qsgd.hhl.solve.hhl_solve``. The explicit table ``_NAMES`` below says where each name lives
(each public name is defined by exactly one module; ``scripts/name_table.py --write`` rewrites
the table and a test checks it).

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

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "ode",
    "carleman",
    "carleman_bounds",
    "gd",
    "derivative_bounds",
    "history",
    "decomposition",
    "upload",
    "hhl",
    "solvers",
    "guarantee",
    "tomography",
    "tomography_bounds",
    "theorem",
    "cost",
    "data",
    "nn",
    "spectrum",
    "experiments",
    "distributed",
    "pipeline",
    "training",
    "plots",
)

# --- name table: written by scripts/name_table.py --write
_NAMES = {
    'truncation_error_estimate': 'carleman',
    'BASES': 'carleman',
    'DEFAULT_BASIS': 'carleman',
    'lifted_dimension': 'carleman',
    'level_slices': 'carleman',
    'monomials': 'carleman',
    'lift': 'carleman',
    'carleman_matrix': 'carleman',
    'discrete_carleman': 'carleman',
    'CarlemanSolution': 'carleman',
    'solve_carleman': 'carleman',
    'homogeneous_bound': 'carleman',
    'lemma1_bound': 'carleman',
    'TruncationBound': 'carleman_bounds',
    'truncation_error_bound': 'carleman_bounds',
    'a_priori_radius': 'carleman_bounds',
    'TrainingCost': 'cost',
    'training_cost': 'cost',
    'AssumptionSet': 'cost',
    'ASSUMPTION_SETS': 'cost',
    'BreakEven': 'cost',
    'break_even': 'cost',
    'ResourceEstimate': 'cost_resources',
    'resource_estimate': 'cost_resources',
    'QLSA_SOLVERS': 'cost_terms',
    'COSTA_WALK_CONSTANT': 'cost_terms',
    'COSTA_WALK_CONSTANT_OBSERVED': 'cost_terms',
    'GRADIENT_FACTOR': 'cost_terms',
    'HVP_FACTOR': 'cost_terms',
    'THIRD_FACTOR': 'cost_terms',
    'default_kappa': 'cost_terms',
    'gradient_cost': 'cost_terms',
    'hessian_cost': 'cost_terms',
    'third_derivative_cost': 'cost_terms',
    'coefficient_formation_cost': 'cost_terms',
    'oracle_query_cost': 'cost_terms',
    'upload_cost': 'cost_terms',
    'lifted_row_sparsity': 'cost_terms',
    'qlsa_queries': 'cost_terms',
    'postselection_repeats': 'cost_terms',
    'tomography_copies': 'cost_terms',
    're_expansions': 'cost_terms',
    'classical_gd_cost': 'cost_terms',
    'CIFAR100_MEAN': 'data',
    'CIFAR100_STD': 'data',
    'DataSplit': 'data',
    'FASHION_MNIST_CLASSES': 'data',
    'FASHION_MNIST_FILES': 'data',
    'FASHION_MNIST_MEAN': 'data',
    'FASHION_MNIST_STD': 'data',
    'find_fashion_mnist': 'data',
    'load_cifar100': 'data',
    'load_digits': 'data',
    'load_fashion_mnist': 'data',
    'read_idx': 'data',
    'split_data': 'data',
    'torch_dtype': 'data',
    'write_idx': 'data',
    'SpectralBounds': 'decomposition',
    'Decomposition': 'decomposition',
    'DECOMPOSITION_METHODS': 'decomposition',
    'SPECTRUM_RTOL': 'decomposition',
    'EXACT_LIMIT': 'decomposition',
    'decompose': 'decomposition',
    'spectral_bounds': 'decomposition',
    'condition_number': 'decomposition',
    'is_symmetric': 'decomposition',
    'dense_square': 'decomposition',
    'DerivativeBounds': 'derivative_bounds',
    'LSE_DERIVATIVE_SUP': 'derivative_bounds',
    'TANH_DERIVATIVE_SUP': 'derivative_bounds',
    'polynomial_loss': 'derivative_bounds',
    'polynomial_loss_bounds': 'derivative_bounds',
    'tanh_mlp_bounds': 'derivative_bounds',
    'init_from_env': 'distributed',
    'shard': 'distributed',
    'sharded_hessian_operator': 'distributed',
    'sharded_lanczos_density': 'distributed',
    'world': 'distributed',
    'ExperimentConfig': 'experiments',
    'ExperimentResult': 'experiments',
    'ProxyReading': 'experiments',
    'build_model': 'experiments',
    'config_for': 'experiments',
    'download': 'experiments',
    'load_data': 'experiments',
    'load_results': 'experiments',
    'plot_results': 'experiments',
    'proxy_along_training': 'experiments',
    'proxy_eta_sweep': 'experiments',
    'proxy_readings': 'experiments',
    'run_experiment': 'experiments',
    'DEGREES': 'gd',
    'PolynomialMap': 'gd',
    'polynomial_map': 'gd',
    'model_loss': 'gd',
    'gradient_descent': 'gd',
    'taylor_error_estimate': 'gd',
    'polynomial_radius_bound': 'gd',
    'TaylorErrorBound': 'gd',
    'taylor_error_bound': 'gd',
    'GuaranteeWarning': 'guarantee',
    'Guarantee': 'guarantee',
    'segment_guarantee': 'guarantee',
    'SegmentPlan': 'guarantee',
    'plan_segment': 'guarantee',
    'hhl_error_bound': 'hhl.bound',
    'hhl_error_estimate': 'hhl.bound',
    'hhl_circuit': 'hhl.circuit',
    'CONSTRUCTIONS': 'hhl.circuit',
    'DEFAULT_MAX_QUBITS': 'hhl.circuit',
    'reciprocal_amplitudes': 'hhl.filter',
    'hhl_filter': 'hhl.filter',
    'FilterExpansion': 'hhl.filter',
    'filter_expansion': 'hhl.filter',
    'kapteyn_tail': 'hhl.filter',
    'MAX_EXPANSION_DEGREE': 'hhl.filter',
    'HHLModelResult': 'hhl.model',
    'hhl_model': 'hhl.model',
    'SIGN_CIRCUIT': 'hhl.model',
    'SIGN_LARGEST_POSITIVE': 'hhl.model',
    'MODEL_METHODS': 'hhl.model',
    'HHLResolutionWarning': 'hhl.parameters',
    'HHLParameters': 'hhl.parameters',
    'hhl_parameters': 'hhl.parameters',
    'required_clock_qubits': 'hhl.parameters',
    'PHASE_HEADROOM': 'hhl.parameters',
    'INVERSION_MARGIN': 'hhl.parameters',
    'BOUNDS_RTOL': 'hhl.parameters',
    'MAX_CLOCK_QUBITS': 'hhl.parameters',
    'unitary_cx': 'hhl.resources',
    'HHLGateCount': 'hhl.resources',
    'state_preparation_cx': 'hhl.resources',
    'hhl_cx_count': 'hhl.resources',
    'MAX_FORMULA_QUBITS': 'hhl.resources',
    'HHLResult': 'hhl.solve',
    'hhl_solve': 'hhl.solve',
    'MAX_SHOTS': 'hhl.solve',
    'AER_DIAGONAL_QUBITS': 'hhl.solve',
    'history_system': 'history',
    'solve_history': 'history',
    'history_blocks': 'history',
    'theta_trajectory': 'history',
    'postselection_probability': 'history',
    'readout_weights': 'history',
    'readout_error_bound': 'history',
    'OPERATOR_ORDERS': 'lifting_operators',
    'CarlemanOperator': 'lifting_operators',
    'carleman_operator': 'lifting_operators',
    'HistoryOperator': 'lifting_operators',
    'history_operator': 'lifting_operators',
    'SingularValueBracket': 'matfun',
    'singular_value_bracket': 'matfun',
    'lanczos_width': 'matfun',
    'chebyshev_dilation': 'matfun',
    'chebyshev_apply': 'matfun',
    'as_operator': 'matfun',
    'reference_direction': 'matfun',
    'MAX_CHEBYSHEV_DEGREE': 'matfun',
    'BRACKET_FAILURE': 'matfun',
    'ACTIVATIONS': 'nn',
    'BasicBlock': 'nn',
    'CifarResNet': 'nn',
    'TrainResult': 'nn',
    'accuracy': 'nn',
    'apply_mask': 'nn',
    'check_step_decay': 'nn',
    'cifar_resnet': 'nn',
    'cifar_resnet_parameter_count': 'nn',
    'count_parameters': 'nn',
    'mlp': 'nn',
    'prune_global': 'nn',
    'prunable_parameters': 'nn',
    'recalibrate_batch_norm': 'nn',
    'small_cnn': 'nn',
    'train': 'nn',
    'check_quadratic': 'ode',
    'lambda_1': 'ode',
    'r_number': 'ode',
    'r_interval': 'ode',
    'solve_reference': 'ode',
    'BurgersProblem': 'ode',
    'burgers': 'ode',
    'GateTally': 'physical',
    'BlockEncodingCost': 'physical',
    'block_encoding_cost': 'physical',
    'SolverCost': 'physical',
    'solver_cost': 'physical',
    'upload_gates': 'physical',
    'LogicalSegment': 'physical',
    'segment_resources': 'physical',
    'HardwareModel': 'physical',
    'HARDWARE_MODELS': 'physical',
    'hardware_model': 'physical',
    'PhysicalEstimate': 'physical',
    'physical_estimate': 'physical',
    'classical_time': 'physical',
    'TrainingTime': 'physical',
    'training_time': 'physical',
    'CrossCheck': 'physical',
    'cross_check': 'physical',
    'PHYSICAL_SOLVERS': 'physical',
    'MAX_ESTIMATOR_COUNT': 'physical',
    'GPU_FLOP_RATE': 'physical',
    'NonDissipativeWarning': 'pipeline',
    'SEGMENT_MAX_QUBITS': 'pipeline',
    'UPLOAD_CIRCUIT_MAX_NONZEROS': 'pipeline',
    'QubitCount': 'pipeline',
    'segment_qubits': 'pipeline',
    'SIMULATIONS': 'pipeline',
    'SegmentSettings': 'pipeline',
    'ErrorTerm': 'pipeline',
    'SegmentResources': 'pipeline',
    'SegmentReport': 'pipeline',
    'SegmentStages': 'pipeline',
    'run_seed': 'pipeline',
    'sampled_runs': 'pipeline',
    'SegmentResult': 'pipeline',
    'quantum_gd': 'pipeline',
    'pipeline_diagram': 'plots',
    'Table': 'plots',
    'table': 'plots',
    'SOLVERS': 'solvers',
    'Solver': 'solvers',
    'LinearSystem': 'solvers.base',
    'SolverResult': 'solvers.base',
    'SolverEntry': 'solvers.base',
    'hhl_entry': 'solvers.hhl_solver',
    'hhl_bound': 'solvers.hhl_solver',
    'InversePolynomial': 'solvers.polynomial',
    'inverse_polynomial': 'solvers.polynomial',
    'PolynomialModelResult': 'solvers.polynomial',
    'polynomial_model': 'solvers.polynomial',
    'polynomial_entry': 'solvers.polynomial',
    'polynomial_bound': 'solvers.polynomial',
    'MAX_DEGREE': 'solvers.polynomial',
    'GRID_FACTOR': 'solvers.polynomial',
    'DEFAULT_ACCURACY': 'solvers.polynomial',
    'BLOCK_ENCODING_ANCILLAS': 'solvers.polynomial',
    'SIGNAL_QUBITS': 'solvers.polynomial',
    'HessianOperator': 'spectrum',
    'ModeMasses': 'spectrum',
    'SpectralDensity': 'spectrum',
    'error_proxy': 'spectrum',
    'exact_spectrum': 'spectrum',
    'extreme_eigenvalues': 'spectrum',
    'hessian_matrix': 'spectrum',
    'hessian_operator': 'spectrum',
    'lanczos': 'spectrum',
    'lanczos_density': 'spectrum',
    'loss_hessian_operator': 'spectrum',
    'mode_masses': 'spectrum',
    'proxy_contributions': 'spectrum',
    'ProxyContributions': 'spectrum',
    'CurvatureSplit': 'spectrum',
    'curvature_split': 'spectrum',
    'smooth_density': 'spectrum',
    'TrainConfig': 'stored_training',
    'TRAIN_PRESETS': 'stored_training',
    'DigitsTask': 'stored_training',
    'digits_task': 'stored_training',
    'train_run': 'stored_training',
    'load_run': 'stored_training',
    'config_from': 'stored_training',
    'train_preset': 'stored_training',
    'RESULTS_FORMAT': 'stored_training',
    'REGIMES': 'theorem',
    'PAPER_MODELS': 'theorem',
    'AssumptionReport': 'theorem',
    'check_assumptions': 'theorem',
    'r_discrete': 'theorem',
    'TOMOGRAPHY_MAX_QUBITS': 'tomography',
    'SPARSE_REFERENCE_MAX': 'tomography',
    'TomographyResult': 'tomography',
    'vector_tomography': 'tomography',
    'sign_circuit': 'tomography',
    'shots_bound': 'tomography',
    'predicted_error': 'tomography',
    'recover_norm': 'tomography',
    'norm_relative_error': 'tomography',
    'hadamard_pair_counts': 'tomography',
    'pair_signs': 'tomography',
    'amplitudes_from_pair_counts': 'tomography',
    'CONFIDENCE': 'tomography_bounds',
    'TOMOGRAPHY_MAX_SHOTS': 'tomography_bounds',
    'tomography_error_bound': 'tomography_bounds',
    'tomography_error_estimate': 'tomography_bounds',
    'tomography_shots_for': 'tomography_bounds',
    'ON_FAILURE': 'training',
    'GuaranteeError': 'training',
    'TrainingRun': 'training',
    'quantum_training': 'training',
    'UPLOAD_MAX_QUBITS': 'upload',
    'sparse_state_preparation': 'upload',
    'cnot_count': 'upload',
    'dense_cnot_count': 'upload',
    'PreparationChoice': 'upload',
    'cheapest_state_preparation': 'upload',
    'UploadResult': 'upload',
    'upload_weights': 'upload',
}
# --- end of name table

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    """Lazy access: ``qsgd.hhl`` imports the stage, ``qsgd.quantum_gd`` the module that defines it."""
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    module = _NAMES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qsgd' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_NAMES))
