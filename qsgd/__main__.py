r"""The command line: ``python -m qsgd experiments|plot|spectrum ...``.

* ``python -m qsgd [experiments] --scale small|fashion|paper ...`` runs and saves the Fig. 2
  protocol of :mod:`qsgd.experiments` (:func:`main`); ``--eta`` sets the learning rate
  :math:`\eta`, ``--eta-scale`` sets it from the spectrum right after pruning;
* ``python -m qsgd plot RUN_DIR`` plots a finished run (:func:`plot_main`);
* ``torchrun ... -m qsgd spectrum ...`` computes a Hessian spectrum data-parallel with
  :mod:`qsgd.distributed` (:func:`spectrum_main`);
* ``python -m qsgd train --preset mixed|quantum-only --output FILE`` makes (or resumes) a stored
  quantum training run of :mod:`qsgd.stored_training` (:func:`train_main`).

Used in chapters 7 and 8.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from qsgd import distributed as qdist
from qsgd import experiments as qe
from qsgd import nn as qnn

__all__ = ["main", "plot_main", "spectrum_main", "train_main"]


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

#: command-line options that override preset settings: (flag, field, type, help)
_CLI_OPTIONS = (
    ("--data", "data_path", str, "CIFAR-100 directory, python layout (scale paper)"),
    ("--data-dir", "data_dir", str, "directory with the four Fashion-MNIST IDX files (scale fashion; "
     "default: $QSGD_DATA_DIR, then /usr/share/datasets/fashion-mnist)"),
    ("--pretrained", "pretrained", str, "state dict of a pre-trained dense model (skips pre-training)"),
    ("--n-train", "n_train", int, "training images used (all if unset)"),
    ("--n-test", "n_test", int, "test images used (all if unset)"),
    ("--dtype", "dtype", str, "float32 or float64"),
    ("--pretrain-steps", "pretrain_steps", int, "SGD steps of dense pre-training"),
    ("--steps", "steps", int, "protocol SGD steps after pruning"),
    ("--eta", "eta", float, "learning rate eta of the protocol (ignored when --eta-scale sets it from the spectrum)"),
    ("--eta-scale", "eta_scale", float, "set eta = eta_scale / lambda_max of the spectrum right after pruning"),
    ("--batch-size", "batch_size", int, "minibatch size of a protocol step (split over ranks under torchrun)"),
    ("--reupload-every", "reupload_every", int, "K: download (re-prune) and re-upload every K steps"),
    ("--classical-steps", "classical_steps", int, "classical steps after each download (10: QRAM variant)"),
    ("--eps", "tomography_eps", float, "relative l2 tomography noise added at each download"),
    ("--spectrum-every", "spectrum_every", int, "record a Hessian spectrum every this many steps ..."),
    ("--spectrum-until", "spectrum_until", int, "... up to this step"),
    ("--spectrum-samples", "spectrum_samples", int, "training samples in the Hessian's loss"),
    ("--lanczos-steps", "lanczos_steps", int, "Lanczos steps per start"),
    ("--lanczos-starts", "lanczos_starts", int, "random Lanczos start vectors per spectrum"),
    ("--seed", "seed", int, "seed of initialisation, minibatches, start vectors and noise"),
    ("--device", "device", str, "cpu, cuda, cuda:1, ... (under torchrun each rank takes its own GPU)"),
)


def _preset_defaults(field: str) -> str:
    values = {scale: getattr(qe._preset(scale), field) for scale in qe._SCALES}  # presets before validation
    shown = {k: ("unset" if v is None else str(v)) for k, v in values.items()}
    if len(set(shown.values())) == 1:
        return f"default {shown['small']}"
    return "default: " + ", ".join(f"{k} {v}" for k, v in shown.items())


def _parser() -> argparse.ArgumentParser:
    scales = "\n".join(f"  {k:8s} {v}" for k, v in qe.SCALE_HELP.items())
    parser = argparse.ArgumentParser(
        prog="python -m qsgd experiments",
        description="Fig. 2 protocol of Liu et al. (Nat. Commun. 2024): pre-train, prune to the top 10%, "
        "SGD with sparse download/re-upload every K steps, Hessian spectra and accuracies. Results go to "
        "OUTPUT/results.npz and results.json (read them with qsgd.experiments.load_results, or plot them "
        "with `python -m qsgd plot OUTPUT`); an interrupted run resumes from OUTPUT/checkpoint.pt.\n\n"
        "Presets (--scale):\n" + scales + "\n\nUnder torchrun the run is data-parallel over the ranks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=qe._SCALES, default="small", help="preset, see above (default small)")
    parser.add_argument("--output", default=".qsgd_runs/fig2", help="results and checkpoint directory "
                        "(default .qsgd_runs/fig2)")
    for flag, field, typ, text in _CLI_OPTIONS:
        parser.add_argument(flag, dest=field, type=typ, default=None, help=f"{text} ({_preset_defaults(field)})")
    parser.add_argument("--masked", action="store_true", default=None,
                        help="keep each segment on the support uploaded at its start (default: unmasked, as the paper)")
    parser.add_argument("--no-resume", action="store_true", help="start afresh even if a checkpoint exists")
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    return parser


def _remove_if_empty(path: Path, existed: bool) -> None:
    if not existed and path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def main(argv: list[str] | None = None) -> int:
    """``python -m qsgd [experiments] --scale small|fashion|paper ...``: run and save a Fig. 2 experiment.

    Prints ``interrupted; rerun the same command to resume`` on Ctrl-C (exit
    status 130) and leaves no empty output directory behind when a run fails
    before writing anything. Under ``torchrun`` it joins the process group
    first and runs data-parallel.

    Used in chapter 7.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "experiments":
        argv = argv[1:]
    if argv and argv[0] == "plot":
        return plot_main(argv[1:])
    if argv and argv[0] == "spectrum":
        return spectrum_main(argv[1:])
    if argv and argv[0] == "train":
        return train_main(argv[1:])
    args = vars(_parser().parse_args(argv))
    output, no_resume, progress, scale = args.pop("output"), args.pop("no_resume"), args.pop("progress"), args.pop("scale")
    overrides = {k: v for k, v in args.items() if v is not None}
    out = Path(output)
    existed = out.exists()
    try:
        rank, _ = qdist.init_from_env()
        cfg = qe.config_for(scale, **overrides)
        result = qe.run_experiment(cfg, output=output, resume=not no_resume, progress=progress)
    except KeyboardInterrupt:
        _remove_if_empty(out, existed)
        sys.stderr.write("interrupted; rerun the same command to resume\n")
        return 130
    except (ValueError, FileNotFoundError) as exc:
        _remove_if_empty(out, existed)
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except BaseException:
        _remove_if_empty(out, existed)
        raise
    if rank == 0:
        sys.stdout.write(
            f"{cfg.scale}: n = {result.num_parameters} parameters, pre-trained accuracy "
            f"{result.pretrained_accuracy:.4g}, after pruning {result.pruned_accuracy:.4g}, final training "
            f"accuracy {result.train_accuracy[-1]:.4g}; results in {output}/results.npz\n"
        )
    return 0


def train_main(argv: list[str] | None = None) -> int:
    """``python -m qsgd train --preset mixed|quantum-only --output FILE``: a stored quantum training run.

    Runs :func:`qsgd.stored_training.train_run` (resumable: rerun the same command after an
    interruption). Bad arguments and mismatched result files end with one line on stderr and exit
    status 2.

    Used in chapter 8.
    """
    from qsgd import stored_training as st

    parser = argparse.ArgumentParser(
        prog="python -m qsgd train",
        description="Quantum training of a pruned 200-weight tanh network, segments simulated matrix-free; the "
        "results file is rewritten after every cycle, so an interrupted run resumes.")
    parser.add_argument("--preset", choices=tuple(st.TRAIN_PRESETS), default="mixed",
                        help="mixed: 4 cycles of 10 quantum + 3 classical steps; quantum-only: 5 segments of 10")
    parser.add_argument("--output", required=True, help="the results file (JSON)")
    parser.add_argument("--cycles", type=int, help="override the preset's number of cycles")
    parser.add_argument("--no-resume", action="store_true", help="start over even if the file exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        changes = {} if args.cycles is None else {"cycles": args.cycles}
        config = st.train_preset(args.preset, **changes)
        results = st.train_run(config, args.output, resume=not args.no_resume, progress=not args.no_progress)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; rerun the same command to resume\n")
        return 130
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    last = results["cycles"][-1] if results["cycles"] else None
    if last is not None:
        sys.stdout.write(f"{args.preset}: {len(results['cycles'])} cycles, test accuracy "
                         f"{last['test_accuracy_after']:.4g} after step {last['step_after']}; "
                         f"{results['seconds']:.0f} s of segments; results in {args.output}\n")
    return 0


def plot_main(argv: list[str] | None = None) -> int:
    """``python -m qsgd plot RUN_DIR [--output FILE]``: Fig. 2 panels (a)-(c) of a finished run.

    Used by the command line.
    """
    parser = argparse.ArgumentParser(
        prog="python -m qsgd plot",
        description="Plot the Fig. 2 panels (a) spectra, (b) error proxy, (c) accuracy of a run written by "
        "`python -m qsgd experiments`.",
    )
    parser.add_argument("run", help="the run's output directory (holding results.npz and results.json)")
    parser.add_argument("--output", default=None, help="image file to write (default RUN/fig2.png)")
    parser.add_argument("--eta", type=float, default=None, help="learning rate in Eq. (7) (default: the run's)")
    parser.add_argument("--cut", type=float, default=0.4, help="cut c of Eq. (7) (default 0.4)")
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    try:
        result = qe.load_results(args.run)
        fig = qe.plot_results(result, eta=args.eta, cut=args.cut)
    except (ValueError, FileNotFoundError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    target = Path(args.output) if args.output else Path(args.run) / "fig2.png"
    fig.savefig(target, dpi=150)
    sys.stdout.write(f"wrote {target}\n")
    return 0


# ---------------------------------------------------------------------------
# the data-parallel spectrum command line (python -m qsgd spectrum)
# ---------------------------------------------------------------------------


class _OptionError(ValueError):
    """A command-line option with a bad value (reported as one line, exit status 2)."""


def _check_spectrum_args(args) -> None:
    """Refuse bad option values before anything is loaded or written (:class:`_OptionError`)."""
    for flag, value, minimum in (("--samples", args.samples, 1), ("--batch-size", args.batch_size, 1),
                                 ("--lanczos-steps", args.lanczos_steps, 1),
                                 ("--lanczos-starts", args.lanczos_starts, 1), ("--seed", args.seed, 0)):
        if value < minimum:
            raise _OptionError(f"{flag} must be >= {minimum}, got {value}")
    for flag, value in (("--data", args.data), ("--data-dir", args.data_dir)):
        if value is not None and not Path(value).is_dir():
            raise _OptionError(f"{flag} {value}: no such directory")
    for flag, value in (("--pretrained", args.pretrained), ("--model-file", args.model_file),
                        ("--data-file", args.data_file)):
        if value is not None and not Path(value).is_file():
            raise _OptionError(f"{flag} {value}: no such file")
    output = Path(args.output)
    if output.is_dir():
        raise _OptionError(f"--output {args.output}: is a directory, expected a file name")
    if not output.parent.is_dir():
        raise _OptionError(f"--output {args.output}: the directory {output.parent} does not exist")


def _load_saved(flag: str, path: str):
    """``torch.load`` of a file named on the command line; unreadable files become :class:`_OptionError`."""
    try:
        return torch.load(path, weights_only=False, map_location="cpu")
    except Exception as exc:  # pickle, zip and torch errors all mean the same thing here
        raise _OptionError(f"{flag} {path}: cannot be read by torch.load ({type(exc).__name__}: {exc})") from exc


def _spectrum_cli(args) -> int:
    rank, size = qdist.init_from_env(args.backend)
    if args.model_file:
        model = _load_saved("--model-file", args.model_file)
        if not isinstance(model, torch.nn.Module):
            raise _OptionError(f"--model-file {args.model_file}: holds a {type(model).__name__}, expected a "
                               "whole torch.nn.Module saved with torch.save(model, ...)")
        pair = _load_saved("--data-file", args.data_file)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise _OptionError(f"--data-file {args.data_file}: holds a {type(pair).__name__}, expected a pair "
                               "(inputs, targets) saved with torch.save")
        data = (pair[0], pair[1])
    else:
        overrides = {k: v for k, v in (("data_path", args.data), ("data_dir", args.data_dir),
                                       ("pretrained", args.pretrained)) if v is not None}
        cfg = qe.config_for(args.scale, **overrides)
        split = qe.load_data(cfg)
        model = qe.build_model(cfg, split)
        if cfg.pretrained:
            model.load_state_dict(torch.load(cfg.pretrained, map_location="cpu", weights_only=True))
        if args.prune:
            qnn.prune_global(model, cfg.prune_amount)
        n = min(args.samples, split.x_train.shape[0])
        perm = torch.randperm(split.x_train.shape[0], generator=torch.Generator().manual_seed(cfg.seed))[:n]
        data = (split.x_train[perm], split.y_train[perm])
    device = f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() and args.backend != "gloo" else "cpu"
    model = model.to(device)
    dens = qdist.sharded_lanczos_density(
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


def _spectrum_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qsgd spectrum",
        description="Data-parallel Hessian spectral density of a (pre-trained, pruned) model: Lanczos on "
        "all-reduced Hessian-vector products. Run under torchrun; a single process works too.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sp = parser
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
    return parser


def spectrum_main(argv: list[str] | None = None) -> int:
    """``torchrun ... -m qsgd spectrum ...``: a data-parallel Hessian spectrum.

    The command line of :mod:`qsgd.distributed`'s products (``python -m qsgd spectrum``): the
    model and data of a preset (:func:`config_for`, :func:`load_data`, :func:`build_model`,
    optionally a pre-trained state dict and pruning) or a saved model and data pair, the
    spectrum by :func:`qsgd.distributed.sharded_lanczos_density`; rank 0 writes it to ``--output``.
    A bad option value (a count below 1, a missing file or directory, a file that
    ``torch.load`` cannot read) or a failed data load prints one line ``error: ...`` naming
    the option and its value on stderr and returns exit status 2, before anything is written.

    Used in chapter 7.
    """
    parser = _spectrum_parser()
    args = parser.parse_args(argv)
    if args.model_file and not args.data_file:
        parser.error("--model-file needs --data-file")
    try:
        _check_spectrum_args(args)
        return _spectrum_cli(args)
    except (ValueError, FileNotFoundError) as exc:
        message = " ".join(str(exc).split())  # one line on stderr
        sys.stderr.write(f"error: {message}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
