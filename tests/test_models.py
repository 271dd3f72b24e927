import torch

from cnn_lab.config import BatchNorm, Conv, Dropout, Flatten, Linear, ModelConfig, Pool, default_model
from cnn_lab.models import build_model, summarize


def test_builder_gives_readable_layer_names():
    config = ModelConfig((Conv(8), BatchNorm(), Pool("avg"), Dropout(0.2), Flatten(), Linear(32), BatchNorm()))
    names = [name for name, _ in build_model(config).named_children()]
    assert names == ["conv1", "bn1", "avgpool1", "dropout1", "flatten1", "fc1", "bn2", "classifier"]


def test_summary_of_the_default_model_matches_known_counts():
    summary = summarize(default_model())
    rows = {row.name: row for row in summary.layers}
    assert rows["conv2"].output_shape == (32, 28, 28)
    assert rows["conv2"].params == 16 * 32 * 9 + 32
    assert rows["conv2"].flops == 2 * 28 * 28 * 32 * 16 * 9  # a multiply-add is 2 FLOPs
    assert rows["classifier"].output_shape == (10,)
    assert summary.params == sum(p.numel() for p in build_model(default_model()).parameters()) == 91_594
    assert rows["maxpool2"].activation_bytes == 64 * 7 * 7 * 4
    assert summary.flops == sum(r.flops for r in summary.layers) > 29_000_000


def test_summary_shapes_equal_a_forward_pass():
    config = ModelConfig((Conv(6, 5, 1, 2), Pool(), Conv(16, 5, 1, 0), Pool(), Flatten(), Linear(120), Linear(84)))
    model = build_model(config).eval()
    x = torch.zeros(1, 1, 28, 28)
    for row, (_, module) in zip(summarize(config, model).layers, model.named_children()):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:])
