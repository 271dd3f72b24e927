"""The benchmark's page client applies Gradio's streamed diffs as gradio_client does, without its copies."""

from __future__ import annotations

import copy

from gradio.utils import diff
from gradio_client.utils import apply_diff as client_apply_diff

from benchmarks.page_client import apply_diff


def test_diffs_made_by_gradio_apply_as_gradio_client_applies_them():
    states = [
        {"columns": ["x", "loss"], "data": [[0.0, None]], "datatypes": {"x": "quantitative"}},
        {"columns": ["x", "loss"], "data": [[0.0, None], [64.0, 2.3]], "datatypes": {"x": "quantitative"}},
        {"columns": ["x", "loss"], "data": [[0.0, None], [64.0, 2.1], [128.0, 1.9]], "datatypes": {}},
        {"__type__": "update"},
        "**Finished** · 4.2 s",
        ["a", "b"],
        ["a", "c", "d"],
        ["a"],
        None,
    ]
    mine = copy.deepcopy(states[0])
    for old, new in zip(states, states[1:]):
        edits = diff(old, new)
        expected = client_apply_diff(copy.deepcopy(old), edits)
        mine = apply_diff(mine, edits)
        assert mine == expected == new
