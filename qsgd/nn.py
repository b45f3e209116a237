r"""Models, pruning and training for the paper's numerical experiments.

The experiments of [1]_ (Figs. 2 and 3) start from a network pre-trained on
CIFAR-100, keep its largest 10 % of weights (global L1 magnitude pruning) and
continue training with SGD steps on random minibatches of 2048 images. This
module provides the pieces at any scale:

* :func:`cifar_resnet` -- the CIFAR ResNet family of the authors' code
  (3 stages of ``(depth - 2) / 6`` BasicBlocks of widths ``w, 2w, 4w`` with
  ``w = stem_width * widen_factor / 4``); ``cifar_resnet(32, 4)`` has exactly
  7,451,044 parameters, the paper's "7 million" model;
* :func:`small_cnn` -- a small convolutional network for 28x28 grey images
  (two stride-2 convolutions and a hidden linear layer; chapter 7 trains it
  on Fashion-MNIST, loaded by :func:`qsgd.data.load_fashion_mnist`);
* :func:`mlp` -- a small fully connected network with a *smooth* activation
  (``tanh`` by default), so that the gradient-descent map has a convergent
  Taylor expansion (chapters 2 and 6 expand it into a polynomial map);
* :func:`prune_global` -- global L1 magnitude pruning with
  ``torch.nn.utils.prune``; :func:`apply_mask`, :func:`count_parameters`;
* :func:`train` -- a deterministic minibatch SGD loop (optionally masked) with
  learning rate ``eta`` and a tqdm progress bar that is off by default; :func:`accuracy`.

The data sets (the digits, Fashion-MNIST, CIFAR-100) and :class:`qsgd.data.DataSplit` live in
:mod:`qsgd.data`.

Randomness: the models and :func:`train` take ``rng=``, an int seed or a NumPy Generator from
which one int seed is drawn; ``rng=None`` draws that seed from fresh entropy
(:func:`qsgd._validation.as_seed`). The models are initialised under that seed in a forked torch
RNG, so the caller's global torch state is neither used nor changed.

References
----------
.. [1] J. Liu, M. Liu, J.-P. Liu, Z. Ye, Y. Wang, Y. Alexeev, J. Eisert, L. Jiang,
   "Towards provably efficient quantum algorithms for large-scale machine-learning
   models", Nat. Commun. 15, 434 (2024), arXiv:2303.03428.
.. [2] S. Zagoruyko, N. Komodakis, "Wide residual networks", BMVC (2016).
.. [3] K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image
   recognition", CVPR (2016).

Used in chapters 2, 3, 5, 6, 7 and 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune
from tqdm import tqdm

from qsgd._validation import (
    DivergenceError,
    as_seed,
    check_bool,
    check_choice,
    check_int,
    check_memory,
    check_positive,
    describe,
    progress_disabled,
)
from qsgd.data import split_data, torch_dtype

__all__ = [
    "ACTIVATIONS",
    "BasicBlock",
    "CifarResNet",
    "TrainResult",
    "accuracy",
    "apply_mask",
    "check_step_decay",
    "cifar_resnet",
    "cifar_resnet_parameter_count",
    "count_parameters",
    "mlp",
    "prune_global",
    "prunable_parameters",
    "recalibrate_batch_norm",
    "small_cnn",
    "train",
]

#: activations by name; all but ``relu`` are infinitely differentiable
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "relu": nn.ReLU,
}



def _check_model_size(count: float, dt: torch.dtype, max_bytes, func: str) -> None:
    """Refuse a model whose parameters alone would exceed the memory limit, before building it."""
    itemsize = 4.0 if dt == torch.float32 else 8.0
    check_memory(itemsize * float(count), what=f"the {float(count):.3g} parameters", max_bytes=max_bytes, func=func)


class _Seeded:
    """Context manager: run a block under ``torch.manual_seed(seed)`` in a forked torch RNG,
    so that the caller's global torch state is neither used nor changed."""

    def __init__(self, seed: int):
        self.seed = seed
        self._ctx = None

    def __enter__(self):
        self._ctx = torch.random.fork_rng(devices=[])
        self._ctx.__enter__()
        torch.manual_seed(self.seed)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------


def mlp(
    sizes,
    *,
    activation: str = "tanh",
    bias: bool = True,
    dtype="float32",
    rng=None,
    max_bytes: float | None = None,
) -> nn.Sequential:
    r"""A fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Hidden layers are ``Linear`` followed by the activation; the last layer is
    linear (logits). With a smooth activation (``tanh``, ``sigmoid``,
    ``softplus``, ``gelu``, ``silu``) the loss is analytic in the weights, so the
    gradient-descent update :math:`\theta \mapsto \theta - \eta \nabla
    \mathcal L(\theta)` has the Taylor expansion :math:`\sum_\ell F_\ell
    u^{\otimes \ell}` that the paper's Eq. (4) assumes [1]_.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, at least two entries, each >= 1.
    activation : str, keyword-only
        One of :data:`ACTIVATIONS`; ``"relu"`` is allowed but not smooth.
    bias : bool, keyword-only
        Whether the linear layers carry biases.
    dtype : {"float32", "float64"} or torch dtype, keyword-only
    rng : None, int or numpy Generator, keyword-only
        Seed of the default PyTorch initialisation: an int, one drawn from a Generator,
        or for ``None`` one drawn from fresh entropy (:func:`qsgd._validation.as_seed`).
        The global torch RNG is neither used nor changed.
    max_bytes : float or None, keyword-only
        Limit on the memory of the parameters (default: the shared limit of
        :func:`qsgd._validation.check_memory`); larger networks are refused before
        anything is allocated.

    Returns
    -------
    torch.nn.Sequential

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Eq. (4).

    Examples
    --------
    >>> model = mlp([64, 16, 10], rng=0)
    >>> count_parameters(model)
    1210

    Used in chapters 2, 6 and 8.
    """
    func = "mlp"
    try:
        sizes = list(sizes)
    except TypeError as exc:
        raise ValueError(f"{func}: sizes must be a sequence of int, got {describe(sizes)}") from exc
    if len(sizes) < 2:
        raise ValueError(f"{func}: sizes needs at least 2 entries (input, output), got {sizes!r}")
    sizes = [check_int(s, f"sizes[{i}]", func=func, minimum=1) for i, s in enumerate(sizes)]
    check_choice(activation, "activation", set(ACTIVATIONS), func=func)
    dt = torch_dtype(dtype, func=func)
    bias = check_bool(bias, "bias", func=func)
    _check_model_size(sum((float(a) + bias) * float(b) for a, b in zip(sizes[:-1], sizes[1:])), dt, max_bytes, func)
    seed = as_seed(rng, func=func)
    layers: list[nn.Module] = []
    with _Seeded(seed):
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b, bias=bool(bias), dtype=dt))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def small_cnn(
    channels=(8, 16),
    *,
    hidden: int = 32,
    image_size: int = 28,
    in_channels: int = 1,
    num_classes: int = 10,
    activation: str = "tanh",
    dtype="float32",
    rng=None,
    max_bytes: float | None = None,
) -> nn.Sequential:
    r"""A small convolutional network: two stride-2 3x3 convolutions, a hidden layer, logits.

    ``Conv(in, c1, 3, stride 2) -> act -> Conv(c1, c2, 3, stride 2) -> act ->
    flatten -> Linear(c2 * s * s, hidden) -> act -> Linear(hidden, classes)``
    with :math:`s = \lceil\lceil \text{image\_size}/2\rceil/2\rceil` (7 for
    28x28 images). All layers carry biases; with a smooth activation the loss
    is analytic in the weights. ``small_cnn()`` has 26,698 parameters, of which
    26,312 are the prunable weights of the two convolutions and the hidden
    layer (the classifier stays dense under :func:`prune_global`).

    Parameters
    ----------
    channels : pair of int
        Output channels ``(c1, c2)`` of the two convolutions.
    hidden : int, keyword-only
    image_size : int, keyword-only
        Side of the square input images.
    in_channels, num_classes : int, keyword-only
    activation : str, keyword-only
        One of :data:`ACTIVATIONS`.
    dtype : {"float32", "float64"}, keyword-only
    rng : None, int or numpy Generator, keyword-only
        Seed of the default initialisation, as in :func:`mlp` (the global torch RNG
        is neither used nor changed).

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> count_parameters(small_cnn())
    26698

    Used in chapter 7.
    """
    func = "small_cnn"
    try:
        channels = tuple(channels)
    except TypeError as exc:
        raise ValueError(f"{func}: channels must be a pair of int, got {describe(channels)}") from exc
    if len(channels) != 2:
        raise ValueError(f"{func}: channels must be a pair (c1, c2), got {channels!r}")
    c1, c2 = (check_int(c, f"channels[{i}]", func=func, minimum=1) for i, c in enumerate(channels))
    hidden = check_int(hidden, "hidden", func=func, minimum=1)
    image_size = check_int(image_size, "image_size", func=func, minimum=1)
    in_channels = check_int(in_channels, "in_channels", func=func, minimum=1)
    num_classes = check_int(num_classes, "num_classes", func=func, minimum=1)
    check_choice(activation, "activation", set(ACTIVATIONS), func=func)
    dt = torch_dtype(dtype, func=func)
    side = -(-(-(-image_size // 2)) // 2)
    count = ((in_channels * 9.0 + 1) * c1 + (c1 * 9.0 + 1) * c2 + (float(c2) * side * side + 1) * hidden
             + (hidden + 1.0) * num_classes)
    _check_model_size(count, dt, max_bytes, func)
    act = ACTIVATIONS[activation]
    with _Seeded(as_seed(rng, func=func)):
        return nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, stride=2, padding=1, dtype=dt),
            act(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1, dtype=dt),
            act(),
            nn.Flatten(),
            nn.Linear(c2 * side * side, hidden, dtype=dt),
            act(),
            nn.Linear(hidden, num_classes, dtype=dt),
        )


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1-conv) shortcut [3]_.

    ``in_planes``, ``planes`` and ``stride`` are integers >= 1 and ``activation`` a key of
    :data:`ACTIVATIONS`; anything else is a ``ValueError`` naming the argument and the value.
    """

    def __init__(self, in_planes: int, planes: int, stride: int, activation: str, **factory):
        func = "BasicBlock"
        in_planes = check_int(in_planes, "in_planes", func=func, minimum=1)
        planes = check_int(planes, "planes", func=func, minimum=1)
        stride = check_int(stride, "stride", func=func, minimum=1)
        check_choice(activation, "activation", set(ACTIVATIONS), func=func)
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False, **factory)
        self.bn1 = nn.BatchNorm2d(planes, **factory)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False, **factory)
        self.bn2 = nn.BatchNorm2d(planes, **factory)
        self.act = ACTIVATIONS[activation]()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False, **factory),
                nn.BatchNorm2d(planes, **factory),
            )
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """CIFAR ResNet: stem conv, three stages of BasicBlocks, global pooling, linear head.

    Built by :func:`cifar_resnet` (which also seeds the initialisation and guards the
    size); the constructor checks its arguments the same way, naming ``CifarResNet``.
    """

    def __init__(
        self,
        depth: int,
        widen_factor: int,
        stem_width: int,
        num_classes: int,
        in_channels: int,
        activation: str,
        **factory,
    ):
        func = "CifarResNet"
        depth, widen_factor, stem_width, num_classes, in_channels = _check_resnet_args(
            depth, widen_factor, stem_width, num_classes, in_channels, func
        )
        check_choice(activation, "activation", set(ACTIVATIONS), func=func)
        super().__init__()
        blocks = (depth - 2) // 6
        base = stem_width * widen_factor // 4
        widths = (base, 2 * base, 4 * base)
        self.depth, self.widen_factor, self.stem_width, self.widths = depth, widen_factor, stem_width, widths
        self.conv1 = nn.Conv2d(in_channels, stem_width, 3, stride=1, padding=1, bias=False, **factory)
        self.bn1 = nn.BatchNorm2d(stem_width, **factory)
        self.act = ACTIVATIONS[activation]()
        in_planes = stem_width
        stages = []
        for k, planes in enumerate(widths):
            layer = []
            for b in range(blocks):
                stride = 2 if (k > 0 and b == 0) else 1
                layer.append(BasicBlock(in_planes, planes, stride, activation, **factory))
                in_planes = planes
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(in_planes, num_classes, **factory)

    def forward(self, x):
        out = self.act(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(torch.flatten(self.pool(out), 1))


def _check_resnet_args(depth, widen_factor, stem_width, num_classes, in_channels, func):
    depth = check_int(depth, "depth", func=func, minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"{func}: depth must be 6k + 2 (8, 14, 20, 26, 32, ...), got {depth}")
    widen_factor = check_int(widen_factor, "widen_factor", func=func, minimum=1)
    stem_width = check_int(stem_width, "stem_width", func=func, minimum=1)
    if (stem_width * widen_factor) % 4:
        raise ValueError(
            f"{func}: stem_width * widen_factor must be divisible by 4 (stage widths "
            f"stem_width * widen_factor / 4 * (1, 2, 4)), got {stem_width} * {widen_factor}"
        )
    num_classes = check_int(num_classes, "num_classes", func=func, minimum=1)
    in_channels = check_int(in_channels, "in_channels", func=func, minimum=1)
    return depth, widen_factor, stem_width, num_classes, in_channels


def cifar_resnet(
    depth: int,
    widen_factor: int,
    *,
    stem_width: int = 64,
    num_classes: int = 100,
    in_channels: int = 3,
    activation: str = "relu",
    device=None,
    dtype="float32",
    rng=None,
    max_bytes: float | None = None,
) -> CifarResNet:
    r"""The CIFAR ResNet of the paper's Fig. 2 experiments.

    Layout (as in the authors' ``network/res_net.py``, branch ``henry``): a 3x3
    stem convolution ``in_channels -> stem_width`` with batch norm; three stages
    of :math:`(\text{depth}-2)/6` BasicBlocks [3]_ of widths :math:`w, 2w, 4w`,
    :math:`w = \text{stem\_width}\cdot\text{widen\_factor}/4`, the first
    block of stages 2 and 3 with stride 2 and a 1x1-conv + batch-norm shortcut;
    global average pooling; a linear head with bias. Convolutions have no bias.

    ``cifar_resnet(32, 4)`` is the paper's "7 million" model with exactly
    7,451,044 trainable parameters (widths 64/128/256) [1]_;
    ``cifar_resnet(32, 15)`` has 104,026,116, close to the "103 million" model
    of Fig. 3 (whose architecture the paper does not state).

    Parameters
    ----------
    depth : int
        ``6k + 2`` with ``k >= 1`` BasicBlocks per stage (32 -> 5 blocks).
    widen_factor : int
    stem_width : int, keyword-only
        Channels of the stem convolution (64 in the authors' code).
    num_classes : int, keyword-only
    in_channels : int, keyword-only
        3 for CIFAR, 1 for the 8x8 digits.
    activation : str, keyword-only
        ``"relu"`` (the authors' choice) or a smooth one from :data:`ACTIVATIONS`.
    device : torch device, keyword-only
        ``"meta"`` builds the network without allocating weights (for counting).
    dtype : {"float32", "float64"}, keyword-only
    rng : None, int or numpy Generator, keyword-only
        Seed of the default initialisation, as in :func:`mlp` (the global torch RNG
        is neither used nor changed).

    Returns
    -------
    CifarResNet

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2.
    .. [2] Zagoruyko and Komodakis, BMVC (2016).
    .. [3] He et al., CVPR (2016).

    Used in chapters 3 and 7.
    """
    func = "cifar_resnet"
    depth, widen_factor, stem_width, num_classes, in_channels = _check_resnet_args(
        depth, widen_factor, stem_width, num_classes, in_channels, func
    )
    check_choice(activation, "activation", set(ACTIVATIONS), func=func)
    factory = {"device": device, "dtype": torch_dtype(dtype, func=func)}
    if str(device) != "meta":
        count = cifar_resnet_parameter_count(depth, widen_factor, stem_width=stem_width, num_classes=num_classes,
                                             in_channels=in_channels)
        _check_model_size(count, factory["dtype"], max_bytes, func)
    with _Seeded(as_seed(rng, func=func)):
        return CifarResNet(depth, widen_factor, stem_width, num_classes, in_channels, activation, **factory)


def cifar_resnet_parameter_count(
    depth: int, widen_factor: int, *, stem_width: int = 64, num_classes: int = 100, in_channels: int = 3
) -> int:
    r"""Number of trainable parameters of :func:`cifar_resnet`, counted analytically.

    Stem :math:`9 c_0 s + 2s`; per BasicBlock :math:`9 c_{in} c + 9 c^2 + 4c`
    plus :math:`c_{in} c + 2c` for a projection shortcut; head :math:`4w\,K + K`.

    Used in chapters 3 and 7.
    """
    func = "cifar_resnet_parameter_count"
    depth, widen_factor, stem_width, num_classes, in_channels = _check_resnet_args(
        depth, widen_factor, stem_width, num_classes, in_channels, func
    )
    blocks = (depth - 2) // 6
    base = stem_width * widen_factor // 4
    total = 9 * in_channels * stem_width + 2 * stem_width
    cin = stem_width
    for k, c in enumerate((base, 2 * base, 4 * base)):
        for b in range(blocks):
            total += 9 * cin * c + 9 * c * c + 4 * c
            if (k > 0 and b == 0) or cin != c:
                total += cin * c + 2 * c
            cin = c
    return total + cin * num_classes + num_classes


def count_parameters(model: nn.Module, *, trainable_only: bool = True, nonzero: bool = False) -> int:
    """Number of (trainable) parameters; ``nonzero=True`` counts only non-zero entries.

    Works on the ``meta`` device for ``nonzero=False``. Buffers (batch-norm
    running statistics) are not parameters and are not counted.

    Used in chapters 3, 7 and 8.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"count_parameters: model must be a torch.nn.Module, got {describe(model)}")
    total = 0
    for p in model.parameters():
        if trainable_only and not p.requires_grad:
            continue
        total += int(torch.count_nonzero(p.detach())) if nonzero else p.numel()
    return total


# ---------------------------------------------------------------------------
# pruning
# ---------------------------------------------------------------------------


def prunable_parameters(model: nn.Module, *, exclude_last: bool = True) -> list[tuple[str, nn.Module]]:
    """``(qualified module name, module)`` of every Conv2d/Linear whose weight is pruned.

    As in the authors' pruning code (``pruner.py``, branch ``henry``): all convolution and linear
    weights, except the last linear layer (the classifier) when
    ``exclude_last``. Biases and batch-norm parameters are never pruned.
    """
    func = "prunable_parameters"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    exclude_last = check_bool(exclude_last, "exclude_last", func=func)
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if exclude_last and found and isinstance(found[-1][1], nn.Linear):
        found = found[:-1]
    return found


def prune_global(
    model: nn.Module,
    amount: float = 0.9,
    *,
    exclude_last: bool = True,
    permanent: bool = True,
) -> dict[str, torch.Tensor]:
    r"""Global L1 magnitude pruning: keep the largest ``1 - amount`` of the weights.

    All weights of :func:`prunable_parameters` are ranked together by
    :math:`|\theta_\mu|` and the smallest fraction ``amount`` is set to zero
    (``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured``), the
    paper's "largest 10 % of learned parameters" for ``amount=0.9`` [1]_.

    Parameters
    ----------
    model : torch.nn.Module
        Pruned in place.
    amount : float
        Fraction in [0, 1) of the prunable weights removed.
    exclude_last : bool, keyword-only
        Leave the classifier layer dense (authors' choice).
    permanent : bool, keyword-only
        ``True`` (default) removes the pruning re-parametrization
        (``prune.remove``) so the model has plain parameters with zeros;
        ``False`` leaves the ``weight_orig``/``weight_mask`` hooks in place.

    Returns
    -------
    dict of str -> torch.Tensor
        Boolean masks keyed by parameter name (``"0.weight"``, ``"layer1.0.conv1.weight"``),
        ``True`` where the weight is kept. Pass it to :func:`train` or :func:`apply_mask`.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2 and Methods.

    Used in chapters 3, 5, 7 and 8.
    """
    func = "prune_global"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    amount = check_positive(amount, "amount", func=func, strict=False)
    permanent = check_bool(permanent, "permanent", func=func)
    exclude_last = check_bool(exclude_last, "exclude_last", func=func)
    if amount >= 1:
        raise ValueError(f"{func}: amount must be in [0, 1), got {amount}")
    targets = prunable_parameters(model, exclude_last=exclude_last)
    if not targets:
        raise ValueError(f"{func}: model has no prunable Conv2d/Linear weights (exclude_last={exclude_last})")
    orders = [list(m._parameters) for _, m in targets]
    prune.global_unstructured(
        [(m, "weight") for _, m in targets], pruning_method=prune.L1Unstructured, amount=amount
    )
    masks = {}
    for name, m in targets:
        key = f"{name}.weight" if name else "weight"
        masks[key] = m.weight_mask.detach().clone().bool()
        if permanent:
            prune.remove(m, "weight")
    if permanent:
        # prune.remove re-registers ``weight`` after ``bias``; restore the original order so
        # that flattened parameter vectors keep their layout across pruning (and checkpoints)
        for (_, m), order in zip(targets, orders):
            entries = [(k, m._parameters.pop(k)) for k in order if k in m._parameters]
            m._parameters.update(entries)
    return masks


@torch.no_grad()
def apply_mask(model: nn.Module, mask: dict[str, torch.Tensor]) -> None:
    """Zero the parameters outside ``mask`` in place (``theta <- theta * mask``)."""
    _check_mask(model, mask, "apply_mask")
    params = dict(model.named_parameters())
    for name, m in mask.items():
        params[name].mul_(m.to(params[name].device, params[name].dtype))


def _check_mask(model: nn.Module, mask, func: str) -> None:
    """``mask`` is a dict of tensors keyed by parameter names of ``model``, each of its parameter's shape."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(mask, dict):
        raise ValueError(f"{func}: mask must be a dict of boolean tensors (from prune_global), got {describe(mask)}")
    params = dict(model.named_parameters())
    for name, m in mask.items():
        if name not in params:
            raise ValueError(f"{func}: mask names parameter {name!r}, which the model does not have")
        if not isinstance(m, torch.Tensor):
            raise ValueError(f"{func}: mask[{name!r}] must be a boolean tensor, got {describe(m)}")
        if m.shape != params[name].shape:
            raise ValueError(f"{func}: mask[{name!r}] has shape {tuple(m.shape)}, parameter {tuple(params[name].shape)}")


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    r"""Per-step record of :func:`train`.

    Attributes
    ----------
    loss, accuracy : ndarray of shape (steps,)
        Minibatch loss and minibatch accuracy *before* each update.
    steps, eta, batch_size, momentum, weight_decay, masked :
        The settings the run used (``eta`` the learning rate :math:`\eta`).
    seed : int
        The int seed of the minibatch generator: the ``rng`` passed to :func:`train`
        when it is an int, the seed drawn from it when it is a Generator or ``None``
        (rerunning with ``rng=result.seed`` repeats the run).
    """

    loss: np.ndarray
    accuracy: np.ndarray
    steps: int
    eta: float
    batch_size: int
    momentum: float
    weight_decay: float
    seed: int
    masked: bool


def check_step_decay(
    milestones, gamma, *, prefix: str = "", func: str = "check_step_decay"
) -> tuple[tuple[int, ...], float]:
    """A step decay's ``(milestones, gamma)``: strictly increasing positive ints and a factor in (0, 1].

    ``prefix`` names the arguments in messages (``"pretrain_"`` for :class:`qsgd.experiments.ExperimentConfig`).
    """
    name = f"{prefix}milestones"
    if not isinstance(milestones, (tuple, list)):
        raise ValueError(f"{func}: {name} must be a tuple of increasing positive int, got {describe(milestones)}")
    out = tuple(check_int(m, f"{name}[{i}]", func=func, minimum=1) for i, m in enumerate(milestones))
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"{func}: {name} must be strictly increasing, got {list(out)}")
    gamma = check_positive(gamma, f"{prefix}gamma", func=func)
    if gamma > 1:
        raise ValueError(f"{func}: {prefix}gamma must be in (0, 1], got {gamma}")
    return out, gamma


def train(
    model: nn.Module,
    data,
    *,
    steps: int,
    eta: float,
    batch_size: int = 128,
    mask: dict[str, torch.Tensor] | None = None,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    milestones=(),
    gamma: float = 0.1,
    loss_fn: Callable | None = None,
    progress: bool = False,
    rng=0,
    device=None,
) -> TrainResult:
    r"""Minibatch SGD, deterministic given ``rng``.

    Each step draws ``batch_size`` distinct training samples uniformly at
    random (a ``torch.Generator`` seeded with the int seed of ``rng``) and applies one
    ``torch.optim.SGD`` update,
    :math:`\theta(t+1) = \theta(t) - \eta\,\nabla \mathcal L_{\text{batch}}(\theta(t))`
    (Eq. (3) of [1]_ with minibatch noise). With ``mask`` the update is
    projected back onto the sparse support after each step (sparse training);
    without it pruned weights may regrow.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place (left in ``train()`` mode).
    data : DataSplit or (inputs, targets)
    steps : int, keyword-only
    eta : float, keyword-only
        Learning rate :math:`\eta`.
    batch_size : int, keyword-only
        Capped at the training-set size (then every step is full-batch GD).
    mask : dict or None, keyword-only
        Masks from :func:`prune_global`.
    momentum, weight_decay : float, keyword-only
    milestones : sequence of int, keyword-only
        Step decay: the learning rate is multiplied by ``gamma`` after each of these
        steps (``torch.optim.lr_scheduler.MultiStepLR``, stepped once per update);
        increasing positive integers, empty for a constant rate.
    gamma : float, keyword-only
        Factor of each decay, in (0, 1].
    loss_fn : callable or None, keyword-only
        Defaults to ``torch.nn.CrossEntropyLoss()``.
    progress : bool, keyword-only
        Show a tqdm progress bar (off by default; ``TQDM_DISABLE=1`` also hides it).
    rng : int, numpy Generator or None, keyword-only
        Seed of the minibatch draws (default 0): an int, one drawn from a Generator, or
        for ``None`` one drawn from fresh entropy (:func:`qsgd._validation.as_seed`).
    device : torch device or None, keyword-only
        Where the minibatches are moved (the model must already be there).

    Returns
    -------
    TrainResult
        ``TrainResult.seed`` is the int seed used.

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Eq. (3).

    Used in chapters 2, 7 and 8.
    """
    func = "train"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    x, y = split_data(data, func=func)
    steps = check_int(steps, "steps", func=func, minimum=0)
    eta = check_positive(eta, "eta", func=func)
    batch_size = check_int(batch_size, "batch_size", func=func, minimum=1)
    momentum = check_positive(momentum, "momentum", func=func, strict=False)
    weight_decay = check_positive(weight_decay, "weight_decay", func=func, strict=False)
    milestones, gamma = check_step_decay(milestones, gamma, func=func)
    seed = as_seed(rng, func=func)
    progress = check_bool(progress, "progress", func=func)
    if loss_fn is not None and not callable(loss_fn):
        raise ValueError(f"{func}: loss_fn must be None or callable, got {describe(loss_fn)}")
    _check_samples(x, y, func, labels=loss_fn is None, finite=False)  # finiteness: per minibatch in _sgd_steps
    if mask is not None:
        _check_mask(model, mask, func)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    batch_size = min(batch_size, x.shape[0])
    opt = torch.optim.SGD(model.parameters(), lr=eta, momentum=momentum, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.MultiStepLR(opt, list(milestones), gamma=gamma) if milestones else None
    losses, accs = _sgd_steps(model, opt, x, y, steps=steps, schedule=schedule, batch_size=batch_size, mask=mask, loss_fn=loss_fn,
                              gen=torch.Generator().manual_seed(seed), progress=progress, device=device, func=func)
    return TrainResult(loss=losses, accuracy=accs, steps=steps, eta=eta, batch_size=batch_size, momentum=momentum,
                       weight_decay=weight_decay, seed=seed, masked=mask is not None)


def _sgd_steps(model, opt, x, y, *, steps, schedule=None, batch_size, mask, loss_fn, gen, progress, device, func):
    """The loop of :func:`train`: ``steps`` updates of ``opt`` on minibatches drawn with ``gen``.

    Returns the minibatch losses and accuracies before each update; a non-finite loss or
    non-finite parameters at the end raise :class:`DivergenceError`.
    """
    eta = opt.param_groups[0]["lr"]
    if mask is not None:
        apply_mask(model, mask)
    model.train()
    losses = np.empty(steps)
    accs = np.empty(steps)
    for t in tqdm(range(steps), disable=progress_disabled(progress), desc="train", leave=False):
        if batch_size == x.shape[0]:
            xb, yb = x, y
        else:
            idx = torch.randperm(x.shape[0], generator=gen)[:batch_size]
            xb, yb = x[idx], y[idx]
        if device is not None:
            xb, yb = xb.to(device), yb.to(device)
        if xb.is_floating_point() and not torch.isfinite(xb).all():
            raise ValueError(f"{func}: the inputs have non-finite entries (in the minibatch of step {t})")
        opt.zero_grad(set_to_none=True)
        out, loss = _forward_loss(model, loss_fn, xb, yb, func) if t == 0 else (None, None)
        if t > 0:
            out = model(xb)
            loss = loss_fn(out, yb)
        if not torch.isfinite(loss.detach()).all():
            raise DivergenceError(
                f"{func}: the loss is not finite at step {t} (eta={eta}); lower eta or check the data"
            )
        loss.backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        if mask is not None:
            apply_mask(model, mask)
        losses[t] = float(loss.detach())
        accs[t] = float((out.detach().argmax(1) == yb).float().mean())
    if not all(bool(torch.isfinite(p.detach()).all()) for p in model.parameters()):
        raise DivergenceError(f"{func}: the parameters are not finite after {steps} steps (eta={eta}); lower eta")
    return losses, accs


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, x: torch.Tensor, *, batches: int = 5, batch_size: int = 2048,
                           rng=0) -> int:
    """Re-estimate the running statistics of every batch-norm layer from ``batches`` random batches of ``x``.

    The statistics are reset and averaged over the batches (cumulative average, ``momentum=None``) in
    ``train()`` mode without gradients; no weight changes. The model is left in ``eval()`` mode with each
    layer's momentum restored. Returns the number of batch-norm layers.

    Used in chapter 7 (how much of the accuracy lost to pruning is stale normalization statistics).
    """
    func = "recalibrate_batch_norm"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{func}: x must be a non-empty tensor of inputs, got {describe(x)}")
    batches = check_int(batches, "batches", func=func, minimum=1)
    batch_size = check_int(batch_size, "batch_size", func=func, minimum=1)
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        raise ValueError(f"{func}: the model has no batch-norm layers")
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    gen = torch.Generator().manual_seed(as_seed(rng, func=func))
    device = next(model.parameters()).device
    model.train()
    try:
        for _ in range(batches):
            idx = torch.randperm(x.shape[0], generator=gen)[: min(batch_size, x.shape[0])]
            model(x[idx].to(device))
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        model.eval()
    return len(layers)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 4096, device=None) -> float:
    """Fraction of correctly classified samples (model evaluated in ``eval()`` mode,
    the previous mode restored).

    Used in chapters 7 and 8.
    """
    func = "accuracy"
    if not isinstance(model, nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)) or x.shape[0] != y.shape[0]:
        raise ValueError(f"{func}: x and y must be tensors with equal first dimension")
    batch_size = check_int(batch_size, "batch_size", func=func, minimum=1)
    _check_samples(x, y, func, labels=True)
    was_training = model.training
    model.eval()
    correct = 0
    try:
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            if device is not None:
                xb, yb = xb.to(device), yb.to(device)
            try:
                out = model(xb)
            except (RuntimeError, ValueError, IndexError, TypeError) as exc:
                raise ValueError(f"{func}: the model cannot take inputs of shape {tuple(x.shape)}: {exc}") from exc
            if out.ndim != 2:
                raise ValueError(f"{func}: the model must return logits of shape (batch, classes), got {tuple(out.shape)}")
            correct += int((out.argmax(1) == yb).sum())
    finally:
        model.train(was_training)
    return correct / x.shape[0]


def _check_samples(x: torch.Tensor, y: torch.Tensor, func: str, *, labels: bool, finite: bool = True) -> None:
    """Non-empty, real, finite inputs; with ``labels``, 1-D non-negative integer class labels."""
    if x.shape[0] == 0:
        raise ValueError(f"{func}: data is empty (no samples)")
    if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.uint8, torch.int64, torch.int32)):
        raise ValueError(f"{func}: the inputs must be real numbers, got dtype {x.dtype}")
    if finite and x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{func}: the inputs have non-finite entries")
    if labels:
        if y.ndim != 1 or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise ValueError(f"{func}: the targets must be a 1-D tensor of integer class labels, got dtype {y.dtype} "
                             f"and shape {tuple(y.shape)}")
        if int(y.min()) < 0:
            raise ValueError(f"{func}: the class labels must be >= 0, got {int(y.min())}")


def _forward_loss(model: nn.Module, loss_fn, xb: torch.Tensor, yb: torch.Tensor, func: str):
    """``model(xb)`` and its loss, with a shape or label mismatch refused by a named ValueError."""
    try:
        out = model(xb)
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        raise ValueError(f"{func}: the model cannot take inputs of shape {tuple(xb.shape[1:])} per sample: {exc}") from exc
    try:
        loss = loss_fn(out, yb)
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        raise ValueError(f"{func}: the loss cannot compare outputs {tuple(out.shape)} with targets "
                         f"{tuple(yb.shape)} ({yb.dtype}); are the labels below the number of classes? {exc}") from exc
    return out, loss
