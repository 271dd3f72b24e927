"""A queue no one client can fill: on a public server each browser session, and each address, may have only its
share of requests waiting.

Gradio's queue refuses a request only when it is full as a whole: the probe sent 22 /train_setup calls under made-up
session ids from one machine, and every other user got "503 Queue is full" on every queued event. Session ids cost
nothing to make up, so the share is counted per address too; on a Hugging Face Space every request comes through its
proxy, which puts the caller's address last in X-Forwarded-For (elsewhere that header is the caller's to forge, and
is not read). Half the queue per address leaves the other half to everyone else, and still lets a classroom behind
one school router queue several runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gradio as gr
from fastapi import HTTPException, status


def caller_address(headers: Mapping[str, str], client_host: str | None, behind_proxy: bool) -> str:
    """Where a request comes from: behind a proxy, the last address in X-Forwarded-For (the one the proxy wrote);
    elsewhere the connection's own."""
    if behind_proxy:
        forwarded = headers.get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return client_host or "unknown"


def requests(count: int) -> str:
    return f"{count} request{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class QueueShare:
    """What one session and one address may have waiting in the queue at once."""

    per_session: int
    per_address: int
    trust_forwarded: bool = False  # behind a proxy that appends the caller's address (a Space)

    @classmethod
    def of(cls, max_queue: int, trust_forwarded: bool = False) -> QueueShare:
        per_address = max(1, max_queue // 2)
        return cls(min(4, per_address), per_address, trust_forwarded)

    def address(self, request: Any) -> str:
        """Where a request comes from, as far as this server can tell."""
        client = getattr(request, "client", None)
        return caller_address(request.headers, client.host if client else None, self.trust_forwarded)

    def refusal(self, waiting: list[Any], session: str | None, address: str) -> str | None:
        """Why a new request from ``session`` at ``address`` may not wait too, or None when it may."""
        sessions = Counter(event.session_hash for event in waiting)
        addresses = Counter(self.address(event.request) for event in waiting)
        if session is not None and sessions[session] >= self.per_session:
            return (
                f"This session already has {requests(sessions[session])} waiting in the queue (at most "
                f"{self.per_session} on this public server); wait for them to finish."
            )
        if addresses[address] >= self.per_address:
            return (
                f"Your address already has {requests(addresses[address])} waiting in the queue (at most "
                f"{self.per_address} on this public server, so that others are served too); wait for them to finish."
            )
        return None


def refused_in_words(why: str, caller: str | None) -> HTTPException:
    """A refusal each Gradio client shows in words. Both turn Gradio's own "queue_full" (503) into a fixed "Queue is
    full" and drop the server's words: the page (``x-gradio-user: app``) shows the detail of any other error status,
    so it gets 429 Too Many Requests; gradio_client (``api``) keeps words only from a 422 in the shape of a
    validator's answer, so it gets one, naming the queue as the field at fault."""
    if caller == "app":
        return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=why)
    answer = [{"__type__": "validate", "is_valid": False, "parameter_name": "queue share", "message": why}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=answer)


def share_the_queue(demo: gr.Blocks, share: QueueShare) -> bool:
    """Make ``demo``'s queue (after ``demo.queue()``) refuse a request over its session's or address's share, with a
    message that says why. Returns False (and changes nothing) where this Gradio's queue has no ``push`` to wrap."""
    queue = getattr(demo, "_queue", None)
    push = getattr(queue, "push", None)
    if push is None or not hasattr(queue, "event_queue_per_concurrency_id"):
        return False

    async def fair_push(body, request, username):
        waiting = [event for line in queue.event_queue_per_concurrency_id.values() for event in line.queue]
        why = share.refusal(waiting, body.session_hash, share.address(request))
        if why is not None:
            raise refused_in_words(why, request.headers.get("x-gradio-user"))
        return await push(body, request, username)

    queue.push = fair_push
    return True
