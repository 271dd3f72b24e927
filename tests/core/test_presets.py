import json

import pytest
import torch

from cnn_lab.core.config import ExperimentConfig, ModelSpec, RunConfig
from cnn_lab.core.events import StepEvent
from cnn_lab.core.presets import DEFAULT_TRAIN_IMAGES, PHOTOS, PRESETS, default_experiment
from cnn_lab.data.datasets import DATASET_INFO, Dataset, with_statistics
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import build_model, summarize
from cnn_lab.engine.training import train_models


def photos_like_cifar10(count: int) -> Dataset:
    """Random 32x32 colour images in CIFAR-10's classes: what a colour preset is laid out for (shapes, not learning)."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, 3, 32, 32), dtype=torch.uint8, generator=generator)
    labels = torch.arange(count) % 10
    return with_statistics(DATASET_INFO["cifar10"], images, labels, images[:50], labels[:50], origin="test")


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_validates_trains_and_is_summarised_truly(key, mnist):
    preset = PRESETS[key]
    data = photos_like_cifar10(preset.spec.train.batch_size * 5) if preset.spec.model.input_shape == PHOTOS else mnist
    assert preset.title and len(preset.about) > 40
    model = build_model(preset.spec.model).eval()
    x = torch.zeros(1, *preset.spec.model.input_shape)
    for row, (_, module) in zip(summarize(preset.spec.model, model).layers, model.named_children()):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:])
    contender = Contender.create(key, preset.spec)
    losses = [
        e.loss
        for e in train_models([contender], RunConfig(train_subset=preset.spec.train.batch_size * 5), data)
        if isinstance(e, StepEvent)
    ]
    assert len(losses) == 5 * preset.spec.train.epochs and all(loss == loss for loss in losses)


def test_presets_round_trip_as_part_of_an_experiment():
    experiment = ExperimentConfig(PRESETS["lenet5"].spec, PRESETS["fast99"].spec, RunConfig())
    assert ExperimentConfig.from_json(experiment.to_json()) == experiment
    assert isinstance(experiment.a, ModelSpec)


def test_the_page_default_trains_a_part_of_the_data_while_a_bare_run_config_trains_all_of_it():
    default = default_experiment()
    assert default.run.train_subset == DEFAULT_TRAIN_IMAGES and RunConfig().train_subset is None  # CLI and API: all
    assert (default.a.train.optimizer, default.b.train.optimizer) == ("adam", "sgd")
    assert default.a.model == default.b.model  # one model, two optimizers: the comparison changes one thing


def test_a_presets_note_gives_what_was_measured_on_mnist_and_on_cifar10(tmp_path, monkeypatch):
    from cnn_lab.core import presets

    measured = {
        "machine": "EPYC, 2 cores",
        "presets": {"default": {"epochs": 1, "test_accuracy": 0.9862, "train_time_s": 41.0, "images_per_s": 1465}},
        "cifar10": {
            "machine": "EPYC, 2 cores",
            "presets": {
                "airbench": {
                    "fp32": {"epochs": 4, "test_accuracy": 0.829, "train_time_s": 170.2, "images_per_s": 1175},
                    "bf16": {"epochs": 4, "test_accuracy": 0.828, "train_time_s": 89.4, "images_per_s": 2237},
                }
            },
        },
    }
    path = tmp_path / "measurements.json"
    path.write_text(json.dumps(measured))
    monkeypatch.setattr(presets, "MEASUREMENTS_PATH", path)
    assert presets.measured_note("default") == (
        "Measured with its settings on full MNIST: 98.62% test accuracy after 1 epoch, 41 s of training "
        "(1,465 images/s) on EPYC, 2 cores."
    )
    assert presets.measured_note("airbench") == (
        "On full CIFAR-10 with its settings: 82.80% test accuracy after 4 epochs, 89 s of training (2,237 images/s) "
        "in bf16; in fp32 170 s (EPYC, 2 cores)."
    )
    assert presets.measured_note("tiny") == ""  # never measured: no note rather than a guess
    path.write_text("{not json")
    assert presets.measured_note("default") == ""
