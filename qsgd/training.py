r"""The alternating protocol of Liu et al.: quantum segments, downloads, classical steps, re-uploads.

:func:`quantum_training` runs ``cycles`` quantum segments (:func:`qsgd.pipeline.quantum_gd`),
each followed by a download of the weights and ``classical_steps`` exact GD steps, and compares
the run with classical gradient descent of the same length. Every segment's a priori guarantee
(:mod:`qsgd.guarantee`) is checked; the guarantees compose into an a priori bound on the
distance from classical GD across the whole run (``TrainingRun.envelope``).

References
----------
.. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2 and the protocol in its text.

Used in chapter 8.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import torch

from qsgd._validation import check_choice, check_int
from qsgd.gd import gradient_descent
from qsgd.guarantee import GuaranteeWarning
from qsgd.pipeline import (
    SegmentSettings,
    derivative_bounds_for,
    loss_and_theta,
    quantum_gd,
    run_seed,
    segment_settings,
)

__all__ = ["ON_FAILURE", "GuaranteeError", "TrainingRun", "quantum_training"]

#: what quantum_training does when a segment's guarantee fails
ON_FAILURE = ("raise", "shorten", "continue")


class GuaranteeError(RuntimeError):
    """A training segment's a priori guarantee failed (``quantum_training(on_failure="raise")``)."""


@dataclass(frozen=True)
class TrainingRun:
    r"""Result of :func:`quantum_training`.

    Attributes
    ----------
    step : ndarray of int
        GD step index of every recorded point (0 = start).
    kind : tuple of str
        ``"start"``, ``"quantum"`` (end of a segment, after the download) or ``"classical"``.
    theta : ndarray, shape (len(step), n)
        Weights at the recorded points.
    loss : ndarray
        Loss at the recorded points.
    classical_theta, classical_loss : ndarray
        Classical GD from the same start, at every step ``0..total_steps``.
    deviation : ndarray
        :math:`\lVert\theta-\theta_{\rm GD}\rVert` at the recorded points.
    envelope : ndarray
        The a priori bound on ``deviation`` (see :func:`quantum_training`): the segments' guarantees
        carried by :math:`1+\eta H` per step; ``inf`` from the first segment without a finite
        guarantee (no derivative bounds, or an infinite term) on.
    envelope_estimate : ndarray
        The first-order prediction from the segments' after-the-fact estimates and the contraction
        along the classical path (an estimate: it uses the path it judges).
    loss_envelope : ndarray
        The loss gap that ``envelope_estimate`` allows:
        :math:`\lVert\nabla\mathcal L\rVert E+\tfrac12\lambda_{\max}(\nabla^2\mathcal L)E^2` at
        the classical point (an estimate).
    success : tuple of bool
        Each segment's verdict (:attr:`SegmentResult.success`).
    messages : tuple of str
        Each segment's message.
    segment_steps : tuple of int
        The steps each segment ran (shorter than ``settings.steps`` where ``on_failure="shorten"``
        shortened it).
    max_contraction : float
        Largest :math:`\lVert I-\eta\nabla^2\mathcal L\rVert` along the classical path.
    reports : tuple of SegmentReport
    settings : SegmentSettings
    cycles, classical_steps : int
        Echo.
    seed : int
        The seed of the run (:func:`run_seed`): ``rng=seed`` repeats the whole run; each segment's
        own seed is in its report.
    """

    step: np.ndarray
    kind: tuple
    theta: np.ndarray
    loss: np.ndarray
    classical_theta: np.ndarray
    classical_loss: np.ndarray
    deviation: np.ndarray
    envelope: np.ndarray
    envelope_estimate: np.ndarray
    loss_envelope: np.ndarray
    max_contraction: float
    reports: tuple
    settings: SegmentSettings
    cycles: int
    classical_steps: int
    seed: int
    success: tuple = ()
    messages: tuple = ()
    segment_steps: tuple = ()


def _loss_value(loss, theta) -> float:

    return float(loss(torch.as_tensor(np.asarray(theta, dtype=float), dtype=torch.float64)).detach())


def _local_geometry(loss, theta, eta):
    """||I - eta H||_2, ||grad||, lambda_max(H) at theta."""

    th = torch.as_tensor(np.asarray(theta, dtype=float), dtype=torch.float64)
    g = torch.func.grad(loss)(th).detach().numpy()
    H = torch.func.hessian(loss)(th).detach().numpy()
    H = 0.5 * (H + H.T)
    w = np.linalg.eigvalsh(H)
    return float(np.max(np.abs(1.0 - eta * w))), float(np.linalg.norm(g)), float(max(w.max(), 0.0))


def quantum_training(model_or_loss, theta0=None, settings=None, *, cycles, classical_steps=0, rng=None,
                     data=None, mask=None, loss_fn=None, derivative_bounds=None, on_failure="raise",
                     **knobs) -> TrainingRun:
    r"""The alternating protocol of [1]_: quantum segments, downloads, classical steps, re-uploads.

    Each of the ``cycles`` cycles (i) uploads the current weights, i.e. expands the loss around
    them, and runs one quantum segment of ``steps`` GD steps (:func:`quantum_gd`), (ii)
    downloads the result by tomography, (iii) takes ``classical_steps`` exact GD steps
    classically (the QRAM variant of [1]_ trains classically for 10 steps after each download),
    and re-uploads. Classical GD of the same total length from the same start is the reference.
    The classical steps are exact full-batch GD on the same free weights
    (:func:`qsgd.gd.gradient_descent`), so that quantum and classical stages train the same
    loss; :func:`qsgd.nn.train` (minibatch SGD of a whole model) is what pre-trains the network
    in chapter 8. Chapter 7's :mod:`qsgd.experiments` emulates the protocol classically at the
    paper's scale; here every segment runs the stages of :func:`quantum_gd`, simulated at the
    level ``settings.simulation`` says.

    **The guarantee across the run** (``envelope``). Let :math:`B_k` be segment :math:`k`'s a priori
    bound ``errors["total"].bound`` (distance to exact GD *from the segment's own start*, computed
    before it runs) and :math:`\Lambda = 1+\eta H`, :math:`H` the derivative bounds' Hessian bound:
    one exact GD step is :math:`\Lambda`-Lipschitz, so a deviation :math:`E` at a segment's start
    is at most :math:`\Lambda^TE` after it, and

    .. math:: E\leftarrow\Lambda E\ \text{(classical step)},\qquad
              E\leftarrow\Lambda^{T}E+B_k\ \text{(segment)} .

    **The estimate** (``envelope_estimate``) replaces :math:`B_k` by the segment's after-the-fact
    estimate and :math:`\Lambda` by :math:`\lVert I-\eta\nabla^2\mathcal L(\theta_{\rm GD}(t))\rVert`
    along the classical path (first order): it is computed from the path it judges, so it is an
    estimate, not a bound.

    **Failed guarantees.** Every segment's verdict is checked: ``on_failure="raise"`` (the
    default) stops with :class:`GuaranteeError`, ``"shorten"`` halves the failing segment's
    :math:`T` until its guarantee holds (raising when even :math:`T=1` fails), ``"continue"``
    records the failure (``success``, ``messages``) and goes on.

    Parameters
    ----------
    model_or_loss, theta0, settings, data, mask, loss_fn, **knobs
        As in :func:`quantum_gd`: every segment runs with the same :class:`SegmentSettings`.
    rng : None, int or numpy.random.Generator
        Source of every seed of every segment; the same seed gives the same run.
    cycles : int
        Number of quantum segments (>= 1).
    classical_steps : int
        Classical GD steps after each download (>= 0).
    derivative_bounds : DerivativeBounds, optional
        As in :func:`quantum_gd` (computed once for a tanh network given as a model).
    on_failure : {"raise", "shorten", "continue"}
        What a failed segment guarantee does (above).

    Returns
    -------
    TrainingRun

    Raises
    ------
    GuaranteeError
        A segment's guarantee failed and ``on_failure`` is ``"raise"`` (or ``"shorten"`` at
        :math:`T=1`).

    References
    ----------
    .. [1] J. Liu et al., Nat. Commun. 15, 434 (2024), Fig. 2 and the protocol in its text.

    Used in chapter 8.
    """
    func = "quantum_training"
    s = segment_settings(settings, knobs, func)
    loss, theta_start = loss_and_theta(model_or_loss, theta0, data, mask, loss_fn, func)
    bounds = derivative_bounds_for(derivative_bounds, model_or_loss, data, mask, loss_fn, s, func)
    on_failure = check_choice(on_failure, "on_failure", ON_FAILURE, func=func)
    eta, steps = s.eta, s.steps
    cycles = check_int(cycles, "cycles", func=func, minimum=1)
    classical_steps = check_int(classical_steps, "classical_steps", func=func, minimum=0)
    seed = run_seed(rng, func=func)
    gen = np.random.default_rng(seed)

    total = cycles * (steps + classical_steps)
    ref = np.asarray(gradient_descent(loss, theta_start, eta=eta, steps=total), dtype=float)
    geometry = [_local_geometry(loss, th, eta) for th in ref]
    contraction = np.array([g[0] for g in geometry])
    # the a priori Lipschitz constant of one exact GD step (none known without derivative bounds)
    growth = 1.0 + eta * bounds.hessian if bounds is not None else math.inf

    theta = theta_start.copy()
    rec_step, rec_kind, rec_theta, rec_env, rec_est = [0], ["start"], [theta.copy()], [0.0], [0.0]
    reports, verdicts, messages, seg_steps = [], [], [], []
    envelope, estimate, t = 0.0, 0.0, 0
    for k in range(cycles):
        seg = _checked_segment(loss, theta, s, gen, bounds, on_failure, k, func)
        T = seg.report.settings.steps
        reports.append(seg.report), verdicts.append(seg.success), messages.append(seg.message), seg_steps.append(T)
        envelope = _carried(envelope, growth**T) + seg.report.errors["total"].bound
        estimate = float(np.prod(contraction[t : t + T])) * estimate + seg.report.errors["total"].estimate
        theta = seg.theta
        t += T
        rec_step.append(t), rec_kind.append("quantum"), rec_theta.append(theta.copy())
        rec_env.append(envelope), rec_est.append(estimate)
        if classical_steps:
            path = np.asarray(gradient_descent(loss, theta, eta=eta, steps=classical_steps), dtype=float)
            for j in range(1, classical_steps + 1):
                envelope, estimate = _carried(envelope, growth), contraction[t] * estimate
                t += 1
                rec_step.append(t), rec_kind.append("classical"), rec_theta.append(path[j].copy())
                rec_env.append(envelope), rec_est.append(estimate)
            theta = path[-1]
    steps_arr = np.array(rec_step)
    thetas = np.array(rec_theta)
    est = np.array(rec_est)
    losses = np.array([_loss_value(loss, th) for th in thetas])
    ref_losses = np.array([_loss_value(loss, th) for th in ref])
    grad_norm = np.array([geometry[i][1] for i in steps_arr])
    curvature = np.array([geometry[i][2] for i in steps_arr])
    return TrainingRun(
        step=steps_arr,
        kind=tuple(rec_kind),
        theta=thetas,
        loss=losses,
        classical_theta=ref[: int(steps_arr[-1]) + 1],
        classical_loss=ref_losses[: int(steps_arr[-1]) + 1],
        deviation=np.linalg.norm(thetas - ref[steps_arr], axis=1),
        envelope=np.array(rec_env),
        envelope_estimate=est,
        loss_envelope=np.where(est == 0, 0.0, grad_norm * est + 0.5 * curvature * est**2),
        max_contraction=float(contraction.max()),
        reports=tuple(reports),
        settings=s,
        cycles=cycles,
        classical_steps=classical_steps,
        seed=seed,
        success=tuple(verdicts),
        messages=tuple(messages),
        segment_steps=tuple(seg_steps),
    )


def _carried(envelope: float, factor: float) -> float:
    """``factor * envelope`` with ``0 * inf = 0`` (a zero deviation stays zero) and nan kept."""
    return 0.0 if envelope == 0.0 else float(factor * envelope)


def _checked_segment(loss, theta, s: SegmentSettings, gen, bounds, on_failure: str, index: int, func: str):
    """One segment of the run, its guarantee checked: raise, shorten the segment, or go on (``on_failure``)."""
    current = s
    while True:
        with warnings.catch_warnings():
            if on_failure != "continue":  # the failure is acted on here, not only reported
                warnings.simplefilter("ignore", GuaranteeWarning)
            seg = quantum_gd(loss, theta, current, rng=gen, derivative_bounds=bounds)
        if seg.success or on_failure == "continue":
            return seg
        if on_failure == "shorten" and current.steps > 1:
            current = replace(current, steps=current.steps // 2)
            continue
        raise GuaranteeError(f"{func}: segment {index} (T = {current.steps}) failed: {seg.message}"
                             + ("; even T = 1 fails" if on_failure == "shorten" else
                                "; pass on_failure='shorten' to shorten failing segments, or 'continue'"))


