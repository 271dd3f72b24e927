"""A trained model as files that outlive the page, and back.

Three ways out: safetensors (the weights, with the model's config, its
normalisation and class names in the file's metadata: what cnn_lab reads
back), ONNX (raw 0-1 pixels in, logits out, normalisation inside the graph:
opens in Netron, runs in onnxruntime) and a short PyTorch script that
rebuilds the network with plain torch.nn and loads the safetensors file.
One way in: a cnn_lab safetensors file, checked before anything is built.
Nothing here unpickles a file: a pickle can run any code on the server.
"""

from __future__ import annotations

import copy
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from cnn_lab.core.config import ConfigError, ModelConfig, ModelSpec, TrainConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.strict_json import load_json
from cnn_lab.data.datasets import DatasetInfo
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import GeneratorDropout, build_model

FORMATS = {"safetensors": ".safetensors", "onnx": ".onnx", "pytorch script": ".py"}
MAX_MODEL_BYTES = 64 * 2**20  # far above any model the builder allows
METADATA_KEY = "cnn_lab"
FILE_VERSION = 1


@dataclass(frozen=True)
class ImportedModel:
    """A model read from a file: how it is built and trained, its weights, and the data it was trained for."""

    spec: ModelSpec
    weights: dict[str, torch.Tensor]
    normalization: tuple[tuple[float, ...], tuple[float, ...]]  # per channel
    class_names: tuple[str, ...]
    epochs_done: int
    dataset: str = ""  # the key of the dataset it was trained on, as the file says


def description(contender: Contender, info: DatasetInfo) -> dict:
    """What a file says about its model besides the weights."""
    mean, std = contender.normalization(info)
    return {
        "version": FILE_VERSION,
        "model": contender.spec.model.to_dict(),
        "train": contender.spec.train.to_dict(),
        "normalization": [list(mean), list(std)],
        "class_names": list(info.class_names),
        "dataset": info.key,
        "epochs_done": contender.epochs_done,
        "test_accuracy": contender.test_accuracy,
    }


def cpu_weights(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in module.state_dict().items()}


def to_safetensors(contender: Contender, info: DatasetInfo) -> bytes:
    """The weights (fp32) with the model's description as the file's metadata."""
    metadata = {METADATA_KEY: json.dumps(description(contender, info))}
    return save_safetensors(cpu_weights(contender.module), metadata=metadata)


class RawPixels(nn.Module):
    """The model fed 0-1 pixels: the normalisation it was trained with happens inside, so an ONNX user needs none."""

    def __init__(self, module: nn.Module, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.module = module
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.module((image - self.mean) / self.std)


def to_onnx(contender: Contender, info: DatasetInfo) -> bytes:
    """An ONNX graph: input "image" (batch, channels, height, width) of 0-1 pixels, output "logits"."""
    module = copy.deepcopy(contender.module).to("cpu", torch.float32).eval()
    example = torch.rand(2, *contender.spec.model.input_shape)
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(
        RawPixels(module, *contender.normalization(info)).eval(),
        (example,),
        input_names=["image"],
        output_names=["logits"],
        dynamic_shapes=({0: batch},),
        dynamo=True,
        verbose=False,
    )
    buffer = io.BytesIO()
    program.save(buffer)
    return buffer.getvalue()


def to_script(contender: Contender, info: DatasetInfo, weights_file: str) -> str:
    """A runnable script that rebuilds the network with torch.nn alone and loads ``weights_file`` into it."""
    layers = "\n".join(
        f"        ({name!r}, nn.{_plain(layer)!r}),".replace("nn.GeneratorDropout", "nn.Dropout")
        for name, layer in contender.module.named_children()
    )
    mean, std = contender.normalization(info)
    channels, height, width = contender.spec.model.input_shape
    colour = channels == 3
    return f'''"""Model {contender.name} from cnn_lab, rebuilt with plain PyTorch.

    python {{this file}} image.png    # an image like the training images ({width}x{height}), or any image (made {"colour" if colour else "grey"} and resized)

Needs torch, safetensors and pillow; {weights_file} beside this file.
"""

import sys
from collections import OrderedDict
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file
from torch import nn

CLASS_NAMES = {list(info.class_names)!r}
MEAN = torch.tensor({list(mean)!r}).view(1, -1, 1, 1)  # the normalisation it was trained with, per channel
STD = torch.tensor({list(std)!r}).view(1, -1, 1, 1)
SIZE = ({width}, {height})  # the input's width and height


def build() -> nn.Sequential:
    model = nn.Sequential(OrderedDict([
{layers}
    ]))
    model.load_state_dict(load_file(Path(__file__).with_name({weights_file!r})))
    return model.eval()


def read(path: str) -> torch.Tensor:
    image = Image.open(path).convert({"RGB" if colour else "L"!r}).resize(SIZE)
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).float().div(255)
    return pixels.view(1, image.height, image.width, {channels}).permute(0, 3, 1, 2)


if __name__ == "__main__":
    with torch.no_grad():
        probabilities = torch.softmax(build()((read(sys.argv[1]) - MEAN) / STD), dim=1)[0]
    best = int(probabilities.argmax())
    print(f"{{CLASS_NAMES[best]}} ({{probabilities[best]:.1%}} sure)")
'''


def _plain(layer: nn.Module) -> nn.Module:
    """The layer as torch.nn itself would build it (our dropout draws from a run's generator; plain is the same)."""
    return nn.Dropout(layer.p) if isinstance(layer, GeneratorDropout) else layer


def export_model(contender: Contender, info: DatasetInfo, file_format: str, weights_file: str = "") -> bytes:
    """``contender`` as a file of ``file_format`` (one of FORMATS)."""
    if file_format == "safetensors":
        return to_safetensors(contender, info)
    if file_format == "onnx":
        return to_onnx(contender, info)
    if file_format == "pytorch script":
        return to_script(contender, info, weights_file).encode()
    raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {file_format!r}", "format")


def read_model_file(data: bytes, filename: str = "") -> ImportedModel:
    """A cnn_lab safetensors file's model, checked: its size, that it is safetensors with cnn_lab's description,
    that the description is a valid model, and that every weight has the shape that model needs."""
    name = filename or "the file"
    if len(data) > MAX_MODEL_BYTES:
        raise ConfigError(
            f"model file must be at most {MAX_MODEL_BYTES // 2**20} MB, got {len(data) / 2**20:.1f} MB", "model file"
        )
    # safetensors opens with its JSON header's length (8 bytes, little-endian), whose first byte may well be 0x80, a
    # pickle's first byte: only what is not laid out as safetensors is judged by its first bytes
    safetensors_like = data[8:9] == b"{" and 8 + int.from_bytes(data[:8], "little") <= len(data)
    pickle_like = data[:1] == b"\x80" or data[:4] == b"PK\x03\x04"
    if (pickle_like and not safetensors_like) or filename.endswith((".pt", ".pth", ".pkl", ".ckpt")):
        raise ConfigError(
            f"model file must be a .safetensors file exported by cnn_lab; {name} looks like a pickle (torch.save), "
            "and pickles are never opened here: they can run any code",
            "model file",
        )
    try:
        weights = load_safetensors(data)
        header_size = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + header_size]).get("__metadata__") or {}
    except (SafetensorError, ValueError, UnicodeDecodeError, OverflowError) as err:
        raise ConfigError(
            f"model file must be a complete .safetensors file; {name} could not be read ({err})", "model file"
        ) from None
    if METADATA_KEY not in metadata:
        raise ConfigError(
            f"model file must be exported by cnn_lab (Runs tab or /export_model): {name} does not say how to build "
            "its model",
            "model file",
        )
    try:
        described = load_json(metadata[METADATA_KEY], "model file", "model file: its description")
        model = ModelConfig.from_dict(described["model"])
        spec = ModelSpec(model, TrainConfig.from_dict(described["train"]))
        mean, std = (per_channel_values(v, model.input_shape[0]) for v in described["normalization"])
        class_names = tuple(str(c) for c in described["class_names"])
        epochs_done = int(described.get("epochs_done", 0))
        dataset = str(described.get("dataset", ""))
    except (KeyError, TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise ConfigError(f"model file: {err}", "model file") from None
        raise ConfigError(f"model file: its description is incomplete ({err})", "model file") from None
    check_std(std)
    check_weights(model, weights)
    return ImportedModel(spec, weights, (mean, std), class_names, epochs_done, dataset)


def per_channel_values(value: object, channels: int) -> tuple[float, ...]:
    """A file's mean or std as one finite number per channel (files of the first version hold one number)."""
    values = [value] * channels if isinstance(value, (int, float)) else list(value)
    if len(values) != channels or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise ValueError(f"normalization must hold {channels} finite number(s) per statistic, got {quoted(value)}")
    return tuple(float(v) for v in values)


def check_std(std: tuple[float, ...]) -> None:
    """A std divides every pixel: zero or below gives infinities, and the models' answers come back empty."""
    if not all(v > 0 for v in std):
        raise ConfigError(f"model file: its normalization std must be above 0, got {list(std)}", "model file")


def check_weights(model: ModelConfig, weights: dict[str, torch.Tensor]) -> None:
    """Every weight the model needs, each of the right shape, and nothing else (a ConfigError names the first
    that is off)."""
    expected = {k: tuple(v.shape) for k, v in build_model(model).state_dict().items()}
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    if missing or extra:
        raise ConfigError(
            f"model file: its weights do not fit its model (missing {missing[:3] or 'none'}, "
            f"unexpected {extra[:3] or 'none'})",
            "model file",
        )
    for key, shape in expected.items():
        if tuple(weights[key].shape) != shape:
            raise ConfigError(
                f"model file: weight {key} must have shape {list(shape)}, got {list(weights[key].shape)}",
                "model file",
            )
        if weights[key].is_floating_point() and not torch.isfinite(weights[key]).all():
            raise ConfigError(
                f"model file: weight {key} holds values that are not numbers (NaN or infinite): such a model "
                "answers nothing",
                "model file",
            )
