"""Tightness of the a priori truncation bound (qsgd.carleman_bounds.truncation_error_bound).

Two parts.

1. Random small polynomial maps v -> v + F0 + F1 v + sum_l F_l v^(x)l: n = 2..4, q = 2..3,
   N = 1..3, T = 1..12, both bases, contracting and mildly expanding F1. For each instance the
   actual first-level truncation error ||yhat_1(T) - v_T|| (iterating C and b from lift(v_0) = 0)
   is compared with the bound for two radii: the exact ||v_t|| (the tightest valid input, known
   only after the run) and the a priori radius of qsgd.carleman_bounds.a_priori_radius (known
   before). Reported: the distribution of bound / actual (median, 90th percentile, max), and how
   often the a priori radius makes the bound useless (infinite).

2. Chapter 8's first quantum segment (book/08_pipeline.ipynb): digits 3/5/8, MLP 64-4-3 (tanh),
   first layer pruned to 24 free weights rewound to zero, eta = 0.1, T = 10, N = 2, degree 2,
   symmetric basis. Reported: the actual truncation error, the after-the-fact estimate
   (truncation_error_estimate) and the a priori bound with both radii. Skipped with --no-chapter8
   (it needs torch and about a minute for the third derivatives).

Run with one thread:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_truncation_bound.py
"""

from __future__ import annotations

import sys
import time

import numpy as np

from qsgd.carleman import BASES, discrete_carleman, lift, truncation_error_estimate
from qsgd.carleman_bounds import a_priori_radius, truncation_error_bound

INSTANCES, SEED = 400, 0


def kron_power(u, ell):
    out = np.ones(1)
    for _ in range(ell):
        out = np.kron(out, u)
    return out


def random_map(rng, n, q, expanding):
    """Coefficients [F0, F1, ..., Fq]; F1 contracting, or with one mode growing by 3 % a step."""
    F1 = -0.3 * np.eye(n) + 0.05 * rng.normal(size=(n, n))
    if expanding:
        F1[0, :] = 0.0
        F1[0, 0] = 0.03
    return [0.05 * rng.normal(size=n), F1] + [0.2 * rng.normal(size=(n, n**ell)) / n ** (ell / 2)
                                                for ell in range(2, q + 1)]


def trajectory(F, steps):
    n = F[1].shape[0]
    us = [np.zeros(n)]
    for _ in range(steps):
        u = us[-1]
        us.append(u + F[0] + sum(F[ell] @ kron_power(u, ell) for ell in range(1, len(F))))
    return np.array(us)


def carleman_first_level(C, b, n, order, basis, steps):
    y = lift(np.zeros(n), order=order, basis=basis)
    for _ in range(steps):
        y = C @ y + b
    return y[:n]


def random_part():
    rng = np.random.default_rng(SEED)
    ratios = {"exact radius": [], "a priori radius": []}
    infinite = 0
    tic = time.perf_counter()
    for i in range(INSTANCES):
        n, q, N, T = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 13))
        basis = BASES[i % 2]
        F = random_map(rng, n, q, expanding=i % 3 == 0)
        us = trajectory(F, T)
        C, b = discrete_carleman(F, order=N, basis=basis)
        actual = float(np.linalg.norm(carleman_first_level(C, b, n, N, basis, T) - us[-1]))
        exact = truncation_error_bound(F, C, steps=T, order=N, radius=np.linalg.norm(us, axis=1), basis=basis)
        prior = truncation_error_bound(F, C, steps=T, order=N, radius=a_priori_radius(F, steps=T), basis=basis)
        for bound in (exact.bound, prior.bound):
            if actual > bound * (1 + 1e-9) + 1e-15:
                raise SystemExit(f"bound violated: n={n} q={q} N={N} T={T} {basis}: {actual} > {bound}")
        if actual < 1e-13:
            continue  # exact lift (no level above N reached yet): nothing to compare
        ratios["exact radius"].append(exact.bound / actual)
        if np.isfinite(prior.bound):
            ratios["a priori radius"].append(prior.bound / actual)
        else:
            infinite += 1
    seconds = time.perf_counter() - tic
    print(f"random maps: {INSTANCES} instances (n = 2..4, q = 2..3, N = 1..3, T = 1..12, both bases), "
          f"{seconds:.2f} s, no violation")
    print(f"{'radius':>16s} {'count':>6s} {'median':>9s} {'90th pct':>9s} {'max':>9s}   (bound / actual)")
    for name, values in ratios.items():
        v = np.array(values)
        print(f"{name:>16s} {v.size:6d} {np.median(v):9.3g} {np.percentile(v, 90):9.3g} {v.max():9.3g}")
    print(f"a priori radius: {infinite} instances with an infinite bound")


def chapter8_part():
    import torch

    from qsgd import nn as qnn
    from qsgd.data import load_digits
    from qsgd.gd import model_loss, polynomial_map

    torch.manual_seed(0)
    torch.set_num_threads(1)
    classes = (3, 5, 8)
    digits = load_digits(rng=0, dtype="float64")
    keep = np.isin(digits.y_train.numpy(), classes)
    x_train = digits.x_train[keep]
    y_train = torch.as_tensor(np.searchsorted(classes, digits.y_train.numpy()[keep]))
    model = qnn.mlp([64, 4, 3], rng=0, dtype="float64")
    qnn.train(model, (x_train, y_train), steps=200, eta=0.1, batch_size=64, rng=0)
    masks = qnn.prune_global(model, amount=1 - 24 / model[0].weight.numel())
    with torch.no_grad():
        model[0].weight.zero_()
    mask = {name: masks.get(name, torch.zeros_like(p, dtype=torch.bool)) for name, p in model.named_parameters()}
    loss, theta0, _ = model_loss(model, x_train, y_train, mask=mask)
    n, eta, T, N, basis = theta0.size, 0.1, 10, 2, "symmetric"
    tic = time.perf_counter()
    pmap = polynomial_map(loss, theta0, eta=eta, degree=2)
    F = list(pmap.coefficients)
    u_poly = np.zeros((T + 1, n))
    for t in range(T):
        u_poly[t + 1] = pmap.step(u_poly[t])
    C, b = discrete_carleman(F, order=N, basis=basis)
    err, estimate, _ = truncation_error_estimate(C, b, u_poly, order=N, basis=basis)
    exact = truncation_error_bound(F, C, steps=T, order=N, radius=np.linalg.norm(u_poly, axis=1), basis=basis)
    radius = a_priori_radius(F, steps=T)
    prior = truncation_error_bound(F, C, steps=T, order=N, radius=radius, basis=basis)
    seconds = time.perf_counter() - tic
    actual = float(np.linalg.norm(err))
    a = exact.coefficient_norms
    print(f"\nchapter 8, first segment (n = {n}, eta = {eta}, T = {T}, N = {N}, {basis}, D = {C.shape[0]}; "
          f"{seconds:.1f} s)")
    print(f"  coefficient norms ||F0||, ||I + F1||, ||F2|| = {a[0]:.4g}, {a[1]:.4g}, {a[2]:.4g}")
    print(f"  ||v_t|| of the polynomial map: max {np.max(np.linalg.norm(u_poly, axis=1)):.4g}; "
          f"a priori radius R_T = {radius[-1]:.4g}")
    print(f"  actual truncation error        {actual:.4g}")
    print(f"  after-the-fact estimate        {estimate:.4g}  ({estimate / actual:.3g}x)")
    print(f"  a priori bound, exact radius   {exact.bound:.4g}  ({exact.bound / actual:.3g}x)")
    print(f"  a priori bound, a priori radius {prior.bound:.4g}  ({prior.bound / actual:.3g}x)")
    per_level = np.array2string(np.max(exact.propagation_norms, axis=0), precision=4)
    print(f"  max_s ||P_1 C^s E_k W_k^-1|| per level: {per_level}")


if __name__ == "__main__":
    random_part()
    if "--no-chapter8" not in sys.argv[1:]:
        chapter8_part()
