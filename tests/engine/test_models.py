from collections import OrderedDict

import pytest
import torch
from torch.overrides import TorchFunctionMode

from cnn_lab.core.config import Activation, BatchNorm, Conv, Dropout, Flatten, Linear, ModelConfig, Pool, default_model
from cnn_lab.engine.models import build_model, summarize


def test_builder_gives_readable_layer_names():
    config = ModelConfig((Conv(8), BatchNorm(), Pool("avg"), Dropout(0.2), Flatten(), Linear(32), BatchNorm()))
    names = [name for name, _ in build_model(config).named_children()]
    assert names == ["conv1", "bn1", "avgpool1", "dropout1", "flatten1", "fc1", "bn2", "classifier"]


WIDER = ModelConfig.from_conv_channels((16, 32, 64, 64))  # the former default: counts worked out by hand


def test_summary_of_a_four_conv_model_matches_known_counts():
    summary = summarize(WIDER)
    rows = {row.name: row for row in summary.layers}
    assert rows["conv2"].output_shape == (32, 28, 28)
    assert rows["conv2"].params == 16 * 32 * 9 + 32
    assert rows["conv2"].flops == 2 * 28 * 28 * 32 * 16 * 9  # a multiply-add is 2 FLOPs
    assert rows["classifier"].output_shape == (10,)
    assert summary.params == sum(p.numel() for p in build_model(WIDER).parameters()) == 91_594
    assert rows["maxpool2"].activation_bytes == 64 * 7 * 7 * 4
    assert summary.flops == sum(r.flops for r in summary.layers) > 29_000_000


def test_summary_shapes_equal_a_forward_pass():
    config = ModelConfig((Conv(6, 5, 1, 2), Pool(), Conv(16, 5, 1, 0), Pool(), Flatten(), Linear(120), Linear(84)))
    model = build_model(config).eval()
    x = torch.zeros(1, 1, 28, 28)
    for row, (_, module) in zip(summarize(config, model).layers, model.named_children()):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:])


def _as_listed(model: torch.nn.Sequential) -> torch.nn.Sequential:
    """The same modules in a plain nn.Sequential: every layer runs in its listed order."""
    return torch.nn.Sequential(OrderedDict(model.named_children()))


class _CallOrder(TorchFunctionMode):
    """Records which of ReLU and max-pool run, in order."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("relu", "max_pool2d", "_max_pool2d", "max_pool2d_with_indices"):
            self.calls.append("pool" if "pool" in name else "relu")
        return func(*args, **(kwargs or {}))


OVERLAPPING = ModelConfig((Conv(8), Activation("relu"), Pool("max", 3, 2), Conv(8), Activation("relu"), Pool()))


RELU_POOL = ["relu", "relu", "pool", "relu", "relu", "pool"]  # the default model's order as listed
POOL_RELU = ["relu", "pool", "relu", "relu", "pool", "relu"]  # and as it trains


@pytest.mark.parametrize(
    "config, listed, trains",
    [
        (default_model(), RELU_POOL, POOL_RELU),
        (OVERLAPPING, ["relu", "pool", "relu", "pool"], ["pool", "relu", "pool", "relu"]),
    ],
    ids=["default", "overlapping-pools"],
)
@pytest.mark.parametrize("precision", [torch.float32, torch.bfloat16])
def test_training_runs_relu_then_max_pool_as_pool_then_relu_with_the_same_numbers_and_gradients(
    config, listed, trains, precision
):
    model = build_model(config).train()
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    results = []
    for runs in (model, _as_listed(model)):
        runs.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == torch.bfloat16), _CallOrder() as order:
            out = runs(x)
        out.float().square().sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in model.parameters()], order.calls))
    (out, grads, calls), (listed_out, listed_grads, listed_calls) = results
    assert torch.equal(out, listed_out) and all(torch.equal(a, b) for a, b in zip(grads, listed_grads))
    assert listed_calls == listed and calls == trains


def test_a_watched_relu_and_eval_mode_keep_the_listed_order():
    model = build_model(WIDER)
    seen = []
    hook = model.relu2.register_forward_hook(lambda _m, _i, out: seen.append(tuple(out.shape[1:])))
    with _CallOrder() as order:
        model.train()(torch.zeros(2, 1, 28, 28))
    assert seen == [(32, 28, 28)]  # the feature map before pooling, as the layer list says
    assert order.calls == ["relu", "relu", "pool", "relu", "pool", "relu"]  # relu4, unwatched, still trains after
    hook.remove()
    with _CallOrder() as order:
        model.eval()(torch.zeros(2, 1, 28, 28))
    assert order.calls == RELU_POOL
