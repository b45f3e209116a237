"""How loose is the a priori Taylor error bound? Ratios bound / actual over random instances.

For random polynomial losses (quadratic + cubic + quartic, and quintic for q = 3; n = 2..5,
eta in {0.01, 0.02, 0.05}, T = 1..15, q = 2 and 3) and tiny tanh networks (qsgd.nn.mlp with 2..6
inputs, 2..4 hidden units, 2..3 classes, 3..10 free first-layer weights; eta in {0.02, 0.1, 0.3},
T = 1..8, q = 1..3), computes the a priori bound of qsgd.gd.taylor_error_bound before the run and
the actual ||u_GD(T) - v(T)|| after it, and prints, per family, how many instances got a proof,
that the bound held on every one, and the median, 90th percentile and maximum of bound / actual
(instances whose map is exact, bound 0 and actual at round-off, are counted apart). Then the
first segment of chapter 8 (the 64-4-3 network with 24 free weights, eta = 0.1, T = 10, q = 2):
the bound per step against the actual error.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_taylor_bound.py
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings

import numpy as np
import torch

from qsgd.derivative_bounds import polynomial_loss, polynomial_loss_bounds, tanh_mlp_bounds
from qsgd.gd import gradient_descent, model_loss, polynomial_map, polynomial_radius_bound, taylor_error_bound
from qsgd.nn import mlp

warnings.filterwarnings("ignore", category=DeprecationWarning)


def random_polynomial(n, rng, *, quintic):
    a = rng.normal(size=(n, n))
    tensors = [0.0, rng.normal(size=n) * 0.5, 0.5 * (a @ a.T / n + 0.5 * np.eye(n)),
               rng.normal(size=(n,) * 3) * 0.2, rng.normal(size=(n,) * 4) * 0.1]
    if quintic:
        tensors.append(rng.normal(size=(n,) * 5) * 0.05)
    return tensors


def polynomial_bound(tensors, theta0, pmap, steps):
    """Grow the ball until it holds what the bound needs (all before any GD step)."""
    radius = max(float(polynomial_radius_bound(pmap, steps)[-1]), 0.1)
    for _ in range(30):
        res = taylor_error_bound(pmap, steps, polynomial_loss_bounds(tensors, theta0, radius=radius,
                                                                     degree=pmap.degree))
        if res.success or not math.isfinite(res.needed_radius):
            return res
        radius = 1.05 * res.needed_radius
    return taylor_error_bound(pmap, steps, polynomial_loss_bounds(tensors, theta0, radius=math.inf,
                                                                  degree=pmap.degree))


def polynomial_family(count, rng):
    rows = []
    for k in range(count):
        n, degree = int(rng.integers(2, 6)), (2, 3)[k % 2]
        eta, steps = float(rng.choice([0.01, 0.02, 0.05])), int(rng.integers(1, 16))
        tensors = random_polynomial(n, rng, quintic=degree == 3 and k % 4 == 1)
        theta0 = rng.normal(size=n) * 0.3
        loss = polynomial_loss(tensors)
        pmap = polynomial_map(loss, theta0, eta=eta, degree=degree)
        res = polynomial_bound(tensors, theta0, pmap, steps)
        actual = np.linalg.norm(gradient_descent(loss, theta0, eta=eta, steps=steps)[-1] - theta0
                                - pmap.trajectory(steps)[-1])
        wrong = taylor_error_bound(pmap, steps, dataclasses.replace(res.bounds, remainder=0.1 * res.bounds.remainder))
        rows.append((res, float(actual), wrong))
    return rows


def network_family(count, rng):
    rows = []
    for k in range(count):
        d, hdim, c = int(rng.integers(2, 7)), int(rng.integers(2, 5)), int(rng.integers(2, 4))
        model = mlp([d, hdim, c], rng=int(rng.integers(2**31)), dtype="float64")
        x = torch.tensor(rng.normal(size=(16, d)))
        y = torch.tensor(rng.integers(c, size=16))
        mask = {name: torch.zeros_like(p, dtype=torch.bool) for name, p in model.named_parameters()}
        free = torch.zeros(d * hdim, dtype=torch.bool)
        free[torch.tensor(rng.choice(d * hdim, size=int(rng.integers(3, min(10, d * hdim) + 1)), replace=False))] = 1
        mask["0.weight"] = free.reshape(hdim, d)
        degree, eta, steps = (1, 2, 3)[k % 3], float(rng.choice([0.02, 0.1, 0.3])), int(rng.integers(1, 9))
        loss, theta0, _ = model_loss(model, x, y, mask=mask)
        pmap = polynomial_map(loss, theta0, eta=eta, degree=degree)
        res = taylor_error_bound(pmap, steps, tanh_mlp_bounds(model, x, y, mask=mask, degree=degree))
        actual = np.linalg.norm(gradient_descent(loss, theta0, eta=eta, steps=steps)[-1] - theta0
                                - pmap.trajectory(steps)[-1])
        rows.append((res, float(actual), None))
    return rows


def summarize(name, rows):
    proven = [(r, a, w) for r, a, w in rows if r.success]
    held = all(a <= r.bound * (1 + 1e-9) + 1e-12 for r, a, _ in proven)
    exact = [(r, a) for r, a, _ in proven if r.bound == 0.0]
    ratios = np.array([r.bound / a for r, a, _ in proven if r.bound > 0 and a > 1e-14])
    print(f"{name}: {len(rows)} instances, {len(proven)} proven, bound held on all proven: {held}; "
          f"{len(exact)} exact (bound 0, max actual {max((a for _, a in exact), default=0):.1e})")
    if ratios.size:
        print(f"  bound / actual: median {np.median(ratios):.3g}, 90th percentile {np.quantile(ratios, 0.9):.3g}, "
              f"max {ratios.max():.3g}, min {ratios.min():.3g}")
    wrong = [(w, a) for _, a, w in proven if w is not None and w.success]
    if wrong:
        broken = sum(a > w.bound * (1 + 1e-9) + 1e-12 for w, a in wrong)
        print(f"  with 0.1 x the true remainder constant M the 'bound' fails on {broken} of {len(wrong)}")


def chapter8():
    from qsgd import nn as qnn
    from qsgd.data import load_digits

    classes = (3, 5, 8)
    digits = load_digits(rng=0, dtype="float64")
    keep = np.isin(digits.y_train.numpy(), classes)
    x, y = digits.x_train[keep], torch.as_tensor(np.searchsorted(classes, digits.y_train.numpy()[keep]))
    model = qnn.mlp([64, 4, 3], rng=0, dtype="float64")
    qnn.train(model, (x, y), steps=200, eta=0.1, batch_size=64, rng=0)
    masks = qnn.prune_global(model, amount=1 - 24 / model[0].weight.numel())
    with torch.no_grad():
        model[0].weight.zero_()
    mask = {name: masks.get(name, torch.zeros_like(p, dtype=torch.bool)) for name, p in model.named_parameters()}
    loss, theta0, _ = model_loss(model, x, y, mask=mask)
    pmap = polynomial_map(loss, theta0, eta=0.1, degree=2)
    bounds = tanh_mlp_bounds(model, x, y, mask=mask, degree=2)
    res = taylor_error_bound(pmap, 10, bounds)
    actual = np.linalg.norm(gradient_descent(loss, theta0, eta=0.1, steps=10) - theta0 - pmap.trajectory(10), axis=1)
    print(f"chapter 8, first segment (n = {theta0.size}, eta = 0.1, T = 10, q = 2): G = {bounds.gradient:.4g}, "
          f"H = {bounds.hessian:.4g}, M = {bounds.remainder:.4g}, Lambda = {res.lipschitz:.4g}; {res.message}")
    print(f"  {'t':>2} {'R_t':>10} {'bound e_t':>10} {'actual':>10}")
    for t in range(11):
        print(f"  {t:2d} {res.radius_bound[t]:10.3e} {res.per_step[t]:10.3e} {actual[t]:10.3e}")
    print(f"  a priori bound {res.bound:.3e} vs actual {actual[-1]:.4g} (ratio {res.bound / actual[-1]:.2e})")


def main():
    rng = np.random.default_rng(2024)
    tic = time.perf_counter()
    summarize("random polynomial losses", polynomial_family(120, rng))
    summarize("tiny tanh networks", network_family(40, rng))
    print(f"({time.perf_counter() - tic:.1f} s)")
    chapter8()


if __name__ == "__main__":
    main()
