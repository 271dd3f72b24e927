"""What one address may upload per hour to a public server: Gradio's upload route takes any file up to the size
limit from anyone, with no session, so without a quota the disk only grows (its cache is cleaned by age, an hour on
a public server).

ASGI middleware: it reads only the request's headers. An upload must say its length (browsers and gradio_client
do), and is charged that length before a byte is read; over the quota it is refused with 429 and when to try again.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque

from starlette.datastructures import Headers

from cnn_lab.ui.fair_queue import caller_address

HOUR_S = 3600.0
UPLOAD_PATH = "/gradio_api/upload"


class UploadQuota:
    """At most ``mb_per_hour`` uploaded from one address in any hour."""

    def __init__(self, app, mb_per_hour: int, behind_proxy: bool = False):
        self.app, self.limit, self.behind_proxy = app, mb_per_hour * 2**20, behind_proxy
        self._sent: defaultdict[str, deque[tuple[float, int]]] = defaultdict(deque)  # address: (when, bytes)
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith(UPLOAD_PATH):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        if not length.isdigit():
            return await _answer(send, 411, "upload: say the file's length (Content-Length); this server needs it")
        client = scope.get("client")
        address = caller_address(headers, client[0] if client else None, self.behind_proxy)
        why = self.charge(address, int(length))
        if why is not None:
            return await _answer(send, 429, why)
        return await self.app(scope, receive, send)

    def charge(self, address: str, size: int, now: float | None = None) -> str | None:
        """Count ``size`` bytes against ``address``'s hour; why not, when that would pass the quota."""
        now = time.monotonic() if now is None else now
        with self._lock:
            sent = self._sent[address]
            while sent and now - sent[0][0] > HOUR_S:
                sent.popleft()
            used = sum(size for _, size in sent)
            if used + size > self.limit:
                wait_min = max(1, round((HOUR_S - (now - sent[0][0])) / 60)) if sent else 60
                return (
                    f"upload: at most {self.limit // 2**20} MB an hour from one address on this public server; "
                    f"{used / 2**20:.0f} MB sent, this file is {size / 2**20:.1f} MB: try again in {wait_min} min"
                )
            sent.append((now, size))
        return None


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
