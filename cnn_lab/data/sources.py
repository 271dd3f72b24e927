"""Where a dataset's files may come from: the folder the user names, and whether the download mirror answers.

Kept apart from datasets.py, which needs torch, so the command line can name the variable in its --help and
probe the network without loading torch."""

from __future__ import annotations

import socket
import threading
import urllib.parse

DATA_DIR_ENV = "CNN_LAB_DATA"
OFFLINE_ENV = "CNN_LAB_OFFLINE"  # set to 1 to never try a download
PROBE_TIMEOUT_S = 3.0


def reachable(url: str, timeout: float | None = None) -> bool:
    """Can we open a TCP connection to the mirror? Bounded in time (PROBE_TIMEOUT_S) even when DNS hangs."""
    timeout = PROBE_TIMEOUT_S if timeout is None else timeout
    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((parsed.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
