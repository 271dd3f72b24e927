import pytest

from cnn_lab.analysis import layer_report
from cnn_lab.builder import NEW_LAYER, add_layer, edit_layer, layers_from_json, layers_to_json, move_layer, remove_layer
from cnn_lab.config import LAYER_TYPES, Activation, ConfigError, Conv, Flatten, Linear, ModelConfig, Pool


def test_every_layer_type_can_be_added():
    assert set(NEW_LAYER) == set(LAYER_TYPES)


def test_add_remove_move_edit_give_the_expected_stack():
    layers = add_layer((), "conv")
    layers = add_layer(layers, "activation")
    layers = add_layer(layers, "pool")
    layers = add_layer(layers, "conv", at=0)
    assert layers == (Conv(16), Conv(16), Activation("relu"), Pool())
    layers = edit_layer(layers, 1, "out_channels", 32.0)
    layers = edit_layer(layers, 2, "kind", "gelu")
    layers = move_layer(layers, 3, -1)
    assert layers == (Conv(16), Conv(32), Pool(), Activation("gelu"))
    assert isinstance(layers[1].out_channels, int)
    assert move_layer(layers, 0, -1) == layers  # nothing above the first
    layers = remove_layer(layers, 0)
    assert ModelConfig(layers).layer_table()[0][1] == (32, 28, 28)


def test_an_invalid_edit_is_reported_at_its_layer():
    layers = (Conv(8), Pool(), Pool(), Pool(), Conv(8, kernel=3, padding=0))
    report = layer_report(edit_layer(layers, 4, "kernel", 5))
    assert report.error.layer == 5 and "layer 5, conv 5x5" in report.rows[4].problem


def test_layer_json_round_trip_and_malformed_json():
    layers = (Conv(8, 5, 1, 2), Pool("avg", 3, 1), Flatten(), Linear(20))
    assert layers_from_json(layers_to_json(layers)) == layers
    with pytest.raises(ConfigError, match="not valid JSON"):
        layers_from_json("[{")
    with pytest.raises(ConfigError, match="layer 2: type must be one of"):
        layers_from_json('[{"type": "conv", "out_channels": 4}, {"type": "lstm"}]')
