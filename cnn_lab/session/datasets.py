"""The data a session's setups name: the workspace's built-in datasets and this session's own upload."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cnn_lab.core.config import ConfigError, ExperimentConfig, RunConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.presets import fit_on
from cnn_lab.data.datasets import DATASET_INFO, UPLOADED, DataError, Dataset
from cnn_lab.data.stats import DataOverview, examples_per_class, overview
from cnn_lab.data.uploads import read_upload
from cnn_lab.engine.training import augmented_examples
from cnn_lab.runs.model_files import ImportedModel
from cnn_lab.session.pair import NAMES
from cnn_lab.session.workspace import Workspace

AUGMENT_PREVIEW_IMAGES = 8
EXAMPLES_PER_CLASS = 6


@dataclass(frozen=True)
class DatasetLook:
    """A dataset looked at before training: the data, its counts and statistics, a few training images of every
    class (uint8) with their labels, and each preset on it (its parameters there, or why it cannot read it)."""

    data: Dataset
    counted: DataOverview
    examples: np.ndarray
    example_labels: list[int]
    presets: list[tuple[str, str]]


class Datasets:
    """A session's datasets: a built-in one by name (loaded once for every session), or its own upload ("custom"),
    which no other session sees."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.uploaded: Dataset | None = None  # this session's own dataset (the setup's dataset "custom")

    def named(self, name: str) -> Dataset:
        """The dataset a setup names (ConfigError or DataError say why it cannot be had)."""
        if not isinstance(name, str) or name not in (*DATASET_INFO, UPLOADED):
            raise ConfigError(
                f"dataset must be one of {', '.join((*DATASET_INFO, UPLOADED))}, got {quoted(name)}", "dataset"
            )
        if name != UPLOADED:
            return self.workspace.dataset(name)
        if self.uploaded is None:
            raise ConfigError(
                "dataset: no data of yours yet; upload a .zip or .npz in the Data tab first, or choose a built-in one",
                "dataset",
            )
        return self.uploaded

    def upload(self, path: str | Path, resize: int | None = None) -> Dataset:
        """Read the uploaded file as this session's own dataset; a ConfigError names what is wrong with it. A trained
        pair stays as it is."""
        self.uploaded = read_upload(path, resize)
        return self.uploaded

    def images_per_epoch(self, run: RunConfig) -> int:
        """How many images one epoch of ``run`` trains on."""
        return run.training_images(len(self.named(run.dataset).train_labels)) - run.validation_size

    def fitted(self, setup: ExperimentConfig) -> tuple[ExperimentConfig, Dataset]:
        """``setup`` with both models reading the data it names, and that data."""
        data = self.named(setup.run.dataset)
        return fitted(setup, data), data

    def look(self, name: str) -> DatasetLook:
        """Dataset ``name`` counted and shown before training (ConfigError or DataError say why it cannot be had)."""
        data = self.named(name)
        images, labels = examples_per_class(data, EXAMPLES_PER_CLASS)
        presets = fit_on(data.image_shape, len(data.info.class_names))
        return DatasetLook(data, overview(data), images, labels, presets)

    def augmentation_preview(self, kinds: tuple[str, ...], dataset: str) -> list[tuple[np.ndarray, str]]:
        """A few of ``dataset``'s training images as a model trained with augmentations ``kinds`` sees them."""
        return augmentation_preview(self.named(dataset), kinds)

    def read_by(self, imported: ImportedModel) -> Dataset:
        """The dataset an imported model reads: the one its file names if its classes and input fit, else the first
        that fits (this session's upload included)."""
        candidates = [imported.dataset] if imported.dataset in DATASET_INFO else []
        candidates += [k for k, info in DATASET_INFO.items() if info.class_names == imported.class_names]
        if self.uploaded is not None:
            candidates.append(UPLOADED)
        for key in dict.fromkeys(candidates):
            if key != UPLOADED and DATASET_INFO[key].class_names != imported.class_names:
                continue
            try:
                data = self.named(key)
            except DataError:
                continue
            if data.info.class_names == imported.class_names and data.image_shape == imported.spec.model.input_shape:
                return data
        raise ConfigError(
            f"model file: no dataset here has its classes ({', '.join(imported.class_names[:12])}) and its input "
            f"{'x'.join(map(str, imported.spec.model.input_shape))}",
            "model file",
        )


def fitted(setup: ExperimentConfig, data: Dataset) -> ExperimentConfig:
    """``setup`` with both models reading ``data``'s images and classes: a network laid out for 28x28 grey digits
    adapts to 32x32 colour or 26 letters; one that cannot (pooled below 1x1, too many parameters) says why."""
    specs = []
    for name, spec in zip(NAMES, (setup.a, setup.b)):
        try:
            model = replace(spec.model, input_shape=data.image_shape, num_classes=data.info.num_classes)
        except ConfigError as err:
            c, h, w = data.image_shape
            raise ConfigError(
                f"model {name} cannot read {data.info.title} ({w}x{h}, {c} channel{'s' if c > 1 else ''}, "
                f"{data.info.num_classes} classes): {err}",
                err.field,
                err.layer,
            ) from None
        specs.append(replace(spec, model=model))
    return replace(setup, a=specs[0], b=specs[1])


def augmentation_preview(
    data: Dataset, kinds: tuple[str, ...], seed: int | None = None
) -> list[tuple[np.ndarray, str]]:
    """A few training images (uint8, as the models read them) with their labels, as a model trained with ``kinds``
    sees them, taken from as many classes as there are images; a new draw each time by default."""
    per_class = AUGMENT_PREVIEW_IMAGES // data.info.num_classes + 1
    firsts = [(data.train_labels == k).nonzero().flatten()[:per_class].tolist() for k in range(data.info.num_classes)]
    picks = [i for turn in itertools.zip_longest(*firsts) for i in turn if i is not None][:AUGMENT_PREVIEW_IMAGES]
    images, labels = data.train_images[picks], data.train_labels[picks].tolist()
    shown = augmented_examples(images, kinds, seed=time.time_ns() % 2**31 if seed is None else seed)
    return [(image.numpy(), data.info.class_names[label]) for image, label in zip(shown, labels, strict=True)]
