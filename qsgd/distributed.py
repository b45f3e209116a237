r"""Data-parallel Hessian spectra with ``torch.distributed`` (several GPUs or CPU processes).

At the paper's scale (ResNet-32x4, 7.45 million weights, CIFAR-100) one
Hessian-vector product over thousands of images is the unit of work. The loss
is a mean over samples, so its Hessian is a weighted sum of per-shard Hessians,

.. math:: H v = \sum_{r=0}^{R-1} \frac{N_r}{N}\, H_r v ,

where rank :math:`r` holds :math:`N_r` of the :math:`N` samples. Every rank
computes its term with :func:`qsgd.spectrum.hessian_operator` on its shard and
an ``all_reduce`` (sum) gives every rank the same product. Lanczos then runs
identically on all ranks (the same start vectors, from the same seed), so
:func:`sharded_lanczos_density` returns the same :class:`qsgd.spectrum.SpectralDensity`
everywhere; only rank 0 writes it.

Launch with ``torchrun`` (NCCL on GPUs, gloo on CPU)::

    torchrun --standalone --nproc-per-node 8 -m qsgd spectrum \
        --scale paper --data /path/to/cifar-100-python --pretrained resnet32x4.pt \
        --samples 16384 --lanczos-steps 90 --output spectrum.npz

The command line itself is :func:`qsgd.__main__.spectrum_main` (it builds the preset's
model and data with :mod:`qsgd.experiments`, which uses this module).

Used in chapter 7 (the paper-scale path).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

from qsgd import spectrum as qspec
from qsgd._validation import as_seed, check_choice, check_int, describe
from qsgd.data import split_data

__all__ = ["init_from_env", "shard", "sharded_hessian_operator", "sharded_lanczos_density", "world"]


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

    ``data`` is a :class:`qsgd.data.DataSplit` (its training part) or a pair
    ``(inputs, targets)``. Returns ``(inputs, targets)``.
    """
    func = "shard"
    x, y = split_data(data, func=func)
    r0, w0 = world()
    world_size = w0 if world_size is None else check_int(world_size, "world_size", func=func, minimum=1)
    rank = r0 if rank is None else check_int(rank, "rank", func=func, minimum=0, maximum=world_size - 1)
    if x.shape[0] < world_size:
        raise ValueError(f"{func}: {x.shape[0]} samples cannot be split over {world_size} ranks")
    bounds = np.linspace(0, x.shape[0], world_size + 1).round().astype(int)
    lo, hi = int(bounds[rank]), int(bounds[rank + 1])
    return x[lo:hi], y[lo:hi]


def sharded_hessian_operator(model, data, *, group=None, **kwargs) -> qspec.HessianOperator:
    """Hessian of the mean loss over *all* ranks' data, each rank holding its shard.

    ``data`` is the full data set on every rank (it is cut with :func:`shard`);
    ``kwargs`` go to :func:`qsgd.spectrum.hessian_operator`. Without a process
    group this is the single-process operator. The products all-reduce, so
    they cannot run under ``vmap`` (``vmappable=False``).

    Used in chapter 7.
    """
    x, y = split_data(data, func="sharded_hessian_operator")
    if x.shape[0] == 0:
        raise ValueError("sharded_hessian_operator: data is empty")
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


def sharded_lanczos_density(model, data, *, rng=None, group=None, operator_kwargs=None, **kwargs) -> qspec.SpectralDensity:
    """:func:`qsgd.spectrum.lanczos_density` with data-parallel products (same result on every rank).

    ``rng`` must be an int seed or ``None`` so that all ranks draw the same start vectors: for
    ``None`` rank 0 draws a seed from fresh entropy and broadcasts it to the group. The seed
    used is the result's ``seed`` (``rng=result.seed`` repeats the run).

    Used in chapter 7.
    """
    func = "sharded_lanczos_density"
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, (int, np.integer))):
        raise ValueError(f"{func}: rng must be an int seed shared by all ranks or None, got {describe(rng)}")
    if operator_kwargs is not None and not isinstance(operator_kwargs, dict):
        raise ValueError(f"{func}: operator_kwargs must be None or a dict, got {describe(operator_kwargs)}")
    seed = as_seed(rng, func=func)
    if rng is None and world()[1] > 1:
        shared = [seed]
        torch.distributed.broadcast_object_list(shared, src=0, group=group)
        seed = int(shared[0])
    op = sharded_hessian_operator(model, data, group=group, **(operator_kwargs or {}))
    return qspec.lanczos_density(op, rng=seed, **kwargs)


if __name__ == "__main__":
    # the command line builds models and data with qsgd.experiments (which imports this module), so it
    # lives in qsgd.__main__: python -m qsgd spectrum
    sys.exit("the data-parallel spectrum runs as: torchrun ... -m qsgd spectrum ... (python -m qsgd spectrum --help)")
