"""A streamed /train call as the page's JavaScript makes it, for timing the app without a heavy client.

The browser joins Gradio's queue (POST /gradio_api/queue/join), reads the
server-sent events of /gradio_api/queue/data, and applies each update's
diffs to the outputs it holds. gradio_client does the same but deep-copies
every output on every diff (py-spy: about 0.3 s of CPU per 13-update run
on this machine, taken from the training it is timing); this client
applies them in place. The server's side of the call is the browser's.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx


def apply_diff(value, diff: list) -> object:
    """Gradio's streamed-output diff ([action, path, value] edits) applied to ``value`` in place."""
    for action, path, new in diff:
        if not path:
            value = new if action == "replace" else value + new
            continue
        target = value
        for key in path[:-1]:
            target = target[key]
        key = path[-1]
        if action == "replace":
            target[key] = new
        elif action == "append":
            target[key] += new
        elif action == "add":
            if isinstance(target, list):
                target.insert(int(key), new)
            else:
                target[key] = new
        elif action == "delete":
            del target[int(key) if isinstance(target, list) else key]
        else:
            raise ValueError(f"unknown diff action {action!r}")
    return value


class PageClient:
    """One page's session on a running playground: call an endpoint by its API name, get every update it streams."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=None)
        self.session_hash = uuid.uuid4().hex[:11]
        config = self.http.get("config").raise_for_status().json()
        states = {c["id"] for c in config["components"] if c.get("type") == "state"}
        self.endpoints = {  # API name: (fn_index, for each input whether it is a gr.State the page sends as null)
            d["api_name"]: (d["id"], [i in states for i in d["inputs"]])
            for d in config["dependencies"]
            if d.get("api_name")
        }

    def stream(self, api_name: str, inputs: list) -> list[list]:
        """A list of the outputs after each update (diffs are applied in place, as the page applies them, so an
        output changed later is shared and shows its last value); raises on the app's error. ``self.arrived`` then
        holds each update's arrival (time.perf_counter()), and ``self.first_data`` the arrival of the first update
        whose output at each index held data, with rows (a chart's first points)."""
        fn_index, is_state = self.endpoints[api_name]
        values = iter(inputs)
        data = [None if state else next(values) for state in is_state]
        body = {"data": data, "fn_index": fn_index, "session_hash": self.session_hash}
        body |= {"event_data": None, "trigger_id": None}
        self.http.post("gradio_api/queue/join", json=body).raise_for_status()
        outputs, updates = None, []
        self.arrived, self.first_data = [], {}
        with self.http.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session_hash}) as reply:
            for line in reply.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                if kind == "process_generating" or kind == "process_completed":
                    output = message["output"]
                    if not message.get("success", True) or output.get("error"):
                        raise RuntimeError(f"{api_name} failed: {output.get('error')}")
                    data = output["data"]
                    if kind == "process_generating" and outputs is not None:
                        outputs = [apply_diff(old, diff) for old, diff in zip(outputs, data)]
                    elif kind == "process_generating" or outputs is None or data:
                        outputs = data
                    updates.append(list(outputs))
                    self.arrived.append(time.perf_counter())
                    for index, value in enumerate(outputs):
                        if isinstance(value, dict) and value.get("data") and index not in self.first_data:
                            self.first_data[index] = self.arrived[-1]
                    if kind == "process_completed":
                        return updates
        raise RuntimeError(f"{api_name}: the stream ended without a result")

    def close(self) -> None:
        self.http.close()
