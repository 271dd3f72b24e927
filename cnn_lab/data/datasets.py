"""Datasets as in-memory tensors, and where their files come from.

torchvision finds, downloads and parses the files; we keep only its
``.data`` / ``.targets`` tensors, so training never touches PIL or a
DataLoader. Sources, in order: a directory the user names (``--data-dir`` or
``CNN_LAB_DATA``) in torchvision's layout or holding the dataset's file in an
upload's layout (CIFAR-10 as a .zip of JPEG class folders, Quick, Draw! as
an .npz), torchvision's download into a cache when online, and offline a
real MNIST sample shipped inside the package. A missing dataset's error says
how to get its files.
"""

from __future__ import annotations

import os
import string
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from cnn_lab.core.errors import ConfigError, quoted
from cnn_lab.data.dataset import (  # noqa: F401 - also named here, where callers load data
    UPLOADED,
    DataError,
    Dataset,
    DatasetInfo,
    pixel_statistics,
    with_statistics,
)
from cnn_lab.data.sources import DATA_DIR_ENV, OFFLINE_ENV, reachable
from cnn_lab.data.uploads import read_upload

SAMPLE_PATH = Path(__file__).parent / "sample_data" / "mnist_sample.npz"


_MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
EMNIST_GET_IT = (
    "torchvision downloads it when online (NIST's gzip.zip, 540 MB, all EMNIST splits); offline, unzip that file's "
    "gzip/ folder into EMNIST/raw/ of the data directory"
)
DATASET_INFO = {
    info.key: info
    for info in (
        DatasetInfo("mnist", "MNIST", tuple(str(d) for d in range(10)), torchvision_name="MNIST", url=_MNIST_MIRROR),
        DatasetInfo(
            "fashion_mnist",
            "Fashion-MNIST",
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
            torchvision_name="FashionMNIST",
            drawable=False,
            url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        DatasetInfo(
            "kmnist",
            "Kuzushiji-MNIST",
            ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),  # the hiragana of its 10 classes
            torchvision_name="KMNIST",
            url="http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
            get_it="torchvision downloads it when online (20 MB); offline, put the four kmnist-*-ubyte.gz files of "
            "github.com/rois-codh/kmnist in KMNIST/raw/ of the data directory",
        ),
        DatasetInfo(
            "emnist_digits",
            "EMNIST digits",
            tuple(str(d) for d in range(10)),
            torchvision_name="EMNIST",
            split="digits",
            url="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
            get_it=EMNIST_GET_IT,
        ),
        DatasetInfo(
            "emnist_letters",
            "EMNIST letters",
            tuple(string.ascii_lowercase),  # upper and lower case share a class
            torchvision_name="EMNIST",
            split="letters",
            url="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
            get_it=EMNIST_GET_IT,
        ),
        DatasetInfo(
            "cifar10",
            "CIFAR-10",
            ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
            torchvision_name="CIFAR10",
            drawable=False,
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            archive="cifar10-jpeg.zip",
            get_it="torchvision downloads it when online (170 MB); offline, put cifar-10-python.tar.gz's "
            "cifar-10-batches-py/ folder, or a .zip of train/<class>/ and test/<class>/ images named cifar10-jpeg.zip, "
            "in the data directory",
        ),
        DatasetInfo(
            "quickdraw",
            "Quick, Draw! (7 sketches)",
            ("cat", "dog", "horse", "house", "house plant", "rainbow", "train"),
            archive="quickdraw7.npz",
            get_it="Google publishes every class as full_numpy_bitmap_<class>.npy "
            "(storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap/); put rows of the seven classes, in this "
            "order, in quickdraw7.npz with arrays x, y, x_test, y_test and class_names, in the data directory",
        ),
    )
}


def _from_torchvision(info: DatasetInfo, root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    """Both splits as read by torchvision's own class, in this module's layout."""
    split = {"split": info.split} if info.split else {}
    train, test = (info.torchvision_class(str(root), train=t, download=download, **split) for t in (True, False))
    if info.torchvision_name == "CIFAR10":  # numpy (N, H, W, C) and a list of labels
        images = [torch.from_numpy(d.data).permute(0, 3, 1, 2).contiguous() for d in (train, test)]
        labels = [torch.tensor(d.targets, dtype=torch.int64) for d in (train, test)]
    else:
        images, labels = [d.data for d in (train, test)], [d.targets.long() for d in (train, test)]
    if info.torchvision_name == "EMNIST":  # its files keep each image transposed; letters count from 1
        images = [x.transpose(1, 2).contiguous() for x in images]
        labels = [y - int(y.min()) if info.split == "letters" else y for y in labels]
    return images[0], labels[0], images[1], labels[1]


def _from_archive(info: DatasetInfo, path: Path, origin: str) -> Dataset:
    """A built-in dataset kept in an upload's layout (a .zip of train/<class>/ and test/<class>/ images, or an
    .npz of x, y, x_test, y_test, class_names): read by the upload's reader (its limits hold), named as the
    built-in one. Its classes must be the dataset's."""
    try:
        read = read_upload(path)
    except ConfigError as err:
        raise DataError(f"{info.title}: {path} could not be read: {err}") from None
    if read.info.class_names != info.class_names:
        raise DataError(
            f"{info.title}: the classes of {path} are {', '.join(read.info.class_names)}, "
            f"not its classes ({', '.join(info.class_names)})"
        )
    known = read.info  # the upload's reader measured the pixels and the framing already
    return replace(read, info=replace(info, mean=known.mean, std=known.std, framing=known.framing), origin=origin)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnn_lab"


def load_sample() -> tuple[torch.Tensor, ...]:
    with np.load(SAMPLE_PATH) as npz:
        return tuple(
            torch.from_numpy(npz[k]).clone() for k in ("train_images", "train_labels", "test_images", "test_labels")
        )


def load_dataset(
    name: str = "mnist", data_dir: str | os.PathLike | None = None, allow_download: bool | None = None
) -> Dataset:
    """Load a built-in dataset from the first source that has it (see the module docstring)."""
    if name not in DATASET_INFO:
        raise DataError(f"dataset must be one of {', '.join(DATASET_INFO)}, got {quoted(name)}")
    info = DATASET_INFO[name]
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
    if data_dir:
        root = Path(data_dir)
        found = _from_folder(info, root, origin=str(data_dir))
        if found is None:
            raise DataError(
                f"{info.title} is not in the data directory: no files found at {_where(info, root)}. "
                f"{_how_to_get(info)}; or choose another dataset"
            )
        return found

    cache = cache_dir()
    found = _from_folder(info, cache, origin="download cache")
    if found is not None:
        return found
    if allow_download is None:
        allow_download = os.environ.get(OFFLINE_ENV, "") not in ("1", "true", "yes")
    if info.torchvision_name and allow_download and reachable(info.url):
        try:
            return with_statistics(info, *_from_torchvision(info, cache, download=True), origin="download cache")
        except (RuntimeError, OSError):
            pass  # a mirror failed mid-way: fall back below
    if name == "mnist" and SAMPLE_PATH.exists():
        return with_statistics(info, *load_sample(), origin="offline sample")
    raise DataError(
        f"{info.title} is not available offline. {_how_to_get(info)}, and name that directory with --data-dir or "
        f"{DATA_DIR_ENV}"
    )


def _from_folder(info: DatasetInfo, root: Path, origin: str) -> Dataset | None:
    """The dataset from a folder in torchvision's layout or holding its archive; None when neither is there."""
    if info.torchvision_name:
        try:
            return with_statistics(info, *_from_torchvision(info, root, download=False), origin=origin)
        except RuntimeError:
            pass
    if info.archive and (root / info.archive).is_file():
        return _from_archive(info, root / info.archive, origin=origin)
    return None


def _where(info: DatasetInfo, root: Path) -> str:
    places = [f"{root / info.folder} (torchvision's layout)"] if info.torchvision_name else []
    if info.archive:
        places.append(str(root / info.archive))
    return " or ".join(places)


def _how_to_get(info: DatasetInfo) -> str:
    """The dataset's own instructions (capitalised for the start of a sentence)."""
    how = (
        info.get_it
        or f"torchvision downloads it when online; offline, put its files in {info.folder}/ of the data directory"
    )
    return how[0].upper() + how[1:]
