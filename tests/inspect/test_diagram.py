"""The explorable network: a block per layer with what it does, its shape, parameters and FLOPs; kernels to scale;
lit by a drawing's activations."""

import re

from cnn_lab.core.config import ModelConfig
from cnn_lab.engine.models import summarize
from cnn_lab.inspect.diagram import network_svg


def test_every_layer_is_a_block_that_says_what_it_does_and_costs():
    config = ModelConfig.from_conv_channels([16, 32, 64, 64])
    summary = summarize(config)
    svg = network_svg(config, summary, "Model A")
    assert svg.count('class="cnn-layer"') == len(summary.layers) + 1  # the input, then every layer
    conv = summary.layers[0]
    assert f"output {'x'.join(map(str, conv.output_shape))}, {conv.params:,} parameters" in svg
    assert "slides its kernels over every input channel" in svg and "keeps the largest value of each window" in svg
    assert svg.count('class="cnn-window"') == 6  # 4 convolutions and 2 poolings show their window
    assert "2x2 s2" in svg and "<animateMotion" not in svg  # no drawing yet: nothing flows


def test_a_drawing_lights_the_blocks_by_their_activation():
    config = ModelConfig.from_conv_channels([4, 8, 8, 8])
    summary = summarize(config)
    strengths = {row.name: float(k + 1) for k, row in enumerate(summary.layers)}
    svg = network_svg(config, summary, "Model B", strengths)
    opacities = [float(o) for o in re.findall(r'class="cnn-block"[^>]*fill-opacity="([\d.]+)"', svg)][1:]
    assert opacities == sorted(opacities) and opacities[-1] == 1.0 and opacities[0] < 0.3
    assert "<animateMotion" in svg and "activation 1.000" in svg
