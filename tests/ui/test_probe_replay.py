"""Issue 34's hostile probe, replayed against one public server through gradio_client and raw HTTP: every input it
used gets a refusal that names its field (or an answer), the server's log holds no traceback, and the server's
memory after it all is within a stated bound of where it stood after its first run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from api_inputs import STATUS, settings
from gradio_client import Client, handle_file
from own_datasets import big_flat_pngs_zip, lying_npz
from PIL import Image
from safetensors.torch import save as save_safetensors

from cnn_lab.core.config import Activation, Flatten, Linear, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.data.datasets import DATASET_INFO
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.runs.model_files import export_model

SMALL = ("8,8,16,16", "adam", 0.002, 100, 1, False)
GROWTH_MB = 300  # the server's RSS after the whole replay, over its RSS after its first run


@pytest.fixture(scope="module")
def probed(playground, tmp_path_factory):
    """A public server that has trained once (data loaded, kernels warm), a client of it, and its process."""
    url, _ = playground("--public")
    client = Client(url, verbose=False)
    assert client.predict(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")[STATUS].startswith("**Fin")
    server = next(
        p for p in psutil.Process().children(recursive=True) if "playground.py" in " ".join(p.cmdline())
        and url.rstrip("/").rsplit(":", 1)[1] in " ".join(p.cmdline())
    )  # fmt: skip
    yield url, client, server, tmp_path_factory.mktemp("probe"), server.memory_info().rss
    client.close()


def refusal(call) -> str:
    with pytest.raises(Exception) as caught:
        call()
    return str(caught.value)


def model_file(folder: Path, model: ModelConfig, name: str, poison: bool = False) -> Path:
    """A cnn_lab model file of ``model`` (``poison``: its first weight NaN)."""
    (contender,) = create_contenders({"A": ModelSpec(model, TrainConfig())}, RunConfig())
    data = export_model(contender, DATASET_INFO["mnist"], "safetensors")
    metadata = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])["__metadata__"]
    described = json.loads(metadata["cnn_lab"]) | {"normalization": [[0.1307], [0.3081]]}  # as if trained on MNIST
    weights = {k: v.detach().clone().contiguous() for k, v in contender.module.state_dict().items()}
    if poison:
        first = next(k for k, v in weights.items() if v.is_floating_point())
        weights[first].fill_(float("nan"))
    data = save_safetensors(weights, metadata | {"cnn_lab": json.dumps(described)})
    path = folder / name
    path.write_bytes(data)
    return path


def test_uploads_are_judged_before_they_are_decoded(probed):
    _, client, _, folder, _ = probed
    big = big_flat_pngs_zip(folder / "huge.zip", 4096, 80)
    said = refusal(lambda: client.predict(handle_file(str(big)), 32, api_name="/upload_dataset"))
    assert "dataset file: its images would take 3,840 MB decoded" in said
    liar = lying_npz(folder / "liar.npz", (10**8, 1000))
    said = refusal(lambda: client.predict(handle_file(str(liar)), 0, api_name="/upload_dataset"))
    assert "dataset file may hold at most 100,000 images, x holds 100,000,000" in said
    photo = folder / "big.png"
    pixels = np.zeros((6000, 6000, 3), np.uint8)
    pixels[2000:4000, 2900:3100] = 255
    Image.fromarray(pixels).save(photo)
    answer = client.predict(handle_file(str(photo)), api_name="/predict_image")
    assert answer[0]["label"] is not None  # read, shrunk: the trained models answer


def test_every_path_that_trains_keeps_the_public_caps(probed):
    _, client, _, folder, _ = probed
    assert "at most 20" in refusal(lambda: client.predict(50, False, api_name="/continue_training"))
    wide = ModelConfig((Flatten(), Linear(4096), Activation(), Linear(400), Activation()))  # 4.8M parameters
    imported = client.predict(
        "B", handle_file(str(model_file(folder, wide, "wide.safetensors"))), api_name="/import_model"
    )
    assert "B" in imported
    said = refusal(lambda: client.predict(1, False, api_name="/continue_training"))
    assert "at most 2,000,000 parameters on this server" in said
    heavy = ("8,16,32,64", "adam", 0.002, 100, 15, False)
    setup = settings(a=heavy, b=heavy, subset=60000)[:-1]
    said = refusal(lambda: client.predict(*setup, 20, api_name="/repeat_with_seeds"))
    assert "TFLOPs of training" in said and "20 runs" in said


def test_values_the_page_never_sends_are_refused_by_name(probed):
    _, client, _, folder, _ = probed
    assert "experiment must be one of learning rate" in refusal(lambda: client.predict(None, api_name="/guided_result"))
    record = folder / "record.json"
    record.write_text(json.dumps({"who": "x", "models": "abc"}))
    assert "leaderboard record" in refusal(
        lambda: client.predict([handle_file(str(record))], "test accuracy", api_name="/import_records")
    )
    poisoned = model_file(folder, ModelConfig.from_conv_channels([4, 8, 8, 8]), "nan.safetensors", poison=True)
    said = refusal(lambda: client.predict("A", handle_file(str(poisoned)), api_name="/import_model"))
    assert "holds values that are not numbers" in said
    whole = folder / "whole.png"
    Image.effect_noise((280, 280), 60).save(whole)
    cut = folder / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    sketch = {"background": None, "layers": [], "composite": handle_file(str(cut)), "id": None}
    assert "sketch: not an image that can be read" in refusal(
        lambda: client.predict(sketch, api_name="/predict_sketch")
    )
    values = settings(a=SMALL, b=SMALL, subset=1000)
    assert "must be true or false, got 'abc'" in refusal(lambda: client.predict(*values[:-1], "abc", api_name="/train"))
    assert "must be 1 to 8192 characters" in refusal(
        lambda: client.predict("x" * (50 * 2**20), False, api_name="/train_setup")
    )


def test_one_client_flooding_light_calls_leaves_others_served_and_is_told_why(probed):
    """Issue 45's flood: one gradio_client sends 30 /list_runs at once. Each is answered or refused in the server's
    words (never Gradio's bare "Queue is full"), and meanwhile another session's light call and a /train are
    answered."""
    url, client, *_ = probed
    flooder = Client(url, verbose=False)
    flood = [flooder.submit(api_name="/list_runs") for _ in range(30)]
    other = Client(url, verbose=False)
    assert isinstance(other.predict(api_name="/list_runs"), list)
    assert client.predict(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")[STATUS].startswith("**Fin")
    outcomes = []
    for job in flood:
        try:
            outcomes.append(job.result(timeout=120))
        except Exception as refused:  # noqa: BLE001 - what the flooder is told is the point
            outcomes.append(str(refused))
    refusals = [o for o in outcomes if isinstance(o, str)]
    assert all("This session already has 4 requests waiting in the queue (at most 4" in r for r in refusals), refusals
    assert len(refusals) < 30 and all(isinstance(o, list) for o in outcomes if not isinstance(o, str))
    flooder.close()
    other.close()


KILLED_MID_RUN = """
import sys, time
from gradio_client import Client
sys.path.insert(0, "tests")
from api_inputs import settings
client = Client(sys.argv[1], verbose=False)
job = client.submit(*settings(a=("8,8,16,16", "adam", 0.002, 50, 20, False), b=("8,8,16,16", "adam", 0.002, 50, 20,
                    False), subset=4000), api_name="/train")
while len(job.outputs()) < 2:
    time.sleep(0.1)
print("training", flush=True)
time.sleep(60)
"""


def test_a_client_killed_mid_run_leaves_the_server_serving(probed, wait_until):
    url, client, *_ = probed
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_RUN, url], cwd=root, stdout=subprocess.PIPE, text=True, env=os.environ
    )
    assert killed.stdout.readline().strip() == "training"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(10)
    time.sleep(2)
    assert client.predict(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")[STATUS].startswith("**Fin")


def test_after_the_replay_no_traceback_is_logged_and_memory_is_back(probed, playground):
    """Runs last in this module: every case above has been sent."""
    url, _, server, _, rss_after_first_run = probed
    time.sleep(3)
    log = playground.output(url)
    assert "Traceback" not in log, log[log.index("Traceback") - 2000 : log.index("Traceback") + 3000]
    grew_mb = (server.memory_info().rss - rss_after_first_run) / 2**20
    assert grew_mb < GROWTH_MB, f"the server grew by {grew_mb:.0f} MB"
