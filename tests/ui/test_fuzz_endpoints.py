"""Every endpoint of the launched playground, the page's private ones included (the browser calls them by index, so
anyone can), fed values a hostile or careless client might send: each answers, and no failure passes through our code
(hypothesis draws the values; a fixed seed keeps the run repeatable).

What is left in the server's log comes from Gradio itself, before any of our code runs: its check of a file or image
payload's shape (pydantic) and of a gallery or plot selection. Measured with 6 draws per endpoint: 577 tracebacks
before (Gradio's choice and number checks, and 9 places of ours), 40 after, none in our code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import cnn_lab

# What a JSON body can carry, biased to the edges: huge and fractional numbers, text where numbers go, markup,
# long strings, nesting
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "abc", "nan", "Infinity", "-1", "2.5", "<img src=x onerror=alert(1)>", "A", "B", "custom"]),
    st.text(max_size=40),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Endpoints that would start real work when the values happen to be valid are left to tests of their own
SLOW = {"train", "train_setup", "continue_training", "cross_validate", "repeat_with_seeds", "measure_costs"}

PACKAGE = Path(cnn_lab.__file__).resolve().parent  # tracebacks through its files are the app's own


@pytest.fixture(scope="module")
def server(playground):
    url, _ = playground()
    config = httpx.get(url.rstrip("/") + "/config", timeout=30).json()
    return url, config


def endpoints(config: dict) -> list[tuple[int, str, int]]:
    """(fn_index, api name, number of inputs) of every dependency with a Python function."""
    found = []
    for index, dependency in enumerate(config["dependencies"]):
        if not dependency.get("backend_fn", True) or dependency.get("api_name") in SLOW:
            continue
        found.append((dependency.get("id", index), str(dependency.get("api_name")), len(dependency["inputs"])))
    return found


def call(url: str, fn_index: int, data: list, session_hash: str) -> dict:
    """Join the queue as the page does and read the outcome from its event stream."""
    body = {"data": data, "fn_index": fn_index, "session_hash": session_hash, "trigger_id": None, "event_data": None}
    joined = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=30)
    if joined.status_code != 200:  # refused at the door (a body Gradio cannot read): an answer too
        return {"msg": "refused", "status": joined.status_code}
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session_hash}, timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    return {"msg": "stream ended"}


def test_every_endpoint_answers_whatever_it_is_sent(server, playground):
    url, config = server
    base, targets = url.rstrip("/"), endpoints(config)
    assert len(targets) > 20  # the page's buttons, tabs and uploads, not only the named API

    @seed(21)
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.data())
    def fuzz(data):
        fn_index, name, inputs = data.draw(st.sampled_from(targets))
        values = [data.draw(VALUES) for _ in range(inputs)]
        outcome = call(base, fn_index, values, session_hash="fuzz" + str(abs(hash(name)) % 1000))
        assert outcome["msg"] in ("process_completed", "refused"), (name, values, outcome)

    fuzz()
    ours = [
        block
        for block in playground.output(url).split("Traceback (most recent call last):")[1:]
        if f"{PACKAGE}{os.sep}" in block  # a file of the package (a clone's folder may be named cnn_lab too)
    ]
    assert not ours, ours[0][:4000]
