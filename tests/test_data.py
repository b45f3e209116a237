"""qsgd.data: IDX reading and Fashion-MNIST loading from files the tests write themselves."""

import gzip
import os

import numpy as np
import pytest
import torch

from qsgd import data as qd


def write_fake_fashion(root, *, n_train=30, n_test=12, seed=0, gz=True):
    """Four IDX files in the Fashion-MNIST layout with random 28x28 images and labels."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays[split, "images"] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[split, "labels"] = (np.arange(n) % 10).astype(np.uint8)
    for key, stem in qd.FASHION_MNIST_FILES.items():
        qd.write_idx(root / (stem + (".gz" if gz else "")), arrays[key])
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = qd.write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), arr)
    out = qd.read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, arr)
    # the header is the documented big-endian one
    raw = (gzip.open if gz else open)(path, "rb").read()
    assert raw[:4] == bytes([0, 0, 8, 3]) and np.frombuffer(raw[4:16], ">u4").tolist() == [2, 3, 4]


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="read_idx: .* is not an IDX file"):
        qd.read_idx(tmp_path / "bad")
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + np.asarray([5], ">u4").tobytes() + b"abc")
    with pytest.raises(ValueError, match=r"declares shape \(5,\) \(5 bytes\) but holds 3 bytes"):
        qd.read_idx(short)
    with pytest.raises(ValueError, match="read_idx: path must be a str or path-like, got 3"):
        qd.read_idx(3)
    with pytest.raises(ValueError, match="write_idx: array must be a uint8 array"):
        qd.write_idx(tmp_path / "x", np.zeros(3))


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_from_a_directory(tmp_path, gz):
    arrays = write_fake_fashion(tmp_path / "fm", gz=gz)
    split = qd.load_fashion_mnist(data_dir=tmp_path / "fm", dtype="float64")
    assert split.x_train.shape == (30, 1, 28, 28) and split.x_test.shape == (12, 1, 28, 28)
    assert split.y_train.dtype == torch.int64
    expected = (arrays["train", "images"] / 255.0 - qd.FASHION_MNIST_MEAN) / qd.FASHION_MNIST_STD
    np.testing.assert_allclose(split.x_train[:, 0].numpy(), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(split.y_test.numpy(), arrays["test", "labels"])
    flat = qd.load_fashion_mnist(data_dir=tmp_path / "fm", flatten=True)
    assert flat.x_train.shape == (30, 784) and flat.x_train.dtype == torch.float32


def test_subsets_are_seeded_and_consistent(tmp_path):
    arrays = write_fake_fashion(tmp_path)
    a = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=3, dtype="float64")
    b = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=3, dtype="float64")
    c = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=4, dtype="float64")
    for x, y in zip(a, b):
        assert torch.equal(x, y)
    assert not torch.equal(a.y_train, c.y_train) or not torch.equal(a.x_train, c.x_train)
    # every kept image is one of the file's images, with its own label, and none twice
    pixels = a.x_train[:, 0].numpy() * qd.FASHION_MNIST_STD + qd.FASHION_MNIST_MEAN
    idx = [int(np.flatnonzero(np.all(np.abs(arrays["train", "images"] / 255.0 - p) < 1e-9, axis=(1, 2)))[0])
           for p in pixels]
    assert len(set(idx)) == 10
    np.testing.assert_array_equal(a.y_train.numpy(), arrays["train", "labels"][idx])
    with pytest.raises(ValueError, match="load_fashion_mnist: n_train must be <= 30, got 31"):
        qd.load_fashion_mnist(data_dir=tmp_path, n_train=31)


def test_search_order_and_error_message(tmp_path, monkeypatch):
    write_fake_fashion(tmp_path / "env" / "fashion-mnist", n_train=7)
    monkeypatch.setenv("QSGD_DATA_DIR", str(tmp_path / "env"))
    assert qd.load_fashion_mnist().x_train.shape[0] == 7  # the environment variable's subdirectory
    write_fake_fashion(tmp_path / "cli", n_train=5)
    assert qd.load_fashion_mnist(data_dir=tmp_path / "cli").x_train.shape[0] == 5  # an explicit directory wins
    # an explicit directory without the files is an error, not a silent fallback
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist") as err:
        qd.load_fashion_mnist(data_dir=tmp_path / "empty")
    assert "empty" in str(err.value) and "--data-dir" in str(err.value) and "QSGD_DATA_DIR" in str(err.value)
    monkeypatch.setattr(qd, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("QSGD_DATA_DIR", str(tmp_path / "void"))
    with pytest.raises(FileNotFoundError, match="find_fashion_mnist: Fashion-MNIST not found"):
        qd.find_fashion_mnist()
    with pytest.raises(ValueError, match="find_fashion_mnist: data_dir must be a str or path-like"):
        qd.find_fashion_mnist(3)


@pytest.mark.skipif(not (qd.DEBIAN_DIR / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_the_installed_data_set_has_the_published_sizes(monkeypatch):
    monkeypatch.delenv("QSGD_DATA_DIR", raising=False)
    split = qd.load_fashion_mnist(n_test=None)
    assert split.x_train.shape == (60000, 1, 28, 28) and split.x_test.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(np.bincount(split.y_train.numpy()), [6000] * 10)
    # the stated normalization constants are those of the training images
    assert abs(float(split.x_train.mean())) < 2e-3 and abs(float(split.x_train.std()) - 1) < 2e-3


def _truncated_gz(tmp):
    path = qd.write_idx(tmp / "a.idx.gz", np.zeros((50, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:40])
    return path


def _garbage_gz(tmp):
    path = tmp / "b.idx.gz"
    path.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    return path


def _bytes(tmp, payload):
    path = tmp / "c.idx"
    path.write_bytes(payload)
    return path


def _fake_dir_with_labels(tmp, labels):
    write_fake_fashion(tmp / "d", gz=False)
    qd.write_idx(tmp / "d" / "train-labels-idx1-ubyte", labels)
    return tmp / "d"


# each call takes a fresh temporary directory
BAD_INPUT = {
    "read missing file": (lambda tmp: qd.read_idx(tmp / "nope.idx"), FileNotFoundError, ["read_idx", "nope.idx"]),
    "read a directory": (lambda tmp: qd.read_idx(tmp), ValueError, ["read_idx", "not a file"]),
    "read None path": (lambda tmp: qd.read_idx(None), ValueError, ["read_idx", "path", "None"]),
    "read truncated gzip": (lambda tmp: qd.read_idx(_truncated_gz(tmp)), ValueError,
                            ["read_idx", "a.idx.gz", "truncated"]),
    "read corrupted gzip": (lambda tmp: qd.read_idx(_garbage_gz(tmp)), ValueError, ["read_idx", "b.idx.gz", "corrupted"]),
    "read wrong magic": (lambda tmp: qd.read_idx(_bytes(tmp, b"\x01\x02\x03\x04rest")), ValueError,
                         ["read_idx", "c.idx", "magic number"]),
    "read unknown type code": (lambda tmp: qd.read_idx(_bytes(tmp, bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]))),
                               ValueError, ["read_idx", "c.idx", "magic number"]),
    "read truncated header": (lambda tmp: qd.read_idx(_bytes(tmp, bytes([0, 0, 8, 3, 0, 0]))), ValueError,
                              ["read_idx", "c.idx", "truncated IDX header"]),
    "read truncated payload": (lambda tmp: qd.read_idx(_bytes(tmp, bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))),
                               ValueError, ["read_idx", "c.idx", "holds 2 bytes"]),
    "read absurd declared shape": (
        lambda tmp: qd.read_idx(_bytes(tmp, bytes([0, 0, 8, 3]) + b"\xff" * 12 + b"\x00")), ValueError,
        ["read_idx", "c.idx", "declares shape"]),
    "write float array": (lambda tmp: qd.write_idx(tmp / "w.idx", np.zeros(3)), ValueError, ["write_idx", "uint8"]),
    "write None path": (lambda tmp: qd.write_idx(None, np.zeros(3, np.uint8)), ValueError,
                        ["write_idx", "path", "None"]),
    "write string compress": (lambda tmp: qd.write_idx(tmp / "w.idx", np.zeros(3, np.uint8), compress="yes"),
                              ValueError, ["write_idx", "compress"]),
    "find missing directory": (lambda tmp: qd.find_fashion_mnist(tmp / "absent"), FileNotFoundError,
                               ["find_fashion_mnist", "absent", "does not exist"]),
    "find empty directory": (lambda tmp: qd.find_fashion_mnist(tmp), FileNotFoundError,
                             ["find_fashion_mnist", "not found"]),
    "find integer data_dir": (lambda tmp: qd.find_fashion_mnist(3), ValueError, ["find_fashion_mnist", "data_dir"]),
    "load missing directory": (lambda tmp: qd.load_fashion_mnist(data_dir=tmp / "absent"), FileNotFoundError,
                               ["find_fashion_mnist", "absent"]),
    "load zero n_train": (lambda tmp: qd.load_fashion_mnist(n_train=0, data_dir=tmp), ValueError,
                          ["load_fashion_mnist", "n_train", ">= 1"]),
    "load string flatten": (lambda tmp: qd.load_fashion_mnist(flatten="yes", data_dir=tmp), ValueError,
                            ["load_fashion_mnist", "flatten"]),
    "load n_train above the file": (
        lambda tmp: (write_fake_fashion(tmp / "e", gz=False), qd.load_fashion_mnist(n_train=31, data_dir=tmp / "e")),
        ValueError, ["load_fashion_mnist", "n_train", "<= 30"]),
    "load label above the classes": (
        lambda tmp: qd.load_fashion_mnist(data_dir=_fake_dir_with_labels(tmp, np.full(30, 12, np.uint8))),
        ValueError, ["load_fashion_mnist", "train-labels-idx1-ubyte", "label 12"]),
    "load labels and images disagree": (
        lambda tmp: qd.load_fashion_mnist(data_dir=_fake_dir_with_labels(tmp, np.zeros(29, np.uint8))),
        ValueError, ["load_fashion_mnist", "train files", "(30, 28, 28)"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, tmp_path, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words, tmp_path)


def test_seed_is_a_deprecated_alias_of_rng(tmp_path):
    write_fake_fashion(tmp_path)
    new = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=3)
    with pytest.warns(DeprecationWarning, match="load_fashion_mnist: the keyword seed= is deprecated; use rng="):
        old = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, seed=3)
    for x, y in zip(new, old):
        assert torch.equal(x, y)
    gen = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=np.random.default_rng(1))
    seed = int(np.random.default_rng(1).integers(2**63 - 1))
    assert torch.equal(gen.y_train, qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=seed).y_train)
    with pytest.raises(ValueError, match="load_fashion_mnist: pass rng= only"):
        qd.load_fashion_mnist(data_dir=tmp_path, rng=1, seed=1)
    with pytest.raises(ValueError, match="load_fashion_mnist: rng must be a non-negative integer seed, got -2"):
        qd.load_fashion_mnist(data_dir=tmp_path, rng=-2)
