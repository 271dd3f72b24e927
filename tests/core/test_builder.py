import pytest

from cnn_lab.core.builder import (
    NEW_LAYER,
    add_layer,
    apply_drop,
    edit_layer,
    layers_from_json,
    layers_to_json,
    move_layer,
    remove_layer,
)
from cnn_lab.core.config import LAYER_TYPES, Activation, ConfigError, Conv, Flatten, Linear, ModelConfig, Pool
from cnn_lab.inspect.layer_report import layer_report


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


def test_a_drop_adds_a_palette_layer_where_it_lands_or_moves_a_layer_there():
    stack = (Conv(8), Activation("relu"), Pool(), Flatten(), Linear(10))
    assert apply_drop(stack, "add batchnorm 1") == (Conv(8), NEW_LAYER["batchnorm"], *stack[1:])
    assert apply_drop(stack, "add dropout 5")[-1] == NEW_LAYER["dropout"]  # dropped after the last layer
    assert apply_drop(stack, "move 2 0") == (Pool(), Conv(8), Activation("relu"), Flatten(), Linear(10))
    assert apply_drop(stack, "move 0 4") == (Activation("relu"), Pool(), Flatten(), Linear(10), Conv(8))
    assert apply_drop(stack, "move 3 3") == stack


def test_a_drop_that_breaks_the_stack_is_kept_and_marked_at_its_layer():
    stack = apply_drop((Conv(8), Flatten(), Linear(10)), "add conv 2")  # a conv after flatten
    rows = layer_report(stack, (1, 28, 28), 10).rows
    assert [r.number for r in rows if r.problem] == [3]


@pytest.mark.parametrize(
    "command", ["add conv 9", "add lstm 1", "move 0 7", "move -1 0", "shuffle", "", "add conv", "move 1 two", None]
)
def test_a_drop_no_page_sends_is_refused_by_name(command):
    with pytest.raises(ConfigError) as refused:
        apply_drop((Conv(8), Flatten(), Linear(10)), command)
    assert refused.value.field in ("drop", "type")
