"""Dense linear algebra shared by the stages: spectral norms and eigenvalues of small matrices.

Private to the package (``ode``, ``carleman`` and ``theorem`` use it); every function takes the
name of the public function the user called, so that a refusal names it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from qsgd._validation import check_memory, estimate_bytes

__all__ = ["dense", "norm2", "eigen_guard", "eigenvalues", "lambda_1"]


def dense(M) -> np.ndarray:
    """``M`` as a dense float array (sparse matrices densified)."""
    return M.toarray() if sp.issparse(M) else np.asarray(M, dtype=float)


def norm2(mat) -> float:
    """Spectral norm of an (n, m) matrix with n small: sqrt(lambda_max(M M^T))."""
    if sp.issparse(mat):
        gram = (mat @ mat.T).toarray()
    else:
        gram = np.asarray(mat) @ np.asarray(mat).T
    if gram.size == 0:
        return 0.0
    return float(np.sqrt(max(np.linalg.eigvalsh(gram)[-1], 0.0)))


#: memory of a dense eigen-decomposition per matrix entry (the matrix, complex eigenvectors, work space)
EIG_BYTES_PER_ENTRY = 48


def eigen_guard(n: int, func: str) -> None:
    """Refuse (ValueError naming ``func``) a dense eigen-decomposition of an n x n F1 beyond the memory guard."""
    check_memory(estimate_bytes(n, n, itemsize=EIG_BYTES_PER_ENTRY),
                 what=f"the dense eigen-decomposition of the {n} x {n} matrix F1", max_bytes=None, func=func,
                 advice="the spectrum of F1 is computed densely; this size is beyond it")


def eigenvalues(F1, func: str = "lambda_1") -> np.ndarray:
    """All eigenvalues of F1 (dense), after the memory guard."""
    eigen_guard(F1.shape[0], func)
    dense = F1.toarray() if sp.issparse(F1) else np.asarray(F1)
    return np.linalg.eigvals(dense)


def lambda_1(F1, *, discard_zero: bool = False, func: str = "lambda_1") -> float:
    """Largest real part of the eigenvalues of F1 (optionally ignoring zero eigenvalues)."""
    lam = eigenvalues(F1, func)
    if discard_zero:
        scale = max(norm2(F1), 1.0)
        lam = lam[np.abs(lam) > 1e-10 * scale]
        if lam.size == 0:
            raise ValueError(f"{func}: all eigenvalues of F1 are zero")
    return float(np.max(lam.real))
