"""Shared fixtures: real MNIST from CNN_LAB_DATA (or the shipped sample), never a download."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two xdist workers (the README's -n 2) share the cores: each, and the servers and training processes it starts,
    # runs torch on one thread. Two threads each (and tests spread one by one, a module's server made in both
    # workers) had OpenMP's threads spin against each other's: 62 % of the suite after 13 minutes, where one process
    # takes 12:48; one thread each and a file whole in one worker (pytest.ini): 7:39-8:40 (2 cores, full MNIST).
    os.environ["OMP_NUM_THREADS"] = "1"
import pytest
import torch
from data_choice import choose_test_data

from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import Dataset, load_dataset
from cnn_lab.engine.contenders import create_contenders
from cnn_lab.engine.training import train_models

os.environ.setdefault("CNN_LAB_OFFLINE", "1")  # a test must never reach for the network
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
TEST_DATA = choose_test_data()  # cnn_lab reads CNN_LAB_DATA when it loads data, after this

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session) -> None:
    """The run's first line says which data it tests on (also under -q, which hides pytest's own header)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(TEST_DATA)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """What the tests' apps keep (the run history) goes to a folder of the test session's, never the user's cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


SCORED_TEST_IMAGES = 2_000  # as many as the shipped sample's test split holds


def scored_on(data: Dataset, images: int, seed: int = 0) -> Dataset:
    """``data`` with its test split cut to ``images`` real test images, as many of each class (a fixed draw)."""
    if len(data.test_labels) <= images:
        return data
    classes = len(data.info.class_names)
    order = torch.randperm(len(data.test_labels), generator=torch.Generator().manual_seed(seed))
    keep = torch.cat([order[data.test_labels[order] == c][: images // classes] for c in range(classes)]).sort().values
    return replace(data, test_images=data.test_images[keep], test_labels=data.test_labels[keep])


@pytest.fixture(scope="session")
def mnist_whole():
    """Full MNIST (or the shipped sample) as cnn_lab loads it, test split whole: for the tests that compare with what a
    server or a command loaded for itself."""
    return load_dataset("mnist")


@pytest.fixture(scope="session")
def mnist(mnist_whole):
    """Full MNIST's 60,000 training images when CNN_LAB_DATA points at it (otherwise the shipped offline sample),
    scored on 2,000 of its 10,000 test images, 200 of each digit: the sample's size. A run scores its whole test
    split at every epoch's end, and on full MNIST that scoring was most of the time of the engine's short test runs
    (tests/engine/test_training.py: 107 s with 10,000, 53 s with 2,000; 2 cores)."""
    return scored_on(mnist_whole, SCORED_TEST_IMAGES)


@pytest.fixture(scope="session")
def default_pair(mnist):
    """The page's default pair (presets.default_experiment) after one epoch on 10,000 training images, shared by the
    tests that read drawings with it."""
    setup = default_experiment()
    run = replace(setup.run, train_subset=10_000, evals_per_epoch=1)
    contenders = create_contenders({"A": setup.a, "B": setup.b}, run)
    for _ in train_models(contenders, run, mnist):
        pass
    return {c.name: c for c in contenders}


SERVER_START_S = 90


def wait_for(condition, timeout_s: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail (naming ``what``) after ``timeout_s``: no wait in a test is unbounded."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def wait_until():
    return wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_playground(cache: Path, *flags: str) -> tuple[subprocess.Popen, str, queue.Queue]:
    """`python playground.py` offline (the shipped sample) on a free port; returns once it serves, or after SERVER_START_S.

    A thread keeps reading the server's output, so a full pipe never stalls it and no read blocks past the deadline."""
    env = {k: v for k, v in os.environ.items() if k != "CNN_LAB_DATA"}
    env.update(XDG_CACHE_HOME=str(cache), CNN_LAB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    port = free_port()
    command = [sys.executable, "playground.py", "--host", "127.0.0.1", "--port", str(port), *flags]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    output, deadline = "", time.time() + SERVER_START_S
    while f":{port}" not in output and proc.poll() is None and time.time() < deadline:
        try:
            output += lines.get(timeout=max(0.1, min(1.0, deadline - time.time())))
        except queue.Empty:
            pass
    while not lines.empty():  # what it said before it failed, for the assertion message
        output += lines.get_nowait()
    return proc, output, lines


@pytest.fixture(scope="module")
def playground(tmp_path_factory):
    """Start `python playground.py [flags]` (offline); returns (url, what it printed). Stopped when the module ends."""
    procs, said = [], {}

    def start(*flags: str) -> tuple[str, str]:
        proc, output, lines = launch_playground(tmp_path_factory.mktemp("playground"), *flags)
        procs.append(proc)
        assert "Running on local URL:" in output, output
        url = output.split("Running on local URL:")[1].split()[0]
        said[url] = [output, lines]
        return url, output

    def output(url: str) -> str:
        """Everything the server at ``url`` has printed so far."""
        log = said[url]
        while not log[1].empty():
            log[0] += log[1].get_nowait()
        return log[0]

    start.output = output
    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
