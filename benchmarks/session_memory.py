"""Does the server's memory come back when users leave? `python -m benchmarks.session_memory`

Launches the playground as a user does, lets one session train and leave (the data is loaded, the
kernels are warm: that is the baseline), then 10 sessions, two at a time, each with a browser-like tab
(Gradio's heartbeat) that trains a pair and closes. Prints the server's memory at each point (RSS of the
server process, and PSS of the server with its fork server and training workers), the goal being the
server back within 100 MB of its baseline. With `--stay`, the tabs never close: what was kept before
sessions were forgotten.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from pathlib import Path

import httpx
import psutil
from gradio_client import Client

from benchmarks.run import playground_server
from cnn_lab.config import ExperimentConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.ui import api_values

SESSIONS = 10
GOAL_MB = 100
SETUP = ExperimentConfig(
    ModelSpec(train=TrainConfig(epochs=3)), ModelSpec(train=TrainConfig(epochs=3)), RunConfig(train_subset=3_000)
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


def a_tab(url: str, close: bool) -> None:
    """One user: a tab (heartbeat) open while a pair trains; then it closes (or, with close=False, is left open)."""
    client = Client(url, verbose=False)
    gone = threading.Event()

    def heartbeat() -> None:
        with httpx.stream("GET", f"{url.rstrip('/')}/gradio_api/heartbeat/{client.session_hash}", timeout=None) as r:
            for _ in r.iter_lines():
                if gone.is_set():
                    return

    if close:
        threading.Thread(target=heartbeat, daemon=True).start()
    client.predict(*api_values(SETUP), False, api_name="/train")
    gone.set()
    client.close()


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
        a_tab(url, close=not args.stay)
        baseline = settle(server.pid, 10)
        peak = {"server_rss_mb": 0.0}
        for _ in range(SESSIONS // 2):
            tabs = [threading.Thread(target=a_tab, args=(url, not args.stay)) for _ in range(2)]
            for tab in tabs:
                tab.start()
            while any(tab.is_alive() for tab in tabs):
                now = memory_mb(server.pid)
                peak = {k: max(peak.get(k, 0.0), v) for k, v in now.items()}
                time.sleep(0.5)
        after = settle(server.pid, 10)
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
