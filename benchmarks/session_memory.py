"""Does the server's memory come back when users leave? `python -m benchmarks.session_memory`

Launches the playground as a user does, lets one session train and leave (the data is loaded, the
kernels are warm: that is the baseline), then 10 sessions, two at a time, each a gradio_client (which holds
Gradio's heartbeat open as a browser tab does) that trains a pair and leaves. Prints the server's memory at each point (RSS of the
server process, and PSS of the server with its fork server and training workers), the goal being the
server back within 100 MB of its baseline. With `--stay`, the sessions are still open when memory is
measured: what a server keeps while its users stay.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path

import psutil
from gradio_client import Client

from benchmarks.run import playground_server
from cnn_lab.core.config import (
    Activation,
    ExperimentConfig,
    Flatten,
    Linear,
    ModelConfig,
    ModelSpec,
    RunConfig,
    TrainConfig,
)
from cnn_lab.ui import api_values

SESSIONS = 10
GOAL_MB = 100
# What the hostile probe used: an MLP of 4.9M parameters, 5 epochs (a checkpoint per epoch, each with Adam's state)
MLP = ModelConfig((Flatten(), Linear(2048), Activation(), Linear(1536), Activation()))
SETUP = ExperimentConfig(
    ModelSpec(MLP, TrainConfig(epochs=5)), ModelSpec(MLP, TrainConfig(epochs=5)), RunConfig(train_subset=3_000)
)


def memory_mb(pid: int) -> dict[str, float]:
    server = psutil.Process(pid)
    family = [server, *server.children(recursive=True)]
    pss = 0.0
    for process in family:
        try:
            pss += process.memory_full_info().pss
        except psutil.NoSuchProcess:
            pass
    return {"server_rss_mb": server.memory_info().rss / 2**20, "family_pss_mb": pss / 2**20}


def a_tab(url: str, close: bool, kept: list) -> None:
    """One user: a session that trains a pair, then leaves. A gradio_client keeps Gradio's heartbeat open while it
    lives, as a browser tab does; ``close`` ends it (as closing the tab does), else it is kept open in ``kept``."""
    client = Client(url, verbose=False)
    status = client.predict(*api_values(SETUP), False, api_name="/train")[0]
    assert status.startswith("**Finished**"), status
    if close:
        client.close()
    else:
        kept.append(client)


def settle(pid: int, seconds: float) -> dict[str, float]:
    """Memory after ``seconds`` of quiet: the median of samples over the last few seconds."""
    time.sleep(max(0.0, seconds - 3))
    samples = []
    for _ in range(6):
        time.sleep(0.5)
        samples.append(memory_mb(pid))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stay", action="store_true", help="tabs never close (what the server kept before)")
    args = parser.parse_args()
    os.environ["GRADIO_HEARTBEAT_INTERVAL"] = "1"  # the server notices a closed tab within a second
    with playground_server() as (server, url):
        started = settle(server.pid, 5)
        kept: list[Client] = []
        a_tab(url, not args.stay, kept)
        baseline = settle(server.pid, 10)
        peak = {"server_rss_mb": 0.0}
        for _ in range(SESSIONS // 2):
            tabs = [threading.Thread(target=a_tab, args=(url, not args.stay, kept)) for _ in range(2)]
            for tab in tabs:
                tab.start()
            while any(tab.is_alive() for tab in tabs):
                now = memory_mb(server.pid)
                peak = {k: max(peak.get(k, 0.0), v) for k, v in now.items()}
                time.sleep(0.5)
        after = settle(server.pid, 10)
        for client in kept:
            client.close()
    results = {
        "sessions": SESSIONS,
        "tabs_close": not args.stay,
        "at_start": started,
        "baseline_after_one_session": baseline,
        "peak_while_training": peak,
        "after_all_left": after,
        "server_rss_above_baseline_mb": after["server_rss_mb"] - baseline["server_rss_mb"],
        "goal_mb": GOAL_MB,
    }
    print(json.dumps(results, indent=2))
    verdict = "met" if results["server_rss_above_baseline_mb"] <= GOAL_MB else "NOT met"
    print(f"server RSS after {SESSIONS} sessions left: {results['server_rss_above_baseline_mb']:+.0f} MB ({verdict})")
    out = Path(__file__).parent / ("session_memory_stay.json" if args.stay else "session_memory_results.json")
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
