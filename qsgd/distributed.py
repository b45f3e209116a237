"""Data-parallel Hessian spectra with ``torch.distributed`` (several GPUs or CPU processes).

At the paper's scale (ResNet-32x4, 7.45 million weights, CIFAR-100) one
Hessian-vector product over thousands of images is the unit of work. The loss
is a mean over samples, so its Hessian is a weighted sum of per-shard Hessians,

.. math:: H v = \\sum_{r=0}^{R-1} \\frac{N_r}{N}\\, H_r v ,

where rank :math:`r` holds :math:`N_r` of the :math:`N` samples. Every rank
computes its term with :func:`qsgd.spectrum.hessian_operator` on its shard and
an ``all_reduce`` (sum) gives every rank the same product. Lanczos then runs
identically on all ranks (the same start vectors, from the same seed), so
:func:`lanczos_density` returns the same :class:`qsgd.spectrum.SpectralDensity`
everywhere; only rank 0 writes it.

Launch with ``torchrun`` (NCCL on GPUs, gloo on CPU)::

    torchrun --standalone --nproc-per-node 8 -m qsgd.distributed spectrum \\
        --scale paper --data /path/to/cifar-100-python --pretrained resnet32x4.pt \\
        --samples 16384 --lanczos-steps 90 --output spectrum.npz

Used in chapter 7 (the paper-scale path).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

from qsgd import spectrum as qspec
from qsgd._validation import check_choice, check_int, describe

__all__ = ["hessian_operator", "init_from_env", "lanczos_density", "main", "shard", "world"]


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` without one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def init_from_env(backend: str | None = None) -> tuple[int, int]:
    """Join the process group that ``torchrun`` describes in the environment.

    Does nothing outside ``torchrun`` (no ``WORLD_SIZE``) or when a group
    exists. ``backend``: ``"nccl"`` or ``"gloo"``; default NCCL when CUDA is
    available, gloo otherwise. On GPUs each rank uses ``cuda:LOCAL_RANK``.

    Returns
    -------
    rank, world_size : int
    """
    func = "init_from_env"
    if backend is not None:
        check_choice(backend, "backend", {"nccl", "gloo"}, func=func)
    if "WORLD_SIZE" in os.environ and not torch.distributed.is_initialized():
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.distributed.init_process_group(backend=backend)
    return world()


def shard(data, *, rank: int | None = None, world_size: int | None = None):
    """The contiguous block of ``data`` that ``rank`` holds (sizes differ by at most one).

    ``data`` is a :class:`qsgd.nn.DataSplit` (its training part) or a pair
    ``(inputs, targets)``. Returns ``(inputs, targets)``.
    """
    from qsgd.nn import _split_data

    func = "shard"
    x, y = _split_data(data, func)
    r0, w0 = world()
    world_size = w0 if world_size is None else check_int(world_size, "world_size", func=func, minimum=1)
    rank = r0 if rank is None else check_int(rank, "rank", func=func, minimum=0, maximum=world_size - 1)
    if x.shape[0] < world_size:
        raise ValueError(f"{func}: {x.shape[0]} samples cannot be split over {world_size} ranks")
    bounds = np.linspace(0, x.shape[0], world_size + 1).round().astype(int)
    lo, hi = int(bounds[rank]), int(bounds[rank + 1])
    return x[lo:hi], y[lo:hi]


def hessian_operator(model, data, *, group=None, **kwargs) -> qspec.HessianOperator:
    """Hessian of the mean loss over *all* ranks' data, each rank holding its shard.

    ``data`` is the full data set on every rank (it is cut with :func:`shard`);
    ``kwargs`` go to :func:`qsgd.spectrum.hessian_operator`. Without a process
    group this is the single-process operator. The products all-reduce, so
    they cannot run under ``vmap`` (``vmappable=False``).

    Used in chapter 7.
    """
    from qsgd.nn import _split_data

    x, y = _split_data(data, "hessian_operator")
    if x.shape[0] == 0:
        raise ValueError("hessian_operator: data is empty")
    rank, size = world()
    if size == 1:
        return qspec.hessian_operator(model, (x, y), **kwargs)
    xs, ys = shard((x, y), rank=rank, world_size=size)
    local = qspec.hessian_operator(model, (xs, ys), **kwargs)
    weight = xs.shape[0] / x.shape[0]

    def hvp(v):
        out = local.hvp(v) * weight
        torch.distributed.all_reduce(out, op=torch.distributed.ReduceOp.SUM, group=group)
        return out

    return qspec.HessianOperator(
        hvp=hvp, dim=local.dim, dtype=local.dtype, device=local.device, theta=local.theta, vmappable=False
    )


def lanczos_density(model, data, *, rng=None, group=None, operator_kwargs=None, **kwargs) -> qspec.SpectralDensity:
    """:func:`qsgd.spectrum.lanczos_density` with data-parallel products (same result on every rank).

    ``rng`` must be an int seed (or ``None`` for 0) so that all ranks draw the
    same start vectors.

    Used in chapter 7.
    """
    func = "lanczos_density"
    if rng is not None and not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{func}: rng must be an int seed shared by all ranks, got {describe(rng)}")
    if operator_kwargs is not None and not isinstance(operator_kwargs, dict):
        raise ValueError(f"{func}: operator_kwargs must be None or a dict, got {describe(operator_kwargs)}")
    op = hessian_operator(model, data, group=group, **(operator_kwargs or {}))
    return qspec.lanczos_density(op, rng=0 if rng is None else int(rng), **kwargs)


def _spectrum_cli(args) -> int:
    from qsgd import experiments as qe
    from qsgd import nn as qnn

    rank, size = init_from_env(args.backend)
    if args.model_file:
        model = torch.load(args.model_file, weights_only=False)
        x, y = torch.load(args.data_file, weights_only=False)
        data = (x, y)
    else:
        overrides = {k: v for k, v in (("data_path", args.data), ("data_dir", args.data_dir),
                                       ("pretrained", args.pretrained)) if v is not None}
        cfg = qe.config_for(args.scale, **overrides)
        split = qe._load_data(cfg)
        model = qe._build_model(cfg, split)
        if cfg.pretrained:
            model.load_state_dict(torch.load(cfg.pretrained, map_location="cpu", weights_only=True))
        if args.prune:
            qnn.prune_global(model, cfg.prune_amount)
        n = min(args.samples, split.x_train.shape[0])
        perm = torch.randperm(split.x_train.shape[0], generator=torch.Generator().manual_seed(cfg.seed))[:n]
        data = (split.x_train[perm], split.y_train[perm])
    device = f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() and args.backend != "gloo" else "cpu"
    model = model.to(device)
    dens = lanczos_density(
        model, data, rng=args.seed, num_steps=args.lanczos_steps, num_starts=args.lanczos_starts,
        vectorize=False, operator_kwargs={"batch_size": args.batch_size, "device": device},
    )
    if rank == 0:
        np.savez(args.output, nodes=dens.nodes, weights=dens.weights, grid=dens.grid, density=dens.density,
                 lambda_min=dens.lambda_min, lambda_max=dens.lambda_max, dim=dens.dim, world_size=size)
        sys.stdout.write(
            f"n = {dens.dim:,}, {size} rank(s): lambda in [{dens.lambda_min:.4g}, {dens.lambda_max:.4g}], "
            f"{dens.hvp_count} Hessian-vector products; written to {args.output}\n"
        )
    if size > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``torchrun ... -m qsgd.distributed spectrum ...``: a data-parallel Hessian spectrum.

    Used in chapter 7.
    """
    parser = argparse.ArgumentParser(
        prog="python -m qsgd.distributed",
        description="Data-parallel Hessian spectral density (Lanczos on all-reduced Hessian-vector products). "
        "Run under torchrun; a single process works too.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("spectrum", help="Hessian spectrum of a (pre-trained, pruned) model",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sp.add_argument("--scale", choices=("small", "fashion", "paper"), default="paper",
                    help="model and data preset of `python -m qsgd experiments`")
    sp.add_argument("--data", default=None, help="CIFAR-100 directory (scale paper)")
    sp.add_argument("--data-dir", default=None, help="Fashion-MNIST directory (scale fashion)")
    sp.add_argument("--pretrained", default=None, help="state dict of the trained dense model")
    sp.add_argument("--no-prune", dest="prune", action="store_false", help="skip pruning to the top 10%%")
    sp.add_argument("--model-file", default=None, help="a whole model saved with torch.save (instead of --scale)")
    sp.add_argument("--data-file", default=None, help="a pair (inputs, targets) saved with torch.save")
    sp.add_argument("--samples", type=int, default=2048, help="training samples in the Hessian's loss")
    sp.add_argument("--batch-size", type=int, default=256, help="samples per chunk of a product, per rank")
    sp.add_argument("--lanczos-steps", type=int, default=64, help="Lanczos steps per start")
    sp.add_argument("--lanczos-starts", type=int, default=1, help="random start vectors")
    sp.add_argument("--seed", type=int, default=0, help="seed of the start vectors (the same on all ranks)")
    sp.add_argument("--backend", choices=("nccl", "gloo"), default=None, help="default: nccl with CUDA, else gloo")
    sp.add_argument("--output", default="spectrum.npz", help="where rank 0 writes the result")
    args = parser.parse_args(argv)
    if args.model_file and not args.data_file:
        parser.error("--model-file needs --data-file")
    return _spectrum_cli(args)


if __name__ == "__main__":
    sys.exit(main())
