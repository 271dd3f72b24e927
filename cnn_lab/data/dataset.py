"""What a dataset is once loaded: its description (DatasetInfo) and its splits as tensors (Dataset), and the pixel
statistics every loader fills in. Its own module so that the built-in datasets (datasets.py) and a user's uploads
(uploads.py) both build on it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from cnn_lab.data.framing import MNIST_FRAMING, Framing, measure_framing


@dataclass(frozen=True)
class DatasetInfo:
    """What the UI and the preprocessing need to know about a dataset."""

    key: str  # the ``dataset`` field of a setup
    title: str
    class_names: tuple[str, ...]
    mean: tuple[float, ...] = ()  # per channel, of the training pixels scaled to [0, 1]: filled in when loaded
    std: tuple[float, ...] = ()
    torchvision_name: str = ""  # its class in torchvision.datasets ("": not a built-in dataset)
    split: str = ""  # EMNIST's split
    drawable: bool = True  # light marks on a dark background, as a drawing on the sketchpad becomes
    url: str = ""  # where torchvision downloads it from (probed before trying)
    archive: str = ""  # also read from a data directory as this file in an upload's layout (zip or npz)
    get_it: str = ""  # how to get its files onto a machine that has none (shown when they are missing)
    framing: Framing | None = None  # drawable data: how its drawings sit in their images, filled in when loaded

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def torchvision_class(self) -> type:
        from torchvision import datasets  # 160 MB and a second to import: not in processes that only train

        return getattr(datasets, self.torchvision_name)

    @property
    def folder(self) -> str:
        """Where its files lie under a data directory, in torchvision's layout (torchvision's datasets only)."""
        return "cifar-10-batches-py" if self.torchvision_name == "CIFAR10" else f"{self.torchvision_name}/raw"


UPLOADED = "custom"  # the ``dataset`` of a setup that trains on the session's own uploaded data


class DataError(RuntimeError):
    """The data could not be found or fetched; the message says where it looked."""


@dataclass(frozen=True)
class Dataset:
    """Train and test splits as uint8 images and int64 labels, plus where they came from.

    Grey images are (N, H, W), as torchvision's MNIST keeps them and most of the app draws them; colour images are
    (N, C, H, W). ``image_shape`` is always (C, H, W)."""

    info: DatasetInfo
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    origin: str  # e.g. "../shared/datasets", "download cache", "offline sample", "upload"
    validation_images: torch.Tensor | None = None  # held out from the training split (see hold_out)
    validation_labels: torch.Tensor | None = None

    @property
    def validation_size(self) -> int:
        return 0 if self.validation_labels is None else len(self.validation_labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        shape = tuple(self.train_images.shape[1:])
        return (1, *shape) if len(shape) == 2 else shape

    @property
    def source(self) -> str:
        """A one-line description for the UI, e.g. "MNIST sample, 10,000 train / 2,000 test, offline"."""
        sample = " sample" if self.origin == "offline sample" else ""
        where = {"offline sample": "offline", "upload": "uploaded"}.get(self.origin, f"from {self.origin}")
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


def pixel_statistics(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of uint8 images scaled to [0, 1], exactly, from each channel's histogram of the 256
    values (no float copy of the images)."""
    channels = images.unsqueeze(1) if images.ndim == 3 else images
    values = torch.arange(256, dtype=torch.float64) / 255
    means, stds = [], []
    for c in range(channels.shape[1]):
        counts = torch.bincount(channels[:, c].reshape(-1), minlength=256).double()
        mean = float((counts * values).sum() / counts.sum())
        means.append(round(mean, 4))
        stds.append(round(max(float((counts * (values - mean) ** 2).sum() / counts.sum()) ** 0.5, 1e-3), 4))
    return tuple(means), tuple(stds)


def with_statistics(
    info: DatasetInfo,
    *splits: torch.Tensor,
    origin: str,
    statistics: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
) -> Dataset:
    """A Dataset of these splits whose info carries the training pixels' mean and std (``statistics`` when the caller
    has them already) and, for drawable data, how its drawings are framed (MNIST's known framing, or measured on the
    training images)."""
    mean, std = statistics or pixel_statistics(splits[0])
    framing = None
    if info.drawable and splits[0].ndim == 3:
        framing = MNIST_FRAMING if info.key == "mnist" else measure_framing(splits[0])
    return Dataset(replace(info, mean=mean, std=std, framing=framing), *splits, origin=origin)
