"""The playground driven the way a program drives it: launched on localhost, called through gradio_client."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import onnxruntime
import psutil
import pytest
from api_inputs import (
    CHECKPOINTS,
    LEARNING_RATE_A,
    LEARNING_RATE_B,
    LOG_A,
    LOG_B,
    LOSS,
    MODEL_FIELDS,
    PROGRESS,
    RESULTS,
    STATUS,
    SUMMARY,
    column,
    run_values,
    settings,
    sketch_of,
)
from chance import fewest_right
from drawn_digits import render_digit
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from own_datasets import class_images, digits_zip, twenty_six_classes
from PIL import Image
from real_drawings import real_drawing_set, small_fixed_part
from sketch_canvas import on_canvas

from cnn_lab.core.builder import layers_to_json
from cnn_lab.core.config import (
    Activation,
    Conv,
    Dropout,
    ExperimentConfig,
    Flatten,
    Linear,
    ModelConfig,
    ModelSpec,
    Pool,
    RunConfig,
    TrainConfig,
)
from cnn_lab.core.presets import PRESETS, default_experiment
from cnn_lab.core.sharing import experiment_from_token
from cnn_lab.data.datasets import DATASET_INFO
from cnn_lab.inspect.learned_space import SPACE_IMAGES
from cnn_lab.learn.experiments import guided_setup
from cnn_lab.ui import api_values, build_app, quiet_queue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def url():
    demo = build_app()
    demo.queue(default_concurrency_limit=16)
    quiet_queue(demo)  # as cnn_lab.cli.main serves it
    _, local_url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield local_url
    demo.close()


def test_accuracy(summary: dict, model: str) -> float:
    row = next(r for r in summary["data"] if r[0] == "test accuracy")
    return float(row[summary["headers"].index(f"Model {model}")].rstrip("%")) / 100


test_accuracy.__test__ = False  # a helper, not a test


def test_training_streams_live_updates_and_learns(url, mnist, tmp_path):
    client = Client(url, verbose=False)
    updates = list(client.submit(*settings(), api_name="/train"))
    # its start, its end, and one every 0.5 s between (a run of 1.3-4 s: 4-9 updates, by the machine's speed)
    assert len(updates) >= 4
    loss_points = [len(u[LOSS]["data"]) for u in updates if u[LOSS]]
    assert loss_points == sorted(loss_points) and loss_points[-1] > loss_points[0] + 20  # curves grow
    progress = [u[PROGRESS] for u in updates]
    assert "Model A:" in progress[-1] and "63/63" in progress[-1] and progress[1] != progress[-1]
    assert len(updates[-1][LOG_A]) > len(updates[1][LOG_A]) and "finished" in updates[-1][LOG_B]
    final = updates[-1]
    assert final[STATUS].startswith("**Finished**") and "MNIST" in final[STATUS]
    assert test_accuracy(final[SUMMARY], "A") > 0.8 and test_accuracy(final[SUMMARY], "B") > 0.8
    assert final[RESULTS].count('class="cnn-card"') == 20 and "cnn-right" in final[RESULTS]
    assert client.predict(api_name="/new_images") != final[RESULTS]

    # real MNIST test digits, drawn large and dark on white, are read right by both trained models through the
    # sketchpad's path (a few odd digits may fool models trained on 4,000 images; chance would read 2 of 20)
    right = {"A": 0, "B": 0}
    for index in range(20):
        digit = Image.fromarray(mnist.test_images[index].numpy()).resize((280, 280), Image.BILINEAR)
        label_a, label_b, preview, note = client.predict(
            sketch_of(255 - np.asarray(digit), tmp_path), api_name="/predict_sketch"
        )
        truth = str(int(mnist.test_labels[index]))
        right["A"] += label_a["label"] == truth
        right["B"] += label_b["label"] == truth
    assert right["A"] >= 16 and right["B"] >= 16, right
    assert len(label_a["confidences"]) == 10 and preview is not None

    # the charts against steps, not smoothed, B's loss hidden; every point as CSV
    loss, accuracy, *_ = client.predict(
        "steps", 0.0, False, ["A loss", "A test", "B test"], False, api_name="/draw_curves"
    )
    assert loss["x_title"] == "steps" and loss["title"] == "Training loss (not smoothed)"
    drawn = [row for row in loss["value"]["data"] if row[1] is not None]
    assert {row[2] for row in drawn} == {"A"} and max(row[0] for row in drawn) == 63  # A's 63 steps
    assert {row[2] for row in accuracy["value"]["data"] if row[1] is not None} == {"A test", "B test"}
    rows = list(csv.DictReader(open(client.predict(api_name="/chart_data"))))
    a_loss = [r for r in rows if r["chart"] == "loss" and r["curve"] == "A"]
    assert len(a_loss) == 63 and a_loss[-1]["steps"] == "63" and float(a_loss[-1]["epochs"]) == pytest.approx(1.0)
    with pytest.raises(AppError, match="x axis: must be one of images, steps, epochs, seconds"):  # by its label
        client.predict("minutes", 0.0, False, [], False, api_name="/draw_curves")
    client.close()


def test_the_charts_can_be_set_before_any_run(url):
    client = Client(url, verbose=False)
    assert client.predict("epochs", 0.3, True, [], False, api_name="/draw_curves")  # nothing to redraw yet, no error
    with pytest.raises(AppError, match="Train the models first"):
        client.predict(api_name="/chart_data")
    client.close()


def test_stop_ends_the_run_promptly_and_keeps_models_usable(url, tmp_path, wait_until):
    client = Client(url, verbose=False)
    job = client.submit(*settings(a=("16,32,64,64", "adam", 0.001, 32, 5, False), subset=0), api_name="/train")
    wait_until(lambda: len(job.outputs()) >= 4, 60, "the run's first updates")
    asked = time.perf_counter()
    assert client.predict(api_name="/stop").startswith("**Stopped**")  # it answers once the run has stopped
    final = job.result(timeout=60)
    assert time.perf_counter() - asked < 15  # one batch, then a test evaluation of each model
    assert final[STATUS].startswith("**Stopped**") and "stopped after" in final[LOG_A]
    label_a, label_b, _, note = client.predict(sketch_of(render_digit(1), tmp_path), api_name="/predict_sketch")
    assert label_a["label"] in "0123456789" and len(label_b["confidences"]) == 10 and "sees" in note
    client.close()


def training_processes() -> list[psutil.Process]:
    """This server's training workers: children of multiprocessing's fork server (Linux), or spawned ones."""
    found = []
    for child in psutil.Process().children():
        command = " ".join(child.cmdline())
        if "forkserver" in command:
            found += child.children()
        elif "spawn_main" in command:
            found.append(child)
    return found


def test_a_training_process_that_dies_is_reported_and_the_server_goes_on(url, tmp_path, wait_until):
    client = Client(url, verbose=False)
    job = client.submit(*settings(a=("16,32,64,64", "adam", 0.001, 32, 5, False), subset=0), api_name="/train")
    wait_until(lambda: len(job.outputs()) >= 3, 60, "the run's first updates")
    workers = training_processes()
    for worker in workers:  # the one training, and the one kept warm
        worker.kill()
    with pytest.raises(Exception, match="Training ended abruptly: the training process was killed by SIGKILL"):
        job.result(timeout=60)
    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    final = client.predict(*settings(a=small, b=small, subset=1000), api_name="/train")
    assert final[STATUS].startswith("**Finished**") and workers
    label_a, _, _, _ = client.predict(sketch_of(render_digit(3), tmp_path), api_name="/predict_sketch")
    assert label_a["label"] in "0123456789"
    client.close()


def test_a_run_out_of_memory_is_reported_the_pair_kept_and_the_server_serves_others(url, tmp_path):
    """Out of memory injected for real: the training processes' address space is capped (RLIMIT_AS) a little over
    what they hold, so the wide model's first batch cannot be allocated, as on a machine that is out of memory."""
    first, other = Client(url, verbose=False), Client(url, verbose=False)
    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    assert first.predict(*settings(a=small, b=small, subset=1000), api_name="/train")[STATUS].startswith("**Finished**")
    before, *_ = first.predict(sketch_of(render_digit(3), tmp_path), api_name="/predict_sketch")
    capped = training_processes()
    for worker in capped:  # the soft limit only: the hard one stays, so the soft one can be lifted again
        worker.rlimit(psutil.RLIMIT_AS, (worker.memory_info().vms + 2**28, psutil.RLIM_INFINITY))
    try:
        wide = ("64,128,128,128", "adam", 0.001, 500, 1, False)
        with pytest.raises(Exception, match=r"Training ended abruptly: it ran out of memory \(it asked for \d+ MB"):
            first.predict(*settings(a=wide, b=wide, subset=2000), api_name="/train")
    finally:
        for worker in capped:
            worker.rlimit(psutil.RLIMIT_AS, (psutil.RLIM_INFINITY,) * 2)  # for the runs of the tests that follow
    after, *_ = first.predict(sketch_of(render_digit(3), tmp_path), api_name="/predict_sketch")
    assert after == before  # the pair trained before the failed run is still the session's
    assert other.predict(*settings(a=small, b=small, subset=1000), api_name="/train")[STATUS].startswith("**Finished**")
    first.close()
    other.close()


def test_a_run_of_hours_is_started_only_when_train_is_pressed_again(url, wait_until):
    client = Client(url, verbose=False)
    wide = ("256,256,256,256", "adam", 0.001, 64, 50, False)  # about 3 h on the 10,000 images of the offline sample
    with pytest.raises(Exception, match=r"This run would take about [\d.]+ (min|h|days)[\w ]* here \(timed") as asked:
        client.predict(*settings(a=wide, b=wide, subset=0), api_name="/train")
    assert "Press the same button again within 2 minutes to start it anyway" in str(asked.value)
    job = client.submit(*settings(a=wide, b=wide, subset=0), api_name="/train")  # pressed again: it starts
    wait_until(lambda: len(job.outputs()) >= 3, 120, "the run's first updates")
    client.predict(api_name="/stop")
    assert job.result(timeout=120)[STATUS].startswith("**Stopped**")
    client.close()


def test_list_runs_model_files_inspect_test_set_and_explain_sketch(url, mnist_whole, tmp_path):
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="Train the models first: there is nothing to inspect yet"):
        client.predict(api_name="/inspect_test_set")
    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    final = client.predict(*settings(a=small, b=small, subset=1000), api_name="/train")
    data = client.predict(api_name="/inspect_test_set")
    # model files: A out as ONNX (runs in onnxruntime) and as safetensors, which goes back in as B
    (onnx_file,) = client.predict("A", "onnx", api_name="/export_model")
    onnx_session = onnxruntime.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    pixels = mnist_whole.test_images.unsqueeze(1).float().div(255).numpy()
    onnx_accuracy = (onnx_session.run(None, {"image": pixels})[0].argmax(1) == mnist_whole.test_labels.numpy()).mean()
    assert onnx_accuracy == pytest.approx(data["accuracy"]["A"], abs=2e-3)  # the same model, read by onnxruntime
    (weights,) = client.predict("A", "safetensors", api_name="/export_model")
    note = client.predict("B", handle_file(weights), api_name="/import_model")
    assert note.startswith("Model B is the one from cnn_lab_model_A_epoch_1.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(Path(weights).read_bytes()[:100])  # cut short
    with pytest.raises(Exception, match="model file must be a complete .safetensors file"):
        client.predict("B", handle_file(str(broken)), api_name="/import_model")
    newest = client.predict(api_name="/list_runs")[0]  # the run is in the history, with its curves
    for name in ("A", "B"):
        assert newest["models"][name]["test_accuracy"] == pytest.approx(test_accuracy(final[SUMMARY], name), abs=1e-4)
        assert newest["models"][name]["params"] > 0 and newest["setup"]["run"]["train_subset"] == 1000
        assert [e["model"] for e in newest["evaluations"]].count(name) >= 1
    n = len(mnist_whole.test_labels)
    assert data["test_images"] == n and data["class_names"] == [str(d) for d in range(10)]
    for name in ("A", "B"):
        matrix = np.array(data["confusion"][name])
        assert matrix.shape == (10, 10) and matrix.sum() == n
        assert np.bincount(mnist_whole.test_labels.numpy(), minlength=10).tolist() == matrix.sum(axis=1).tolist()
        assert data["accuracy"][name] == pytest.approx(np.trace(matrix) / n)
        assert data["accuracy"][name] == pytest.approx(test_accuracy(final[SUMMARY], name), abs=0.01)
    assert set(data["disagreements"]) == {"A right, B wrong", "B right, A wrong", "both wrong and sure"}
    assert data["confused_pairs"] and " reads " in data["confused_pairs"][0]
    for name in ("A", "B"):
        calibration = data["calibration"][name]
        assert sum(b["images"] for b in calibration["bins"]) == n and 0 <= calibration["expected_calibration_error"] < 1

    # /explain_sketch on the same trained pair: a real test digit drawn large, dark on white
    digit = 255 - np.kron(mnist_whole.test_images[0].numpy(), np.ones((10, 10), np.uint8))
    buffer = io.BytesIO()
    Image.fromarray(digit).save(buffer, format="PNG")
    found = client.predict(base64.b64encode(buffer.getvalue()).decode(), "occlusion", api_name="/explain_sketch")
    for name in ("A", "B"):
        answer = found[name]
        assert answer["method"] == "occlusion" and answer["prediction"] in data["class_names"]
        assert answer["confidence"] == pytest.approx(max(answer["probabilities"].values()))
        overlay = Image.open(io.BytesIO(base64.b64decode(answer["attribution_png"])))
        assert overlay.size == (168, 168) and overlay.mode == "RGB"
        assert list(answer["feature_maps_png"]) == ["conv1", "conv2", "conv3", "conv4"]
        conv1 = Image.open(io.BytesIO(base64.b64decode(answer["feature_maps_png"]["conv1"])))
        assert conv1.width > conv1.height > 0  # 8 maps in one row
    with pytest.raises(Exception, match="method must be one of saliency, grad-cam, occlusion, got 'magic'"):
        client.predict(base64.b64encode(buffer.getvalue()).decode(), "magic", api_name="/explain_sketch")
    blank = io.BytesIO()
    Image.fromarray(np.full((50, 50), 255, np.uint8)).save(blank, format="PNG")
    with pytest.raises(Exception, match="drawing must show a digit, but it has no ink"):
        client.predict(base64.b64encode(blank.getvalue()).decode(), "", api_name="/explain_sketch")
    client.close()


def test_sketch_before_training_says_so_and_blank_says_nothing_drawn(url, tmp_path):
    client = Client(url, verbose=False)
    label_a, label_b, preview, note = client.predict(sketch_of(render_digit(4), tmp_path), api_name="/predict_sketch")
    assert not label_a and not label_b and preview is not None and "Train the models first" in note
    blank = np.full((280, 280), 255, np.uint8)
    _, _, preview, note = client.predict(sketch_of(blank, tmp_path), api_name="/predict_sketch")
    assert preview is None and "Nothing drawn" in note and "Draw one digit" in note
    client.close()


def test_read_digit_answers_plain_http_with_the_sketchpads_reading(url, tmp_path):
    """/read_digit: a base64 PNG in, JSON out, no file either way; the same session's models as /predict_sketch."""
    client = Client(url, verbose=False)
    http = httpx.Client(base_url=url)
    canvas = small_fixed_part(10)["images"][3]
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    body = {"data": [base64.b64encode(buffer.getvalue()).decode(), None], "session_hash": client.session_hash}

    before = http.post("gradio_api/run/read_digit", json=body).json()["data"][0]
    assert before["A"] is None and before["B"] is None and "Train the models first" in before["note"]

    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    client.predict(*settings(a=small, b=small, subset=1000), api_name="/train")
    label_a, label_b, _, _ = client.predict(sketch_of(canvas, tmp_path), api_name="/predict_sketch")
    reading = http.post("gradio_api/run/read_digit", json=body).json()["data"][0]
    for label, confidences in ((label_a, reading["A"]), (label_b, reading["B"])):
        assert max(confidences, key=confidences.get) == label["label"]
        assert sum(confidences.values()) == pytest.approx(1.0, abs=1e-4)
        assert confidences[label["label"]] == pytest.approx(label["confidences"][0]["confidence"], abs=1e-6)

    refused = http.post("gradio_api/run/read_digit", json=body | {"data": ["no picture", None]})
    assert refused.status_code == 500 and "drawing must be a base64-encoded PNG or JPEG" in refused.text
    client.close()


BAD_INPUTS = [
    (
        ("16,0,64,64", "adam", 0.001, 64, 1, False),
        4000,
        "Model A · conv 2 channels must be a whole number from 1 to 1024, got 0",
    ),
    (("16,32,,64", "adam", 0.001, 64, 1, False), 4000, "Model A · conv channels: give 4 whole numbers"),
    (("16,32,64,64", "adam", 0, 64, 1, False), 4000, "Model A · learning_rate must be above 0 and at most 10, got 0"),
    (
        ("16,32,64,64", "adam", 0.001, 512, 1, False),
        300,
        "model A: batch_size must be from 1 to 300 (the training set size), got 512",
    ),
    (("16,32,64,64", "adam", "fast", 64, 1, False), 4000, "Model A · learning_rate must be a number, got 'fast'"),
    (
        ("16,x,64,64", "adam", 0.001, 64, 1, False),
        4000,
        "Model A · conv 2 channels must be a whole number from 1 to 1024, got 'x'",
    ),
]


def test_bad_input_is_refused_with_a_readable_message_and_keeps_trained_models(url, tmp_path):
    client = Client(url, verbose=False)
    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    client.predict(*settings(a=small, b=small, subset=1000), api_name="/train")
    drawing = sketch_of(render_digit(2), tmp_path)
    before = client.predict(drawing, api_name="/predict_sketch")
    for a, subset, says in BAD_INPUTS:
        with pytest.raises(Exception) as info:
            client.predict(*settings(a=a, subset=subset), api_name="/train")
        assert says in str(info.value)
    assert client.predict(drawing, api_name="/predict_sketch")[:2] == before[:2]  # the same trained models answer
    client.close()


def test_a_preset_is_trained_as_picked(url):
    client = Client(url, verbose=False)
    tiny = PRESETS["tiny"].spec
    inputs = [
        *column("", "adam", 0.003, 128, 1, preset="tiny"),
        *column("8,8,8,8", "adam", 0.003, 128, 1, schedule="onecycle"),
        *run_values(2000, 1),
        False,
    ]
    final = client.predict(*inputs, api_name="/train")
    assert next(r for r in final[SUMMARY]["data"] if r[0] == "parameters")[1] == f"{tiny.model.param_count:,}"
    with pytest.raises(Exception, match="Architecture: must be one of custom, .*, got 'resnet'"):
        client.predict(
            *[*column("", "adam", 0.003, 128, 1, preset="resnet")] + inputs[MODEL_FIELDS:], api_name="/train"
        )
    client.close()


def test_builder_layers_train_and_an_invalid_stack_is_refused_with_its_sentence(url):
    client = Client(url, verbose=False)
    stack = (Conv(8, 5, 1, 2), Pool(), Conv(16), Activation("gelu"), Pool(), Flatten(), Dropout(0.2), Linear(32))
    good = column("", "adam", 0.003, 100, 1, preset="builder", layers=layers_to_json(stack))
    final = client.predict(
        *good, *column("4,4,4,4", "adam", 0.003, 100, 1), *run_values(1000, 1), False, api_name="/train"
    )
    assert next(r for r in final[SUMMARY]["data"] if r[0] == "parameters")[1] == f"{ModelConfig(stack).param_count:,}"
    bad = layers_to_json((Conv(8), Pool(), Pool(), Pool(), Conv(8, kernel=5, padding=0)))
    with pytest.raises(Exception) as info:
        client.predict(
            *good,
            *column("", "adam", 0.003, 100, 1, preset="builder", layers=bad),
            *run_values(1000, 1),
            False,
            api_name="/train",
        )
    assert (
        "Model B · layer 5, conv 5x5, 8 channels: its input is only 3x3; use a smaller kernel, padding, or remove a pooling layer above"
        in str(info.value)
    )
    client.close()


def test_share_token_and_exported_file_hold_the_exact_setup(url):
    client = Client(url, verbose=False)
    stack = (Conv(6, 5, 1, 2), Pool("avg"), Flatten(), Linear(50))
    values = [
        *column("8, 16, 32, 32", "sgd", 0.02, 32, 3, True, schedule="onecycle"),
        *column("", "adamw", 0.004, 256, 2, preset="builder", layers=layers_to_json(stack)),
        *run_values(5000, 4, "fashion_mnist", 42, "cpu", "fp32", 500, False),
    ]
    expected = ExperimentConfig(
        ModelSpec(ModelConfig.from_conv_channels([8, 16, 32, 32]), TrainConfig("sgd", 0.02, 32, 3, True, "onecycle")),
        ModelSpec(ModelConfig(stack), TrainConfig("adamw", 0.004, 256, 2)),
        RunConfig("fashion_mnist", 5000, 42, "cpu", "fp32", 4, 500, False),
    )
    assert experiment_from_token(client.predict(*values, api_name="/share_token")) == expected
    exported = client.predict(*values, api_name="/export_setup")
    assert ExperimentConfig.from_json(Path(exported).read_text()) == expected
    everything = ExperimentConfig(
        ModelSpec(
            ModelConfig(stack),
            TrainConfig(
                "rmsprop", 0.002, 32, 4, ("elastic", "erase"), "step", 0.001, 0.5, alpha=0.9, gamma=0.3, decay_every=2
            ),
        ),
        ModelSpec(
            train=TrainConfig(
                "sgd", 0.05, nesterov=True, loss="hinge", normalize=False, early_stopping="val_accuracy", patience=3
            )
        ),
        RunConfig(train_subset=8000, validation_size=1000, identical_init=False),
    )
    assert experiment_from_token(client.predict(*api_values(everything), api_name="/share_token")) == everything
    with pytest.raises(Exception, match="Cannot share this setup yet: Model A · conv 1 channels"):
        client.predict(*column("0,1,1,1", "adam", 0.001, 64, 1), *values[MODEL_FIELDS:], api_name="/share_token")
    client.close()


def test_two_clients_train_at_once_and_see_only_their_own_results(url):
    configs = {
        "wide": settings(a=("32,32,64,64", "adam", 0.001, 64, 1, False), subset=2000),
        "tiny": settings(
            a=("4,4,8,8", "sgd", 0.05, 100, 1, False), b=("4,8,8,8", "rmsprop", 0.001, 50, 1, False), subset=1000
        ),
    }
    finals = {}

    def run(name):
        client = Client(url, verbose=False)
        finals[name] = client.predict(*configs[name], api_name="/train")
        client.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    params = {
        name: next(r for r in final[SUMMARY]["data"] if r[0] == "parameters")[1:] for name, final in finals.items()
    }

    def count(channels):
        return f"{ModelConfig.from_conv_channels(channels).param_count:,}"

    assert params["wide"] == [count([32, 32, 64, 64]), count([8, 16, 32, 32])]
    assert params["tiny"] == [count([4, 4, 8, 8]), count([4, 8, 8, 8])]
    assert "2,000 train" in finals["wide"][STATUS] and "1,000 train" in finals["tiny"][STATUS]
    assert (
        "] 32 steps on" in finals["wide"][LOG_A].splitlines()[-1]
        and "] 10 steps on" in finals["tiny"][LOG_A].splitlines()[-1]
    )


@pytest.mark.parametrize("where", [[], ["--train-in-threads"]], ids=["worker process", "server thread"])
def test_a_cancelled_run_frees_its_training_slot(playground, wait_until, where):
    """A closed tab cancels the stream: the run must stop, or the next user would queue behind it."""
    url, _ = playground("--max-concurrent-trainings", "1", *where)
    first, second = Client(url, verbose=False), Client(url, verbose=False)
    long_run = first.submit(*settings(a=("16,32,64,64", "adam", 0.001, 16, 20, False), subset=0), api_name="/train")
    wait_until(lambda: len(long_run.outputs()) >= 3, 60, "the long run's first updates")
    long_run.cancel()
    started = time.perf_counter()
    small = ("4,4,4,4", "adam", 0.003, 100, 1, False)
    final = second.predict(*settings(a=small, b=small, subset=500), api_name="/train")
    assert final[STATUS].startswith("**Finished**") and time.perf_counter() - started < 60
    first.close()
    second.close()


def test_starts_offline_on_the_shipped_sample_and_share_offline_serves_locally(playground):
    url, output = playground("--share")
    assert "--share needs the internet" in output and "serving locally" in output
    client = Client(url, verbose=False)
    small = ("8,8,16,16", "adam", 0.002, 128, 1, False)
    final = client.predict(*settings(subset=0, a=small, b=small), api_name="/train")
    assert "MNIST sample, 10,000 train / 2,000 test, offline" in final[STATUS]
    assert test_accuracy(final[SUMMARY], "A") > 0.8
    client.close()


def test_advanced_options_train_then_continue_roll_back_and_cross_validate(url):
    client = Client(url, verbose=False)
    a = column(
        "8,8,16,16",
        "adam",
        0.003,
        100,
        3,
        ("rotate", "erase"),
        schedule="cosine",
        warmup_epochs=0.5,
        early_stopping="val_loss",
        patience=1,
    )
    b = column("8,8,16,16", "sgd", 0.05, 100, 2, loss="label_smoothing", nesterov=True, normalize=False)
    final = client.predict(*a, *b, *run_values(1500, 1, validation=500), False, api_name="/train")
    rows = {r[0]: r[1:] for r in final[SUMMARY]["data"]}
    assert rows["validation accuracy"][0].endswith("%") and rows["validation accuracy"][1].endswith("%")
    assert "1,000 train / 500 validation" in final[STATUS]
    rates = {
        name: [row[1] for row in final[plot]["data"] if row[1] is not None]
        for name, plot in (("A", LEARNING_RATE_A), ("B", LEARNING_RATE_B))
    }
    assert (
        max(rates["A"]) == pytest.approx(0.003, rel=0.05) and rates["A"][-1] < 0.0003
    )  # cosine: from the peak down to about 0
    assert set(rates["B"]) == {0.05}
    saved = final[CHECKPOINTS]["data"]
    assert [row[:2] for row in saved if row[0] == "B"] == [["B", 2 - 1], ["B", 2]]
    epochs_a = int(rows["epochs trained"][0])

    more = client.predict(1, False, api_name="/continue_training")
    assert more[STATUS].startswith("**Finished**")
    after = {r[0]: r[1:] for r in more[SUMMARY]["data"]}
    assert int(after["epochs trained"][1]) == 3 and [row[1] for row in more[CHECKPOINTS]["data"] if row[0] == "B"] == [
        1,
        2,
        3,
    ]
    assert int(after["epochs trained"][0]) >= epochs_a

    note, *page = client.predict("B", 1, False, api_name="/roll_back")
    summary, checkpoints, loss = page[SUMMARY], page[CHECKPOINTS], page[LOSS]
    assert (
        max(row[0] for row in loss["data"] if row[2] == "B" and row[1] is not None) <= 1000
    )  # B's curve ends at its epoch 1
    assert "Model B is back at the end of epoch 1" in note and "rolled back to epoch 1" in str(summary["data"])
    assert [row[1] for row in checkpoints["data"] if row[0] == "B" and row[-1]] == [1]  # epoch 1 is now the current one
    with pytest.raises(Exception, match=r"epoch must be one of the saved epochs \(1, 2, 3\), got 7"):
        client.predict("B", 7, False, api_name="/roll_back")
    with pytest.raises(Exception, match="more epochs must be from 1 to 50, got 0"):
        client.predict(0, False, api_name="/continue_training")

    cv_note, folds = client.predict(
        *a, *b, *run_values(1500, 1, validation=500), "B", 3, 900, api_name="/cross_validate"
    )
    assert (
        "3-fold cross-validation on 900 training images" in cv_note
        and "mean validation accuracy" in cv_note
        and "±" in cv_note
    )
    assert [row[0] for row in folds["data"]] == ["1 of 3", "2 of 3", "3 of 3"]
    with pytest.raises(Exception, match="Cross-validation · folds must be a whole number from 2 to 10, got 12"):
        client.predict(*a, *b, *run_values(1500, 1), "A", 12, 900, api_name="/cross_validate")
    client.close()


def test_early_stopping_without_validation_images_and_checkpoints_before_training_are_refused_by_name(url):
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="Train the models first: there are no saved epochs yet"):
        client.predict("A", 1, False, api_name="/roll_back")
    with pytest.raises(Exception, match="Train the models first: there is nothing to continue yet"):
        client.predict(1, False, api_name="/continue_training")
    a = column("8,8,16,16", "adam", 0.003, 100, 2, early_stopping="val_accuracy")
    with pytest.raises(
        Exception, match="model A: early_stopping needs a validation split: set validation images from 1 to 999"
    ):
        client.predict(*a, *column("8,8,16,16", "adam", 0.003, 100, 1), *run_values(1000, 1), False, api_name="/train")
    client.close()


# Floors measured on this machine (2 CPU cores, offline sample and full MNIST, seeds 0-2, 10,000 training images,
# one epoch): A 95.6-97.0 %, B 92.9-94.8 % test accuracy; chance is 10 %. A stalled model stays near 10 %.
DEFAULT_PAIR_IMAGES = 10_000
DEFAULT_PAIR_FLOORS = {"A": 0.93, "B": 0.88}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_page_default_pair_learns_for_every_seed(url, seed):
    setup = default_experiment(seed)
    setup = replace(setup, run=replace(setup.run, train_subset=DEFAULT_PAIR_IMAGES))
    client = Client(url, verbose=False)
    final = client.predict(*api_values(setup), False, api_name="/train")
    rows = {r[0]: r[1:] for r in final[SUMMARY]["data"]}
    assert rows["learning"] == ["yes", "yes"] and "not learning" not in final[STATUS]
    for name, floor in DEFAULT_PAIR_FLOORS.items():
        assert test_accuracy(final[SUMMARY], name) > floor, (seed, name, rows["test accuracy"])
    client.close()


def test_a_model_that_does_not_learn_is_named_in_the_status_log_and_table(url):
    """Adam at 0.1 kills a plain ReLU net's units; the page says so, with the likely cause, and A is not flagged."""
    setup = default_experiment()
    stalled = replace(setup.b, train=replace(setup.b.train, optimizer="adam", learning_rate=0.1, batch_size=16))
    setup = replace(setup, b=stalled, run=replace(setup.run, train_subset=16 * 400))
    client = Client(url, verbose=False)
    final = client.predict(*api_values(setup), False, api_name="/train")
    rows = {r[0]: r[1:] for r in final[SUMMARY]["data"]}
    assert rows["learning"][0] == "yes" and rows["learning"][1].startswith("NO: Model B is not learning")
    assert "⚠ Model B is not learning" in final[STATUS] and "Adam at 0.1 can push a plain ReLU net" in final[STATUS]
    assert "WARNING: Model B is not learning" in final[LOG_B] and "not learning" not in final[LOG_A]
    client.close()


def seeded_setup_with_dropout_and_augmentation() -> ExperimentConfig:
    net = ModelConfig(
        (
            Conv(8),
            Activation("relu"),
            Pool(),
            Dropout(0.3),
            Conv(16),
            Activation("relu"),
            Pool(),
            Flatten(),
            Dropout(0.5),
            Linear(32),
        )
    )
    train = TrainConfig("adam", 0.003, 50, 1, augment=("rotate", "shift", "erase"))
    return ExperimentConfig(
        ModelSpec(net, train),
        ModelSpec(net, replace(train, optimizer="sgd", learning_rate=0.02)),
        RunConfig(train_subset=1500, seed=11),
    )


def test_a_seeded_run_gives_the_same_curves_alone_and_beside_another_session(url):
    """Every random draw (init, order, augmentation, dropout) comes from the run's own generators, and every run
    trains on all the cores (runs at once take turns on them): two sessions training the same setup at the same time
    get exactly the curves of the same setup trained alone."""
    setup = seeded_setup_with_dropout_and_augmentation()
    setup = replace(setup, run=replace(setup.run, train_subset=6000))  # runs of seconds: the two surely overlap
    values = [*api_values(setup), False]
    alone = Client(url, verbose=False).predict(*values, api_name="/train")
    finals = {}

    def run(name):
        client = Client(url, verbose=False)
        finals[name] = client.predict(*values, api_name="/train")
        client.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert set(finals) == {"first", "second"}
    threads = re.search(r"CPU \(\d+ threads?\)", alone[STATUS])
    assert threads, alone[STATUS]
    for final in finals.values():
        assert final[LOSS]["data"] == alone[LOSS]["data"] and len(alone[LOSS]["data"]) > 20
        assert final[SUMMARY]["data"][0] == alone[SUMMARY]["data"][0]  # test accuracy of both models
        assert threads[0] in final[STATUS]  # the page says each run trained on all the cores, as the one alone
    assert any("took turns on the CPU's cores" in final[LOG_A] for final in finals.values())  # why it took longer


def test_train_setup_takes_the_exported_json_and_gives_the_curves_of_train(url):
    setup = seeded_setup_with_dropout_and_augmentation()
    client = Client(url, verbose=False)
    by_values = client.predict(*api_values(setup), False, api_name="/train")
    exported = Path(client.predict(*api_values(setup), api_name="/export_setup")).read_text()
    by_json = client.predict(exported, False, api_name="/train_setup")
    assert (
        by_json[LOSS]["data"] == by_values[LOSS]["data"]
        and by_json[SUMMARY]["data"][0] == by_values[SUMMARY]["data"][0]
    )
    token = client.predict(*api_values(setup), api_name="/share_token")
    assert client.predict(token, False, api_name="/train_setup")[LOSS]["data"] == by_values[LOSS]["data"]
    with pytest.raises(Exception, match="setup · share link: the setup in this link is damaged"):
        client.predict("not-a-setup", False, api_name="/train_setup")
    client.close()


def test_repeat_with_seeds_ends_with_a_verdict_and_its_run_joins_a_leaderboard(url):
    client = Client(url, verbose=False)
    small = ("4,8,8,8", "adam", 0.003, 100, 1, False)
    setup = settings(a=small, b=small, subset=600)[:-1]  # the setup's values, without the chart's range
    verdict, table = client.predict(*setup, 2, api_name="/repeat_with_seeds")
    assert re.match(
        r"\*\*(no measurable difference over 2 seeds|[AB] beats [AB] by [\d.]+ ± [\d.]+ pp over 2 seeds)", verdict
    )
    assert [row[0] for row in table["data"]] == ["Model A", "Model B"]
    assert all(len(row[2].split(", ")) == 2 for row in table["data"])  # one accuracy per seed
    with pytest.raises(Exception, match="seeds must be a whole number from 2 to 20, got 40"):
        client.predict(*setup, 40, api_name="/repeat_with_seeds")

    record = client.predict("Ada", api_name="/export_record")  # the latest seed's run, for the class leaderboard
    board = client.predict([handle_file(record)], "accuracy per MFLOP", api_name="/import_records")
    assert [row[1] for row in board["data"]] == ["Ada", "Ada"]
    with pytest.raises(Exception, match="name must be 1 to 60 characters"):
        client.predict("", api_name="/export_record")
    client.close()


def test_an_uploaded_dataset_trains_through_the_api_and_its_class_names_come_back(url, mnist, tmp_path):
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="upload a .zip or .npz in the Data tab first"):
        client.predict(*settings(dataset="custom"), api_name="/train")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/huge.png", bytes(20 * 2**20))
    with pytest.raises(Exception, match="zip bomb"):
        client.predict(handle_file(str(bomb)), 0, api_name="/upload_dataset")
    summary, counts, *_ = client.predict(
        handle_file(str(digits_zip(tmp_path / "three digits.zip", mnist, per_class=150))), 0, api_name="/upload_dataset"
    )
    assert "three digits, 375 train / 75 test, uploaded" in summary and "28x28 pixels, grey, in 3 classes" in summary
    assert [row[0] for row in counts["data"]] == ["one", "seven", "zero"]
    small = ("8,8,16,16", "adam", 0.003, 25, 3, False)
    final = client.predict(*settings(a=small, b=small, subset=0, dataset="custom"), api_name="/train")
    assert test_accuracy(final[SUMMARY], "A") > 0.8 and "three digits" in final[STATUS]
    assert "true: seven" in final[RESULTS] and "true: 7" not in final[RESULTS]
    seven = class_images(mnist, {"seven": 7}, 1, offset=700)["seven"][0]
    photo = tmp_path / "my seven.png"
    Image.fromarray(255 - np.kron(seven, np.ones((6, 6), np.uint8))).save(photo)  # dark on white, as on paper
    label_a, label_b, preview, note = client.predict(handle_file(str(photo)), api_name="/predict_image")
    assert label_a["label"] == "seven" and {c["label"] for c in label_b["confidences"]} == {"one", "seven", "zero"}
    client.close()


REAL_CIFAR = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "cifar10-jpeg.zip")


@pytest.mark.skipif(not os.path.isfile(REAL_CIFAR), reason="needs cifar10-jpeg.zip in the CNN_LAB_DATA folder")
def test_the_real_cifar10_zip_uploads_within_the_limits_and_trains(url):
    """All of CIFAR-10 as JPEG class folders (65 MB, 60,000 images) is what a user may upload: it passes the upload's
    limits, keeps its train/test split and its class names, and a bounded run learns it."""
    client = Client(url, verbose=False)
    summary, counts, *_ = client.predict(handle_file(REAL_CIFAR), 0, api_name="/upload_dataset")
    assert "cifar10-jpeg, 50,000 train / 10,000 test, uploaded" in summary, summary
    assert "32x32 pixels, colour (red, green, blue), in 10 classes" in summary, summary
    assert [row[0] for row in counts["data"]] == list(DATASET_INFO["cifar10"].class_names)  # its folders' names
    small = ("16,32,32,64", "adam", 0.002, 64, 1, False)
    final = client.predict(*settings(a=small, b=small, subset=4000, dataset="custom"), api_name="/train")
    assert test_accuracy(final[SUMMARY], "A") > 0.25 and "cifar10-jpeg" in final[STATUS]
    classes = DATASET_INFO["cifar10"].class_names
    assert any(f"true: {name}" in final[RESULTS] for name in classes) and "true: 0" not in final[RESULTS]
    client.close()


REAL_QUICKDRAW = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "quickdraw7.npz")


@pytest.mark.skipif(not os.path.isfile(REAL_QUICKDRAW), reason="needs quickdraw7.npz in the CNN_LAB_DATA folder")
def test_quickdraw_trains_as_a_built_in_dataset_and_reads_sketches_drawn_on_the_pad(url, tmp_path):
    """Quick, Draw! picked like any dataset: the default pair trains on its real sketches, and held-out sketches
    redrawn as on the sketchpad (any size and place, the 14 px brush) go through /predict_sketch and come back
    read by name, as often as the model's test accuracy lets (binomial bound)."""
    client = Client(url, verbose=False)
    a, b = (("8,16,32,32", "adam", 0.001, 64, 2, False), ("8,16,32,32", "sgd", 0.01, 64, 2, False))  # the page's pair
    final = client.predict(*settings(a=a, b=b, subset=0, dataset="quickdraw"), api_name="/train")
    assert "Quick, Draw! (7 sketches)" in final[STATUS], final[STATUS]
    names = DATASET_INFO["quickdraw"].class_names
    accuracy_a = test_accuracy(final[SUMMARY], "A")
    assert accuracy_a > 0.7 and any(f"true: {name}<" in final[RESULTS] for name in names)
    with np.load(REAL_QUICKDRAW) as npz:
        bitmaps, labels = npz["x_test"], npz["y_test"]
    rng = np.random.default_rng(1)
    picked = [int(i) for k in range(7) for i in np.flatnonzero(labels == k)[:5]]  # 5 a class
    right = 0
    for i in picked:
        label_a, label_b, _, note = client.predict(
            sketch_of(on_canvas(bitmaps[i], rng), tmp_path, f"sketch {i}.png"), api_name="/predict_sketch"
        )
        assert (
            {c["label"] for c in label_a["confidences"]} == set(names) == {c["label"] for c in label_b["confidences"]}
        )
        right += label_a["label"] == names[labels[i]]
    # the canvas reading runs 2-4 points under the test accuracy (benchmarks/quickdraw_reading.py)
    assert right >= fewest_right(len(picked), accuracy_a - 0.05), (right, accuracy_a)
    client.close()


def test_programs_read_another_dataset_and_each_whole_model_with_plain_data(url, tmp_path):
    """Refused by name before training (the attack also before a drawing); then, one run later, /cross_reading on
    an upload of other writers' digits (the real drawings, shrunk to 28x28 as they come), and /learned_space,
    /robustness, /adversarial, /weights_over_time and /loss_line about both models."""
    client = Client(url, verbose=False)
    for endpoint in ("/robustness", "/weights_over_time", "/loss_line"):
        with pytest.raises(Exception, match="nothing to inspect yet"):
            client.predict(api_name=endpoint)
    for endpoint, argument in (("/cross_reading", "mnist"), ("/learned_space", "pca"), ("/adversarial", "pgd")):
        with pytest.raises(Exception, match="nothing to inspect yet"):
            client.predict(argument, api_name=endpoint)
    small = ("8,16,16,32", "adam", 0.002, 64, 2, False)
    client.predict(*settings(a=small, b=small, subset=4000), api_name="/train")
    with pytest.raises(Exception, match="drawing: draw on the sketchpad beside the results"):
        client.predict("pgd", api_name="/adversarial")
    with pytest.raises(Exception, match="method must be one of pca, tsne"):
        client.predict("umap", api_name="/learned_space")
    with pytest.raises(Exception, match="the models were trained on MNIST; pick another dataset"):
        client.predict("mnist", api_name="/cross_reading")

    drawn = real_drawing_set()
    x = np.stack([np.asarray(Image.fromarray(255 - c).resize((28, 28), Image.BILINEAR)) for c in drawn["images"]])
    np.savez(tmp_path / "other writers.npz", x=x, y=drawn["labels"], class_names=np.array([str(d) for d in range(10)]))
    client.predict(handle_file(str(tmp_path / "other writers.npz")), 0, api_name="/upload_dataset")
    reading = client.predict("custom", api_name="/cross_reading")
    assert reading["trained_on"] == "MNIST" and reading["read"] == "other writers"
    assert reading["class_names"] == [str(d) for d in range(10)] and 0 < sum(reading["images"]) < len(drawn["labels"])
    for name in "AB":
        assert reading["own_accuracy"][name] > 0.85 and reading["accuracy"][name] < reading["own_accuracy"][name]
        assert len(reading["per_class_accuracy"][name]) == 10

    client.predict(sketch_of(render_digit(3), tmp_path), api_name="/predict_sketch")
    space = client.predict("", api_name="/learned_space")
    assert space["method"] == "pca" and len(space["labels"]) == len(space["points"]["A"]) == SPACE_IMAGES
    assert len(space["drawing"]["B"]) == 2 and 0 < space["explained_variance"]["A"] <= 1
    curves = client.predict(api_name="/robustness")
    assert set(curves["levels"]) == {"shift", "rotate", "scale", "blur", "noise", "occlude"}
    assert curves["accuracy"]["shift"]["A"][0] > curves["accuracy"]["shift"]["A"][-1] and "words" in curves
    fooled = client.predict("pgd", api_name="/adversarial")
    for name in "AB":
        flip = fooled["models"][name]
        assert flip["before"] != flip["after"] and 0 < flip["epsilon"] < 1 and flip["perturbed_png"]
        assert fooled["budget_accuracy"][name]["attacked"] < fooled["budget_accuracy"][name]["plain"]
    weights = client.predict(api_name="/weights_over_time")
    assert weights["A"]["epochs"] == [0, 1, 2] and weights["B"]["layers"][0]["layer"]
    line = client.predict(api_name="/loss_line")
    for name in "AB":
        at = line[name]["alphas"]
        assert line[name]["test_loss"][at.index(1.0)] < line[name]["test_loss"][at.index(0.0)]
    client.close()


def test_a_26_class_upload_trains_through_the_api_and_inspect_names_every_class(url, mnist, tmp_path):
    client = Client(url, verbose=False)
    x, y, names = twenty_six_classes(mnist, per_class=30)
    np.savez(tmp_path / "twenty six.npz", x=x, y=y, class_names=np.array(names))
    summary, counts, *_ = client.predict(handle_file(str(tmp_path / "twenty six.npz")), 0, api_name="/upload_dataset")
    assert "in 26 classes" in summary and len(counts["data"]) == 26
    small = ("8,8,16,16", "adam", 0.003, 32, 2, False)
    final = client.predict(*settings(a=small, b=small, subset=0, dataset="custom"), api_name="/train")
    assert test_accuracy(final[SUMMARY], "A") > 3 / 26  # above chance
    scores = client.predict(api_name="/inspect_test_set")
    assert scores["class_names"] == names and len(scores["confusion"]["A"]) == 26
    assert sum(f"true: {name}<" in final[RESULTS] for name in names) >= 8  # names, not numbers, under the images
    client.close()


def test_a_guided_experiment_trained_through_the_api_is_explained_from_its_numbers(url):
    client = Client(url, verbose=False)
    setup = guided_setup("learning rate")
    setup = replace(setup, run=replace(setup.run, train_subset=2_000))  # shorter, the same one change
    final = list(client.submit(setup.to_json(), False, api_name="/train_setup"))[-1]
    words = client.predict("learning rate", api_name="/guided_result")
    shown = [f"{test_accuracy(final[SUMMARY], name):.2%}" for name in "AB"]
    assert f"B (learning rate changed) reached {shown[1]} test accuracy, A {shown[0]}" in words
    assert "seed noise" in words
    assert "not this experiment" in client.predict("batch size", api_name="/guided_result")
    client.close()
