import pytest
import torch

from cnn_lab.core.config import ExperimentConfig, ModelSpec, RunConfig
from cnn_lab.core.events import StepEvent
from cnn_lab.core.presets import DEFAULT_TRAIN_IMAGES, PRESETS, default_experiment
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import build_model, summarize
from cnn_lab.engine.training import train_models


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_validates_trains_and_is_summarised_truly(key, mnist):
    preset = PRESETS[key]
    assert preset.title and len(preset.about) > 40
    model = build_model(preset.spec.model).eval()
    x = torch.zeros(1, *preset.spec.model.input_shape)
    for row, (_, module) in zip(summarize(preset.spec.model, model).layers, model.named_children()):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:])
    contender = Contender.create(key, preset.spec)
    losses = [
        e.loss
        for e in train_models([contender], RunConfig(train_subset=preset.spec.train.batch_size * 5), mnist)
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
    assert summarize(default.a.model).params > summarize(default.b.model).params  # A the wider
