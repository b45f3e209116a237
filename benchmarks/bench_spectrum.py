"""Benchmark: Hessian spectral density by Lanczos on exact Hessian-vector products.

Part 1: a model with about 1e5 parameters (tanh MLP 64-256-256-10, n = 85,770, and the CIFAR
ResNet-8x4 with a 16-channel stem on 8x8 digits, n = 77,754), pruned to 10 %: wall time of the
density, Hessian-vector products per second, one-at-a-time vs vmapped products.

Part 2: agreement with the exact spectrum (torch.linalg.eigvalsh of the full Hessian) on a model
small enough for it: extreme eigenvalues, moments tr(H^k)/n, mass beyond the cut, and the
wall time of the exact route against Lanczos.

Run:  OMP_NUM_THREADS=1 python benchmarks/bench_spectrum.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

from qsgd import data as qd
from qsgd import nn as qnn
from qsgd import spectrum as qs


def pretrained_pruned(model, data, steps, eta, momentum=0.0):
    qnn.train(model, data, steps=steps, eta=eta, batch_size=128, momentum=momentum, rng=0)
    qnn.prune_global(model, 0.9)
    return model


def time_density(op, *, num_steps, num_starts, rng=0, vectorize=True):
    start = time.perf_counter()
    dens = qs.lanczos_density(op, num_steps=num_steps, num_starts=num_starts, rng=rng, vectorize=vectorize)
    wall = time.perf_counter() - start
    return dens, wall


def single_hvp_rate(op, repeats=20):
    v = torch.randn(op.dim, dtype=op.dtype, generator=torch.Generator().manual_seed(0))
    op.matvec(v)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        op.matvec(v)
    return repeats / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    digits = qd.load_digits()
    digits_img = qd.load_digits(image=True)
    sub = 512

    print("\n== Part 1: spectral density of ~1e5-parameter models (512 samples, 4 starts x 64 steps) ==")
    print(f"{'model':28s} {'n':>7s} {'route':>10s} {'wall s':>7s} {'HVPs':>5s} {'HVP/s':>7s}")
    models = [
        ("MLP 64-256-256-10 (tanh)", torch.nn.Sequential(torch.nn.Flatten(), qnn.mlp([64, 256, 256, 10], rng=0)), digits, 0.1, 0.0),
        ("ResNet-8x4, stem 16", qnn.cifar_resnet(8, 4, stem_width=16, num_classes=10, in_channels=1, rng=0), digits_img, 0.05, 0.9),
    ]
    for name, model, data, eta, mom in models:
        pretrained_pruned(model, data, 150, eta, mom)
        op = qs.hessian_operator(model, (data.x_train[:sub], data.y_train[:sub]))
        single_hvp_rate(op, repeats=2)  # warm-up
        walls = {}
        for route, vec in (("one-by-one", False), ("vmapped", True)):
            start = time.perf_counter()
            dens = qs.lanczos_density(op, num_steps=64, num_starts=4, rng=0, vectorize=vec)
            walls[route] = time.perf_counter() - start
            print(f"{name:28s} {op.dim:7d} {route:>10s} {walls[route]:7.3g} {dens.hvp_count:5d} {dens.hvp_count / walls[route]:7.4g}")
        print(f"{'':28s} spectrum [{dens.lambda_min:.4g}, {dens.lambda_max:.4g}], "
              f"vmapped/one-by-one speed ratio {walls['one-by-one'] / walls['vmapped']:.3g}")

    print("\n== Part 2: Lanczos vs exact spectrum (torch.linalg.eigvalsh of the full Hessian) ==")
    model = torch.nn.Sequential(torch.nn.Flatten(), qnn.mlp([64, 32, 32, 10], rng=0, dtype="float64"))
    data64 = qd.load_digits(dtype="float64")
    pretrained_pruned(model, data64, 400, 0.1)
    op = qs.hessian_operator(model, (data64.x_train[:sub], data64.y_train[:sub]))
    start = time.perf_counter()
    exact = qs.exact_spectrum(op)
    wall_exact = time.perf_counter() - start
    print(f"MLP 64-32-32-10 (float64), n = {op.dim}: exact spectrum in {wall_exact:.3g} s ({op.dim} HVPs + eigvalsh)")
    print(f"{'steps x starts':>15s} {'wall s':>8s} {'speed-up':>9s} {'|dlam_min|':>11s} {'|dlam_max|':>11s} "
          f"{'rel err m1':>11s} {'rel err m2':>11s} {'mass>=0.4 (exact)':>18s}")
    for m, s in ((16, 2), (32, 4), (64, 4), (128, 8)):
        dens, wall = time_density(op, num_steps=m, num_starts=s, rng=1)
        errs = [abs(dens.moment(k) - np.mean(exact**k)) / abs(np.mean(exact**k)) for k in (1, 2)]
        mass = qs.mode_masses(dens, cut=0.4).dissipative
        mass_ex = qs.mode_masses(exact, cut=0.4).dissipative
        print(f"{m:>8d} x {s:<4d} {wall:8.3g} {wall_exact / wall:9.3g} {abs(dens.lambda_min - exact[0]):11.3g} "
              f"{abs(dens.lambda_max - exact[-1]):11.3g} {errs[0]:11.3g} {errs[1]:11.3g} {mass:9.4g} ({mass_ex:.4g})")


if __name__ == "__main__":
    main()
