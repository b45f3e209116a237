"""qsgd.data: the digits, CIFAR-100 and Fashion-MNIST (from files the tests write themselves), IDX files,
splits and dtypes."""

import gzip
import os
import pickle

import numpy as np
import pytest
import torch

from qsgd import data as qd


def write_fake_cifar100(root, *, n_train=12, n_test=5, seed=0, subdir=True):
    """A tiny directory in the CIFAR-100 python-pickle layout (random images)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python" if subdir else root
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("test", n_test)):
        entry = {
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"fine_labels": rng.integers(0, 100, size=n).tolist(),
            b"coarse_labels": rng.integers(0, 20, size=n).tolist(),
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh)
    return root


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


def _gzip_bytes(tmp, payload, name="g.idx.gz"):
    path = tmp / name
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(payload)
    return path


def _gzip_bomb(tmp):
    """A header declaring 10 bytes, followed by 64 MiB of zeros (about 64 KB compressed)."""
    path = tmp / "bomb.idx.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(bytes([0, 0, 8, 1, 0, 0, 0, 10]))
        zeros = bytes(1 << 20)
        for _ in range(64):
            fh.write(zeros)
    return path


def _three_of_four(tmp):
    write_fake_fashion(tmp / "three", n_train=3, n_test=2)
    (tmp / "three" / "t10k-labels-idx1-ubyte.gz").unlink()
    return tmp / "three"


def _fake_dir_with_labels(tmp, labels):
    write_fake_fashion(tmp / "d", gz=False)
    qd.write_idx(tmp / "d" / "train-labels-idx1-ubyte", labels)
    return tmp / "d"


# each call takes a fresh temporary directory
# --- the digits and CIFAR-100 ---------------------------------------------------------------------------------


def test_load_digits_split_standardization_and_determinism():
    d = qd.load_digits()
    assert d.x_train.shape == (1437, 64) and d.x_test.shape == (360, 64)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    np.testing.assert_allclose(d.x_train.mean(0).numpy(), 0.0, atol=1e-5)
    std = d.x_train.std(0, unbiased=False).numpy()
    assert np.all((np.abs(std - 1) < 1e-4) | (std < 1e-6))
    again = qd.load_digits()
    assert torch.equal(d.x_train, again.x_train) and torch.equal(d.y_test, again.y_test)
    other = qd.load_digits(rng=1)
    assert not torch.equal(d.y_train, other.y_train)
    small = qd.load_digits(n_train=100, n_test=50, dtype="float64", image=True)
    assert small.x_train.shape == (100, 1, 8, 8) and small.x_test.dtype == torch.float64
    # train and test are disjoint: the 1797 samples are a permutation
    full = torch.cat([d.x_train, d.x_test])
    assert torch.unique(full, dim=0).shape[0] == torch.unique(torch.cat([full, full]), dim=0).shape[0]


@pytest.mark.parametrize(
    "kwargs, match", [({"n_train": 1500, "n_test": 400}, "<= 1797"), ({"n_test": 0}, "n_test"), ({"dtype": "int"}, "dtype")]
)
def test_load_digits_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qd.load_digits(**kwargs)


def test_load_cifar100_without_data_names_the_path(tmp_path):
    missing = tmp_path / "no-cifar-here"
    with pytest.raises(FileNotFoundError, match="no-cifar-here") as info:
        qd.load_cifar100(missing)
    assert "never downloads" in str(info.value)
    with pytest.raises(ValueError, match="path"):
        qd.load_cifar100(None)


@pytest.mark.parametrize("subdir", [True, False])
def test_load_cifar100_reads_the_pickle_layout(tmp_path, subdir):
    write_fake_cifar100(tmp_path, n_train=12, n_test=5, subdir=subdir)
    d = qd.load_cifar100(tmp_path)
    assert d.x_train.shape == (12, 3, 32, 32) and d.x_test.shape == (5, 3, 32, 32)
    assert d.y_train.dtype == torch.int64 and int(d.y_train.max()) < 100
    with open((tmp_path / "cifar-100-python" if subdir else tmp_path) / "train", "rb") as fh:
        raw = pickle.load(fh)
    pixel = raw[b"data"][0, 0] / 255.0  # red channel, row 0, column 0 of image 0
    expected = (pixel - qd.CIFAR100_MEAN[0]) / qd.CIFAR100_STD[0]
    assert float(d.x_train[0, 0, 0, 0]) == pytest.approx(expected, rel=1e-5)
    assert qd.load_cifar100(tmp_path, n_train=4, n_test=2).x_train.shape[0] == 4


def test_load_cifar100_rejects_foreign_pickles(tmp_path):
    for name in ("train", "test"):
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({b"images": [1, 2]}, fh)
    with pytest.raises(ValueError, match="not a CIFAR-100"):
        qd.load_cifar100(tmp_path)


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
    "load seed keyword": (lambda tmp: qd.load_fashion_mnist(data_dir=tmp, seed=1), TypeError, ["seed"]),
    "digits zero n_test": (lambda tmp: qd.load_digits(n_test=0), ValueError, ["load_digits", "n_test"]),
    "digits bad dtype": (lambda tmp: qd.load_digits(dtype="int"), ValueError, ["load_digits", "dtype"]),
    "digits bool rng": (lambda tmp: qd.load_digits(rng=True), ValueError, ["load_digits", "rng", "True"]),
    "digits seed keyword": (lambda tmp: qd.load_digits(seed=1), TypeError, ["seed"]),
    "cifar missing directory": (lambda tmp: qd.load_cifar100("/nonexistent/cifar"), FileNotFoundError,
                                ["load_cifar100", "/nonexistent/cifar"]),
    "cifar None path": (lambda tmp: qd.load_cifar100(None), ValueError, ["load_cifar100", "path", "None"]),
    "split_data None": (lambda tmp: qd.split_data(None), ValueError, ["split_data", "data", "None"]),
    "split_data unequal pair": (lambda tmp: qd.split_data((torch.zeros(3, 2), torch.zeros(2)), func="train"),
                                ValueError, ["train", "data"]),
    "torch_dtype int": (lambda tmp: qd.torch_dtype(torch.int64), ValueError, ["torch_dtype", "dtype", "int64"]),
    "read 255 dimensions": (lambda tmp: qd.read_idx(_bytes(tmp, bytes([0, 0, 8, 255]) + b"\x00\x00\x00\x01" * 255)),
                            ValueError, ["read_idx", "c.idx", "255 dimensions", "IDX_MAX_DIMS"]),
    "read gzip 255 dimensions": (
        lambda tmp: qd.read_idx(_gzip_bytes(tmp, bytes([0, 0, 8, 255]) + b"\x00\x00\x00\x01" * 255)),
        ValueError, ["read_idx", "g.idx.gz", "255 dimensions"]),
    "read gzip inflating beyond its header": (lambda tmp: qd.read_idx(_gzip_bomb(tmp)), ValueError,
                                              ["read_idx", "bomb.idx.gz", "declares shape (10,)", "holds more"]),
    "read gzip declaring a terabyte": (
        lambda tmp: qd.read_idx(_gzip_bytes(tmp, bytes([0, 0, 8, 2, 0, 16, 0, 0, 0, 16, 0, 0]) + b"\x00" * 10)),
        ValueError, ["read_idx", "g.idx.gz", "declares shape (1048576, 1048576)", "GiB", "max_bytes"]),
    "read gzip shorter than declared": (
        lambda tmp: qd.read_idx(_gzip_bytes(tmp, bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))),
        ValueError, ["read_idx", "g.idx.gz", "(9 bytes)", "holds 2 bytes"]),
    "read above max_bytes": (lambda tmp: qd.read_idx(qd.write_idx(tmp / "m.idx", np.zeros(100, np.uint8)),
                                                     max_bytes=50), ValueError, ["read_idx", "m.idx", "max_bytes"]),
    "write into a missing directory": (lambda tmp: qd.write_idx(tmp / "absent" / "w.idx", np.zeros(3, np.uint8)),
                                       ValueError, ["write_idx", "path", "absent", "does not exist"]),
    "write onto a directory": (lambda tmp: qd.write_idx(tmp, np.zeros(3, np.uint8)), ValueError,
                               ["write_idx", "path", "is a directory"]),
    "write 40 dimensions": (lambda tmp: qd.write_idx(tmp / "w.idx", np.zeros((1,) * 40, np.uint8)), ValueError,
                            ["write_idx", "1 to 32 dimensions"]),
    "find three of four files": (lambda tmp: qd.find_fashion_mnist(_three_of_four(tmp)), FileNotFoundError,
                                 ["find_fashion_mnist", "three", "3 of the 4", "lacks t10k-labels-idx1-ubyte"]),
    "split_data mismatched pair": (lambda tmp: qd.split_data((torch.zeros(3, 2), torch.zeros(2))), ValueError,
                                   ["split_data", "data[0] (the inputs) has 3 samples",
                                    "data[1] (the targets) has 2"]),
    "split_data mismatched DataSplit": (
        lambda tmp: qd.split_data(qd.DataSplit(torch.zeros(3, 2), torch.zeros(2), torch.zeros(1, 2), torch.zeros(1))),
        ValueError, ["split_data", "data.x_train has 3 samples", "data.y_train has 2"]),
    "split_data dict": (lambda tmp: qd.split_data({"x": torch.zeros(3), "y": torch.zeros(3)}), ValueError,
                        ["split_data", "dict", "['x', 'y']"]),
    "split_data None test part": (lambda tmp: qd.split_data(qd.DataSplit(torch.zeros(3), torch.zeros(3), None, None)),
                                  ValueError, ["split_data", "data.x_test", "None"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_catalogue(case, tmp_path, refuses):
    call, exc, words = BAD_INPUT[case]
    refuses(call, exc, words, tmp_path)


def test_rng_forms_of_the_fashion_subsets(tmp_path):
    write_fake_fashion(tmp_path)
    gen = qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=np.random.default_rng(1))
    seed = int(np.random.default_rng(1).integers(2**63 - 1))
    assert torch.equal(gen.y_train, qd.load_fashion_mnist(data_dir=tmp_path, n_train=10, n_test=5, rng=seed).y_train)
    fresh = [qd.load_fashion_mnist(data_dir=tmp_path, n_train=20, n_test=5, rng=None).x_train for _ in range(2)]
    assert not torch.equal(*fresh)  # rng=None: fresh entropy, not the default seed 0
    with pytest.raises(ValueError, match="load_fashion_mnist: rng must be a non-negative integer seed, got -2"):
        qd.load_fashion_mnist(data_dir=tmp_path, rng=-2)


def test_split_data_and_torch_dtype():
    d = qd.load_digits(n_train=20, n_test=5)
    x, y = qd.split_data(d)
    assert x is d.x_train and y is d.y_train
    assert qd.split_data([x, y])[1] is y
    assert qd.torch_dtype("float64") is torch.float64 and qd.torch_dtype(torch.float32) is torch.float32
