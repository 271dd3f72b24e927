import os
import time

import numpy as np
import pytest
import torch

from cnn_lab import data
from cnn_lab.data import DataError, load_dataset


def write_idx(folder, name, array: np.ndarray) -> None:
    """An IDX file as the MNIST distribution ships it (big-endian header, then raw uint8)."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = 0x0803 if array.ndim == 3 else 0x0801
    header = kind.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    (folder / name).write_bytes(header + array.astype(np.uint8).tobytes())


def make_tiny_mnist(root, folder="MNIST", train=30, test=10):
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    write_idx(raw, "train-images-idx3-ubyte", rng.integers(0, 256, (train, 28, 28)))
    write_idx(raw, "train-labels-idx1-ubyte", np.arange(train) % 10)
    write_idx(raw, "t10k-images-idx3-ubyte", rng.integers(0, 256, (test, 28, 28)))
    write_idx(raw, "t10k-labels-idx1-ubyte", np.arange(test) % 10)


def test_loads_idx_files_from_a_given_directory(tmp_path):
    make_tiny_mnist(tmp_path)
    dataset = load_dataset("mnist", tmp_path)
    assert dataset.train_images.shape == (30, 28, 28) and dataset.train_images.dtype == torch.uint8
    assert dataset.train_labels.dtype == torch.int64 and dataset.train_labels[:3].tolist() == [0, 1, 2]
    assert dataset.source == f"MNIST, 30 train / 10 test, from {tmp_path}"


def test_fashion_mnist_loads_the_same_way(tmp_path):
    make_tiny_mnist(tmp_path, "FashionMNIST")
    dataset = load_dataset("fashion_mnist", tmp_path)
    assert dataset.info.class_names[9] == "Ankle boot"
    assert dataset.source.startswith("Fashion-MNIST, 30 train")


def test_the_environment_variable_names_the_directory(tmp_path, monkeypatch):
    make_tiny_mnist(tmp_path)
    monkeypatch.setenv("CNN_LAB_DATA", str(tmp_path))
    assert len(load_dataset("mnist").train_labels) == 30


def test_a_directory_without_the_files_is_refused_with_its_path(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "MNIST" / "raw")):
        load_dataset("mnist", tmp_path)


def test_offline_without_files_falls_back_to_the_shipped_sample(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    dataset = load_dataset("mnist", allow_download=False)
    assert dataset.source == "MNIST sample, 10,000 train / 2,000 test, offline"
    assert torch.bincount(dataset.train_labels).tolist() == [1000] * 10
    assert torch.bincount(dataset.test_labels).tolist() == [200] * 10
    assert os.path.getsize(data.SAMPLE_PATH) <= 3_000_000
    # real digits, not noise: MNIST's known pixel statistics
    mean = dataset.train_images.float().mean().item() / 255
    assert abs(mean - 0.1307) < 0.01


def test_a_download_attempt_fails_fast_when_offline(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(data, "PROBE_TIMEOUT_S", 2.0)
    monkeypatch.setattr(data.DATASET_INFO["fashion_mnist"].torchvision_class, "mirrors", ["http://10.255.255.1/"])
    started = time.perf_counter()
    with pytest.raises(DataError, match="not available offline"):
        load_dataset("fashion_mnist", allow_download=True)
    assert time.perf_counter() - started < 10


def test_previously_downloaded_files_in_the_cache_are_used(tmp_path, monkeypatch):
    monkeypatch.delenv("CNN_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    make_tiny_mnist(tmp_path / "cnn_lab")
    assert load_dataset("mnist", allow_download=False).origin == "download cache"


def test_subset_keeps_the_test_split_whole(mnist):
    small = mnist.subset(500, seed=3)
    assert len(small.train_labels) == 500 and len(small.test_labels) == len(mnist.test_labels)
    assert torch.equal(small.train_labels, mnist.subset(500, seed=3).train_labels)


def test_validation_is_held_out_of_the_training_split(mnist):
    small = mnist.subset(1000, seed=1)
    held = small.hold_out(250, seed=1)
    assert len(held.train_labels) == 750 and held.validation_size == 250 and held.test_labels is small.test_labels
    together = torch.cat([held.train_images, held.validation_images]).flatten(1)
    assert len(torch.unique(together, dim=0)) == len(
        torch.unique(small.train_images.flatten(1), dim=0)
    )  # a split, nothing lost or shared
    assert small.hold_out(0) is small


def test_folds_partition_the_training_split(mnist):
    small = mnist.subset(100, seed=2)
    folds = small.folds(3, seed=2)
    assert [f.validation_size for f in folds] == [34, 33, 33] and all(
        len(f.train_labels) + f.validation_size == 100 for f in folds
    )
    assert all(len(f.test_labels) == 0 for f in folds)
    validated = torch.cat([f.validation_images for f in folds]).flatten(1)
    assert len(torch.unique(validated, dim=0)) == len(
        torch.unique(small.train_images.flatten(1), dim=0)
    )  # every image validated once
