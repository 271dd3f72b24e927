import base64
import json
import re
import zlib

import pytest

from cnn_lab.core.config import ConfigError, ExperimentConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.presets import PRESETS
from cnn_lab.core.sharing import experiment_from_token, experiment_to_token


def test_a_link_restores_the_identical_setup():
    experiment = ExperimentConfig(
        PRESETS["lenet5"].spec,
        ModelSpec(PRESETS["vgg"].spec.model, TrainConfig("sgd", 0.02, 32, 3, True, "onecycle")),
        RunConfig("fashion_mnist", 5000, 42, "cpu", "fp32", 4),
    )
    token = experiment_to_token(experiment)
    assert token.replace("-", "").replace("_", "").isalnum() and len(token) < 1500
    assert experiment_from_token(token) == experiment


def pack(data) -> str:
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(data).encode())).decode()


@pytest.mark.parametrize(
    "token, says",
    [
        ("", "1 to 8192 characters"),
        ("not a token!!", "damaged"),
        (experiment_to_token(ExperimentConfig())[:-12], "damaged"),
        (
            pack({"a": {"model": {"layers": [{"type": "conv", "out_channels": 0}]}}}),
            "layer 1 (conv): out_channels must be from 1 to 1024, got 0",
        ),
        (pack({"run": {"epochs": 3}}), "unknown field 'epochs'"),
        (pack([1, 2, 3]), "must be an object"),
        (base64.urlsafe_b64encode(zlib.compress(b"{" + b" " * 200_000 + b"}")).decode(), "too large"),
    ],
)
def test_malformed_or_tampered_links_are_refused_with_a_reason(token, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        experiment_from_token(token)
