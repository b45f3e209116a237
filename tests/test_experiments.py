"""qsgd.experiments: the Fig. 2 protocol (download/re-upload), results files, resume; the command line
(qsgd.__main__)."""

import json
import pickle
import warnings

import numpy as np
import pytest
import torch

import qsgd.__main__ as cli
from qsgd import data as qd
from qsgd import experiments as qe
from qsgd import nn as qnn


def write_fake_cifar100(root, *, n_train, n_test, seed=0):
    """A tiny directory in the CIFAR-100 python-pickle layout (random images)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, n in (("train", n_train), ("test", n_test)):
        entry = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                 b"fine_labels": rng.integers(0, 100, size=n).tolist()}
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh)
    return root


def tiny(**overrides):
    settings = dict(
        mlp_sizes=(64, 12, 10), n_train=200, n_test=50, pretrain_steps=30, steps=12, reupload_every=4,
        batch_size=32, eta=0.2, spectrum_every=2, spectrum_until=8, spectrum_samples=64, spectrum_batch=32,
        lanczos_steps=6, lanczos_starts=2, eval_every=2, checkpoint_every=3,
    )
    settings.update(overrides)
    return qe.config_for("small", **settings)


def assert_same_result(a, b):
    for field in ("step_loss", "train_accuracy", "accuracy_after", "support_change", "ritz_nodes", "ritz_weights",
                  "eval_steps", "spectrum_steps", "download_steps"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.pruned_accuracy == b.pruned_accuracy


def test_small_protocol_records_downloads_spectra_and_accuracies(tmp_path):
    res = qe.run_experiment(tiny(), output=tmp_path)
    cfg = res.config
    assert res.num_parameters == 64 * 12 + 12 + 12 * 10 + 10
    np.testing.assert_array_equal(res.download_steps, [4, 8, 12])  # the last one is the output
    np.testing.assert_array_equal(res.spectrum_steps, [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(res.eval_steps, [0, 2, 4, 6, 8, 10, 12])
    assert res.ritz_nodes.shape == (5, cfg.lanczos_starts, cfg.lanczos_steps)
    np.testing.assert_allclose(res.ritz_weights.sum(axis=2), 1.0, rtol=1e-12)
    assert res.step_loss.shape == (12,)
    # step 0 is evaluated right after pruning
    assert res.train_accuracy[0] == res.pruned_accuracy
    # unmasked SGD lets pruned weights regrow; the download re-prunes to the top 10 %
    assert np.all(res.regrown > 0.5)
    assert np.all((res.support_change >= 0) & (res.support_change <= 1))
    assert res.pretrained_accuracy > res.pruned_accuracy - 0.2
    # the files the notebook reads
    loaded = qe.load_results(tmp_path)
    assert_same_result(loaded, res)
    assert loaded.config == cfg
    meta = json.loads((tmp_path / "results.json").read_text())
    assert meta["config"]["reupload_every"] == 4 and meta["num_parameters"] == res.num_parameters
    grid, dens = res.spectrum(0)
    assert dens.shape == grid.shape and np.all(dens >= 0)
    masses = res.masses(0, eta=1.0, cut=0.4)
    assert masses.dissipative + masses.divergent + masses.bulk == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no spectrum"):
        res.spectrum(1)


def test_runs_are_deterministic_and_resume_where_they_stopped(tmp_path):
    full = qe.run_experiment(tiny(), output=tmp_path / "full")
    partial = qe.run_experiment(tiny(), output=tmp_path / "resumed", max_steps=5)
    assert partial.step_loss.shape == (5,)
    assert (tmp_path / "resumed" / "checkpoint.pt").is_file()
    resumed = qe.run_experiment(tiny(), output=tmp_path / "resumed")
    assert_same_result(resumed, full)
    again = qe.run_experiment(tiny(), output=None)
    assert_same_result(again, full)
    other = qe.run_experiment(tiny(seed=1), output=None)
    assert not np.array_equal(other.step_loss, full.step_loss)
    # a checkpoint written by a different configuration is ignored, not resumed
    changed = qe.run_experiment(tiny(eta=0.1), output=tmp_path / "full")
    assert not np.array_equal(changed.step_loss, full.step_loss)


def test_download_keeps_top_ten_percent_and_adds_relative_noise():
    model = qnn.mlp([64, 32, 10], rng=0)
    ref = qnn.mlp([64, 32, 10], rng=0)
    masks = qe.download(model, amount=0.9, eps=0.0)
    assert sum(int(m.sum()) for m in masks.values()) == 205  # round(0.1 * 2048)
    noisy_masks = qe.download(ref, amount=0.9, eps=0.05, rng=0)
    for k in masks:
        assert torch.equal(masks[k], noisy_masks[k])
    clean = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    noisy = torch.cat([p.detach().reshape(-1) for p in ref.parameters()])
    assert torch.equal(clean == 0, noisy == 0)  # noise only on the support
    rel = float(torch.linalg.vector_norm(noisy - clean) / torch.linalg.vector_norm(clean))
    assert rel == pytest.approx(0.05, rel=1e-5)
    with pytest.raises(ValueError, match="eps"):
        qe.download(model, eps=-1.0)


def test_proxy_along_training_restarts_at_every_upload():
    res = qe.run_experiment(tiny(eta=0.5, steps=12, spectrum_until=12, spectrum_every=4), output=None)
    steps, proxy = qe.proxy_along_training(res)
    assert steps.shape == proxy.shape == (13,)
    # segments start at 0, 4, 8 with the spectrum recorded there: E(t) = error_proxy(rho_s)[t - s] for
    # s < t <= s + 4 (the value at a download step closes the segment before it)
    from qsgd.spectrum import error_proxy

    assert proxy[0] == 1.0
    for s in (0, 4, 8):
        i = int(np.flatnonzero(res.spectrum_steps == s)[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = error_proxy(res.ritz_nodes[i].ravel(), weights=res.ritz_weights[i].ravel(), eta=0.5, steps=4)
        np.testing.assert_allclose(proxy[s + 1 : s + 5], ref[1:], rtol=1e-12, equal_nan=True)


def test_qram_variant_holds_the_proxy_at_one_during_classical_steps():
    res = qe.run_experiment(tiny(classical_steps=2, steps=8, spectrum_until=8), output=None)
    assert 2 in res.spectrum_steps and 6 in res.spectrum_steps
    _, proxy = qe.proxy_along_training(res)
    np.testing.assert_array_equal(proxy[[0, 1, 2, 5, 6]], 1.0)
    # classical steps are ordinary SGD: without a mask the trajectory equals the plain protocol's
    plain = qe.run_experiment(tiny(steps=8, spectrum_until=8), output=None)
    np.testing.assert_array_equal(res.step_loss, plain.step_loss)


def test_masked_segments_keep_the_uploaded_support():
    res = qe.run_experiment(tiny(masked=True), output=None)
    np.testing.assert_allclose(res.regrown, 0.1, atol=0.01)  # nothing regrows inside a segment
    np.testing.assert_allclose(res.support_change, 0.0)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"steps": -1}, "steps"),
        ({"reupload_every": 0}, "reupload_every"),
        ({"classical_steps": 5, "reupload_every": 5}, "classical_steps"),
        ({"prune_amount": 1.0}, "prune_amount"),
        ({"data": "cifar100"}, "data_path"),
        ({"model": "vgg"}, "model"),
        ({"eta": 0.0}, "eta"),
        ({"device": "cuda:7"} if not torch.cuda.is_available() else {"model": "x"}, "GPU|model"),
        ({"colour": "red"}, "unknown"),
    ],
)
def test_config_bad_input(overrides, match):
    with pytest.raises(ValueError, match=match):
        qe.config_for("small", **overrides)
    with pytest.raises(ValueError, match="scale"):
        qe.config_for("huge")


def test_paper_preset_matches_the_paper():
    cfg = qe.config_for("paper", data_path="/nowhere")
    assert (cfg.model, cfg.depth, cfg.widen_factor, cfg.stem_width) == ("resnet", 32, 4, 64)
    assert (cfg.batch_size, cfg.steps, cfg.reupload_every, cfg.prune_amount) == (2048, 1000, 100, 0.9)
    assert (cfg.eta, cfg.classical_steps, cfg.pretrain_momentum, cfg.pretrain_weight_decay) == (0.01, 10, 0.9, 2e-4)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        qe.run_experiment(cfg)


def test_paper_scale_smoke_run_on_a_synthetic_cifar_directory(tmp_path):
    """ResNet-32x4 (7,451,044 parameters), a few steps on CPU, CIFAR-format data written here."""
    root = write_fake_cifar100(tmp_path / "cifar", n_train=16, n_test=4)
    cfg = qe.config_for(
        "paper", data_path=str(root), n_train=16, n_test=4, pretrain_steps=1, pretrain_batch=4, steps=3,
        batch_size=4, reupload_every=2, classical_steps=0, spectrum_every=2, spectrum_until=2, spectrum_samples=2,
        spectrum_batch=2, lanczos_steps=2, eval_every=2, eval_samples=4, device="cpu",
    )
    res = qe.run_experiment(cfg, output=tmp_path / "run")
    assert res.num_parameters == 7_451_044
    np.testing.assert_array_equal(res.download_steps, [2])
    np.testing.assert_array_equal(res.spectrum_steps, [0, 2])
    assert res.ritz_nodes.shape == (2, 1, 2) and np.all(np.isfinite(res.ritz_nodes))
    assert res.step_loss.shape == (3,) and np.all(np.isfinite(res.step_loss))
    assert qe.load_results(tmp_path / "run").num_parameters == 7_451_044


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["experiments", "--output", str(out), "--steps", "4", "--reupload-every", "2", "--pretrain-steps", "5",
            "--spectrum-until", "2", "--lanczos-steps", "4", "--n-train", "100", "--n-test", "20"]
    assert cli.main(args) == 0
    assert "results in" in capsys.readouterr().out
    res = qe.load_results(out)
    assert res.config.steps == 4 and res.config.reupload_every == 2
    assert cli.main(["--scale", "paper", "--data", str(tmp_path / "missing"), "--output", str(tmp_path / "p")]) == 2
    assert "missing" in capsys.readouterr().err
    assert cli.main(["--steps", "-3", "--output", str(tmp_path / "q")]) == 2


def write_fake_fashion(root, *, n_train, n_test, seed=0):
    """The four Fashion-MNIST IDX files with random 28x28 images."""

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for (split, kind), stem in qd.FASHION_MNIST_FILES.items():
        n = n_train if split == "train" else n_test
        arr = rng.integers(0, 256, size=(n, 28, 28)) if kind == "images" else np.arange(n) % 10
        qd.write_idx(root / (stem + ".gz"), arr.astype(np.uint8))


def test_fashion_preset_runs_on_a_tiny_data_set_with_eta_from_the_spectrum(tmp_path):
    write_fake_fashion(tmp_path / "fm", n_train=64, n_test=16)
    cfg = qe.config_for(
        "fashion", data_dir=str(tmp_path / "fm"), n_train=48, n_test=16, cnn_channels=(2, 2), cnn_hidden=4,
        pretrain_steps=5, steps=8, reupload_every=4, batch_size=16, spectrum_samples=32, spectrum_batch=16,
        lanczos_steps=6, spectrum_at=(4, 6), eval_samples=32, eval_every=2,
    )
    assert cfg.model == "cnn" and cfg.data == "fashion" and cfg.dtype == "float64" and cfg.eta_scale == 1.0
    res = qe.run_experiment(cfg, output=tmp_path / "run")
    np.testing.assert_array_equal(res.spectrum_steps, [0, 4, 6])
    np.testing.assert_allclose(res.eta, 1.0 / res.lambda_max[0], rtol=1e-14)
    assert res.num_parameters == qnn.count_parameters(qnn.small_cnn((2, 2), hidden=4))
    back = qe.load_results(tmp_path / "run")
    assert back.eta == res.eta and back.config == cfg
    # the proxy uses the run's step size by default
    _, p1 = qe.proxy_along_training(res)
    _, p2 = qe.proxy_along_training(res, eta=res.eta)
    np.testing.assert_array_equal(p1, p2)


def test_eta_scale_needs_a_positive_scale():
    with pytest.raises(ValueError, match="ExperimentConfig: eta_scale must be > 0"):
        qe.config_for("fashion", eta_scale=0.0)
    with pytest.raises(ValueError, match="ExperimentConfig: model must be one of"):
        qe.config_for("small", model="vit")


def test_cli_help_shows_presets_and_defaults(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one line per option
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "small    tanh MLP 64-32-32-10" in text and "fashion  tanh CNN" in text
    assert "default: small 400, fashion 600, fig2 4000, fig3 1500, paper 4900" in text  # --pretrain-steps
    assert "fig2     ResNet-8 with batch norm" in text
    assert "--eta ETA" in text and "--lr" not in text  # the learning rate is eta everywhere
    # every option says what it does and its default
    opts = [line for line in text.splitlines() if line.strip().startswith("--") and "--help" not in line]
    assert len(opts) > 20
    blocks = text.split("options:")[1].split("\n  -")
    for block in blocks[2:]:
        if block.strip().startswith(("-masked", "-no-resume", "-progress")):
            continue
        assert "default" in block, block


def test_cli_failed_run_leaves_no_empty_output_and_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "p"
    assert cli.main(["--scale", "paper", "--data", str(tmp_path / "missing"), "--output", str(out)]) == 2
    assert not out.exists()
    assert "no CIFAR-100 found" in capsys.readouterr().err

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qe, "run_experiment", interrupted)
    assert cli.main(["--output", str(tmp_path / "i")]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "interrupted; rerun the same command to resume"
    assert not (tmp_path / "i").exists()


def test_cli_plot_subcommand(tmp_path, capsys):
    qe.run_experiment(tiny(), output=tmp_path / "run")
    assert cli.main(["plot", str(tmp_path / "run")]) == 0
    png = tmp_path / "run" / "fig2.png"
    assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["plot", str(tmp_path / "nothing")]) == 2
    assert "no results.npz" in capsys.readouterr().err


def _file_in(tmp):
    (tmp / "f").write_text("x")
    return tmp / "f"


def _tiny_result():
    return qe.run_experiment(tiny(steps=2, pretrain_steps=0, spectrum_until=0, lanczos_steps=2, lanczos_starts=1))


# each call takes a fresh temporary directory; none of them trains
BAD_INPUT = {
    "run into an existing file": (lambda tmp: qe.run_experiment(tiny(), output=_file_in(tmp)), ValueError,
                                  ["run_experiment", "output", "is a file"]),
    "run below an existing file": (lambda tmp: qe.run_experiment(tiny(), output=_file_in(tmp) / "sub"), ValueError,
                                   ["run_experiment", "output", "is a file"]),
    "run integer output": (lambda tmp: qe.run_experiment(tiny(), output=3), ValueError,
                           ["run_experiment", "output", "3"]),
    "run string config": (lambda tmp: qe.run_experiment("small"), ValueError, ["run_experiment", "config", "'small'"]),
    "run string resume": (lambda tmp: qe.run_experiment(tiny(), resume="no"), ValueError, ["run_experiment", "resume"]),
    "run string progress": (lambda tmp: qe.run_experiment(tiny(), progress=1), ValueError,
                            ["run_experiment", "progress"]),
    "run negative max_steps": (lambda tmp: qe.run_experiment(tiny(), max_steps=-1), ValueError,
                               ["run_experiment", "max_steps", ">= 0"]),
    "config string prune_amount": (lambda tmp: qe.config_for(prune_amount="x"), ValueError,
                                   ["ExperimentConfig", "prune_amount"]),
    "config integer device": (lambda tmp: qe.config_for(device=3), ValueError, ["ExperimentConfig", "device"]),
    "config None mlp_sizes": (lambda tmp: qe.config_for(mlp_sizes=None), ValueError,
                              ["ExperimentConfig", "mlp_sizes", "None"]),
    "config negative width": (lambda tmp: qe.config_for(mlp_sizes=(64, -1, 10)), ValueError,
                              ["ExperimentConfig", "mlp_sizes[1]", ">= 1"]),
    "config one cnn channel": (lambda tmp: qe.config_for(cnn_channels=(8,)), ValueError,
                               ["ExperimentConfig", "cnn_channels", "pair"]),
    "config nan eta": (lambda tmp: qe.config_for(eta=float("nan")), ValueError, ["ExperimentConfig", "eta", "nan"]),
    "config lr setting": (lambda tmp: qe.config_for(lr=0.1), ValueError, ["config_for", "unknown settings", "'lr'"]),
    "config string masked": (lambda tmp: qe.config_for(masked="yes"), ValueError, ["ExperimentConfig", "masked"]),
    "config float16": (lambda tmp: qe.config_for(dtype="float16"), ValueError, ["ExperimentConfig", "dtype"]),
    "config bad activation": (lambda tmp: qe.config_for(activation="cos"), ValueError,
                              ["ExperimentConfig", "activation"]),
    "config zero n_train": (lambda tmp: qe.config_for(n_train=0), ValueError, ["ExperimentConfig", "n_train"]),
    "config integer data_path": (lambda tmp: qe.config_for(data_path=3), ValueError,
                                 ["ExperimentConfig", "data_path"]),
    "config negative momentum": (lambda tmp: qe.config_for(pretrain_momentum=-0.1), ValueError,
                                 ["ExperimentConfig", "pretrain_momentum"]),
    "download None model": (lambda tmp: qe.download(None), ValueError, ["download", "model", "None"]),
    "download amount 2": (lambda tmp: qe.download(qnn.mlp([2, 3, 2]), amount=2), ValueError,
                          ["download", "amount", "[0, 1)"]),
    "download negative eps": (lambda tmp: qe.download(qnn.mlp([2, 3, 2]), eps=-1), ValueError, ["download", "eps"]),
    "download string rng": (lambda tmp: qe.download(qnn.mlp([2, 3, 2]), eps=0.1, rng="x"), ValueError,
                            ["download", "rng"]),
    "load missing results": (lambda tmp: qe.load_results(tmp / "none"), FileNotFoundError,
                             ["load_results", "none"]),
    "load None path": (lambda tmp: qe.load_results(None), ValueError, ["load_results", "path", "None"]),
    "proxy None result": (lambda tmp: qe.proxy_along_training(None), ValueError,
                          ["proxy_along_training", "result", "None"]),
    "plot None result": (lambda tmp: qe.plot_results(None), ValueError, ["plot_results", "result", "None"]),
    "config decreasing milestones": (lambda tmp: qe.config_for(pretrain_milestones=(20, 10)), ValueError,
                                     ["ExperimentConfig", "pretrain_milestones", "increasing"]),
    "config zero milestone": (lambda tmp: qe.config_for(pretrain_milestones=(0,)), ValueError,
                              ["ExperimentConfig", "pretrain_milestones[0]", ">= 1"]),
    "config gamma above one": (lambda tmp: qe.config_for(pretrain_gamma=2.0), ValueError,
                               ["ExperimentConfig", "pretrain_gamma", "(0, 1]"]),
    "train milestones not a tuple": (lambda tmp: qnn.train(qnn.mlp([2, 2]), (torch.zeros(4, 2), torch.zeros(4).long()),
                                                           steps=1, eta=0.1, milestones=5), ValueError,
                                     ["train", "milestones", "5"]),
    "load expected not a config": (lambda tmp: qe.load_results(tmp, expected="fig2"), ValueError,
                                   ["load_results", "expected", "'fig2'"]),
    "proxy readings None result": (lambda tmp: qe.proxy_readings(None), ValueError,
                                   ["proxy_readings", "result", "None"]),
    "proxy readings zero cut": (lambda tmp: qe.proxy_readings(_tiny_result(), cut=0), ValueError,
                                ["proxy_readings", "cut"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, tmp_path, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words, tmp_path)


def _garbage_in(tmp):
    (tmp / "garbage.pt").write_bytes(b"not a torch file")
    return str(tmp / "garbage.pt")


def _saved_pair(tmp):
    torch.save((torch.zeros(2, 64), torch.zeros(2, dtype=torch.long)), tmp / "pair.pt")
    return str(tmp / "pair.pt")


# python -m qsgd spectrum: argv (from a fresh temporary directory) -> fragments of the one stderr line
# (exit status 2, nothing written)
CLI_BAD_INPUT = {
    "negative samples": (lambda tmp: ["--scale", "small", "--samples", "-5"], ["--samples", ">= 1", "-5"]),
    "zero lanczos steps": (lambda tmp: ["--scale", "small", "--lanczos-steps", "0"], ["--lanczos-steps", "0"]),
    "zero lanczos starts": (lambda tmp: ["--scale", "small", "--lanczos-starts", "0"], ["--lanczos-starts", "0"]),
    "zero batch size": (lambda tmp: ["--scale", "small", "--batch-size", "0"], ["--batch-size", "0"]),
    "negative seed": (lambda tmp: ["--scale", "small", "--seed", "-1"], ["--seed", "-1"]),
    "missing cifar directory": (lambda tmp: ["--scale", "paper", "--data", "/nonexistent"],
                                ["--data", "/nonexistent", "no such directory"]),
    "missing fashion directory": (lambda tmp: ["--scale", "fashion", "--data-dir", str(tmp / "none")],
                                  ["--data-dir", "none", "no such directory"]),
    "missing pretrained": (lambda tmp: ["--scale", "small", "--pretrained", str(tmp / "w.pt")],
                           ["--pretrained", "w.pt", "no such file"]),
    "missing model file": (lambda tmp: ["--model-file", str(tmp / "m.pt"), "--data-file", str(tmp / "d.pt")],
                           ["--model-file", "m.pt", "no such file"]),
    "missing data file": (lambda tmp: ["--model-file", _garbage_in(tmp), "--data-file", str(tmp / "d.pt")],
                          ["--data-file", "d.pt", "no such file"]),
    "unreadable model file": (lambda tmp: ["--model-file", _garbage_in(tmp), "--data-file", _saved_pair(tmp)],
                              ["--model-file", "garbage.pt", "torch.load"]),
    "model file holding data": (lambda tmp: ["--model-file", _saved_pair(tmp), "--data-file", _saved_pair(tmp)],
                                ["--model-file", "pair.pt", "torch.nn.Module"]),
    "paper scale without data": (lambda tmp: ["--scale", "paper"], ["data_path"]),
    "output into a missing directory": (lambda tmp: ["--scale", "small", "--output", str(tmp / "no" / "s.npz")],
                                        ["--output", "s.npz", "does not exist"]),
}


@pytest.mark.parametrize("case", list(CLI_BAD_INPUT))
def test_spectrum_cli_bad_input_catalogue(case, tmp_path, capsys):
    argv, words = CLI_BAD_INPUT[case]
    out = tmp_path / "spectrum.npz"
    args = argv(tmp_path)
    if "--output" not in args:
        args = [*args, "--output", str(out)]
    assert cli.main(["spectrum", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists()


def test_result_methods_refuse_bad_arguments():
    res = _tiny_result()
    with pytest.raises(ValueError, match="proxy_along_training: cut"):
        qe.proxy_along_training(res, cut=-1)
    with pytest.raises(ValueError, match="spectrum: num_points must be >= 2"):
        res.spectrum(0, num_points=1)
    with pytest.raises(ValueError, match="spectrum: sigma"):
        res.spectrum(0, sigma=float("nan"))
    with pytest.raises(ValueError, match="masses: step must be an integer"):
        res.masses("0")


def test_load_data_and_build_model_are_the_runs_own(tmp_path):
    cfg = qe.config_for("small", n_train=50, n_test=20, seed=3)
    data = qe.load_data(cfg)
    ref = qd.load_digits(n_train=50, n_test=20, rng=3)
    assert torch.equal(data.x_train, ref.x_train)
    model = qe.build_model(cfg, data)
    assert isinstance(model[0], torch.nn.Flatten)
    torch.testing.assert_close(model[1][0].weight, qnn.mlp([64, 32, 32, 10], rng=3)[0].weight, rtol=0, atol=0)
    with pytest.raises(ValueError, match="load_data: cfg must be an ExperimentConfig"):
        qe.load_data("small")
    with pytest.raises(ValueError, match="build_model: data must be a DataSplit"):
        qe.build_model(cfg, (data.x_train, data.y_train))


def test_spectrum_main_single_process(tmp_path, capsys):
    out = tmp_path / "spectrum.npz"
    # python -m qsgd spectrum ... goes through main
    assert cli.main(["spectrum", "--scale", "small", "--samples", "64", "--lanczos-steps", "6",
                    "--batch-size", "32", "--output", str(out)]) == 0
    assert "1 rank(s)" in capsys.readouterr().out
    with np.load(out) as z:
        assert int(z["world_size"]) == 1 and z["nodes"].shape == (1, 6)
    with pytest.raises(SystemExit):
        cli.spectrum_main(["--model-file", str(out)])


def test_step_decay_multiplies_the_rate_after_each_milestone():
    x = torch.linspace(-1, 1, 16, dtype=torch.float64).reshape(8, 2)
    y = torch.tensor([0, 1, 0, 1, 1, 0, 1, 0])
    data = (x, y)
    a, b = qnn.mlp([2, 3, 2], dtype="float64", rng=1), qnn.mlp([2, 3, 2], dtype="float64", rng=1)
    qnn.train(a, data, steps=3, eta=0.4, batch_size=8, milestones=(1, 2), gamma=0.5)
    for eta in (0.4, 0.2, 0.1):  # full batch: the draws do not matter
        qnn.train(b, data, steps=1, eta=eta, batch_size=8)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-14)
    c = qnn.mlp([2, 3, 2], dtype="float64", rng=1)
    qnn.train(c, data, steps=3, eta=0.4, batch_size=8)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_fig2_preset_is_the_papers_protocol_on_fashion_mnist():
    cfg = qe.config_for("fig2")
    assert (cfg.model, cfg.depth, cfg.data, cfg.n_train) == ("resnet", 8, "fashion", None)
    assert (cfg.pretrain_momentum, cfg.pretrain_weight_decay, cfg.pretrain_eta) == (0.9, 2e-4, 0.1)
    assert cfg.pretrain_milestones and cfg.pretrain_gamma == 0.1
    assert (cfg.eta, cfg.batch_size, cfg.steps, cfg.reupload_every, cfg.classical_steps) == (0.01, 2048, 1000, 100, 10)
    assert (cfg.prune_amount, cfg.masked, cfg.spectrum_samples) == (0.9, False, 2048)
    schedule = qe._spectrum_schedule(cfg)
    assert set(range(0, 201, 10)) <= schedule and {300, 500, 900} <= schedule
    assert cfg.eval_every == 10 and cfg.n_test is None
    model = qnn.cifar_resnet(cfg.depth, cfg.widen_factor, stem_width=cfg.stem_width, num_classes=10, in_channels=1,
                             device="meta")
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def _stored(tmp_path, **overrides):
    cfg = tiny(pretrain_milestones=(10, 20), **overrides)
    qe.run_experiment(cfg, output=tmp_path)
    return cfg


def test_results_record_the_pretraining_the_weights_and_the_provenance(tmp_path):
    cfg = _stored(tmp_path)
    res = qe.load_results(tmp_path, expected=cfg)
    assert res.pretrain_loss.shape == (cfg.pretrain_steps,)
    assert res.meta["step"] == cfg.steps and res.meta["qsgd_version"] and res.meta["threads"] >= 1
    assert res.meta["elapsed_s"] > 0
    pretrained = torch.load(tmp_path / "pretrained.pt", weights_only=True)
    pruned = torch.load(tmp_path / "pruned.pt", weights_only=True)
    model = qe.build_model(cfg, qe.load_data(cfg))
    model.load_state_dict(pretrained)
    qnn.prune_global(model, cfg.prune_amount)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, pruned[k], rtol=0, atol=0)


def test_load_results_refuses_other_configurations_and_damaged_files(tmp_path):
    cfg = _stored(tmp_path)
    with pytest.raises(ValueError, match=r"results.json.*'config.eta' is 0.2.*0.3"):
        qe.load_results(tmp_path, expected=tiny(pretrain_milestones=(10, 20), eta=0.3))
    meta = json.loads((tmp_path / "results.json").read_text())
    text = (tmp_path / "results.json").read_text()
    (tmp_path / "results.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"results.json.*not valid JSON"):
        qe.load_results(tmp_path)
    bad = dict(meta, config=dict(meta["config"], learning_rate=1))
    (tmp_path / "results.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"results.json.*'config.learning_rate'"):
        qe.load_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "pruned_accuracy"}))
    with pytest.raises(ValueError, match=r"results.json.*'pruned_accuracy'"):
        qe.load_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps(dict(meta, step=cfg.steps - 2)))
    with pytest.raises(ValueError, match=r"results.npz.*'step_loss' has 12 entries where 10"):
        qe.load_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps(meta))
    data = (tmp_path / "results.npz").read_bytes()
    (tmp_path / "results.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"results.npz.*cannot be read"):
        qe.load_results(tmp_path)


def test_an_unfinished_run_is_refused_unless_partial_and_resumes(tmp_path):
    cfg = tiny()
    qe.run_experiment(cfg, output=tmp_path, max_steps=5)
    with pytest.raises(ValueError, match=r"results.json.*'step' says 5 of 12"):
        qe.load_results(tmp_path)
    part = qe.load_results(tmp_path, partial=True)
    assert part.step_loss.shape == (5,)
    whole = qe.run_experiment(cfg, output=tmp_path)
    assert_same_result(whole, qe.run_experiment(cfg))


def test_proxy_readings_cover_both_cuts_both_modes_and_the_stability_edge():
    res = qe.run_experiment(tiny(classical_steps=1, spectrum_until=12, spectrum_every=1))
    readings = qe.proxy_readings(res, until=8)
    assert len(readings) == 10 and {r.mode for r in readings} == {"upload", "current"}
    K = res.config.reupload_every
    starts = [np.flatnonzero(res.spectrum_steps == q)[0] for q in (1, 1 + K)]
    edge = 2 / max(res.lambda_max[i] for i in starts)
    for r in readings:
        assert r.steps[-1] == 8 and r.proxy[0] == 1.0
        cut_a = r.cut if r.cut_units == "a" else r.eta * r.cut
        expect = qe.proxy_along_training(res, eta=r.eta, cut=cut_a, mode=r.mode)[1][:9]
        np.testing.assert_array_equal(r.proxy, expect)
    assert readings[3].eta == pytest.approx(edge) and readings[2].eta == 1.0
    np.testing.assert_array_equal(readings[2].proxy, qe.proxy_along_training(res, eta=1.0, cut=0.4)[1][:9])
    s = readings[3].summary(0, K)
    assert s["defined"] and s["minimum"] <= 1.0 and 0 <= s["argmin"] <= K
    with pytest.raises(ValueError, match="proxy_readings: until"):
        qe.proxy_readings(res, until=100)


def test_proxy_eta_sweep_is_the_proxy_at_each_rate():
    res = qe.run_experiment(tiny(classical_steps=1, spectrum_until=12, spectrum_every=1))
    rows = qe.proxy_eta_sweep(res, [0.01, 0.1, 1.0])
    assert [r["eta"] for r in rows] == [0.01, 0.1, 1.0]
    for r in rows:
        _, p = qe.proxy_along_training(res, eta=r["eta"], cut=0.4 * r["eta"])
        seg = p[:5]
        if r["defined"]:
            assert r["minimum"] == pytest.approx(np.nanmin(seg)) and r["end"] == pytest.approx(seg[-1])
            assert r["u_shape"] == (np.nanmin(seg) < 1 < seg[-1])
    a = qe.proxy_eta_sweep(res, [0.1], cut_units="a", mode="current", start=4)[0]
    _, p = qe.proxy_along_training(res, eta=0.1, cut=0.4, mode="current")
    assert a["end"] == pytest.approx(p[8], nan_ok=True)
    for bad, match in (({"etas": []}, "empty"), ({"etas": [-1.0]}, "etas"), ({"etas": [0.1], "start": 3}, "multiple"),
                       ({"etas": [0.1], "cut_units": "x"}, "cut_units"), ({"etas": "x"}, "etas")):
        with pytest.raises(ValueError, match=match):
            qe.proxy_eta_sweep(res, **bad)
