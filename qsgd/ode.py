r"""Quadratic ODEs, the PNAS ratio R, a reference solver and the forced viscous Burgers problem.

The problem class of [1]_ (its Problem 1) is

.. math::

    \frac{du}{dt} = F_2\,u^{\otimes 2} + F_1\,u + F_0(t),\qquad u(0) = u_0\in\mathbb R^n,

with :math:`u^{\otimes 2}` all :math:`n^2` ordered products, :math:`F_1` diagonalizable with
eigenvalues :math:`\mathrm{Re}\lambda_n\le\dots\le\mathrm{Re}\lambda_1 < 0` (dissipation), and

.. math::

    \mathrm R = \frac{1}{|\mathrm{Re}\lambda_1|}
    \Big(\|u_0\|\,\|F_2\| + \frac{\|F_0\|}{\|u_0\|}\Big),\qquad \|F_0\| = \max_t\|F_0(t)\|,

the ratio of nonlinearity and forcing to dissipation (:func:`r_number`). ``R < 1`` is what
makes the Carleman truncation error decay geometrically in the order N; it holds exactly when
:math:`r_- < \|u_0\| < r_+` (:func:`r_interval`), the roots of
:math:`\|F_2\|x^2 - |\mathrm{Re}\lambda_1|x + \|F_0\| = 0`.

:func:`solve_reference` integrates the ODE with ``scipy.integrate.solve_ivp`` at tight
tolerances; :func:`burgers` builds the PNAS test problem exactly as the reference MATLAB script
``carleman_burgers.m`` of [2]_ does.

Norms are spectral norms (2-norms) throughout.

**Passing the coefficients.** Every function here takes the coefficients as *one* object
``F`` in ascending degree order, followed by the remaining arguments: a sequence
``[F0, F1, F2]`` (``None`` for a zero ``F0`` or ``F2``; ``[F0, F1]`` is a linear field), a
:class:`qsgd.gd.PolynomialMap` (its ``coefficients``) or a problem such as
:class:`BurgersProblem` (its ``F0``, ``F1``, ``F2``; then ``u0``, the time grid and the
forcing default to the problem's). For example ``r_number(problem)``,
``r_number([F0, F1, F2], u0)``, ``solve_reference([None, F1, F2], u0, t)``,
``solve_reference(problem, t_eval=t)``. The conversion is
:func:`qsgd._validation.as_coefficients`; anything else (separate matrices, a dict, a stacked
array) is refused with a ``ValueError`` that names ``F`` and says what is wrong.

References
----------
.. [1] J.-P. Liu, H. Ø. Kolden, H. K. Krovi, N. F. Loureiro, K. Trivisa, A. M. Childs,
   "Efficient quantum algorithm for dissipative nonlinear differential equations",
   PNAS 118, e2026805118 (2021).
.. [2] H. Ø. Kolden, CarlemanBurgers (MATLAB), https://github.com/hermankolden/CarlemanBurgers
   (2021), ``carleman_burgers.m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from qsgd._linalg import eigen_guard, norm2
from qsgd._linalg import lambda_1 as lambda_1_of
from qsgd._validation import (
    as_coefficients,
    as_matrix,
    as_vector,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    describe,
    estimate_bytes,
    is_coefficients,
    problem_defaults,
)

__all__ = [
    "check_quadratic",
    "lambda_1",
    "r_number",
    "r_interval",
    "solve_reference",
    "BurgersProblem",
    "burgers",
]


def _check_diagonalizable(F1, func: str) -> None:
    eigen_guard(F1.shape[0], func)
    dense = F1.toarray() if sp.issparse(F1) else np.asarray(F1)
    _, vecs = np.linalg.eig(dense)
    cond = np.linalg.cond(vecs)
    if not np.isfinite(cond) or cond > 1e12:
        raise ValueError(f"{func}: F1 is not diagonalizable (eigenvector condition number {cond:.3g})")


def _bundle(F, func: str):
    """(F1, F2, F0) of a coefficient object, in the layout of :func:`check_quadratic`."""
    n, F0, mats = as_coefficients(F, func=func, max_degree=2)
    return mats[0], (mats[1] if len(mats) > 1 else None), F0


def check_quadratic(F, *, dissipative=False, discard_zero=False, func: str = "check_quadratic"):
    r"""Validate the coefficients of :math:`du/dt = F_2 u^{\otimes2} + F_1 u + F_0`.

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` or a
        problem (module docstring); ``F0`` an (n,) vector or None (zero), ``F1`` an (n, n)
        matrix, ``F2`` an (n, n**2) matrix or None (zero), dense or sparse.
    dissipative : bool
        Also require the hypotheses of PNAS Problem 1 [1]_: :math:`F_1` diagonalizable with
        :math:`\mathrm{Re}\lambda_1 < 0`.
    discard_zero : bool
        With ``dissipative``, ignore zero eigenvalues (see :func:`lambda_1`).
    func : str
        Name used in error messages.

    Returns
    -------
    (F1, F2, F0) : csr_array, csr_array, ndarray
        The validated coefficients (zeros for an absent F2 or F0).

    Raises
    ------
    ValueError
        ``F`` not one coefficient object, wrong shapes or non-finite entries; with
        ``dissipative``, a non-diagonalizable F1 or
        :math:`\mathrm{Re}\lambda_1 \ge 0`.

    Examples
    --------
    >>> import numpy as np
    >>> F1, F2, F0 = check_quadratic([None, -np.eye(2)], dissipative=True)
    >>> F1.shape, F2.shape, F0
    ((2, 2), (2, 4), array([0., 0.]))

    Used in chapter 1.
    """
    dissipative = check_bool(dissipative, "dissipative", func=func)
    discard_zero = check_bool(discard_zero, "discard_zero", func=func)
    F1, F2, F0 = _bundle(F, func)
    n = F1.shape[0]
    if F2 is None:
        F2 = sp.csr_array((n, n * n))
    if dissipative:
        _check_diagonalizable(F1, func)
        lam = lambda_1_of(F1, discard_zero=bool(discard_zero), func=func)
        if lam >= 0:
            raise ValueError(f"{func}: F1 must be dissipative, Re(lambda_1) < 0, got Re(lambda_1) = {lam:.6g}")
    return F1, F2, F0


def lambda_1(F1, *, discard_zero=False) -> float:
    r""":math:`\mathrm{Re}\lambda_1`, the largest real part of the eigenvalues of :math:`F_1`.

    Parameters
    ----------
    F1 : (n, n) array_like or sparse, or a coefficient object (its F1)
    discard_zero : bool
        Ignore eigenvalues that are zero to round-off (those of explicitly stored Dirichlet
        boundary rows, as the reference Burgers script does).

    Raises
    ------
    ValueError
        If :math:`F_1` is not diagonalizable to working precision (its eigenvector matrix is
        singular), or bad input.

    Used in chapter 1.
    """
    func = "lambda_1"
    if is_coefficients(F1):
        F1 = _bundle(F1, func)[0]
    discard_zero = check_bool(discard_zero, "discard_zero", func=func)
    F1 = as_matrix(F1, "F1", func=func, square=True, sparse=False)
    _check_diagonalizable(F1, func)
    return lambda_1_of(F1, discard_zero=bool(discard_zero), func=func)


def r_number(F, u0=None, *, discard_zero=None) -> float:
    r"""The PNAS ratio :math:`\mathrm R` of nonlinearity and forcing to dissipation.

    .. math::

        \mathrm R = \frac{1}{|\mathrm{Re}\lambda_1|}
        \Big(\|u_0\|\,\|F_2\| + \frac{\|F_0\|}{\|u_0\|}\Big)

    (Eq. 2 of [1]_; homogeneous case :math:`\|u_0\|\|F_2\|/|\mathrm{Re}\lambda_1|`).

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` or a
        problem (module docstring). ``F0`` is the forcing (for a time-dependent one pass the
        vector of largest norm); ``F1`` must have :math:`\mathrm{Re}\lambda_1 < 0`.
    u0 : (n,) array_like, non-zero
        Second positional argument: ``r_number([F0, F1, F2], u0)``. For a problem it defaults
        to ``problem.u0`` (and ``discard_zero`` to True for :class:`BurgersProblem`, whose
        boundary rows are zero): ``r_number(problem)``.
    discard_zero : bool, optional
        Drop zero eigenvalues of F1 before taking :math:`\lambda_1` (as the reference Burgers
        script does for its two boundary rows). Default: True for a :class:`BurgersProblem`
        given as one object, False otherwise.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        :math:`\mathrm{Re}\lambda_1 \ge 0` (R is undefined), ``F`` not one coefficient object,
        bad shapes, a missing or zero ``u0``.

    Examples
    --------
    >>> r_number([None, [[-2.0]], [[1.0]]], [0.5])
    0.25

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Eq. 2.

    Used in chapters 1 and 6.
    """
    func = "r_number"
    F1, F2, F0 = check_quadratic(F, func=func)
    u0 = problem_defaults(F, u0, None)[0]
    if u0 is None:
        raise ValueError(f"{func}: missing argument u0 (the initial state; only a problem object supplies its own)")
    if discard_zero is None:
        discard_zero = isinstance(F, BurgersProblem)
    discard_zero = check_bool(discard_zero, "discard_zero", func=func)
    u0 = as_vector(u0, "u0", func=func, size=F1.shape[0], allow_zero=False)
    lam = lambda_1_of(F1, discard_zero=bool(discard_zero), func=func)
    if lam >= 0:
        raise ValueError(f"{func}: F1 must be dissipative, Re(lambda_1) < 0, got {lam:.6g}")
    nu = float(np.linalg.norm(u0))
    return (nu * norm2(F2) + float(np.linalg.norm(F0)) / nu) / abs(lam)


def r_interval(F, *, discard_zero=False) -> tuple[float, float]:
    r"""The interval :math:`(r_-, r_+)` of initial norms with :math:`\mathrm R < 1`.

    .. math::

        r_\pm = \frac{|\mathrm{Re}\lambda_1| \pm \sqrt{(\mathrm{Re}\lambda_1)^2
        - 4\|F_2\|\|F_0\|}}{2\|F_2\|},

    the roots of :math:`\|F_2\|x^2 - |\mathrm{Re}\lambda_1|x + \|F_0\|`, so that
    :math:`\mathrm R < 1 \iff r_- < \|u_0\| < r_+` (as ``r1, r2`` in the reference script [2]_).
    With :math:`F_2 = 0`, :math:`r_+ = \infty`; with :math:`F_0 = 0`, :math:`r_- = 0`.

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` or a
        problem (module docstring).
    discard_zero : bool
        Drop zero eigenvalues of F1 before taking :math:`\lambda_1` (see :func:`r_number`).

    Returns
    -------
    (r_minus, r_plus) : float, float

    Raises
    ------
    ValueError
        :math:`\mathrm{Re}\lambda_1 \ge 0`, or :math:`(\mathrm{Re}\lambda_1)^2 < 4\|F_2\|\|F_0\|`
        (no initial norm gives R < 1), or bad input.

    Examples
    --------
    >>> r_interval([[0.5], [[-2.0]]])
    (0.25, inf)

    References
    ----------
    .. [2] H. Ø. Kolden, CarlemanBurgers, ``carleman_burgers.m``.

    Used in chapter 1.
    """
    func = "r_interval"
    discard_zero = check_bool(discard_zero, "discard_zero", func=func)
    F1, F2, F0 = check_quadratic(F, func=func)
    lam = lambda_1_of(F1, discard_zero=bool(discard_zero), func=func)
    if lam >= 0:
        raise ValueError(f"{func}: F1 must be dissipative, Re(lambda_1) < 0, got {lam:.6g}")
    f2, f0 = norm2(F2), float(np.linalg.norm(F0))
    if f2 == 0:
        return f0 / abs(lam), math.inf
    disc = lam**2 - 4 * f2 * f0
    if disc < 0:
        raise ValueError(
            f"{func}: no initial norm gives R < 1: Re(lambda_1)^2 = {lam**2:.6g} < "
            f"4 ||F2|| ||F0|| = {4 * f2 * f0:.6g}"
        )
    root = math.sqrt(disc)
    return (abs(lam) - root) / (2 * f2), (abs(lam) + root) / (2 * f2)


def solve_reference(F, u0=None, t_eval=None, *, rtol=1e-10, atol=1e-10, forcing=None, method="DOP853"):
    r"""Reference solution of :math:`du/dt = F_2 u^{\otimes2} + F_1 u + g(t) F_0` with ``solve_ivp``.

    Parameters
    ----------
    F : sequence, PolynomialMap or problem
        The coefficients in ascending degree: ``[F0, F1, F2]``, a ``PolynomialMap`` or a
        problem (module docstring), followed by ``u0`` and ``t_eval``:
        ``solve_reference([F0, F1, F2], u0, t_eval)``. In a sequence, ``F0`` may also be a
        callable ``F0(t) -> (n,)``. For a problem, ``u0``, ``t_eval`` and ``forcing`` default
        to ``problem.u0``, ``problem.t`` and ``problem.forcing``: ``solve_reference(problem)``.
    u0 : (n,) array_like
    t_eval : (m,) array_like
        Increasing output times; integration starts at ``t_eval[0]``.
    rtol, atol : float
        Tolerances (default 1e-10, as the reference script's ``ode45``).
    forcing : callable, optional
        Scalar :math:`g(t)` multiplying a vector ``F0``.
    method : {"DOP853", "RK45", "Radau", "BDF", "LSODA"}
        The ``solve_ivp`` method (DOP853 reaches 1e-10 in far fewer steps than RK45).

    Returns
    -------
    ndarray, shape (m, n)

    Raises
    ------
    ValueError
        Bad input, or the integrator failed (its message is included).

    Examples
    --------
    >>> import numpy as np
    >>> u = solve_reference([None, [[-1.0]]], [1.0], [0.0, 1.0])
    >>> bool(np.isclose(u[-1, 0], np.exp(-1.0)))
    True

    Used in chapters 1 and 6.
    """
    func = "solve_reference"
    u0, t_eval, problem_forcing = problem_defaults(F, u0, t_eval)
    forcing = problem_forcing if forcing is None else forcing
    F0_call = None
    if isinstance(F, (list, tuple)) and F and callable(F[0]):
        F0_call, F = F[0], [None, *F[1:]]
    F1, F2, F0v = check_quadratic(F, func=func)
    for name, value in (("u0", u0), ("t_eval", t_eval)):
        if value is None:
            raise ValueError(f"{func}: missing argument {name} (only a problem object supplies its own)")
    n = F1.shape[0]
    u0 = as_vector(u0, "u0", func=func, size=n)
    t_eval = as_vector(t_eval, "t_eval", func=func)
    if np.any(np.diff(t_eval) <= 0):
        raise ValueError(f"{func}: t_eval must be strictly increasing")
    rtol = check_positive(rtol, "rtol", func=func)
    atol = check_positive(atol, "atol", func=func)
    method = check_choice(method, "method", ("DOP853", "RK45", "Radau", "BDF", "LSODA"), func=func)
    if forcing is not None and not callable(forcing):
        raise ValueError(f"{func}: forcing must be a callable g(t) or None, got {type(forcing).__name__}")
    if forcing is not None and F0_call is not None:
        raise ValueError(f"{func}: give either a callable F0 or a forcing g(t), not both")
    has_f2 = F2.nnz > 0

    def rhs(t, u):
        out = F1 @ u
        if has_f2:
            out = out + F2 @ np.kron(u, u)
        if F0_call is not None:
            out = out + as_vector(F0_call(t), "F0(t)", func=func, size=n)
        elif forcing is not None:
            out = out + float(forcing(t)) * F0v
        else:
            out = out + F0v
        return out

    if t_eval.shape[0] == 1:
        return u0[None, :].copy()
    sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), u0, method=method, t_eval=t_eval, rtol=rtol, atol=atol)
    if not sol.success:
        raise ValueError(f"{func}: solve_ivp failed: {sol.message}")
    if not np.all(np.isfinite(sol.y)):
        raise ValueError(f"{func}: the solution became non-finite (blow-up before t = {t_eval[-1]:.6g})")
    return sol.y.T


@dataclass(frozen=True)
class BurgersProblem:
    r"""The forced viscous Burgers test problem of PNAS (Fig. 1 of [1]_), semi-discretized.

    :math:`\partial_t u + u\,\partial_x u = \nu\,\partial_x^2 u + f(x)\cos(2\pi t)` on
    :math:`[-L_0/2, L_0/2]` with Dirichlet zeros, as the quadratic ODE
    :math:`du/dt = F_2 u^{\otimes2} + F_1 u + \cos(2\pi t) F_0`.

    Attributes
    ----------
    F0 : ndarray (nx,)
        Forcing shape :math:`f(x) = U_0\exp(-(x-L_0/4)^2/(2(L_0/32)^2))`; the forcing at time t
        is ``forcing(t) * F0``.
    F1 : csr_array (nx, nx)
        :math:`\nu/dx^2\,[1, -2, 1]` (minus ``beta`` I), boundary rows zeroed.
    F2 : csr_array (nx, nx**2)
        :math:`(u_{i-1}^2 - u_{i+1}^2)/(4dx)`, boundary rows zeroed.
    u0 : ndarray (nx,)
        :math:`-U_0\sin(2\pi x/L_0)`.
    x, t : ndarray
        Grid points and the Euler time grid (``linspace(0, T, nt)``, as in the script).
    nx, nt, re0, T, L0, beta, U0, nu, dx, dt : the settings and derived constants.
    R : float
        :func:`r_number` with the two zero eigenvalues of the boundary rows discarded.
    """

    F0: np.ndarray
    F1: sp.csr_array
    F2: sp.csr_array
    u0: np.ndarray
    x: np.ndarray
    t: np.ndarray
    nx: int
    nt: int
    re0: float
    T: float
    L0: float
    beta: float
    U0: float
    nu: float
    dx: float
    dt: float
    R: float = field(default=float("nan"))

    @staticmethod
    def forcing(t):
        r"""The time factor :math:`\cos(2\pi t)` of the forcing."""
        return np.cos(2 * np.pi * np.asarray(t, dtype=float))

    def F0_at(self, t) -> np.ndarray:
        """The forcing vector at time ``t`` (a finite real number)."""
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not np.isfinite(t):
            raise ValueError(f"BurgersProblem.F0_at: t must be a finite real number, got {describe(t)}")
        return float(self.forcing(t)) * self.F0


def burgers(*, nx=16, re0=20.0, nt=4000, T=3.0, L0=1.0, beta=0.0, max_bytes=None) -> BurgersProblem:
    r"""The PNAS Burgers test problem, built as in the reference script ``carleman_burgers.m`` [2]_.

    Central differences on ``nx`` points of :math:`[-L_0/2, L_0/2]`, :math:`dx = L_0/(n_x-1)`;
    :math:`U_0 = 1/\sqrt{n_x-1}`, :math:`\nu = U_0 L_0/\mathrm{Re}_0`;
    :math:`F_1 = \nu/dx^2\,\mathrm{tridiag}(1,-2,1) - \beta I`;
    :math:`(F_2 u^{\otimes2})_i = (u_{i-1}^2 - u_{i+1}^2)/(4dx)`; the first and last rows of
    :math:`F_1` and :math:`F_2` are zeroed (Dirichlet boundaries kept in the domain; the forcing
    rows are left as in the script, where the Gaussian is :math:`e^{-32}\approx10^{-14}`);
    :math:`u_0 = -U_0\sin(2\pi x/L_0)`; forcing :math:`U_0 e^{-(x-L_0/4)^2/(2(L_0/32)^2)}\cos(2\pi t)`;
    Euler grid ``t = linspace(0, T, nt)``.

    Parameters
    ----------
    nx : int
        Grid points (default 16).
    re0 : float
        Reynolds number :math:`U_0 L_0/\nu` (default 20).
    nt : int
        Time points of the Euler grid (default 4000, i.e. ``nt - 1`` steps of ``T/(nt-1)``).
    T : float
        Final time (default 3).
    L0 : float
        Domain length (default 1).
    beta : float
        Linear damping (default 0).
    max_bytes : float, optional
        Refuse (``ValueError``) when the grids and the dense eigen-decomposition of
        :math:`F_1` that the R number needs would exceed this (default 4 GiB).

    Returns
    -------
    BurgersProblem

    References
    ----------
    .. [1] J.-P. Liu et al., PNAS 118, e2026805118 (2021), Fig. 1.
    .. [2] H. Ø. Kolden, CarlemanBurgers, ``carleman_burgers.m`` (2021).

    Used in chapter 1.
    """
    func = "burgers"
    nx = check_int(nx, "nx", func=func, minimum=3)
    nt = check_int(nt, "nt", func=func, minimum=2)
    re0 = check_positive(re0, "re0", func=func)
    T = check_positive(T, "T", func=func)
    L0 = check_positive(L0, "L0", func=func)
    beta = check_positive(beta, "beta", func=func, strict=False)
    # R needs eig(F1) of the dense (nx, nx) matrix: about 4 dense copies (complex eigenvectors)
    check_memory(estimate_bytes(nx, nx, itemsize=8 * 6) + estimate_bytes(nt) + estimate_bytes(nx, itemsize=80),
                 what=f"the Burgers problem with nx = {nx}, nt = {nt} (dense eigenvectors of F1 for R)",
                 max_bytes=max_bytes, func=func)
    U0 = 1.0 / math.sqrt(nx - 1)
    nu = U0 * L0 / re0
    x = np.linspace(-L0 / 2, L0 / 2, nx)
    dx = L0 / (nx - 1)
    t = np.linspace(0.0, T, nt)
    dt = T / (nt - 1)
    main = np.full(nx, -2 * nu / dx**2 - beta)
    off = np.full(nx - 1, nu / dx**2)
    F1 = sp.diags_array([off, main, off], offsets=[-1, 0, 1], format="lil")
    F1[0, :] = 0
    F1[nx - 1, :] = 0
    F1 = sp.csr_array(F1)
    F1.eliminate_zeros()
    rows = np.concatenate([np.arange(1, nx - 1), np.arange(1, nx - 1)])
    cols = np.concatenate([(np.arange(1, nx - 1) - 1) * (nx + 1), (np.arange(1, nx - 1) + 1) * (nx + 1)])
    vals = np.concatenate([np.full(nx - 2, 1 / (4 * dx)), np.full(nx - 2, -1 / (4 * dx))])
    F2 = sp.csr_array((vals, (rows, cols)), shape=(nx, nx * nx))
    F0 = U0 * np.exp(-((x - L0 / 4) ** 2) / (2 * (L0 / 32) ** 2))
    u0 = -U0 * np.sin(2 * np.pi * x / L0)
    f0_max = float(np.max(np.abs(BurgersProblem.forcing(t)))) * F0
    R = r_number([f0_max, F1, F2], u0, discard_zero=True)
    return BurgersProblem(F0=F0, F1=F1, F2=F2, u0=u0, x=x, t=t, nx=nx, nt=nt, re0=re0, T=T, L0=L0,
                          beta=beta, U0=U0, nu=nu, dx=dx, dt=dt, R=R)
