"""A training generator on a thread of its own, its events relayed to whoever reads them (a web handler)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from .events import Event

_DONE = object()


def in_background(events: Iterator[Event], poll_s: float) -> Iterator[Event | None]:
    """Run a training generator on its own thread and relay its events; yields None after `poll_s` of silence.

    Driven directly by a web handler, the trainer would pause whenever the
    handler is busy sending a page update; on its own thread it never waits.
    Closing this generator does not stop the run: set the run's stop event.
    """
    relay: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            for event in events:
                relay.put(event)
        except BaseException as err:  # handed to the consumer, raised there
            relay.put(err)
        finally:
            relay.put(_DONE)

    threading.Thread(target=work, name="cnn_lab-training", daemon=True).start()
    while True:
        try:
            item = relay.get(timeout=poll_s)
        except queue.Empty:
            yield None
            continue
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
