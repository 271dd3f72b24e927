"""Datasets as in-memory tensors, and where their files come from.

torchvision finds, downloads and parses the files; we keep only its
``.data`` / ``.targets`` tensors, so training never touches PIL or a
DataLoader. Sources, in order: a directory the user names (``--data-dir`` or
``CNN_LAB_DATA``), torchvision's download into a cache when online, and
offline a real MNIST sample shipped inside the package.
"""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

SAMPLE_PATH = Path(__file__).parent / "sample_data" / "mnist_sample.npz"
DATA_DIR_ENV = "CNN_LAB_DATA"
OFFLINE_ENV = "CNN_LAB_OFFLINE"  # set to 1 to never try a download
PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class DatasetInfo:
    """What the UI and the preprocessing need to know about a dataset."""

    key: str
    title: str
    torchvision_name: (
        str  # its class in torchvision.datasets, imported only to read files (a training process never does)
    )
    class_names: tuple[str, ...]
    mean: float  # of the training pixels scaled to [0, 1]
    std: float

    @property
    def torchvision_class(self) -> type:
        from torchvision import datasets  # 160 MB and a second to import: not in processes that only train

        return getattr(datasets, self.torchvision_name)


DATASET_INFO = {
    "mnist": DatasetInfo("mnist", "MNIST", "MNIST", tuple(str(d) for d in range(10)), 0.1307, 0.3081),
    "fashion_mnist": DatasetInfo(
        "fashion_mnist",
        "Fashion-MNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        0.2860,
        0.3530,
    ),
}


class DataError(RuntimeError):
    """The data could not be found or fetched; the message says where it looked."""


@dataclass(frozen=True)
class Dataset:
    """Train and test splits as uint8 images (N, H, W) and int64 labels, plus where they came from."""

    info: DatasetInfo
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    origin: str  # e.g. "../shared/datasets", "download cache", "offline sample"
    validation_images: torch.Tensor | None = None  # held out from the training split (see hold_out)
    validation_labels: torch.Tensor | None = None

    @property
    def validation_size(self) -> int:
        return 0 if self.validation_labels is None else len(self.validation_labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, *self.train_images.shape[1:])

    @property
    def source(self) -> str:
        """A one-line description for the UI, e.g. "MNIST sample, 10,000 train / 2,000 test, offline"."""
        sample = " sample" if self.origin == "offline sample" else ""
        where = "offline" if self.origin == "offline sample" else f"from {self.origin}"
        validation = f" / {self.validation_size:,} validation" if self.validation_size else ""
        return f"{self.info.title}{sample}, {len(self.train_labels):,} train{validation} / {len(self.test_labels):,} test, {where}"

    def subset(self, train_size: int | None, seed: int = 0) -> Dataset:
        """A random subset of the training split, for quick runs; the test split is kept whole."""
        if train_size is None or train_size >= len(self.train_labels):
            return self
        keep = torch.randperm(len(self.train_labels), generator=torch.Generator().manual_seed(seed))[:train_size]
        return replace(self, train_images=self.train_images[keep], train_labels=self.train_labels[keep])

    def hold_out(self, size: int, seed: int = 0) -> Dataset:
        """Move ``size`` random training images into a validation split the models never train on."""
        if size <= 0:
            return self
        order = torch.randperm(len(self.train_labels), generator=torch.Generator().manual_seed(seed + 1))
        held, kept = order[:size], order[size:]
        return replace(
            self,
            train_images=self.train_images[kept],
            train_labels=self.train_labels[kept],
            validation_images=self.train_images[held],
            validation_labels=self.train_labels[held],
        )

    def without_test(self) -> Dataset:
        """The same data with an empty test split: nothing is spent scoring it (cross-validation, timing)."""
        return replace(self, test_images=self.test_images[:0], test_labels=self.test_labels[:0])

    def folds(self, k: int, seed: int = 0) -> list[Dataset]:
        """k-fold cross-validation: each fold validates on one k-th of the training split and trains on the rest (no test split)."""
        order = torch.randperm(len(self.train_labels), generator=torch.Generator().manual_seed(seed + 2))
        parts = order.tensor_split(k)
        base = self.without_test()
        folds = []
        for i, held in enumerate(parts):
            kept = torch.cat([p for j, p in enumerate(parts) if j != i])
            folds.append(
                replace(
                    base,
                    train_images=self.train_images[kept],
                    train_labels=self.train_labels[kept],
                    validation_images=self.train_images[held],
                    validation_labels=self.train_labels[held],
                )
            )
        return folds


def _from_torchvision(info: DatasetInfo, root: Path, download: bool) -> tuple[torch.Tensor, ...]:
    train = info.torchvision_class(str(root), train=True, download=download)
    test = info.torchvision_class(str(root), train=False, download=download)
    return train.data, train.targets.long(), test.data, test.targets.long()


def reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Can we open a TCP connection to the mirror? Bounded in time even when DNS hangs."""
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((parsed.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


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
    """Load a dataset from the first source that has it (see the module docstring)."""
    if name not in DATASET_INFO:
        raise DataError(f"dataset must be one of {', '.join(DATASET_INFO)}, got {name!r}")
    info = DATASET_INFO[name]
    folder = info.torchvision_name
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
    if data_dir:
        root = Path(data_dir)
        try:
            return Dataset(info, *_from_torchvision(info, root, download=False), origin=str(data_dir))
        except RuntimeError:
            raise DataError(
                f"data directory {root}: no {info.title} files found at {root / folder / 'raw'} (torchvision's layout)"
            ) from None

    cache = cache_dir()
    try:
        return Dataset(info, *_from_torchvision(info, cache, download=False), origin="download cache")
    except RuntimeError:
        pass
    if allow_download is None:
        allow_download = os.environ.get(OFFLINE_ENV, "") not in ("1", "true", "yes")
    if allow_download and reachable(info.torchvision_class.mirrors[0]):
        try:
            return Dataset(info, *_from_torchvision(info, cache, download=True), origin="download cache")
        except (RuntimeError, OSError):
            pass  # a mirror failed mid-way: fall back below
    if name == "mnist" and SAMPLE_PATH.exists():
        return Dataset(info, *load_sample(), origin="offline sample")
    raise DataError(
        f"{info.title} is not available offline: give a folder with {folder}/raw/ files via --data-dir or {DATA_DIR_ENV}, "
        "or connect to the internet once so torchvision can download it"
    )
