"""qsgd.nn: the CIFAR ResNet family, MLP, small CNN, global pruning, training loop."""

import math

import numpy as np
import pytest
import torch

from qsgd import data as qd
from qsgd import nn as qnn
from qsgd._validation import DivergenceError, as_seed, progress_disabled


# --- the CIFAR ResNet family -------------------------------------------------------------


def test_paper_resnet32x4_has_7451044_parameters():
    """Claim 16 of the digest: the paper's "7 million" model is ResNet-32, widen 4, stem 64."""
    model = qnn.cifar_resnet(32, 4, device="meta")
    assert qnn.count_parameters(model) == 7_451_044
    assert qnn.cifar_resnet_parameter_count(32, 4) == 7_451_044
    assert model.widths == (64, 128, 256)
    assert math.ceil(math.log2(7_451_044)) == 23  # qubits of the weight register


def test_resnet32x15_is_close_to_the_103m_model():
    assert qnn.cifar_resnet_parameter_count(32, 15) == 104_026_116


@pytest.mark.parametrize(
    "depth, widen, stem, classes, channels",
    [(8, 1, 16, 10, 1), (14, 2, 16, 100, 3), (20, 4, 8, 7, 3), (8, 3, 4, 2, 2)],
)
def test_analytic_count_matches_built_model(depth, widen, stem, classes, channels):
    model = qnn.cifar_resnet(depth, widen, stem_width=stem, num_classes=classes, in_channels=channels, device="meta")
    assert qnn.count_parameters(model) == qnn.cifar_resnet_parameter_count(
        depth, widen, stem_width=stem, num_classes=classes, in_channels=channels
    )


def test_small_resnet_forward_and_backward_on_digits_images():
    data = qd.load_digits(n_train=32, n_test=8, image=True)
    model = qnn.cifar_resnet(8, 1, stem_width=16, num_classes=10, in_channels=1, rng=0)
    out = model(data.x_train)
    assert out.shape == (32, 10)
    torch.nn.functional.cross_entropy(out, data.y_train).backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": 10, "widen_factor": 1}, "6k \\+ 2"),
        ({"depth": 2, "widen_factor": 1}, "depth"),
        ({"depth": 8, "widen_factor": 0}, "widen_factor"),
        ({"depth": 8, "widen_factor": 1, "stem_width": 6}, "divisible by 4"),
        ({"depth": 8, "widen_factor": 1, "activation": "cosh"}, "activation"),
        ({"depth": 8, "widen_factor": 1, "dtype": "float16"}, "dtype"),
        ({"depth": 8.0, "widen_factor": 1}, "integer"),
    ],
)
def test_cifar_resnet_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qnn.cifar_resnet(**kwargs, device="meta")


# --- MLP ----------------------------------------------------------------------------------


def test_mlp_layout_count_and_smooth_default():
    model = qnn.mlp([64, 16, 10], rng=0)
    assert qnn.count_parameters(model) == 64 * 16 + 16 + 16 * 10 + 10
    assert isinstance(model[1], torch.nn.Tanh) and len(model) == 3
    assert model[0].weight.dtype == torch.float32
    assert qnn.mlp([3, 2], dtype="float64")[0].weight.dtype == torch.float64


def test_mlp_seed_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = qnn.mlp([5, 4, 3], rng=7)
    after = torch.rand(3)
    b = qnn.mlp([5, 4, 3], rng=7)
    c = qnn.mlp([5, 4, 3], rng=8)
    torch.testing.assert_close(after, expected)
    torch.testing.assert_close(a[0].weight, b[0].weight)
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(
    "sizes, kwargs, match",
    [([5], {}, "at least 2"), ([5, 0], {}, "sizes\\[1\\]"), (5, {}, "sequence"), ([5, 3], {"activation": "x"}, "activation")],
)
def test_mlp_bad_input(sizes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        qnn.mlp(sizes, **kwargs)


# --- pruning ------------------------------------------------------------------------------


def test_prune_global_keeps_exactly_the_largest_ten_percent():
    model = qnn.mlp([64, 32, 32, 10], rng=0)
    before = {k: p.detach().clone() for k, p in model.named_parameters()}
    masks = qnn.prune_global(model, 0.9)
    assert set(masks) == {"0.weight", "2.weight"}  # the classifier layer stays dense
    total = sum(m.numel() for m in masks.values())
    kept = sum(int(m.sum()) for m in masks.values())
    assert kept == total - round(0.9 * total)
    # global ranking: every kept weight is at least as large as every removed one
    mags = torch.cat([before[k].abs().reshape(-1) for k in masks])
    keep = torch.cat([masks[k].reshape(-1) for k in masks])
    assert mags[keep].min() >= mags[~keep].max()
    params = dict(model.named_parameters())
    for k, m in masks.items():
        assert torch.equal(params[k].detach() != 0, m)
        torch.testing.assert_close(params[k].detach()[m], before[k][m])
    torch.testing.assert_close(params["4.weight"].detach(), before["4.weight"])
    assert not any(hasattr(mod, "weight_orig") for mod in model.modules())  # permanent
    assert [k for k, _ in model.named_parameters()] == list(before)  # layout of the flat vector kept


def test_prune_global_on_resnet_covers_convolutions_and_shortcuts():
    model = qnn.cifar_resnet(14, 1, stem_width=16, num_classes=10, rng=0)
    masks = qnn.prune_global(model, 0.5, permanent=False)
    assert "conv1.weight" in masks and "layer2.0.shortcut.0.weight" in masks
    assert "linear.weight" not in masks
    assert hasattr(model.conv1, "weight_mask")
    total = sum(m.numel() for m in masks.values())
    assert sum(int(m.sum()) for m in masks.values()) == total - round(0.5 * total)


@pytest.mark.parametrize("amount", [1.0, -0.1, float("nan")])
def test_prune_global_bad_amount(amount):
    with pytest.raises(ValueError, match="amount"):
        qnn.prune_global(qnn.mlp([4, 3, 2]), amount)


def test_prune_global_needs_prunable_layers():
    with pytest.raises(ValueError, match="no prunable"):
        qnn.prune_global(qnn.mlp([4, 2]), 0.5)  # a single (last) layer is excluded


# --- training -----------------------------------------------------------------------------


def test_train_is_deterministic_and_learns():
    data = qd.load_digits(n_train=300, n_test=100)
    runs = []
    for _ in range(2):
        model = qnn.mlp([64, 16, 10], rng=0)
        res = qnn.train(model, data, steps=60, eta=0.2, batch_size=64, rng=3)
        runs.append((res, model))
    np.testing.assert_array_equal(runs[0][0].loss, runs[1][0].loss)
    torch.testing.assert_close(runs[0][1][0].weight, runs[1][1][0].weight, rtol=0, atol=0)
    res, model = runs[0]
    assert res.loss.shape == (60,) and res.loss[-10:].mean() < 0.5 * res.loss[:5].mean()
    assert qnn.accuracy(model, data.x_test, data.y_test) > 0.8
    assert res.steps == 60 and res.batch_size == 64 and not res.masked


def test_train_with_mask_stays_sparse():
    data = qd.load_digits(n_train=200, n_test=50)
    model = qnn.mlp([64, 16, 10], rng=1)
    masks = qnn.prune_global(model, 0.8)
    nonzero = qnn.count_parameters(model, nonzero=True)
    res = qnn.train(model, data, steps=20, eta=0.1, mask=masks, momentum=0.9)
    assert res.masked
    assert qnn.count_parameters(model, nonzero=True) == nonzero
    unmasked = qnn.train(model, data, steps=1, eta=0.1)
    assert not unmasked.masked and qnn.count_parameters(model, nonzero=True) > nonzero


@pytest.mark.parametrize(
    "kwargs, match",
    [({"steps": -1, "eta": 0.1}, "steps"), ({"steps": 1, "eta": 0.0}, "eta"), ({"steps": 1, "eta": 0.1, "batch_size": 0}, "batch_size")],
)
def test_train_bad_input(kwargs, match):
    data = qd.load_digits(n_train=20, n_test=5)
    with pytest.raises(ValueError, match=match):
        qnn.train(qnn.mlp([64, 10]), data, **kwargs)
    with pytest.raises(ValueError, match="data"):
        qnn.train(qnn.mlp([64, 10]), (data.x_train, data.y_test), steps=1, eta=0.1)


def test_apply_mask_and_count_nonzero():
    model = qnn.mlp([3, 2], bias=False)
    with torch.no_grad():
        model[0].weight.fill_(1.0)
    qnn.apply_mask(model, {"0.weight": torch.tensor([[True, False, False], [False, True, True]])})
    assert qnn.count_parameters(model, nonzero=True) == 3 and qnn.count_parameters(model) == 6
    with pytest.raises(ValueError, match="does not have"):
        qnn.apply_mask(model, {"1.weight": torch.ones(1)})


def test_progress_bar_is_opt_in_and_silenced_by_tqdm_disable(monkeypatch, capsys):
    data = qd.load_digits(n_train=50, n_test=10)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    qnn.train(qnn.mlp([64, 10]), data, steps=3, eta=0.1)
    assert capsys.readouterr().err == ""
    qnn.train(qnn.mlp([64, 10]), data, steps=3, eta=0.1, progress=True)
    assert "train" in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    qnn.train(qnn.mlp([64, 10]), data, steps=3, eta=0.1, progress=True)
    assert capsys.readouterr().err == ""


def test_small_cnn_layout_count_and_seed():
    model = qnn.small_cnn(rng=0)
    assert qnn.count_parameters(model) == 26_698
    # analytic count: two 3x3 convolutions with biases, flatten 16*7*7, hidden 32, 10 logits
    assert 26_698 == (9 * 1 * 8 + 8) + (9 * 8 * 16 + 16) + (16 * 49 * 32 + 32) + (32 * 10 + 10)
    names = [n for n, _ in qnn.prunable_parameters(model)]
    assert names == ["0", "2", "5"]  # the classifier stays dense
    out = model(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10)
    same = qnn.small_cnn(rng=0)
    for a, b in zip(model.parameters(), same.parameters()):
        assert torch.equal(a, b)
    odd = qnn.small_cnn((2, 3), hidden=4, image_size=9, in_channels=2, num_classes=5, dtype="float64")
    assert odd(torch.zeros(1, 2, 9, 9, dtype=torch.float64)).shape == (1, 5)  # 9 -> 5 -> 3
    assert qnn.count_parameters(odd) == (9 * 2 * 2 + 2) + (9 * 2 * 3 + 3) + (3 * 9 * 4 + 4) + (4 * 5 + 5)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((8,), {}, "small_cnn: channels must be a pair of int, got 8"),
        (((8, 16, 32),), {}, r"small_cnn: channels must be a pair \(c1, c2\)"),
        (((0, 16),), {}, r"small_cnn: channels\[0\] must be >= 1, got 0"),
        ((), {"hidden": 0}, "small_cnn: hidden must be >= 1, got 0"),
        ((), {"activation": "cos"}, "small_cnn: activation must be one of"),
    ],
)
def test_small_cnn_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        qnn.small_cnn(*args, **kwargs)


def _net():
    return qnn.mlp([2, 3, 2], rng=0)


_X = torch.linspace(-1, 1, 12).reshape(6, 2)
_Y = torch.tensor([0, 1, 0, 1, 0, 1])

BAD_INPUT = {
    "mlp absurd size": (lambda: qnn.mlp([10**6, 10**6]), ValueError, ["mlp", "parameters", "GiB", "max_bytes"]),
    "mlp None sizes": (lambda: qnn.mlp(None), ValueError, ["mlp", "sizes", "None"]),
    "mlp string sizes": (lambda: qnn.mlp("ab"), ValueError, ["mlp", "sizes[0]", "integer"]),
    "mlp negative width": (lambda: qnn.mlp([2, -1]), ValueError, ["mlp", "sizes[1]", ">= 1"]),
    "mlp float width": (lambda: qnn.mlp([2.5, 3]), ValueError, ["mlp", "sizes[0]", "integer"]),
    "mlp string bias": (lambda: qnn.mlp([2, 3], bias="no"), ValueError, ["mlp", "bias"]),
    "mlp bad activation": (lambda: qnn.mlp([2, 3], activation="cos"), ValueError, ["mlp", "activation"]),
    "cnn absurd size": (lambda: qnn.small_cnn(hidden=10**6, image_size=1000), ValueError,
                        ["small_cnn", "parameters", "max_bytes"]),
    "resnet absurd size": (lambda: qnn.cifar_resnet(8, 1000), ValueError, ["cifar_resnet", "parameters", "max_bytes"]),
    "count None model": (lambda: qnn.count_parameters(None), ValueError, ["count_parameters", "model", "None"]),
    "accuracy empty data": (lambda: qnn.accuracy(_net(), _X[:0], _Y[:0]), ValueError, ["accuracy", "empty"]),
    "accuracy float labels": (lambda: qnn.accuracy(_net(), _X, _Y.float()), ValueError,
                              ["accuracy", "integer class labels", "float32"]),
    "accuracy wrong width": (lambda: qnn.accuracy(_net(), torch.zeros(6, 5), _Y), ValueError,
                             ["accuracy", "inputs", "(6, 5)"]),
    "accuracy None inputs": (lambda: qnn.accuracy(_net(), None, None), ValueError, ["accuracy", "tensors"]),
    "apply_mask None mask": (lambda: qnn.apply_mask(_net(), None), ValueError, ["apply_mask", "mask", "None"]),
    "apply_mask None model": (lambda: qnn.apply_mask(None, {}), ValueError, ["apply_mask", "model", "None"]),
    "apply_mask wrong shape": (lambda: qnn.apply_mask(_net(), {"0.weight": torch.ones(2, 2, dtype=torch.bool)}),
                               ValueError, ["apply_mask", "0.weight", "shape"]),
    "apply_mask unknown name": (lambda: qnn.apply_mask(_net(), {"x": torch.ones(1)}), ValueError,
                                ["apply_mask", "'x'"]),
    "prunable None model": (lambda: qnn.prunable_parameters(None), ValueError,
                            ["prunable_parameters", "model", "None"]),
    "prunable string exclude_last": (lambda: qnn.prunable_parameters(_net(), exclude_last="yes"), ValueError,
                                     ["prunable_parameters", "exclude_last"]),
    "prune amount 1.5": (lambda: qnn.prune_global(_net(), 1.5), ValueError, ["prune_global", "amount"]),
    "prune nan amount": (lambda: qnn.prune_global(_net(), float("nan")), ValueError, ["prune_global", "amount"]),
    "train nan inputs": (lambda: qnn.train(_net(), (_X * np.nan, _Y), steps=2, eta=0.1), ValueError,
                         ["train", "inputs", "non-finite"]),
    "train complex inputs": (lambda: qnn.train(_net(), (_X.to(torch.complex64), _Y), steps=2, eta=0.1), ValueError,
                             ["train", "inputs", "real"]),
    "train wrong width": (lambda: qnn.train(_net(), (torch.zeros(6, 5), _Y), steps=2, eta=0.1), ValueError,
                          ["train", "inputs", "(5,)"]),
    "train float labels": (lambda: qnn.train(_net(), (_X, _Y.float()), steps=2, eta=0.1), ValueError,
                           ["train", "integer class labels"]),
    "train label above classes": (lambda: qnn.train(_net(), (_X, _Y * 5), steps=2, eta=0.1), ValueError,
                                  ["train", "labels", "number of classes"]),
    "train negative label": (lambda: qnn.train(_net(), (_X, _Y - 1), steps=2, eta=0.1), ValueError,
                             ["train", "labels", ">= 0"]),
    "train empty data": (lambda: qnn.train(_net(), (_X[:0], _Y[:0]), steps=2, eta=0.1), ValueError,
                         ["train", "empty"]),
    "train None data": (lambda: qnn.train(_net(), None, steps=2, eta=0.1), ValueError, ["train", "data", "None"]),
    "train string steps": (lambda: qnn.train(_net(), (_X, _Y), steps="2", eta=0.1), ValueError, ["train", "steps"]),
    "train zero eta": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0), ValueError, ["train", "eta", "> 0"]),
    "train lr keyword": (lambda: qnn.train(_net(), (_X, _Y), steps=2, lr=0.1), TypeError, ["lr"]),
    "train string mask": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0.1, mask="x"), ValueError,
                          ["train", "mask"]),
    "train string loss_fn": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0.1, loss_fn="x"), ValueError,
                             ["train", "loss_fn", "callable"]),
    "train diverging": (lambda: qnn.train(_net(), (_X, _Y), steps=3, eta=0.1,
                                          loss_fn=lambda out, y: (out**2).sum() * 1e300 * 1e300), DivergenceError,
                        ["train", "not finite", "eta=0.1", "lower eta"]),
    "mlp negative rng": (lambda: qnn.mlp([2, 3], rng=-1), ValueError, ["mlp", "rng", "-1"]),
    "cnn float rng": (lambda: qnn.small_cnn(rng=1.5), ValueError, ["small_cnn", "rng", "1.5"]),
    "resnet string rng": (lambda: qnn.cifar_resnet(8, 1, rng="0"), ValueError, ["cifar_resnet", "rng", "'0'"]),
    "train negative rng": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0.1, rng=-3), ValueError,
                           ["train", "rng", "-3"]),
    "train list rng": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0.1, rng=[1]), ValueError,
                       ["train", "rng", "[1]"]),
    # rng= is the only randomness keyword: the former seed= is an unknown keyword
    "train seed keyword": (lambda: qnn.train(_net(), (_X, _Y), steps=2, eta=0.1, seed=0), TypeError, ["seed"]),
    "mlp seed keyword": (lambda: qnn.mlp([2, 3], seed=2), TypeError, ["seed"]),
    "cnn seed keyword": (lambda: qnn.small_cnn(seed=2), TypeError, ["seed"]),
    "resnet seed keyword": (lambda: qnn.cifar_resnet(8, 1, seed=2), TypeError, ["seed"]),
    # the modules built directly check their arguments as the builders do
    "CifarResNet depth 33": (lambda: qnn.CifarResNet(33, 1, 4, 10, 3, "relu"), ValueError,
                             ["CifarResNet", "depth", "6k + 2", "33"]),
    "CifarResNet width not divisible": (lambda: qnn.CifarResNet(8, 1, 6, 10, 3, "relu"), ValueError,
                                        ["CifarResNet", "stem_width * widen_factor", "6 * 1"]),
    "CifarResNet zero classes": (lambda: qnn.CifarResNet(8, 1, 4, 0, 3, "relu"), ValueError,
                                 ["CifarResNet", "num_classes", "0"]),
    "CifarResNet bad activation": (lambda: qnn.CifarResNet(8, 1, 4, 10, 3, "x"), ValueError,
                                   ["CifarResNet", "activation", "'x'"]),
    "BasicBlock zero in_planes": (lambda: qnn.BasicBlock(0, 4, 1, "relu"), ValueError,
                                  ["BasicBlock", "in_planes", ">= 1", "0"]),
    "BasicBlock float planes": (lambda: qnn.BasicBlock(4, 2.5, 1, "relu"), ValueError,
                                ["BasicBlock", "planes", "2.5"]),
    "BasicBlock zero stride": (lambda: qnn.BasicBlock(4, 4, 0, "relu"), ValueError, ["BasicBlock", "stride", "0"]),
    "BasicBlock bad activation": (lambda: qnn.BasicBlock(4, 4, 1, "x"), ValueError,
                                  ["BasicBlock", "activation", "'x'"]),
    # data whose inputs and targets disagree
    "train mismatched pair": (lambda: qnn.train(_net(), (_X, _Y[:-1]), steps=2, eta=0.1), ValueError,
                              ["train", "data[0] (the inputs) has", f"{_X.shape[0]} samples",
                               f"data[1] (the targets) has {_X.shape[0] - 1}"]),
    "train mismatched DataSplit": (lambda: qnn.train(_net(), qd.DataSplit(_X, _Y[:-1], _X, _Y), steps=2, eta=0.1),
                                   ValueError, ["train", "data.x_train has", f"data.y_train has {_X.shape[0] - 1}"]),
    "train mismatched test part": (lambda: qnn.train(_net(), qd.DataSplit(_X, _Y, _X, _Y[:1]), steps=2, eta=0.1),
                                   ValueError, ["train", "data.x_test", "data.y_test has 1"]),
    "train dict data": (lambda: qnn.train(_net(), {"x_train": _X, "y_train": _Y}, steps=2, eta=0.1), ValueError,
                        ["train", "dict", "'x_train'", "'y_train'", "DataSplit"]),
    "train scalar targets": (lambda: qnn.train(_net(), (_X, 1.0), steps=2, eta=0.1), ValueError,
                             ["train", "data[1] (the targets)", "1.0"]),
    "train one tensor": (lambda: qnn.train(_net(), (_X,), steps=2, eta=0.1), ValueError,
                         ["train", "a tuple of 1", "Tensor of shape"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words)


# --- rng= ----------------------------------------------------------------------------------


def _train_run(**kw):
    data = qd.load_digits(n_train=200, n_test=20, **kw)
    model = qnn.mlp([64, 8, 10], **kw)
    res = qnn.train(model, data, steps=5, eta=0.1, batch_size=32, **kw)
    return data, model, res


def test_int_rng_means_the_documented_seed():
    # load_digits: np.random.default_rng(seed); models: torch.manual_seed(seed); train: a seeded torch.Generator
    d = qd.load_digits(n_train=10, n_test=5, rng=11)
    x, y = __import__("sklearn.datasets", fromlist=["load_digits"]).load_digits(return_X_y=True)
    order = np.random.default_rng(11).permutation(x.shape[0])
    np.testing.assert_array_equal(d.y_test.numpy(), y[order[:5]])
    torch.manual_seed(5)
    ref = torch.nn.Linear(4, 3)
    torch.testing.assert_close(qnn.mlp([4, 3], rng=5)[0].weight, ref.weight, rtol=0, atol=0)
    assert qnn.train(qnn.mlp([64, 10], rng=0), d, steps=1, eta=0.1).seed == 0  # the default rng=0


def test_generator_rng_draws_one_seed():
    a = _train_run(rng=np.random.default_rng(7))
    b = _train_run(rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[2].loss, b[2].loss)
    gen = np.random.default_rng(7)
    seeds = [int(gen.integers(2**63 - 1)) for _ in range(3)]
    assert a[2].seed == seeds[2]  # load_digits, mlp and train each drew one
    again = qnn.train(qnn.mlp([64, 8, 10], rng=seeds[1]), a[0], steps=5, eta=0.1, batch_size=32, rng=a[2].seed)
    np.testing.assert_array_equal(again.loss, a[2].loss)


def test_none_rng_is_fresh_entropy_and_reports_a_seed_that_repeats_the_run():
    d = qd.load_digits(n_train=200, n_test=20, rng=0)
    first = qnn.train(qnn.mlp([64, 8, 10], rng=0), d, steps=5, eta=0.1, batch_size=32, rng=None)
    second = qnn.train(qnn.mlp([64, 8, 10], rng=0), d, steps=5, eta=0.1, batch_size=32, rng=None)
    assert first.seed != second.seed and first.seed != 0  # not a fixed seed
    again = qnn.train(qnn.mlp([64, 8, 10], rng=0), d, steps=5, eta=0.1, batch_size=32, rng=first.seed)
    np.testing.assert_array_equal(again.loss, first.loss)
    assert not torch.equal(qd.load_digits(n_train=20, n_test=5, rng=None).y_test,
                           qd.load_digits(n_train=20, n_test=5, rng=None).y_test)


@pytest.mark.parametrize("build", [lambda: qnn.mlp([4, 3], rng=None), lambda: qnn.small_cnn((2, 2), hidden=3, rng=None),
                                   lambda: qnn.cifar_resnet(8, 1, stem_width=4, num_classes=3, rng=None)])
def test_none_rng_models_neither_use_nor_change_the_global_torch_rng(build):
    torch.manual_seed(9)
    state = torch.get_rng_state()
    a = build()
    assert torch.equal(torch.get_rng_state(), state)  # the global stream is untouched ...
    b = build()
    first = next(p for p in a.parameters() if p.dim() > 1)
    assert not torch.equal(first, next(p for p in b.parameters() if p.dim() > 1))  # ... and not what seeds them
    torch.manual_seed(9)
    assert not torch.equal(first, next(p for p in build().parameters() if p.dim() > 1))


def test_as_seed_conversions_and_refusals():
    drawn = [as_seed(None, func="f") for _ in range(2)]
    assert all(type(s) is int and 0 <= s < 2**63 - 1 for s in drawn) and drawn[0] != drawn[1]
    assert as_seed(np.int64(12), func="f") == 12 and type(as_seed(np.int64(12))) is int
    gen = np.random.default_rng(0)
    assert as_seed(np.random.default_rng(0)) == int(gen.integers(2**63 - 1))
    for bad, word in ((-1, "-1"), (0.5, "0.5"), (False, "False"), ("1", "'1'"), (np.random.RandomState(0), "RandomState")):
        with pytest.raises(ValueError) as info:
            as_seed(bad, "rng", func="f")
        assert "f: rng" in str(info.value) and word in str(info.value)


def test_progress_disabled(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert progress_disabled(False) and not progress_disabled(True)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_disabled(True)


def test_model_size_guard_can_be_raised_on_purpose():
    with pytest.raises(ValueError, match="max_bytes"):
        qnn.mlp([3, 4, 2], max_bytes=16)
    assert qnn.count_parameters(qnn.mlp([3, 4, 2], max_bytes=1e6)) == 26


def test_recalibrate_batch_norm_replaces_the_running_statistics_and_keeps_the_weights():
    model = qnn.cifar_resnet(8, 1, stem_width=8, num_classes=3, in_channels=1, rng=0)
    x = torch.randn(64, 1, 8, 8) * 3 + 2
    before = {k: v.clone() for k, v in model.named_parameters()}
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert qnn.recalibrate_batch_norm(model, x, batches=2, batch_size=64) == n_bn > 0
    stem = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][0]
    with torch.no_grad():
        h = conv(x)
    torch.testing.assert_close(stem.running_mean, h.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert stem.momentum == 0.1 and not model.training
    for k, v in model.named_parameters():
        assert torch.equal(v, before[k])
    with pytest.raises(ValueError, match="no batch-norm"):
        qnn.recalibrate_batch_norm(qnn.mlp([2, 2]), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="x must be"):
        qnn.recalibrate_batch_norm(model, torch.zeros(0, 1, 8, 8))
