import io
import os
import re
import time
import zipfile
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from cnn_lab.data import datasets as data
from cnn_lab.data import sources
from cnn_lab.data.datasets import DataError, load_dataset
from cnn_lab.data.framing import Framing


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
    monkeypatch.setattr(sources, "PROBE_TIMEOUT_S", 2.0)
    monkeypatch.setitem(
        data.DATASET_INFO, "fashion_mnist", replace(data.DATASET_INFO["fashion_mnist"], url="http://10.255.255.1/")
    )
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


def write_emnist(root, split: str, labels: np.ndarray) -> np.ndarray:
    """EMNIST's files for ``split``: images stored transposed, as NIST ships them. Returns the images upright."""
    rng = np.random.default_rng(1)
    upright = rng.integers(0, 256, (len(labels), 28, 28)).astype(np.uint8)
    upright[:, 0, :] = 255  # a bright top row: transposed in the file, upright once loaded
    raw = root / "EMNIST" / "raw"
    for part in ("train", "test"):
        write_idx(raw, f"emnist-{split}-{part}-images-idx3-ubyte", upright.transpose(0, 2, 1))
        write_idx(raw, f"emnist-{split}-{part}-labels-idx1-ubyte", labels)
    return upright


def write_cifar10(root, monkeypatch, count: int = 6) -> np.ndarray:
    """CIFAR-10's python batches (pickles, its official format) with the checksums torchvision checks set to theirs."""
    import hashlib
    import pickle

    from torchvision.datasets import CIFAR10

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (count, 3, 32, 32)).astype(np.uint8)
    images[0, 0], images[0, 1:] = 255, 0  # the first image pure red
    entries = {
        name: {"data": images.reshape(count, -1), "labels": list(range(count))}
        for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]
    }
    entries["batches.meta"] = {"label_names": list(data.DATASET_INFO["cifar10"].class_names)}

    def md5(name: str) -> str:
        (folder / name).write_bytes(pickle.dumps(entries[name]))
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{k}", md5(f"data_batch_{k}")] for k in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5("batches.meta")})
    return images


def test_kmnist_loads_its_idx_files(tmp_path):
    make_tiny_mnist(tmp_path, "KMNIST")
    dataset = load_dataset("kmnist", tmp_path)
    assert dataset.info.class_names[1] == "ki" and dataset.image_shape == (1, 28, 28)


def test_emnist_digits_and_letters_load_upright_with_labels_from_zero(tmp_path):
    upright = write_emnist(tmp_path, "digits", np.arange(20) % 10)
    digits = load_dataset("emnist_digits", tmp_path)
    assert torch.equal(digits.train_images, torch.from_numpy(upright)) and digits.train_images[:, 0].min() == 255
    assert digits.train_labels.tolist() == (np.arange(20) % 10).tolist()
    write_emnist(tmp_path, "letters", np.arange(1, 27))  # EMNIST counts letters from 1
    letters = load_dataset("emnist_letters", tmp_path)
    assert letters.info.num_classes == 26 and letters.train_labels.tolist() == list(range(26))
    assert letters.info.class_names[letters.train_labels[25]] == "z"


def test_cifar10_loads_its_python_batches_as_colour_images(tmp_path, monkeypatch):
    images = write_cifar10(tmp_path, monkeypatch)
    dataset = load_dataset("cifar10", tmp_path)
    assert dataset.image_shape == (3, 32, 32) and len(dataset.train_labels) == 30 and len(dataset.test_labels) == 6
    assert torch.equal(dataset.test_images, torch.from_numpy(images))
    assert dataset.train_images[0, 0].min() == 255 and dataset.train_images[0, 1:].max() == 0  # red stays red
    assert len(dataset.info.mean) == 3 and dataset.info.mean[0] > dataset.info.mean[1]


HOW_TO_GET = {  # what each missing dataset's message must tell a user to fetch, and where to put it
    "fashion_mnist": "FashionMNIST/raw/",
    "kmnist": "github.com/rois-codh/kmnist in KMNIST/raw/",
    "emnist_digits": "gzip/ folder into EMNIST/raw/",
    "emnist_letters": "gzip/ folder into EMNIST/raw/",
    "cifar10": "cifar10-jpeg.zip",
    "quickdraw": "full_numpy_bitmap_<class>.npy",
}


@pytest.mark.parametrize("name", list(HOW_TO_GET))
def test_each_built_in_dataset_says_plainly_when_it_is_not_here_and_how_to_get_it(tmp_path, monkeypatch, name):
    monkeypatch.delenv("CNN_LAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    title = re.escape(data.DATASET_INFO[name].title)
    started = time.perf_counter()
    with pytest.raises(DataError, match=f"{title} is not available offline") as offline:
        load_dataset(name, allow_download=False)
    with pytest.raises(DataError, match=f"{title} is not in the data directory") as absent:
        load_dataset(name, tmp_path)
    assert time.perf_counter() - started < 5
    for err in (offline, absent):
        assert HOW_TO_GET[name] in str(err.value)


def test_pixel_statistics_are_per_channel_and_exact():
    images = torch.tensor([[[[0, 255]], [[51, 51]]]], dtype=torch.uint8)  # one 1x2 image, two channels
    mean, std = data.pixel_statistics(images)
    assert mean == (0.5, 0.2) and std == (0.5, 0.001)  # a flat channel's std is kept above zero


def test_the_setup_accepts_every_dataset_here():
    from cnn_lab.core.config import DATASETS

    assert DATASETS == (*data.DATASET_INFO, data.UPLOADED)


CIFAR_CLASSES = data.DATASET_INFO["cifar10"].class_names


def cifar_like_zip(path, classes=CIFAR_CLASSES, train=3, test=1):
    """A .zip of train/<class>/ and test/<class>/ JPEGs of 32x32 colour noise, as cifar10-jpeg.zip lays them out."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in (("train", train), ("test", test)):
            for name in classes:
                for k in range(count):
                    buffer = io.BytesIO()
                    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buffer, format="JPEG")
                    archive.writestr(f"{split}/{name}/{k:04d}.jpg", buffer.getvalue())
    return path


def test_cifar10_is_read_from_a_zip_of_class_folders_in_the_data_directory(tmp_path):
    cifar_like_zip(tmp_path / "cifar10-jpeg.zip")
    dataset = load_dataset("cifar10", tmp_path)
    assert dataset.info.key == "cifar10" and dataset.info.class_names == CIFAR_CLASSES and not dataset.info.drawable
    assert dataset.image_shape == (3, 32, 32) and len(dataset.info.mean) == 3
    assert dataset.source == f"CIFAR-10, 30 train / 10 test, from {tmp_path}"
    assert torch.bincount(dataset.train_labels).tolist() == [3] * 10  # each folder its own class, in CIFAR's order


def test_a_cifar10_zip_with_other_classes_is_refused_naming_them(tmp_path):
    cifar_like_zip(tmp_path / "cifar10-jpeg.zip", classes=("cat", "dog"))
    with pytest.raises(DataError, match=r"the classes of .*cifar10-jpeg.zip are cat, dog, not its classes"):
        load_dataset("cifar10", tmp_path)
    with pytest.raises(DataError, match=r"no files found at .*cifar-10-batches-py .*or .*cifar10-jpeg.zip"):
        load_dataset("cifar10", tmp_path / "elsewhere")


REAL_CIFAR = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "cifar10-jpeg.zip")


@pytest.mark.skipif(not os.path.isfile(REAL_CIFAR), reason="needs cifar10-jpeg.zip in the CNN_LAB_DATA folder")
def test_real_cifar10_loads_whole_and_a_small_cnn_learns_it():
    """The real CIFAR-10 (../shared/datasets/cifar10-jpeg.zip): all 60,000 images, 5,000 and 1,000 a class; a small
    CNN trained on 5,000 of them for one epoch reads well above chance (10 %) on the 10,000 test images."""
    from cnn_lab.core.config import ModelConfig, ModelSpec, RunConfig, TrainConfig
    from cnn_lab.engine.contenders import Contender
    from cnn_lab.engine.training import train_models

    cifar = load_dataset("cifar10")
    assert (len(cifar.train_labels), len(cifar.test_labels)) == (50_000, 10_000)
    assert torch.bincount(cifar.train_labels).tolist() == [5_000] * 10
    assert torch.bincount(cifar.test_labels).tolist() == [1_000] * 10
    assert cifar.info.mean == pytest.approx((0.4914, 0.4822, 0.4465), abs=0.005)  # CIFAR-10's known channel means
    model = replace(ModelConfig.from_conv_channels([16, 32, 32, 64]), input_shape=(3, 32, 32))
    contender = Contender.create("A", ModelSpec(model, TrainConfig("adam", 2e-3, 64, 1)))
    events = list(train_models([contender], RunConfig("cifar10", train_subset=5_000), cifar))
    assert events[-1].results["A"].test_accuracy > 0.3, events[-1].results["A"]


QUICKDRAW_CLASSES = data.DATASET_INFO["quickdraw"].class_names
REAL_QUICKDRAW = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "quickdraw7.npz")


def test_quickdraw_is_read_from_its_npz_in_the_data_directory_and_framed_like_its_bitmaps(tmp_path):
    images = np.zeros((70, 28, 28), np.uint8)
    for image in images:  # a 26 x 12 px "train" of 2 px strokes centred by its box, as Google's bitmaps are; its
        image[8:20, 1:27] = 255  # ink is heavier at the front, so its centre of mass is off the image's centre
        image[10:18, 3:25] = 0
        image[10:18, 5:7] = image[10:18, 9:11] = 255
    labels = np.repeat(np.arange(7), 10)
    np.savez(
        tmp_path / "quickdraw7.npz",
        x=images,
        y=labels,
        x_test=images[:14],
        y_test=labels[::5],
        class_names=np.array(QUICKDRAW_CLASSES),
    )
    dataset = load_dataset("quickdraw", tmp_path)
    assert dataset.info.class_names == QUICKDRAW_CLASSES and dataset.info.drawable
    assert dataset.source == f"Quick, Draw! (7 sketches), 70 train / 14 test, from {tmp_path}"
    framing = dataset.info.framing
    assert (framing.box, framing.centre) == (26, "box") and 1.5 <= framing.stroke <= 2.5


def test_a_quickdraw_npz_with_other_classes_is_refused_naming_them(tmp_path):
    np.savez(
        tmp_path / "quickdraw7.npz",
        x=np.zeros((4, 28, 28), np.uint8),
        y=np.array([0, 1, 0, 1]),
        class_names=np.array(["apple", "banana"]),
    )
    with pytest.raises(DataError, match=r"the classes of .*quickdraw7.npz are apple, banana, not its classes"):
        load_dataset("quickdraw", tmp_path)


@pytest.mark.skipif(not os.path.isfile(REAL_QUICKDRAW), reason="needs quickdraw7.npz in the CNN_LAB_DATA folder")
def test_real_quickdraw_loads_whole_with_googles_framing():
    sketches = load_dataset("quickdraw")
    assert (len(sketches.train_labels), len(sketches.test_labels)) == (7_488, 1_492)
    assert sketches.info.framing == Framing(box=26.0, stroke=2.3, centre="box")
