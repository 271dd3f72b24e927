"""Model files: a trained model exported as safetensors, ONNX and a PyTorch script predicts exactly as it did, and
files that are not cnn_lab's safetensors (a pickle, a truncated file, wrong shapes) are refused in words."""

import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save as save_safetensors

from cnn_lab.core.config import ConfigError, ModelConfig
from cnn_lab.engine.models import build_model
from cnn_lab.engine.training import prepare_batch
from cnn_lab.runs.model_files import export_model, read_model_file


def logits(module, images, normalization) -> torch.Tensor:
    module = module.eval()
    with torch.no_grad():
        return module(prepare_batch(images, *normalization).to(next(module.parameters()).device)).float().cpu()


def test_safetensors_round_trip_predicts_exactly_as_before(default_pair, mnist):
    contender = default_pair["B"]
    loaded = read_model_file(export_model(contender, mnist.info, "safetensors"), "b.safetensors")
    assert loaded.spec == contender.spec and loaded.class_names == mnist.info.class_names
    assert loaded.epochs_done == contender.epochs_done == 1
    rebuilt = build_model(loaded.spec.model)
    rebuilt.load_state_dict(loaded.weights)
    images = mnist.test_images[:200]
    found, expected = (logits(m, images, loaded.normalization) for m in (rebuilt, contender.module))
    assert torch.allclose(found, expected, atol=1e-5)  # the same weights (kernels may differ by memory layout)
    assert all(torch.equal(v.cpu(), loaded.weights[k]) for k, v in contender.module.state_dict().items())


def test_onnx_in_onnxruntime_predicts_as_the_model_from_raw_pixels(default_pair, mnist):
    import onnxruntime

    contender = default_pair["A"]
    session = onnxruntime.InferenceSession(
        export_model(contender, mnist.info, "onnx"), providers=["CPUExecutionProvider"]
    )
    images = mnist.test_images[:200]
    pixels = images.unsqueeze(1).float().div(255).numpy()  # no normalisation: the graph does it
    (found,) = session.run(["logits"], {"image": pixels})
    expected = logits(contender.module, images, contender.normalization(mnist.info)).numpy()
    assert found.shape == (200, 10) and np.abs(found - expected).max() < 1e-3
    assert (found.argmax(1) == expected.argmax(1)).all()


def test_the_script_rebuilds_the_model_with_plain_torch_and_reads_a_digit(default_pair, mnist, tmp_path):
    contender = default_pair["A"]
    (tmp_path / "model_a.safetensors").write_bytes(export_model(contender, mnist.info, "safetensors"))
    script = export_model(contender, mnist.info, "pytorch script", weights_file="model_a.safetensors")
    (tmp_path / "model_a.py").write_bytes(script)
    for k in range(3):
        Image.fromarray(mnist.test_images[k].numpy()).save(tmp_path / f"digit{k}.png")
        said = subprocess.run(
            [sys.executable, str(tmp_path / "model_a.py"), str(tmp_path / f"digit{k}.png")],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout  # fmt: skip
        expected = logits(contender.module, mnist.test_images[k : k + 1], contender.normalization(mnist.info))[0]
        assert said.startswith(f"{mnist.info.class_names[int(expected.argmax())]} ("), said


def test_files_that_are_not_cnn_labs_safetensors_are_refused_in_words(default_pair, mnist):
    good = export_model(default_pair["B"], mnist.info, "safetensors")
    pickle = io.BytesIO()
    torch.save(default_pair["B"].module.state_dict(), pickle)
    refusals = {
        "looks like a pickle (torch.save), and pickles are never opened here": pickle.getvalue(),
        "must be a complete .safetensors file": good[: len(good) // 2],
        "must be exported by cnn_lab": save_safetensors({"w": torch.zeros(2)}),
        "must be at most 64 MB": b"x" * (64 * 2**20 + 1),
    }
    for words, data in refusals.items():
        with pytest.raises(ConfigError, match=re.escape(words)) as err:
            read_model_file(data, "upload")
        assert err.value.field == "model file"
    header = json.loads(good[8 : 8 + int.from_bytes(good[:8], "little")])
    described = json.loads(header["__metadata__"]["cnn_lab"])
    wider = ModelConfig.from_dict(described["model"]).to_dict()
    wider["layers"][0]["out_channels"] *= 2  # the description says 8 channels, the weights have 4
    described["model"] = wider
    weights = {k: v for k, v in default_pair["B"].module.state_dict().items()}
    lying = save_safetensors({k: v.cpu().contiguous() for k, v in weights.items()}, {"cnn_lab": json.dumps(described)})
    with pytest.raises(ConfigError, match=r"weight conv1.weight must have shape \[\d+, 1, 3, 3\], got"):
        read_model_file(lying, "lying.safetensors")


def test_a_model_file_with_weights_that_are_not_numbers_or_a_zero_std_is_refused_by_name(default_pair, mnist):
    """Such a model once loaded and then answered every drawing with empty confidences (and Inspect with a
    traceback)."""
    good = export_model(default_pair["B"], mnist.info, "safetensors")
    described = json.loads(json.loads(good[8 : 8 + int.from_bytes(good[:8], "little")])["__metadata__"]["cnn_lab"])
    weights = {k: v.cpu().clone().contiguous() for k, v in default_pair["B"].module.state_dict().items()}
    first = next(k for k, v in weights.items() if v.is_floating_point())
    broken = dict(weights) | {first: weights[first].clone().fill_(float("nan"))}
    with pytest.raises(ConfigError, match=rf"weight {re.escape(first)} holds values that are not numbers"):
        read_model_file(save_safetensors(broken, {"cnn_lab": json.dumps(described)}), "nan.safetensors")
    flat = described | {"normalization": [[0.1307], [0.0]]}
    with pytest.raises(ConfigError, match=r"normalization std must be above 0"):
        read_model_file(save_safetensors(weights, {"cnn_lab": json.dumps(flat)}), "flat.safetensors")
    assert (
        read_model_file(save_safetensors(weights, {"cnn_lab": json.dumps(described)})).weights.keys() == weights.keys()
    )
