r"""The Fig. 2 protocol of [1]_ at a chosen scale (also ``python -m qsgd experiments``).

The paper's experiment, as far as the main text and the authors' job files
describe it (the "quantum-trained" curves are classical SGD runs):

1. pre-train a dense network (ResNet-32x4 on CIFAR-100 in the paper);
2. keep its largest 10 % of prunable weights (global L1 magnitude pruning) --
   this sparse vector is what is *uploaded*;
3. run SGD steps (2048 random samples each) from the pruned weights without a
   gradient mask (pruned weights may regrow), recording Hessian spectra
   (Fig. 2a) from which the error proxy of Eq. (7) is computed (Fig. 2b);
4. every ``K = 100`` steps (and at the end) *download* the weights sparsely -- re-prune to the
   top 10 %, optionally with tomography noise of relative size
   :math:`\epsilon` -- and *re-upload* them, so the exponentially growing error
   restarts; the training accuracy dips at each download (Fig. 2c);
5. QRAM variant: after each download train classically for 10 steps (no
   error accrues) and upload the then dense parameters.

Four presets: ``small`` (default; a tanh MLP on the scikit-learn 8x8 digits,
seconds on one CPU core, for smoke tests), ``fashion`` (the tanh
:func:`qsgd.nn.small_cnn` on 10,000 Fashion-MNIST images, a minute on one core,
with the learning rate set from the measured spectrum), ``fig2`` (chapter 7's stored run: the paper's
protocol on a batch-norm ResNet-8 and all of Fashion-MNIST, about an hour on two cores) and ``paper``
(ResNet-32x4, batch 2048, 1000 steps, re-upload every 100, CIFAR-100 from a directory the user provides,
``device="cuda"`` where available). :func:`run_experiment` writes
``results.npz`` / ``results.json`` that :func:`load_results` reads back, and a
checkpoint from which an interrupted run resumes. The command line
(``python -m qsgd experiments|plot|spectrum``) is :mod:`qsgd.__main__`.

References
----------
.. [1] J. Liu et al., "Towards provably efficient quantum algorithms for
   large-scale machine-learning models", Nat. Commun. 15, 434 (2024), Fig. 2.

Used in chapter 7.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from qsgd import data as qdata
from qsgd import distributed as qdist
from qsgd import nn as qnn
from qsgd import spectrum as qspec
from qsgd._validation import as_rng, check_bool, check_choice, check_int, check_positive, describe, progress_disabled

__all__ = [
    "ExperimentConfig",
    "ExperimentResult",
    "ProxyReading",
    "build_model",
    "config_for",
    "download",
    "load_data",
    "load_results",
    "plot_results",
    "proxy_along_training",
    "proxy_eta_sweep",
    "proxy_readings",
    "run_experiment",
]

_SCALES = ("small", "fashion", "fig2", "fig3", "paper")

#: one line per preset, for ``--help``
SCALE_HELP = {
    "small": "tanh MLP 64-32-32-10 (3,466 weights) on the scikit-learn 8x8 digits; seconds on one CPU core",
    "fashion": "tanh CNN (26,698 weights) on 10,000 Fashion-MNIST images, eta = 1/lambda_max; "
    "about a minute on one CPU core",
    "fig2": "ResNet-8 with batch norm (5,370 weights) on all of Fashion-MNIST, the paper's protocol (batch 2048, "
    "eta 0.01, 10 classical steps after each download); about an hour on two CPU cores (chapter 7)",
    "fig3": "ResNet-8 with batch norm, 4 times wider (77,754 weights), on all of Fashion-MNIST: pre-train, prune, "
    "one spectrum (Fig. 3); about 20 minutes on one CPU core (chapter 7)",
    "paper": "ResNet-32x4 (7,451,044 weights) on CIFAR-100 from --data, batch 2048; a GPU (or several "
    "under torchrun)",
}


@dataclass(frozen=True)
class ExperimentConfig:
    r"""Settings of one Fig. 2 run (see :func:`config_for` for the presets).

    Model: ``model`` is ``"mlp"`` (``mlp_sizes``, ``activation``) or
    ``"resnet"`` (``depth``, ``widen_factor``, ``stem_width``). Data:
    ``"digits"`` or ``"cifar100"`` (``data_path``), optionally truncated to
    ``n_train``/``n_test``. Pre-training: ``pretrain_*`` (or a state dict at
    ``pretrained``). Protocol: ``prune_amount`` (0.9 keeps the top 10 %),
    ``steps``, ``eta`` (:math:`\eta`), ``batch_size``, ``reupload_every``
    (:math:`K`), ``classical_steps`` (10 for the QRAM variant),
    ``tomography_eps`` (relative download noise), ``masked`` (restrict each
    quantum segment to the support uploaded at its start; the paper's runs
    were unmasked). With ``eta_scale`` set, the learning rate of the protocol
    is ``eta_scale / lambda_max`` of the spectrum measured right after pruning
    (``eta`` is then ignored; ``eta_scale < 2`` keeps every positive-curvature
    mode of that spectrum contracting). Records: Hessian spectra at step 0, every
    ``spectrum_every`` steps before ``spectrum_until``, at every quantum
    segment start before it and at the steps listed in ``spectrum_at``, on ``spectrum_samples`` fixed training samples
    with ``lanczos_steps`` x ``lanczos_starts`` products; training accuracy
    every ``eval_every`` steps on ``eval_samples`` fixed training samples.
    """

    scale: str = "small"
    model: str = "mlp"
    mlp_sizes: tuple = (64, 32, 32, 10)
    cnn_channels: tuple = (8, 16)
    cnn_hidden: int = 32
    activation: str = "tanh"
    depth: int = 32
    widen_factor: int = 4
    stem_width: int = 64
    data: str = "digits"
    data_path: str | None = None
    data_dir: str | None = None
    n_train: int | None = None
    n_test: int | None = None
    dtype: str = "float32"
    pretrained: str | None = None
    pretrain_steps: int = 400
    pretrain_eta: float = 0.1
    pretrain_batch: int = 128
    pretrain_momentum: float = 0.0
    pretrain_weight_decay: float = 0.0
    pretrain_milestones: tuple = ()
    pretrain_gamma: float = 0.1
    prune_amount: float = 0.9
    steps: int = 1000
    eta: float = 0.3
    eta_scale: float | None = None
    batch_size: int = 256
    reupload_every: int = 100
    classical_steps: int = 0
    tomography_eps: float = 0.0
    masked: bool = False
    spectrum_every: int = 10
    spectrum_until: int = 200
    spectrum_at: tuple = ()
    spectrum_samples: int = 512
    spectrum_batch: int = 512
    lanczos_steps: int = 48
    lanczos_starts: int = 4
    eval_every: int = 10
    eval_samples: int | None = None
    checkpoint_every: int = 100
    seed: int = 0
    device: str = "cpu"

    def validate(self) -> "ExperimentConfig":
        func = "ExperimentConfig"
        check_choice(self.scale, "scale", set(_SCALES), func=func)
        check_choice(self.model, "model", {"mlp", "cnn", "resnet"}, func=func)
        check_choice(self.data, "data", {"digits", "fashion", "cifar100"}, func=func)
        check_choice(self.activation, "activation", set(qnn.ACTIVATIONS), func=func)
        check_choice(self.dtype, "dtype", {"float32", "float64"}, func=func)
        check_bool(self.masked, "masked", func=func)
        if not isinstance(self.device, str):
            raise ValueError(f"{func}: device must be a string such as 'cpu' or 'cuda', got {describe(self.device)}")
        for name in ("data_path", "data_dir", "pretrained"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise ValueError(f"{func}: {name} must be None or a path, got {describe(value)}")
        for name in ("mlp_sizes", "cnn_channels", "spectrum_at", "pretrain_milestones"):
            if not isinstance(getattr(self, name), (tuple, list)):
                raise ValueError(f"{func}: {name} must be a tuple of int, got {describe(getattr(self, name))}")
        if len(self.mlp_sizes) < 2:
            raise ValueError(f"{func}: mlp_sizes needs at least 2 entries, got {self.mlp_sizes!r}")
        for i, w in enumerate(self.mlp_sizes):
            check_int(w, f"mlp_sizes[{i}]", func=func, minimum=1)
        if len(self.cnn_channels) != 2:
            raise ValueError(f"{func}: cnn_channels must be a pair (c1, c2), got {self.cnn_channels!r}")
        for i, c in enumerate(self.cnn_channels):
            check_int(c, f"cnn_channels[{i}]", func=func, minimum=1)
        for name in ("cnn_hidden", "depth", "widen_factor", "stem_width"):
            check_int(getattr(self, name), name, func=func, minimum=1)
        for name in ("n_train", "n_test", "eval_samples"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, func=func, minimum=1)
        check_positive(self.pretrain_momentum, "pretrain_momentum", func=func, strict=False)
        check_positive(self.pretrain_weight_decay, "pretrain_weight_decay", func=func, strict=False)
        qnn.check_step_decay(self.pretrain_milestones, self.pretrain_gamma, prefix="pretrain_", func=func)
        if self.eta_scale is not None:
            check_positive(self.eta_scale, "eta_scale", func=func)
        for i, t in enumerate(self.spectrum_at):
            check_int(t, f"spectrum_at[{i}]", func=func, minimum=0)
        if self.data == "cifar100" and not self.data_path:
            raise ValueError(f"{func}: data='cifar100' needs data_path (a local CIFAR-100 directory)")
        for name in ("steps", "pretrain_steps", "classical_steps", "seed"):
            check_int(getattr(self, name), name, func=func, minimum=0)
        for name in ("batch_size", "pretrain_batch", "reupload_every", "spectrum_every", "spectrum_samples",
                     "spectrum_batch", "lanczos_starts", "eval_every", "checkpoint_every"):
            check_int(getattr(self, name), name, func=func, minimum=1)
        check_int(self.lanczos_steps, "lanczos_steps", func=func, minimum=2)
        check_int(self.spectrum_until, "spectrum_until", func=func, minimum=0)
        if self.classical_steps >= self.reupload_every:
            raise ValueError(
                f"{func}: classical_steps ({self.classical_steps}) must be < reupload_every ({self.reupload_every})"
            )
        check_positive(self.eta, "eta", func=func)
        check_positive(self.pretrain_eta, "pretrain_eta", func=func)
        check_positive(self.tomography_eps, "tomography_eps", func=func, strict=False)
        check_positive(self.prune_amount, "prune_amount", func=func, strict=False)
        if not 0 <= self.prune_amount < 1:
            raise ValueError(f"{func}: prune_amount must be in [0, 1), got {self.prune_amount}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"{func}: device={self.device!r} but torch sees no GPU")
        return self


def config_for(scale: str = "small", **overrides) -> ExperimentConfig:
    r"""The preset for ``scale`` (``"small"``, ``"fashion"`` or ``"paper"``) with ``overrides`` applied.

    ``small``: :func:`qsgd.nn.mlp` ``64-32-32-10`` (tanh) on the digits, 400
    pre-training steps, 1000 protocol steps of batch 256 at :math:`\eta = 0.3`.

    ``fashion``: :func:`qsgd.nn.small_cnn` (tanh, 26,698 parameters, float64
    so that the printed results do not move with the CPU's kernels) on a
    random 10,000/2,000 train/test subset of Fashion-MNIST; pre-training 600
    steps of batch 128 (SGD, eta 0.05, momentum 0.9); 1000 protocol steps of
    batch 256 with :math:`\eta = 1/\lambda_{\max}` of the spectrum right
    after pruning; spectra (2 starts x 32 Lanczos steps on 256 images) at
    steps 0, 10, 20, 50, 100, 110, 150, 200.

    ``paper``: ``cifar_resnet(32, 4)`` (7,451,044 parameters) on CIFAR-100 from
    ``data_path``; dense pre-training with the authors' settings (SGD, momentum
    0.9, weight decay 2e-4, eta 0.1, batch 512, about 50 epochs) unless a state
    dict is given in ``pretrained``; then 1000 SGD steps of batch 2048 at the
    authors' fine-tuning learning rate 0.01, re-upload every 100 steps followed by
    10 classical steps (the QRAM variant), spectra every 10 steps up to step 200
    and right after each later download.

    ``fig2``: the ``paper`` protocol on ``cifar_resnet(8, 2, stem_width=8)`` (batch
    norm, 5,370 parameters) and all of Fashion-MNIST in float32: 4000 pre-training
    steps of batch 128 (SGD, momentum 0.9, weight decay 2e-4, lr 0.1 decayed by 0.1
    after steps 2000 and 3000), spectra of 20 Lanczos steps on 2048 fixed training
    images; about an hour on two CPU cores (``make fig2``).

    ``fig3``: the Fig. 3 experiment (a spectrum right after pruning, no further
    training) on ``cifar_resnet(8, 4, stem_width=16)`` (77,754 parameters), pre-trained
    like ``fig2`` for 1500 steps (decay after 750 and 1125); one protocol step, so
    that the spectrum at step 0 is recorded (``make fig3``).

    Used in chapter 7.
    """
    check_choice(scale, "scale", set(_SCALES), func="config_for")
    base = _preset(scale)
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"config_for: unknown settings {sorted(unknown)}")
    for key in _TUPLE_FIELDS:
        if key in overrides and isinstance(overrides[key], (list, tuple, np.ndarray)):
            overrides[key] = tuple(overrides[key])
    return dataclasses.replace(base, **overrides).validate()


#: the configuration fields that hold tuples (lists in JSON)
_TUPLE_FIELDS = ("mlp_sizes", "cnn_channels", "spectrum_at", "pretrain_milestones")


def _preset(scale: str) -> ExperimentConfig:
    """The preset of ``scale``, not yet validated (``paper`` lacks its data path)."""
    if scale == "paper":
        base = ExperimentConfig(
            scale="paper", model="resnet", depth=32, widen_factor=4, stem_width=64, data="cifar100",
            pretrain_steps=4900, pretrain_eta=0.1, pretrain_batch=512, pretrain_momentum=0.9,
            pretrain_weight_decay=2e-4, steps=1000, eta=0.01, batch_size=2048, reupload_every=100,
            classical_steps=10, spectrum_every=10, spectrum_until=200,
            spectrum_at=(300, 400, 500, 600, 700, 800, 900), spectrum_samples=2048, spectrum_batch=256,
            lanczos_steps=64, lanczos_starts=1, eval_every=10, eval_samples=10000, checkpoint_every=50,
            device="cuda" if torch.cuda.is_available() else "cpu",
        )
    elif scale == "fig2":
        base = ExperimentConfig(
            scale="fig2", model="resnet", depth=8, widen_factor=2, stem_width=8, data="fashion", dtype="float32",
            pretrain_steps=4000, pretrain_eta=0.1, pretrain_batch=128, pretrain_momentum=0.9,
            pretrain_weight_decay=2e-4, pretrain_milestones=(2000, 3000), pretrain_gamma=0.1, steps=1000, eta=0.01,
            batch_size=2048, reupload_every=100, classical_steps=10, spectrum_every=10, spectrum_until=200,
            spectrum_at=(300, 400, 500, 600, 700, 800, 900), spectrum_samples=2048, spectrum_batch=2048,
            lanczos_steps=20, lanczos_starts=1, eval_every=10, eval_samples=10000, checkpoint_every=10,
        )
    elif scale == "fig3":
        base = dataclasses.replace(
            _preset("fig2"), scale="fig3", widen_factor=4, stem_width=16, pretrain_steps=1500,
            pretrain_milestones=(750, 1125), steps=1, spectrum_until=0, spectrum_at=(), spectrum_batch=512,
            eval_every=1, checkpoint_every=1,
        )
    elif scale == "fashion":
        base = ExperimentConfig(
            scale="fashion", model="cnn", data="fashion", n_train=10000, n_test=2000, pretrain_steps=600,
            pretrain_eta=0.05, pretrain_batch=128, pretrain_momentum=0.9, steps=1000, eta_scale=1.0,
            batch_size=256, reupload_every=100, spectrum_every=10, spectrum_until=20,
            spectrum_at=(50, 100, 110, 150, 200), spectrum_samples=256, spectrum_batch=256, lanczos_steps=32,
            lanczos_starts=2, eval_every=10, eval_samples=2000, dtype="float64",
        )
    else:
        base = ExperimentConfig()
    return base


@dataclass(frozen=True)
class ExperimentResult:
    """Records of a Fig. 2 run (all arrays NumPy).

    Attributes
    ----------
    config : ExperimentConfig
    step_loss, step_accuracy : (steps,)
        Minibatch loss / accuracy before each update.
    eval_steps, train_accuracy, test_accuracy : (E,)
        Accuracy on the fixed evaluation subset of the training set and on
        the test set, at steps ``eval_steps`` (step 0 = right after pruning).
    download_steps, accuracy_before, accuracy_after : (D,)
        Training accuracy right before and right after each download.
    regrown : (D,)
        Fraction of prunable weights non-zero just before each download
        (1 - amount right after an upload; under unmasked SGD every weight
        with a non-zero gradient becomes non-zero).
    support_change : (D,)
        Fraction of the new top-10 % support that was not in the support
        uploaded at the previous download (support turnover).
    spectrum_steps : (S,)
    ritz_nodes, ritz_weights : (S, starts, m)
        Lanczos quadrature of the Hessian at each spectrum step.
    lambda_min, lambda_max : (S,)
    pruned_accuracy, pretrained_accuracy : float
    num_parameters : int
    eta : float
        The learning rate the protocol used (``config.eta``, or
        ``config.eta_scale / lambda_max`` at step 0).
    pretrain_loss : (pretrain_steps,)
        Minibatch loss of each dense pre-training step (empty with ``pretrained``).
    meta : dict
        What :func:`load_results` read besides the records: ``step`` (protocol steps done),
        ``qsgd_version``, ``torch_version``, ``threads``, ``machine``, ``elapsed_s``.
    """

    config: ExperimentConfig
    step_loss: np.ndarray
    step_accuracy: np.ndarray
    eval_steps: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    download_steps: np.ndarray
    accuracy_before: np.ndarray
    accuracy_after: np.ndarray
    regrown: np.ndarray
    support_change: np.ndarray
    spectrum_steps: np.ndarray
    ritz_nodes: np.ndarray
    ritz_weights: np.ndarray
    lambda_min: np.ndarray
    lambda_max: np.ndarray
    pretrained_accuracy: float
    pruned_accuracy: float
    num_parameters: int
    eta: float = math.nan
    pretrain_loss: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    meta: dict = dataclasses.field(default_factory=dict)

    def spectrum(self, step: int, *, num_points: int = 512, sigma: float | None = None, grid=None):
        """``(grid, density)`` of the spectrum recorded at ``step`` (Gaussian-smoothed Ritz quadrature)."""
        step = check_int(step, "step", func="spectrum", minimum=0)
        num_points = check_int(num_points, "num_points", func="spectrum", minimum=2)
        if sigma is not None:
            sigma = check_positive(sigma, "sigma", func="spectrum")
        hits = np.flatnonzero(self.spectrum_steps == step)
        if hits.size == 0:
            raise ValueError(f"spectrum: no spectrum recorded at step {step}; recorded: {self.spectrum_steps.tolist()}")
        i = hits[0]
        nodes, weights = self.ritz_nodes[i], self.ritz_weights[i]
        lo, hi = float(nodes.min()), float(nodes.max())
        width = max(hi - lo, 1e-12)
        m = nodes.shape[1]
        if sigma is None:
            sigma = width / ((m - 1) * math.sqrt(8 * math.log(1.25)))
        if grid is None:
            grid = np.linspace(lo - 0.05 * width, hi + 0.05 * width, num_points)
        return np.asarray(grid), qspec.smooth_density(nodes, weights, grid, sigma)

    def masses(self, step: int, *, eta: float = 1.0, cut: float = 0.4) -> qspec.ModeMasses:
        """Dissipative / divergent mass of the spectrum at ``step`` (cut in units of ``eta * lambda``)."""
        step = check_int(step, "step", func="masses", minimum=0)
        hits = np.flatnonzero(self.spectrum_steps == step)
        if hits.size == 0:
            raise ValueError(f"masses: no spectrum recorded at step {step}")
        i = hits[0]
        return qspec.mode_masses(
            self.ritz_nodes[i].reshape(-1), weights=self.ritz_weights[i].reshape(-1), eta=eta, cut=cut
        )


# ---------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------


def load_data(cfg: ExperimentConfig) -> qdata.DataSplit:
    """The data set of ``cfg``: the digits, Fashion-MNIST or CIFAR-100, as a :class:`qsgd.data.DataSplit`.

    The digits' and Fashion-MNIST's subsets are drawn with ``rng=cfg.seed``; CIFAR-100
    is read from ``cfg.data_path`` in file order.

    Used by :func:`run_experiment` and :func:`spectrum_main`.
    """
    if not isinstance(cfg, ExperimentConfig):
        raise ValueError(f"load_data: cfg must be an ExperimentConfig, got {describe(cfg)}")
    if cfg.data == "digits":
        image = cfg.model in ("resnet", "cnn")
        return qdata.load_digits(n_train=cfg.n_train, n_test=cfg.n_test, rng=cfg.seed, dtype=cfg.dtype, image=image)
    if cfg.data == "fashion":
        return qdata.load_fashion_mnist(
            n_train=cfg.n_train, n_test=cfg.n_test, rng=cfg.seed, dtype=cfg.dtype, data_dir=cfg.data_dir
        )
    return qdata.load_cifar100(cfg.data_path, n_train=cfg.n_train, n_test=cfg.n_test, dtype=cfg.dtype)


def build_model(cfg: ExperimentConfig, data: qdata.DataSplit) -> torch.nn.Module:
    """The network of ``cfg`` for ``data`` (input shape and number of classes), initialised with ``rng=cfg.seed``.

    ``cfg.model`` ``"mlp"`` (flattened inputs), ``"cnn"`` (:func:`qsgd.nn.small_cnn`) or
    ``"resnet"`` (:func:`qsgd.nn.cifar_resnet`); moved to ``cfg.device``.

    Used by :func:`run_experiment` and :func:`spectrum_main`.
    """
    if not isinstance(cfg, ExperimentConfig):
        raise ValueError(f"build_model: cfg must be an ExperimentConfig, got {describe(cfg)}")
    if not isinstance(data, qdata.DataSplit):
        raise ValueError(f"build_model: data must be a DataSplit (from load_data), got {describe(data)}")
    num_classes = int(max(int(data.y_train.max()), int(data.y_test.max())) + 1)
    if cfg.data == "cifar100":
        num_classes = 100
    if cfg.model == "mlp":
        sizes = list(cfg.mlp_sizes)
        sizes[0] = int(np.prod(data.x_train.shape[1:]))
        model = torch.nn.Sequential(torch.nn.Flatten(), qnn.mlp(sizes, activation=cfg.activation, dtype=cfg.dtype, rng=cfg.seed))
    elif cfg.model == "cnn":
        model = qnn.small_cnn(
            cfg.cnn_channels, hidden=cfg.cnn_hidden, image_size=int(data.x_train.shape[-1]),
            in_channels=int(data.x_train.shape[1]), num_classes=num_classes, activation=cfg.activation,
            dtype=cfg.dtype, rng=cfg.seed,
        )
    else:
        model = qnn.cifar_resnet(
            cfg.depth, cfg.widen_factor, stem_width=cfg.stem_width, num_classes=num_classes,
            in_channels=int(data.x_train.shape[1]), dtype=cfg.dtype, rng=cfg.seed,
        )
    return model.to(cfg.device)


def _version() -> str:
    from qsgd import __version__

    return __version__


def _step_seed(seed: int, step: int, salt: int = 0) -> int:
    return int(np.random.SeedSequence([seed, step, salt]).generate_state(1)[0])


@torch.no_grad()
def download(
    model: torch.nn.Module,
    *,
    amount: float = 0.9,
    eps: float = 0.0,
    rng=None,
) -> dict[str, torch.Tensor]:
    r"""Sparse download of the current weights: keep the top ``1 - amount``, add tomography noise.

    Re-prunes with :func:`qsgd.nn.prune_global` (global L1 magnitude), then,
    for ``eps > 0``, adds to the kept entries of every parameter a Gaussian
    vector :math:`\delta` with :math:`\|\delta\|_2 = \epsilon\,\|\theta_S\|_2`
    (relative :math:`\ell_2` error :math:`\epsilon`, what the :math:`\ell_2`
    tomography of chapter 5 returns with about :math:`s/\epsilon^2` shots).
    Entries outside the support stay exactly zero.

    Returns
    -------
    dict
        The masks of the new support.

    Used in chapters 7 and 8.
    """
    func = "download"
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"{func}: model must be a torch.nn.Module, got {describe(model)}")
    eps = check_positive(eps, "eps", func=func, strict=False)
    amount = check_positive(amount, "amount", func=func, strict=False)
    if amount >= 1:
        raise ValueError(f"{func}: amount must be in [0, 1), got {amount}")
    gen = as_rng(rng, func=func) if eps > 0 else None
    masks = qnn.prune_global(model, amount)
    if eps > 0:
        params = [p for p in model.parameters() if p.requires_grad]
        support = [p != 0 for p in params]
        norm = math.sqrt(sum(float((p[s] ** 2).sum()) for p, s in zip(params, support)))
        noise = [torch.as_tensor(gen.standard_normal(int(s.sum())), dtype=p.dtype) for p, s in zip(params, support)]
        nnorm = math.sqrt(sum(float((z**2).sum()) for z in noise))
        if nnorm > 0:
            for p, s, z in zip(params, support, noise):
                p[s] += (eps * norm / nnorm) * z.to(p.device)
    return masks


def _parallel_sgd_step(model, data, *, eta, batch_size, seed, mask, device, rank, size):
    r"""One SGD step on the global minibatch of :func:`qsgd.nn.train`, split over ``size`` ranks.

    All ranks draw the same ``batch_size`` indices (seeded by ``seed``); rank
    ``r`` takes every ``size``-th of them from position ``r``, computes the
    gradient of its part of :math:`\frac1B\sum_{k\in\text{batch}}\ell_k`,
    and one ``all_reduce`` sums the gradients (and the loss and accuracy), so
    every rank applies the single-process update :math:`\theta \leftarrow
    \theta - \eta\nabla\mathcal L_{\text{batch}}` up to rounding. Batch norm, if
    any, normalizes with per-rank statistics (as ``DistributedDataParallel``
    without ``SyncBatchNorm``). Returns ``(loss, accuracy)`` of the batch.
    """
    x, y = data.x_train, data.y_train
    batch_size = min(batch_size, x.shape[0])
    if batch_size == x.shape[0]:
        idx = torch.arange(x.shape[0])
    else:
        idx = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:batch_size]
    local = idx[rank::size]
    xb, yb = x[local].to(device), y[local].to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    out = model(xb)
    loss = torch.nn.functional.cross_entropy(out, yb, reduction="sum") / batch_size
    grads = torch.autograd.grad(loss, params)
    correct = (out.detach().argmax(1) == yb).sum().to(loss.dtype) / batch_size
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1), correct.reshape(1)])
    torch.distributed.all_reduce(flat)
    with torch.no_grad():
        offset = 0
        for p in params:
            p.sub_(eta * flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()
    if mask is not None:
        qnn.apply_mask(model, mask)
    return float(flat[-2]), float(flat[-1])


def _support_mask(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    names = {f"{n}.weight" if n else "weight" for n, _ in qnn.prunable_parameters(model)}
    return {k: (p.detach() != 0) for k, p in model.named_parameters() if k in names}


def _prunable_density(model: torch.nn.Module) -> float:
    kept = total = 0
    for _, m in qnn.prunable_parameters(model):
        kept += int(torch.count_nonzero(m.weight.detach()))
        total += m.weight.numel()
    return kept / max(total, 1)


def _spectrum_schedule(cfg: ExperimentConfig) -> set[int]:
    sched = {0}
    sched |= set(range(0, min(cfg.spectrum_until, cfg.steps) + 1, cfg.spectrum_every))
    for start in range(0, cfg.steps, cfg.reupload_every):
        q = start + cfg.classical_steps
        if q <= cfg.spectrum_until and q <= cfg.steps:
            sched.add(q)
    sched |= set(cfg.spectrum_at)
    return {t for t in sched if t <= cfg.steps}


def _empty_records() -> dict:
    return {
        "step_loss": [], "step_accuracy": [], "eval_steps": [], "train_accuracy": [], "test_accuracy": [],
        "download_steps": [], "accuracy_before": [], "accuracy_after": [], "regrown": [], "support_change": [],
        "spectrum_steps": [], "ritz_nodes": [], "ritz_weights": [], "lambda_min": [], "lambda_max": [],
        "pretrain_loss": [],
    }


def _config_dict(cfg: ExperimentConfig) -> dict:
    d = dataclasses.asdict(cfg)
    for key in _TUPLE_FIELDS:
        d[key] = list(getattr(cfg, key))
    return d


def _record_arrays(rec: dict) -> dict[str, np.ndarray]:
    """The records as NumPy arrays (step indices as int64)."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in rec.items()}
    for key in ("eval_steps", "download_steps", "spectrum_steps"):
        arrays[key] = arrays[key].astype(np.int64)
    return arrays


def _save_results(path: Path, cfg: ExperimentConfig, rec: dict, extra: dict) -> None:
    arrays = _record_arrays(rec)
    tmp = path / "results.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path / "results.npz")
    meta = {"config": _config_dict(cfg), **extra}
    (path / "results.json").write_text(json.dumps(meta, indent=1, sort_keys=True))


#: the fields of ``results.json`` besides the configuration
_META_FIELDS = ("pretrained_accuracy", "pruned_accuracy", "num_parameters", "step")
#: what ``results.json`` records of how the run was made (``ExperimentResult.meta``)
_PROVENANCE = ("step", "qsgd_version", "torch_version", "threads", "machine", "elapsed_s")


def load_results(path, *, expected: ExperimentConfig | None = None, partial: bool = False) -> ExperimentResult:
    """Read the ``results.npz`` / ``results.json`` pair that :func:`run_experiment` wrote in ``path``.

    Refused with a ``ValueError`` that names the file and the field: a file that is not
    JSON or not an ``npz`` archive (a truncated copy), a missing field or record, a
    configuration field the code does not know, a configuration that differs from
    ``expected`` (the configuration the code would run now, e.g. ``config_for("fig2")``),
    records whose lengths do not match the steps the file says were done, and, unless
    ``partial``, a run that stopped before its last step.

    Used in chapter 7.
    """
    func = "load_results"
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{func}: path must be a str or path-like, got {describe(path)}")
    partial = check_bool(partial, "partial", func=func)
    if expected is not None and not isinstance(expected, ExperimentConfig):
        raise ValueError(f"{func}: expected must be None or an ExperimentConfig, got {describe(expected)}")
    root = Path(path)
    jfile, zfile = root / "results.json", root / "results.npz"
    if not zfile.is_file() or not jfile.is_file():
        raise FileNotFoundError(f"{func}: no results.npz/results.json in {str(root)!r}")
    try:
        meta = json.loads(jfile.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{func}: {str(jfile)!r} is not valid JSON (truncated?): {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ValueError(f"{func}: {str(jfile)!r} has no field 'config'")
    cfg = _config_from_dict(meta["config"], jfile, func)
    if expected is not None:
        _compare_configs(cfg, expected, jfile, func)
    if "step" not in meta:  # files written before the step count was recorded: complete runs
        meta["step"] = cfg.steps
    for key in _META_FIELDS:
        if key not in meta:
            raise ValueError(f"{func}: {str(jfile)!r} has no field {key!r}")
    try:
        with np.load(zfile) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # zipfile.BadZipFile, EOFError, ValueError, OSError: a damaged archive
        raise ValueError(f"{func}: {str(zfile)!r} cannot be read as an npz archive (truncated?): {exc}") from None
    _check_records(arrays, cfg, int(meta["step"]), zfile, func)
    if not partial and int(meta["step"]) < cfg.steps:
        raise ValueError(f"{func}: {str(jfile)!r} field 'step' says {meta['step']} of {cfg.steps} steps were done "
                         "(an unfinished run: resume it, or pass partial=True)")
    known = set(_empty_records())
    arrays = {k: v for k, v in arrays.items() if k in known}
    arrays.setdefault("pretrain_loss", np.zeros(0))
    extra = {k: meta[k] for k in _PROVENANCE if k in meta}
    return ExperimentResult(
        config=cfg,
        pretrained_accuracy=float(meta["pretrained_accuracy"]),
        pruned_accuracy=float(meta["pruned_accuracy"]),
        num_parameters=int(meta["num_parameters"]),
        eta=float(meta.get("eta", cfg.eta)),
        meta=extra,
        **arrays,
    )


def _config_from_dict(cfg_dict: dict, file: Path, func: str) -> ExperimentConfig:
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = sorted(set(cfg_dict) - fields)
    if unknown:
        raise ValueError(f"{func}: {str(file)!r} field 'config.{unknown[0]}' is not a setting of this version "
                         "of qsgd (written by another version?)")
    cfg_dict = dict(cfg_dict)
    for key in _TUPLE_FIELDS:
        if key in cfg_dict:
            cfg_dict[key] = tuple(cfg_dict[key])
    try:
        return ExperimentConfig(**cfg_dict).validate()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{func}: {str(file)!r} field 'config' is not a valid configuration: {exc}") from None


def _compare_configs(cfg: ExperimentConfig, expected: ExperimentConfig, file: Path, func: str) -> None:
    for f in dataclasses.fields(ExperimentConfig):
        got, want = getattr(cfg, f.name), getattr(expected, f.name)
        if got != want:
            raise ValueError(f"{func}: {str(file)!r} field 'config.{f.name}' is {got!r}, but the code's "
                             f"configuration has {want!r}: rerun the command that writes this file")


def _check_records(arrays: dict, cfg: ExperimentConfig, step: int, file: Path, func: str) -> None:
    """The records in ``file`` exist and have the lengths that ``step`` steps of ``cfg`` give."""
    for key in _empty_records():
        if key not in arrays and key != "pretrain_loss":
            raise ValueError(f"{func}: {str(file)!r} has no record {key!r}")
    if not 0 <= step <= cfg.steps:
        raise ValueError(f"{func}: {str(file)!r} field 'step' is {step}, outside [0, {cfg.steps}]")
    lengths = {"step_loss": step, "step_accuracy": step}
    if step == cfg.steps:
        lengths["eval_steps"] = len(range(0, cfg.steps, cfg.eval_every)) + 1  # and the final one at ``steps``
    n_spec = len(arrays["spectrum_steps"])
    for key in ("ritz_nodes", "ritz_weights", "lambda_min", "lambda_max"):
        lengths[key] = n_spec
    for key in ("train_accuracy", "test_accuracy"):
        lengths[key] = len(arrays["eval_steps"])
    for key in ("accuracy_before", "accuracy_after", "regrown", "support_change"):
        lengths[key] = len(arrays["download_steps"])
    if "pretrain_loss" in arrays and arrays["pretrain_loss"].size and not cfg.pretrained:
        lengths["pretrain_loss"] = cfg.pretrain_steps
    for key, n in lengths.items():
        if len(arrays[key]) != n:
            raise ValueError(f"{func}: {str(file)!r} record {key!r} has {len(arrays[key])} entries where "
                             f"{n} were expected (truncated or from another run?)")


# ---------------------------------------------------------------------------
# the protocol
# ---------------------------------------------------------------------------


def run_experiment(
    config: ExperimentConfig | None = None,
    *,
    output=None,
    resume: bool = True,
    progress: bool = False,
    max_steps: int | None = None,
) -> ExperimentResult:
    """Run the Fig. 2 protocol of [1]_ (pre-train, prune, SGD with download/re-upload).

    At every step ``t = 0, ..., steps - 1``: if ``t`` is a positive multiple of
    :math:`K` the weights are downloaded (:func:`download`: top 10 %, optional
    noise) and re-uploaded; Hessian spectra and accuracies are recorded on
    schedule; then one SGD step on ``batch_size`` random training samples
    (seeded by ``(seed, t)``, so a resumed run is bitwise the same as an
    uninterrupted one on the same device).

    Under ``torchrun`` (a ``torch.distributed`` process group with more than
    one rank) the protocol runs data-parallel: every SGD step splits its
    minibatch over the ranks and all-reduces the gradients, every Hessian
    spectrum all-reduces its Hessian-vector products
    (:mod:`qsgd.distributed`), and only rank 0 writes files. The records are
    those of the single-process run up to rounding.

    Parameters
    ----------
    config : ExperimentConfig or None
        ``None`` means ``config_for("small")``.
    output : str, path or None, keyword-only
        Directory for ``results.npz``, ``results.json`` and ``checkpoint.pt``
        (``None``: keep nothing on disk).
    resume : bool, keyword-only
        Continue from ``output/checkpoint.pt`` when it holds the same config.
    progress : bool, keyword-only
        tqdm progress bar over the steps.
    max_steps : int or None, keyword-only
        Stop after this many protocol steps in this call (a checkpoint is
        written; call again to continue). The returned records are partial.

    Returns
    -------
    ExperimentResult

    References
    ----------
    .. [1] Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2 and its discussion.

    Used in chapter 7.
    """
    func = "run_experiment"
    rank, size = qdist.world()
    cfg, out, resume, progress, max_steps = _check_run_arguments(config, output, resume, progress, max_steps, func)
    run = _set_up(cfg, out, rank, size)
    state = _read_checkpoint(run) if resume else None
    if state is not None:
        run.model.load_state_dict(state["model"])
        run.rec, run.start, run.extra, run.support = state["records"], state["step"], state["extra"], state["support"]
        run.seg_mask = state.get("seg_mask")
    else:
        _pretrain_and_prune(run, progress)
    schedule = _spectrum_schedule(cfg)
    stop = cfg.steps if max_steps is None else min(cfg.steps, run.start + max_steps)
    for t in tqdm(range(run.start, stop), disable=progress_disabled(progress), desc="fig2", leave=False,
                  initial=run.start, total=cfg.steps):
        _protocol_step(run, t, schedule, func)
    if stop < cfg.steps:
        _save(run, stop)
    else:
        _finish(run)
    return ExperimentResult(
        config=cfg,
        pretrained_accuracy=float(run.extra["pretrained_accuracy"]),
        pruned_accuracy=float(run.extra["pruned_accuracy"]),
        num_parameters=int(run.extra["num_parameters"]),
        eta=float(run.extra.get("eta", math.nan)),
        meta={k: run.extra[k] for k in _PROVENANCE if k in run.extra},
        **_record_arrays(run.rec),
    )


@dataclass
class _Run:
    """What the steps of :func:`run_experiment` share: the set-up and the state that a checkpoint holds."""

    cfg: ExperimentConfig
    model: torch.nn.Module
    data: qdata.DataSplit
    dev: torch.device
    rank: int
    size: int
    eval_data: tuple
    spec_data: tuple
    out: Path | None
    rec: dict = dataclasses.field(default_factory=_empty_records)
    start: int = 0
    extra: dict = dataclasses.field(default_factory=dict)
    support: dict | None = None
    seg_mask: dict | None = None
    clock: float = dataclasses.field(default_factory=time.perf_counter)

    @property
    def ckpt_path(self) -> Path | None:
        return None if self.out is None else self.out / "checkpoint.pt"

    def acc_train(self) -> float:
        return qnn.accuracy(self.model, *self.eval_data, device=self.dev)

    def acc_test(self) -> float:
        return qnn.accuracy(self.model, self.data.x_test, self.data.y_test, device=self.dev)


def _check_run_arguments(config, output, resume, progress, max_steps, func):
    """The validated arguments of :func:`run_experiment`: ``(cfg, out, resume, progress, max_steps)``."""
    cfg = config_for("small") if config is None else config
    if not isinstance(cfg, ExperimentConfig):
        raise ValueError(f"{func}: config must be an ExperimentConfig, got {describe(cfg)}")
    cfg.validate()
    resume = check_bool(resume, "resume", func=func)
    progress = check_bool(progress, "progress", func=func)
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", func=func, minimum=0)
    if output is not None and not isinstance(output, (str, os.PathLike)):
        raise ValueError(f"{func}: output must be None or a directory path, got {describe(output)}")
    out = None if output is None else Path(output)
    if out is not None:
        blocker = next((p for p in (out, *out.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise ValueError(f"{func}: output {str(out)!r} must be a directory, but {str(blocker)!r} is a file")
    return cfg, out, resume, progress, max_steps


def _set_up(cfg: ExperimentConfig, out: Path | None, rank: int, size: int) -> _Run:
    """Data, model, device and the fixed evaluation and spectrum subsets (one permutation seeded by ``cfg.seed``)."""
    data = load_data(cfg)
    model = build_model(cfg, data)
    if out is not None and rank == 0:
        out.mkdir(parents=True, exist_ok=True)  # only once the data and the model are there
    dev = torch.device(cfg.device)
    if size > 1 and dev.type == "cuda":
        dev = torch.device("cuda", torch.cuda.current_device())
        model = model.to(dev)
    n_eval = data.x_train.shape[0] if cfg.eval_samples is None else min(cfg.eval_samples, data.x_train.shape[0])
    perm = torch.randperm(data.x_train.shape[0], generator=torch.Generator().manual_seed(cfg.seed))
    eval_data = (data.x_train[perm[:n_eval]], data.y_train[perm[:n_eval]])
    n_spec = min(cfg.spectrum_samples, data.x_train.shape[0])
    spec_data = (data.x_train[perm[:n_spec]], data.y_train[perm[:n_spec]])
    return _Run(cfg=cfg, model=model, data=data, dev=dev, rank=rank, size=size, eval_data=eval_data,
                spec_data=spec_data, out=out)


def _read_checkpoint(run: _Run) -> dict | None:
    """The state in ``checkpoint.pt`` when the same configuration wrote it, else ``None``."""
    if run.ckpt_path is None or not run.ckpt_path.is_file():
        return None
    state = torch.load(run.ckpt_path, map_location=run.dev, weights_only=False)
    if state.get("config") != _config_dict(run.cfg):
        return None  # a different experiment wrote it: start afresh
    return state


def _pretrain_and_prune(run: _Run, progress: bool) -> None:
    """Steps 1 and 2 of the protocol: dense pre-training (or the given state dict), then pruning."""
    cfg, model = run.cfg, run.model
    pretrain_loss = []
    if cfg.pretrained:
        model.load_state_dict(torch.load(cfg.pretrained, map_location=run.dev, weights_only=True))
    elif cfg.pretrain_steps:
        pre = qnn.train(
            model, run.data, steps=cfg.pretrain_steps, eta=cfg.pretrain_eta, batch_size=cfg.pretrain_batch,
            momentum=cfg.pretrain_momentum, weight_decay=cfg.pretrain_weight_decay,
            milestones=cfg.pretrain_milestones, gamma=cfg.pretrain_gamma, rng=cfg.seed,
            progress=progress, device=run.dev,
        )
        pretrain_loss = pre.loss.tolist()
    if run.size > 1:  # every rank continues from rank 0's weights (GPU pre-training need not be bitwise equal)
        with torch.no_grad():
            for tensor in model.state_dict().values():
                torch.distributed.broadcast(tensor, src=0)
    run.extra = {"pretrained_accuracy": run.acc_train(), "num_parameters": qnn.count_parameters(model)}
    _save_weights(run, "pretrained.pt")
    run.support = qnn.prune_global(model, cfg.prune_amount)
    run.extra["pruned_accuracy"] = run.acc_train()
    _save_weights(run, "pruned.pt")
    run.rec, run.start = _empty_records(), 0
    run.rec["pretrain_loss"] = pretrain_loss
    if cfg.eta_scale is None:
        run.extra["eta"] = cfg.eta


def _save_weights(run: _Run, name: str) -> None:
    """Rank 0 writes the model's state dict to ``output/name`` (the pre-trained and the pruned weights,
    from which a test recomputes the start of a stored run)."""
    if run.out is not None and run.rank == 0:
        torch.save(run.model.state_dict(), run.out / name)


def _save(run: _Run, step: int) -> None:
    """Rank 0 writes the checkpoint (to resume at ``step``) and the results so far."""
    if run.ckpt_path is None or run.rank != 0:
        return
    now = time.perf_counter()
    run.extra["elapsed_s"] = run.extra.get("elapsed_s", 0.0) + (now - run.clock)
    run.clock = now
    run.extra.update(step=step, qsgd_version=_version(), torch_version=torch.__version__,
                     threads=torch.get_num_threads(), machine=platform.machine() + " " + platform.system())
    tmp = run.ckpt_path.with_suffix(".tmp")
    torch.save({"config": _config_dict(run.cfg), "model": run.model.state_dict(), "records": run.rec, "step": step,
                "extra": run.extra, "seg_mask": run.seg_mask, "support": run.support}, tmp)
    os.replace(tmp, run.ckpt_path)
    _save_results(run.out, run.cfg, run.rec, run.extra)


def _download_step(run: _Run, t: int) -> None:
    """Step 4: download (re-prune, optional noise) at step ``t`` and record its effect."""
    cfg, rec = run.cfg, run.rec
    rec["download_steps"].append(t)
    rec["accuracy_before"].append(run.acc_train())
    rec["regrown"].append(_prunable_density(run.model))
    new = download(run.model, amount=cfg.prune_amount, eps=cfg.tomography_eps, rng=_step_seed(cfg.seed, t, 1))
    rec["accuracy_after"].append(run.acc_train())
    kept = sum(int(m.sum()) for m in new.values())
    common = sum(int((m & run.support[k].to(m.device)).sum()) for k, m in new.items())
    rec["support_change"].append(1.0 - common / max(kept, 1))
    run.support = new


def _record_spectrum(run: _Run, t: int, func: str) -> None:
    """The Hessian spectrum at step ``t`` (data-parallel under torchrun); at the first, ``eta`` from ``eta_scale``."""
    cfg, rec = run.cfg, run.rec
    if run.size > 1:
        dens = qdist.sharded_lanczos_density(
            run.model, run.spec_data, num_steps=cfg.lanczos_steps, num_starts=cfg.lanczos_starts,
            rng=_step_seed(cfg.seed, t, 2), operator_kwargs={"batch_size": cfg.spectrum_batch, "device": run.dev},
        )
    else:
        dens = qspec.lanczos_density(
            run.model, run.spec_data, num_steps=cfg.lanczos_steps, num_starts=cfg.lanczos_starts,
            rng=_step_seed(cfg.seed, t, 2), batch_size=cfg.spectrum_batch, device=run.dev,
        )
    rec["spectrum_steps"].append(t)
    rec["ritz_nodes"].append(dens.nodes.tolist())
    rec["ritz_weights"].append(dens.weights.tolist())
    rec["lambda_min"].append(dens.lambda_min)
    rec["lambda_max"].append(dens.lambda_max)
    if "eta" not in run.extra:  # eta_scale: the step size from the spectrum right after pruning
        if not dens.lambda_max > 0:
            raise ValueError(f"{func}: eta_scale needs lambda_max > 0, got {dens.lambda_max}")
        run.extra["eta"] = cfg.eta_scale / dens.lambda_max


def _record_accuracy(run: _Run, t: int) -> None:
    run.rec["eval_steps"].append(t)
    run.rec["train_accuracy"].append(run.acc_train())
    run.rec["test_accuracy"].append(run.acc_test())


def _protocol_step(run: _Run, t: int, schedule: set[int], func: str) -> None:
    """Step ``t`` of the protocol: download on schedule, records, one SGD step (seeded by ``(seed, t)``)."""
    cfg, K = run.cfg, run.cfg.reupload_every
    if t > 0 and t % K == 0:
        _download_step(run, t)
    classical = (t % K) < cfg.classical_steps
    if cfg.masked and (t % K) == cfg.classical_steps:
        run.seg_mask = _support_mask(run.model)  # the vector uploaded at the start of this quantum segment
    if t in schedule:
        _record_spectrum(run, t, func)
    if t % cfg.eval_every == 0:
        _record_accuracy(run, t)
    if "eta" not in run.extra:
        raise ValueError(f"{func}: eta_scale needs a spectrum at step 0 (got schedule {sorted(schedule)})")
    step_mask = None if (classical or not cfg.masked) else run.seg_mask
    if run.size > 1:
        loss, acc = _parallel_sgd_step(
            run.model, run.data, eta=run.extra["eta"], batch_size=cfg.batch_size, seed=_step_seed(cfg.seed, t),
            mask=step_mask, device=run.dev, rank=run.rank, size=run.size,
        )
    else:
        res = qnn.train(
            run.model, run.data, steps=1, eta=run.extra["eta"], batch_size=cfg.batch_size,
            rng=_step_seed(cfg.seed, t), mask=step_mask, device=run.dev,
        )
        loss, acc = float(res.loss[0]), float(res.accuracy[0])
    run.rec["step_loss"].append(loss)
    run.rec["step_accuracy"].append(acc)
    if (t + 1) % cfg.checkpoint_every == 0 and t + 1 < cfg.steps:
        _save(run, t + 1)


def _finish(run: _Run) -> None:
    """After the last step: the final sparse download (the output model), the final accuracies, the files."""
    cfg = run.cfg
    if cfg.steps > 0 and cfg.steps % cfg.reupload_every == 0 and cfg.steps not in run.rec["download_steps"]:
        _download_step(run, cfg.steps)
    if not run.rec["eval_steps"] or run.rec["eval_steps"][-1] != cfg.steps:
        _record_accuracy(run, cfg.steps)
    _save(run, cfg.steps)


def proxy_along_training(
    result: ExperimentResult,
    *,
    eta: float | None = None,
    cut: float = 0.4,
    mode: str = "upload",
) -> tuple[np.ndarray, np.ndarray]:
    r"""The error proxy of Eq. (7) along a run, restarting at every re-upload (Fig. 2b).

    In the segment that starts at the upload step :math:`s` (a multiple of
    :math:`K`), the quantum evolution starts at :math:`q = s + ` ``classical_steps``;
    for :math:`t \le q` no error has accrued (:math:`E = 1`), afterwards
    :math:`E(t) = ` ``error_proxy(rho, steps=t - q)`` with :math:`\rho` the
    spectrum recorded at :math:`q` (``mode="upload"``, the Hessian at the
    linearization point) or the latest spectrum recorded at or before
    :math:`t` (``mode="current"``). Steps whose spectrum was not recorded, or
    whose spectrum has no mass beyond the cut, are ``nan``.

    Returns
    -------
    steps, proxy : ndarray
        ``steps = 0..config.steps`` and the proxy at each.

    Used in chapter 7.
    """
    func = "proxy_along_training"
    if not isinstance(result, ExperimentResult):
        raise ValueError(f"{func}: result must be an ExperimentResult, got {describe(result)}")
    check_choice(mode, "mode", {"upload", "current"}, func=func)
    cut = check_positive(cut, "cut", func=func, strict=False)
    cfg = result.config
    eta = result.eta if eta is None else check_positive(eta, "eta", func=func)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"{func}: the run has no learning rate (eta={eta}; a partial run before its first "
                         "spectrum?); pass eta")
    K = cfg.reupload_every
    steps = np.arange(cfg.steps + 1)
    proxy = np.full(steps.size, np.nan)
    spec_steps = result.spectrum_steps
    cache: dict[int, np.ndarray] = {}

    def curve(i: int, length: int) -> np.ndarray:
        if i not in cache:
            nodes = result.ritz_nodes[i].reshape(-1)
            weights = result.ritz_weights[i].reshape(-1)
            with warnings.catch_warnings():  # no mass beyond the cut: nan, documented above
                warnings.simplefilter("ignore", RuntimeWarning)
                cache[i] = qspec.error_proxy(nodes, weights=weights, eta=eta, steps=K, cut=cut)
        return cache[i][: length + 1]

    for t in steps:
        # the value at a download step t = kK closes the segment that started at (k - 1)K
        s = t - K if (t > 0 and t % K == 0) else (t // K) * K
        q = s + cfg.classical_steps
        if t <= q:
            proxy[t] = 1.0
            continue
        if mode == "upload":
            hits = np.flatnonzero(spec_steps == q)
        else:
            last = t - 1 if (t > 0 and t % K == 0) else t  # a spectrum taken at t follows the download at t
            hits = np.flatnonzero((spec_steps <= last) & (spec_steps >= q))[-1:]
        if hits.size:
            proxy[t] = curve(int(hits[-1]), t - q)[t - q]
    return steps, proxy


@dataclass(frozen=True)
class ProxyReading:
    r"""The error proxy of Eq. (7) along a run under one reading of its :math:`a` and its cut.

    Attributes
    ----------
    label : str
        A short description of the reading.
    eta : float
        The :math:`\eta` in :math:`a = -\eta\lambda` (1.0 for the literal reading :math:`a = -\lambda`).
    cut_units : {"a", "lambda"}
        The cut ``cut`` applies to :math:`|a|` or to :math:`|\lambda|` (then :math:`|a| \ge \eta\,` ``cut``).
    cut : float
    mode : {"upload", "current"}
        The spectrum of each step: frozen at the start of the quantum segment, or the latest recorded.
    steps, proxy : ndarray
        Steps ``0..until`` and the proxy at each (``nan`` where no mass lies beyond the cut).

    Used in chapter 7.
    """

    label: str
    eta: float
    cut_units: str
    cut: float
    mode: str
    steps: np.ndarray
    proxy: np.ndarray

    def segment(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, proxy)`` over ``start + 1 .. start + length`` (one download cycle; the value at ``start``
        closes the previous cycle)."""
        sel = (self.steps > start) & (self.steps <= start + length)
        return self.steps[sel], self.proxy[sel]

    def summary(self, start: int, length: int) -> dict:
        """Minimum (and its step), the value at the segment's end, and the share of the first half of the
        segment with proxy <= 1, over ``start + 1 .. start + length``; ``nan`` where the proxy is undefined."""
        t, e = self.segment(start, length)
        finite = np.isfinite(e)
        if not finite.any():
            return {"defined": False, "minimum": math.nan, "argmin": -1, "end": math.nan, "below_first_half": math.nan}
        i = int(np.nanargmin(e))
        half = (t <= start + length // 2) & finite
        return {"defined": True, "minimum": float(e[i]), "argmin": int(t[i]), "end": float(e[-1]),
                "below_first_half": float(np.mean(e[half] <= 1.0)) if half.any() else math.nan}


def proxy_readings(result: ExperimentResult, *, cut: float = 0.4, until: int | None = None) -> list[ProxyReading]:
    r"""Eq. (7) along ``result`` under every reading the paper permits.

    The paper writes :math:`a` as "the negative of Hessian eigenvalues" and cuts
    :math:`|a| < 0.4`, without a learning rate. The readings, each with the spectrum
    frozen at the start of the quantum segment (``mode="upload"``) and with the
    latest recorded spectrum (``mode="current"``, one curve per step as the authors'
    spectra every few steps suggest):

    1. :math:`a = -\eta\lambda` with the run's learning rate, cut on :math:`|a|`;
    2. the same :math:`a`, cut on :math:`|\lambda|`;
    3. :math:`a = -\lambda` (no :math:`\eta`; the two cuts coincide);
    4. :math:`a = -\eta_{\rm edge}\lambda` with :math:`\eta_{\rm edge} = 2/\lambda_{\max}`, the largest
       :math:`\lambda_{\max}` of the spectra at the segment starts before ``until`` (the steepest mode
       at the stability edge :math:`|1 + a| = 1`), cut on :math:`|a|`;
    5. the same, cut on :math:`|\lambda|`.

    Parameters
    ----------
    result : ExperimentResult
    cut : float, keyword-only
        The paper's 0.4.
    until : int or None, keyword-only
        Last step (default ``min(2K, steps)``: the paper's Fig. 2b spans two cycles).

    Returns
    -------
    list of ProxyReading
        Ten readings: the five above, each in both modes.

    Used in chapter 7.
    """
    func = "proxy_readings"
    if not isinstance(result, ExperimentResult):
        raise ValueError(f"{func}: result must be an ExperimentResult, got {describe(result)}")
    cut = check_positive(cut, "cut", func=func)
    cfg = result.config
    K = cfg.reupload_every
    until = min(2 * K, cfg.steps) if until is None else check_int(until, "until", func=func, minimum=1)
    if until > cfg.steps:
        raise ValueError(f"{func}: until must be <= the run's steps ({cfg.steps}), got {until}")
    starts = [s + cfg.classical_steps for s in range(0, until, K)]
    hits = [np.flatnonzero(result.spectrum_steps == q) for q in starts]
    missing = [q for q, h in zip(starts, hits) if h.size == 0]
    if missing:
        raise ValueError(f"{func}: the run has no spectrum at the segment starts {missing}")
    lam_max = max(float(result.lambda_max[h[0]]) for h in hits)
    if not lam_max > 0:
        raise ValueError(f"{func}: the spectra at the segment starts have lambda_max = {lam_max} <= 0")
    eta_run, eta_edge = float(result.eta), 2.0 / lam_max
    choices = [
        (f"a = -eta*lambda, eta = {eta_run:.3g} (the run's), cut |a| >= {cut}", eta_run, "a"),
        (f"a = -eta*lambda, eta = {eta_run:.3g} (the run's), cut |lambda| >= {cut}", eta_run, "lambda"),
        (f"a = -lambda (no eta), cut |a| = |lambda| >= {cut}", 1.0, "a"),
        (f"a = -eta*lambda, eta = 2/lambda_max = {eta_edge:.3g} (stability edge), cut |a| >= {cut}", eta_edge, "a"),
        (f"a = -eta*lambda, eta = 2/lambda_max = {eta_edge:.3g} (stability edge), cut |lambda| >= {cut}",
         eta_edge, "lambda"),
    ]
    return [_reading(result, label=label, eta=eta, cut=cut, cut_units=units, mode=mode, until=until)
            for mode in ("upload", "current") for label, eta, units in choices]


def _reading(result: ExperimentResult, *, label: str, eta: float, cut: float, cut_units: str, mode: str,
             until: int | None = None) -> ProxyReading:
    """:func:`proxy_along_training` under one reading (the cut on ``|a|`` or on ``|lambda|``), to ``until``."""
    steps, proxy = proxy_along_training(result, eta=eta, cut=cut if cut_units == "a" else eta * cut, mode=mode)
    keep = steps <= (steps[-1] if until is None else until)
    return ProxyReading(label=label, eta=eta, cut_units=cut_units, cut=cut, mode=mode, steps=steps[keep],
                        proxy=proxy[keep])


def proxy_eta_sweep(
    result: ExperimentResult,
    etas,
    *,
    cut: float = 0.4,
    cut_units: str = "lambda",
    mode: str = "upload",
    start: int = 0,
) -> list[dict]:
    r"""Eq. (7) over one download cycle for each learning rate in ``etas`` (the paper does not give its own).

    For each :math:`\eta`, the proxy of :func:`proxy_along_training` over ``start .. start + K`` with the
    cut on :math:`|\lambda|` (``cut_units="lambda"``) or on :math:`|a| = \eta|\lambda|` (``"a"``), summarized as
    in :meth:`ProxyReading.summary`, plus ``eta`` and ``u_shape`` (the minimum is below 1 and the value at the
    end of the cycle above 1).

    Used in chapter 7.
    """
    func = "proxy_eta_sweep"
    if not isinstance(result, ExperimentResult):
        raise ValueError(f"{func}: result must be an ExperimentResult, got {describe(result)}")
    check_choice(cut_units, "cut_units", {"a", "lambda"}, func=func)
    check_choice(mode, "mode", {"upload", "current"}, func=func)
    cut = check_positive(cut, "cut", func=func)
    K = result.config.reupload_every
    start = check_int(start, "start", func=func, minimum=0)
    if start % K or start + K > result.config.steps:
        raise ValueError(f"{func}: start must be a multiple of K = {K} with start + K <= {result.config.steps}, "
                         f"got {start}")
    try:
        etas = [float(e) for e in np.atleast_1d(np.asarray(etas, dtype=float))]
    except (TypeError, ValueError):
        raise ValueError(f"{func}: etas must be positive numbers, got {describe(etas)}") from None
    if not etas:
        raise ValueError(f"{func}: etas is empty")
    rows = []
    for eta in etas:
        eta = check_positive(eta, "etas[i]", func=func)
        summary = _reading(result, label="", eta=eta, cut=cut, cut_units=cut_units, mode=mode).summary(start, K)
        summary["eta"] = eta
        summary["u_shape"] = bool(summary["defined"] and summary["minimum"] < 1 < summary["end"])
        rows.append(summary)
    return rows


# ---------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------


def plot_results(result: ExperimentResult, *, eta: float | None = None, cut: float = 0.4):
    """The three panels of Fig. 2 for a finished (or partial) run: (a) spectra, (b) proxy, (c) accuracy.

    Returns the matplotlib ``Figure`` (nothing is shown or saved).

    Used by ``python -m qsgd plot``.
    """
    import matplotlib.pyplot as plt

    if not isinstance(result, ExperimentResult):
        raise ValueError(f"plot_results: result must be an ExperimentResult, got {describe(result)}")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    if result.spectrum_steps.size:
        lo, hi = float(result.lambda_min.min()), float(result.lambda_max.max())
        pad = 0.05 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 600)
        for k, step in enumerate(result.spectrum_steps):
            _, d = result.spectrum(int(step), grid=grid)
            ax.plot(grid, np.log10(np.maximum(d, 1e-6)) + 6 * k, color="C3" if step % result.config.reupload_every == 0 else "C0", lw=1)
    ax.set_xlabel("Hessian eigenvalue $\\lambda$")
    ax.set_ylabel("log$_{10}$ density + offset (one row per recorded step)")
    ax.set_title("(a) Hessian spectra")
    ax = axes[1]
    if result.spectrum_steps.size:
        steps, proxy = proxy_along_training(result, eta=eta, cut=cut)
        ax.semilogy(steps, proxy, "C0")
        ax.axhline(1, color="k", lw=0.8)
    ax.set_xlabel("step t")
    ax.set_ylabel("error proxy E(t), Eq. (7)")
    ax.set_title(f"(b) error proxy (eta = {result.eta if eta is None else eta:.3g}, cut {cut})")
    ax = axes[2]
    ax.plot(result.eval_steps, result.train_accuracy, "C0.-", ms=3, lw=0.8, label="training subset")
    ax.plot(result.eval_steps, result.test_accuracy, "C2.-", ms=3, lw=0.8, label="test")
    if result.download_steps.size:
        ax.plot(result.download_steps, result.accuracy_after, "C3v", label="right after a download")
    ax.set_xlabel("step t")
    ax.set_ylabel("accuracy")
    ax.set_title("(c) accuracy with download/re-upload")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
