r"""Quantum training runs too long for a chapter: one resumable command, one small results file.

Chapter 8 trains a pruned network of 24 free weights inside the notebook. A network ten times
larger -- a tanh MLP :math:`64\to16\to3` on three digit classes, pruned to its 200 largest
first-layer weights, which are rewound to zero -- has an Eq. 6 system of 223,300 unknowns
(order :math:`N=2`, symmetric basis, :math:`T=10`): no decomposition, no explicit Carleman matrix
(its level-2 block would have :math:`n^4 = 1.6\cdot10^9` entries). Its segments run matrix-free
(``SegmentSettings.linalg``: :mod:`qsgd.lifting_operators` for the products, :mod:`qsgd.matfun` for
the spectrum and the solver) and take minutes each, so the run is made by

.. code-block:: console

    python -m qsgd train --preset mixed --output book/data/train200_mixed.json
    python -m qsgd train --preset quantum-only --output book/data/train200_quantum.json

(``make train`` runs both). After every cycle the results file is rewritten, so an interrupted
run resumes where it stopped; cycle :math:`k` draws from the generator seeded with
``(seed, k)``, so a resumed run is the run that was not interrupted. The file holds the
configuration, the package version, and per cycle the weights, losses, accuracies, each
segment's measured errors, a priori bounds and after-the-fact estimates, the condition-number
bracket, the success probability, the solver's queries and the seconds it took; classical GD of
the same number of steps is the reference. :func:`load_run` refuses a file that does not match
the configuration or is truncated. A test recomputes the first segment and compares it with the
file (``tests/test_stored_training.py``).

Used in chapter 8.
"""

from __future__ import annotations

import copy
import json
import math
import os
import platform
import time
import warnings
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from qsgd._validation import check_choice, check_int, check_positive, describe, progress_disabled

__all__ = ["TrainConfig", "TRAIN_PRESETS", "DigitsTask", "digits_task", "train_run", "load_run",
           "config_from", "train_preset", "RESULTS_FORMAT"]

#: version of the results-file layout
RESULTS_FORMAT = 1


@dataclass(frozen=True)
class TrainConfig:
    r"""Everything that defines a stored run (echoed in its results file).

    Attributes
    ----------
    hidden : int
        Hidden units of the tanh MLP :math:`64\to\text{hidden}\to3`.
    keep : int
        Free first-layer weights kept by global magnitude pruning (then rewound to zero).
    classes : tuple of int
        The digit classes.
    pretrain_steps : int
        Minibatch SGD steps of the dense network before pruning.
    eta, steps, order, basis, clock_qubits, shots, solver, linalg
        The segment settings (:class:`qsgd.pipeline.SegmentSettings`).
    cycles : int
        Quantum segments.
    classical_steps : int
        Classical GD steps after each download (0: quantum only).
    model_seed : int
        Seeds the network's initialization and pre-training.
    seed : int
        Seeds every segment: cycle ``k`` draws from ``numpy.random.default_rng((seed, k))``.
    """

    hidden: int = 16
    keep: int = 200
    classes: tuple = (3, 5, 8)
    pretrain_steps: int = 200
    eta: float = 0.1
    steps: int = 10
    order: int = 2
    basis: str = "symmetric"
    clock_qubits: int = 10
    shots: int = 10_000
    solver: str = "hhl"
    linalg: str = "matrix-free"
    cycles: int = 4
    classical_steps: int = 3
    model_seed: int = 0
    seed: int = 2024

    def __post_init__(self):
        func = "TrainConfig"
        for name in ("hidden", "keep", "pretrain_steps", "steps", "cycles", "clock_qubits", "shots"):
            check_int(getattr(self, name), name, func=func, minimum=1)
        check_int(self.classical_steps, "classical_steps", func=func, minimum=0)
        check_int(self.seed, "seed", func=func, minimum=0)
        check_int(self.model_seed, "model_seed", func=func, minimum=0)
        check_positive(self.eta, "eta", func=func)
        classes = tuple(int(c) for c in self.classes)
        if len(classes) < 2 or len(set(classes)) != len(classes) or not all(0 <= c <= 9 for c in classes):
            raise ValueError(f"{func}: classes must be two or more distinct digits 0..9, got {self.classes!r}")
        object.__setattr__(self, "classes", classes)
        if self.keep > 64 * self.hidden:
            raise ValueError(f"{func}: keep={self.keep} exceeds the {64 * self.hidden} first-layer weights")

    def settings(self):
        """The :class:`qsgd.pipeline.SegmentSettings` of every segment."""
        from qsgd.pipeline import SegmentSettings

        return SegmentSettings(eta=self.eta, steps=self.steps, order=self.order, clock_qubits=self.clock_qubits,
                               shots=self.shots, basis=self.basis, solver=self.solver, linalg=self.linalg)

    @property
    def total_steps(self) -> int:
        return self.cycles * (self.steps + self.classical_steps)

    @property
    def quantum_fraction(self) -> float:
        """Share of the GD steps made by quantum segments."""
        return self.cycles * self.steps / self.total_steps


#: the two stored runs of chapter 8: 77 % quantum steps, and quantum steps only
TRAIN_PRESETS = {
    "mixed": TrainConfig(cycles=4, classical_steps=3),
    "quantum-only": TrainConfig(cycles=5, classical_steps=0),
}


@dataclass(frozen=True)
class DigitsTask:
    """A pruned tanh MLP on digit classes, as a loss of its free weights (:func:`digits_task`)."""

    model: Any
    loss: Any
    theta0: np.ndarray
    unflatten: Any
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    bounds: Any
    dense_accuracy: float

    @property
    def n(self) -> int:
        return int(self.theta0.size)

    def accuracy(self, theta, *, test: bool = True) -> float:
        """Accuracy of the network with free weights ``theta`` on the test (or training) set."""
        from qsgd import nn as qnn

        net = copy.deepcopy(self.model)
        net.load_state_dict(self.unflatten(np.asarray(theta, dtype=float)), strict=False)
        x, y = (self.x_test, self.y_test) if test else (self.x_train, self.y_train)
        return float(qnn.accuracy(net, x, y))


def digits_task(config: TrainConfig) -> DigitsTask:
    r"""The task of a stored run: chapter 8's recipe at ``config.hidden`` units and ``config.keep`` weights.

    The scikit-learn digits of ``config.classes``; a tanh MLP :math:`64\to h\to|{\rm classes}|`
    trained by minibatch SGD (:func:`qsgd.nn.train`, ``pretrain_steps``, :math:`\eta=0.1`, batch 64),
    pruned globally to the ``keep`` largest first-layer weights (:func:`qsgd.nn.prune_global`), the
    kept weights rewound to zero: they are the free weights; biases and classifier stay trained.
    The loss is the full-batch cross-entropy of the free weights (:func:`qsgd.gd.model_loss`); its
    derivative bounds come from :func:`qsgd.derivative_bounds.tanh_mlp_bounds`.
    """
    from qsgd import nn as qnn
    from qsgd.data import load_digits
    from qsgd.derivative_bounds import tanh_mlp_bounds
    from qsgd.gd import model_loss

    if not isinstance(config, TrainConfig):
        raise ValueError(f"digits_task: config must be a TrainConfig, got {describe(config)}")
    digits = load_digits(rng=0, dtype="float64")
    classes = np.array(config.classes)

    def subset(x, y):
        keep = np.isin(y.numpy(), classes)
        labels = torch.as_tensor(np.searchsorted(np.sort(classes), y.numpy()[keep]))
        return x[keep], labels

    x_train, y_train = subset(digits.x_train, digits.y_train)
    x_test, y_test = subset(digits.x_test, digits.y_test)
    model = qnn.mlp([64, config.hidden, len(classes)], rng=config.model_seed, dtype="float64")
    qnn.train(model, (x_train, y_train), steps=config.pretrain_steps, eta=0.1, batch_size=64, rng=config.model_seed)
    dense = float(qnn.accuracy(model, x_test, y_test))
    masks = qnn.prune_global(model, amount=1 - config.keep / model[0].weight.numel())
    with torch.no_grad():
        model[0].weight.zero_()
    mask = {name: masks.get(name, torch.zeros_like(p, dtype=torch.bool)) for name, p in model.named_parameters()}
    loss, theta0, unflatten = model_loss(model, x_train, y_train, mask=mask)
    bounds = tanh_mlp_bounds(model, x_train, y_train, mask=mask, degree=2)
    return DigitsTask(model=model, loss=loss, theta0=np.asarray(theta0, dtype=float), unflatten=unflatten,
                      x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, bounds=bounds,
                      dense_accuracy=dense)


def _loss(task: DigitsTask, theta) -> float:
    return float(task.loss(torch.as_tensor(np.asarray(theta, dtype=float))).detach())


def _finite(x: float):
    """JSON has no inf/nan: they are written as strings."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _segment_record(k: int, seg, seconds: float) -> dict:
    r = seg.report
    res = r.resources
    bracket = seg.stages.bracket
    return {
        "cycle": k,
        "seed": int(r.seed),
        "success": bool(seg.success),
        "message": seg.message,
        "displacement": float(r.displacement),
        "errors": {t: {"error": _finite(e.error), "bound": _finite(e.bound), "estimate": _finite(e.estimate)}
                   for t, e in r.errors.items()},
        "guarantee_total": _finite(r.guarantee.total),
        "kappa_upper": float(res.kappa),
        "kappa_bracket": None if bracket is None else [float(v) for v in bracket.condition_number],
        "sigma_min": float(res.sigma_min),
        "sigma_max": float(res.sigma_max),
        "success_probability": float(res.success_probability),
        "postselection_probability": float(res.postselection_probability),
        "solver_queries": int(res.solver_queries),
        "qubits": int(res.qubits.total),
        "history_dimension": int(res.qubits.history_dimension),
        "tomography_copies": int(res.tomography_copies),
        "seconds": round(float(seconds), 1),
    }


def _header(config: TrainConfig, task: DigitsTask) -> dict:
    from qsgd import __version__

    return {
        "format": RESULTS_FORMAT,
        "package_version": __version__,
        "config": asdict(config),
        "n": task.n,
        "dense_accuracy": task.dense_accuracy,
        "start": {"loss": _loss(task, task.theta0), "test_accuracy": task.accuracy(task.theta0)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"torch {torch.__version__}, {torch.get_num_threads()} torch thread(s)",
        "cycles": [],
        "seconds": 0.0,
        "complete": False,
    }


def _write(path: Path, results: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    os.replace(tmp, path)  # atomic: an interrupted write leaves the previous file


def train_run(config: TrainConfig, output: Any, *, resume: bool = True, progress: bool = True,
              max_cycles: int | None = None) -> dict:
    r"""Run (or resume) a stored quantum training run and write its results file after every cycle.

    Each cycle runs one quantum segment (:func:`qsgd.pipeline.quantum_gd` with ``config.settings()``,
    ``on_failure`` ``"continue"``: a segment whose guarantee fails says so in the file) from the
    current weights, then ``classical_steps`` classical GD steps. Classical GD of
    ``config.total_steps`` steps from the same start is the reference (its losses and test
    accuracies at every step are in the file).

    Parameters
    ----------
    config : TrainConfig
    output : str or Path
        The results file (JSON). Its directory must exist.
    resume : bool, default True
        Continue a file of the same configuration (checked by :func:`load_run`); False starts over.
    progress : bool, default True
        A progress bar with the time per cycle and the ETA (``TQDM_DISABLE`` silences it).
    max_cycles : int, optional
        Stop after this many cycles in all (for tests); the file then says ``"complete": false``.

    Returns
    -------
    dict
        The results, as written.

    Raises
    ------
    ValueError
        A bad config, a missing directory, or (with ``resume``) an existing file that does not match.
    """
    from tqdm.auto import tqdm

    from qsgd.gd import gradient_descent
    from qsgd.pipeline import quantum_gd

    func = "train_run"
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{func}: config must be a TrainConfig, got {describe(config)}")
    path = Path(output)
    if not path.parent.is_dir():
        raise ValueError(f"{func}: the directory of output={str(path)!r} does not exist")
    stop = config.cycles if max_cycles is None else min(config.cycles, check_int(max_cycles, "max_cycles",
                                                                                   func=func, minimum=1))
    task = digits_task(config)
    settings = config.settings()
    results = load_run(path, config) if (resume and path.exists()) else _header(config, task)
    if "reference" not in results:
        ref = np.asarray(gradient_descent(task.loss, task.theta0, eta=config.eta, steps=config.total_steps))
        results["reference"] = {"loss": [_loss(task, th) for th in ref],
                                "test_accuracy": [task.accuracy(th) for th in ref]}
        _write(path, results)
    done = len(results["cycles"])
    theta = task.theta0 if done == 0 else np.asarray(results["cycles"][-1]["theta_after"], dtype=float)
    bar = tqdm(total=stop, initial=min(done, stop), desc="quantum training", unit="cycle",
               disable=progress_disabled(progress))
    for k in range(done, stop):
        tic = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # each segment's verdict is recorded in the file
            seg = quantum_gd(task.loss, theta, settings, rng=np.random.default_rng([config.seed, k]),
                             derivative_bounds=task.bounds)
        theta_q = np.asarray(seg.theta, dtype=float)
        theta = theta_q
        if config.classical_steps:
            theta = np.asarray(gradient_descent(task.loss, theta_q, eta=config.eta, steps=config.classical_steps),
                               dtype=float)[-1]
        record = _segment_record(k, seg, time.perf_counter() - tic)
        step = (k + 1) * (config.steps + config.classical_steps)
        record.update({
            "step_after_segment": step - config.classical_steps, "step_after": step,
            "theta_after_segment": theta_q.tolist(), "theta_after": theta.tolist(),
            "loss_after_segment": _loss(task, theta_q), "loss_after": _loss(task, theta),
            "test_accuracy_after_segment": task.accuracy(theta_q), "test_accuracy_after": task.accuracy(theta),
        })
        results["cycles"].append(record)
        results["seconds"] = round(float(results["seconds"]) + record["seconds"], 1)
        results["complete"] = len(results["cycles"]) == config.cycles
        _write(path, results)
        bar.update(1)
        bar.set_postfix(accuracy=f"{record['test_accuracy_after']:.3f}", seconds=record["seconds"])
    bar.close()
    return results


_REQUIRED = ("format", "package_version", "config", "n", "start", "cycles", "seconds", "complete", "reference")
_CYCLE_FIELDS = ("cycle", "seed", "errors", "theta_after_segment", "theta_after", "test_accuracy_after_segment",
                 "test_accuracy_after", "step_after", "seconds")


def load_run(path: Any, config: TrainConfig | None = None) -> dict:
    """Read a results file of :func:`train_run`, refusing one that is truncated or of another configuration.

    Parameters
    ----------
    path : str or Path
    config : TrainConfig, optional
        When given, every field of the file's configuration must equal it.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        Naming the file and the field: missing file, not JSON (a truncated write), a missing field,
        another format, a configuration that differs, a cycle without its fields or weights of the
        wrong length.
    """
    func = "load_run"
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{func}: no results file {str(path)!r}; make it with `python -m qsgd train`")
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{func}: {str(path)!r} is not a complete JSON file ({exc.msg} at line {exc.lineno}); "
                         "it may be truncated: run `python -m qsgd train` again to rewrite it") from None
    if not isinstance(results, dict):
        raise ValueError(f"{func}: {str(path)!r} does not hold a results object")
    for name in _REQUIRED:
        if name not in results:
            raise ValueError(f"{func}: {str(path)!r} has no field {name!r}; it is truncated or not a results file")
    if results["format"] != RESULTS_FORMAT:
        raise ValueError(f"{func}: {str(path)!r} has format {results['format']!r}, this package reads "
                         f"{RESULTS_FORMAT}")
    stored = results["config"]
    if config is not None:
        expected = asdict(config)
        for f in fields(TrainConfig):
            got = stored.get(f.name)
            want = expected[f.name]
            if (list(got) if isinstance(got, (list, tuple)) else got) != (list(want) if isinstance(want, tuple)
                                                                           else want):
                raise ValueError(f"{func}: {str(path)!r} was made with config.{f.name}={got!r}, not {want!r}; "
                                 "pass resume=False (or --no-resume) to start over")
    n = int(results["n"])
    for k, record in enumerate(results["cycles"]):
        for name in _CYCLE_FIELDS:
            if name not in record:
                raise ValueError(f"{func}: {str(path)!r}: cycle {k} has no field {name!r}")
        if len(record["theta_after"]) != n or len(record["theta_after_segment"]) != n:
            raise ValueError(f"{func}: {str(path)!r}: cycle {k} holds weights of length "
                             f"{len(record['theta_after'])}, expected n = {n}")
    return results


def config_from(results: dict) -> TrainConfig:
    """The :class:`TrainConfig` a results dict was made with."""
    stored = dict(results["config"])
    stored["classes"] = tuple(stored["classes"])
    return TrainConfig(**stored)


def train_preset(name: str, **changes) -> TrainConfig:
    """A preset of :data:`TRAIN_PRESETS` with fields replaced."""
    name = check_choice(name, "preset", tuple(TRAIN_PRESETS), func="train_preset")
    return replace(TRAIN_PRESETS[name], **changes)
