from cnn_lab.core.config import Conv, Flatten, Linear, ModelConfig, Pool
from cnn_lab.inspect.layer_report import layer_report


def test_a_valid_stack_reports_every_layer():
    wider = ModelConfig.from_conv_channels((16, 32, 64, 64))
    report = layer_report(wider.layers)
    assert report.ok and report.config == wider
    assert [r.output_shape for r in report.rows][:2] == ["16x28x28", "16x28x28"]
    assert report.rows[2].params == 16 * 32 * 9 + 32 and report.rows[2].flops == 2 * 28 * 28 * 32 * 16 * 9
    assert not any(r.problem for r in report.rows)


def test_the_invalid_layer_is_marked_in_place_and_the_rest_left_blank():
    layers = (Conv(8), Pool(), Pool(), Pool(), Conv(8, kernel=5, padding=0), Flatten(), Linear(10))
    report = layer_report(layers)
    assert not report.ok and report.config is None
    assert [r.output_shape for r in report.rows[:4]] == ["8x28x28", "8x14x14", "8x7x7", "8x3x3"]
    bad = report.rows[4]
    assert bad.number == 5 and "its input is only 3x3" in bad.problem and bad.output_shape == ""
    assert all(not r.output_shape and not r.problem for r in report.rows[5:])
