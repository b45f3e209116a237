"""qsgd.distributed: data-parallel Hessian spectra (2 gloo processes under torchrun on CPU)."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from qsgd import distributed as qd
from qsgd import nn as qnn
from qsgd import spectrum as qs


def tiny_problem(n=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (n,), generator=gen)
    model = qnn.small_cnn((2, 3), hidden=5, image_size=8, dtype="float64", rng=seed)
    qnn.prune_global(model, 0.5)
    return model, (x, y)


def test_shard_covers_the_data_once():
    x, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    parts = [qd.shard((x, y), rank=r, world_size=3) for r in range(3)]
    assert [p[0].shape[0] for p in parts] == [3, 4, 3]
    np.testing.assert_array_equal(torch.cat([p[1] for p in parts]).numpy(), np.arange(10))
    with pytest.raises(ValueError, match="shard: rank must be <= 2"):
        qd.shard((x, y), rank=3, world_size=3)
    with pytest.raises(ValueError, match="cannot be split over 11 ranks"):
        qd.shard((x, y), rank=0, world_size=11)


def test_without_process_group_is_the_single_process_operator():
    model, data = tiny_problem()
    v = torch.randn(qs.hessian_operator(model, data).dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    np.testing.assert_allclose(qd.sharded_hessian_operator(model, data).matvec(v), qs.hessian_operator(model, data).matvec(v),
                               rtol=0, atol=0)
    with pytest.raises(ValueError, match="sharded_lanczos_density: rng must be an int seed"):
        qd.sharded_lanczos_density(model, data, rng=np.random.default_rng(0))
    # rng=None: a seed from fresh entropy (not 0), reported so that it repeats the run
    fresh = qd.sharded_lanczos_density(model, data, rng=None, num_steps=6, num_starts=2)
    assert fresh.seed != 0 and fresh.seed != qd.sharded_lanczos_density(model, data, rng=None, num_steps=6, num_starts=2).seed
    again = qd.sharded_lanczos_density(model, data, rng=fresh.seed, num_steps=6, num_starts=2)
    np.testing.assert_array_equal(again.nodes, fresh.nodes)


def test_two_gloo_processes_give_the_single_process_spectrum(tmp_path):
    model, data = tiny_problem()
    torch.save(model, tmp_path / "model.pt")
    torch.save(data, tmp_path / "data.pt")
    out = tmp_path / "spectrum.npz"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "qsgd", "spectrum", "--model-file", str(tmp_path / "model.pt"),
           "--data-file", str(tmp_path / "data.pt"), "--backend", "gloo", "--lanczos-steps", "12",
           "--lanczos-starts", "2", "--batch-size", "64", "--seed", "3", "--output", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 rank(s)" in proc.stdout
    ref = qs.lanczos_density(qs.hessian_operator(model, data, batch_size=64), num_steps=12, num_starts=2, rng=3,
                             vectorize=False)
    with np.load(out) as z:
        assert int(z["world_size"]) == 2 and int(z["dim"]) == ref.dim
        np.testing.assert_allclose(z["nodes"], ref.nodes, rtol=0, atol=1e-10)
        np.testing.assert_allclose(z["weights"], ref.weights, rtol=0, atol=1e-10)
        np.testing.assert_allclose(z["density"], ref.density, rtol=1e-10, atol=1e-10 * ref.density.max())
    # the distributed spectrum is a real one: its extreme Ritz values bracket-converge to the exact spectrum
    exact = qs.exact_spectrum(qs.hessian_operator(model, data))
    assert exact[0] - 1e-9 <= ref.lambda_min and ref.lambda_max <= exact[-1] + 1e-9


def test_protocol_under_torchrun_matches_the_single_process_run(tmp_path):
    from qsgd import experiments as qe

    opts = ["--n-train", "200", "--n-test", "50", "--dtype", "float64", "--pretrain-steps", "20", "--steps", "8",
            "--reupload-every", "4", "--batch-size", "32", "--eta", "0.2", "--spectrum-every", "4",
            "--spectrum-until", "8", "--spectrum-samples", "64", "--lanczos-steps", "6", "--lanczos-starts", "2"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "qsgd", "experiments", *opts, "--output", str(tmp_path / "dist")]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("results in") == 1  # only rank 0 reports
    dist = qe.load_results(tmp_path / "dist")
    cfg = qe.config_for("small", n_train=200, n_test=50, dtype="float64", pretrain_steps=20, steps=8,
                        reupload_every=4, batch_size=32, eta=0.2, spectrum_every=4, spectrum_until=8,
                        spectrum_samples=64, lanczos_steps=6, lanczos_starts=2)
    single = qe.run_experiment(cfg)
    assert dist.config == cfg
    np.testing.assert_allclose(dist.step_loss, single.step_loss, rtol=1e-10)
    np.testing.assert_allclose(dist.ritz_nodes, single.ritz_nodes, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dist.ritz_weights, single.ritz_weights, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(dist.train_accuracy, single.train_accuracy)


_X, _Y = torch.zeros(4, 1), torch.zeros(4, dtype=torch.long)

# (call, expected exception, words the message must contain)
BAD_INPUT = [
    (lambda: qd.sharded_lanczos_density(*tiny_problem(), operator_kwargs=3), ValueError,
     ["lanczos_density", "operator_kwargs", "dict"]),
    (lambda: qd.shard((_X[:0], _Y[:0]), rank=0, world_size=1), ValueError, ["shard", "0 samples"]),
    (lambda: qd.shard(None, rank=0, world_size=1), ValueError, ["shard", "data", "None"]),
    (lambda: qd.shard((_X, _Y), rank=-1, world_size=2), ValueError, ["shard", "rank", ">= 0"]),
    (lambda: qd.shard((_X, _Y), rank=0, world_size=0), ValueError, ["shard", "world_size", ">= 1"]),
    (lambda: qd.sharded_hessian_operator(None, (_X, _Y)), ValueError, ["hessian_operator", "model", "None"]),
]


@pytest.mark.parametrize("call, exc, words", BAD_INPUT)
def test_bad_input(call, exc, words, refuses):
    refuses(call, exc, words)


def test_the_command_line_lives_in_qsgd_main():
    # ``-m qsgd spectrum`` runs qsgd.__main__.spectrum_main (see the torchrun test above); distributed
    # itself imports nothing above it
    import qsgd.__main__ as cli

    assert "main" not in qd.__all__ and not hasattr(qd, "main")
    assert "spectrum_main" in cli.__all__
