"""A training generator on a thread of its own, its events relayed to whoever reads them (a web handler)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator

from cnn_lab.core.events import Event

_DONE = object()


def in_background(events: Generator[Event, None, object], poll_s: float) -> Generator[Event | None, None, object]:
    """Run a training generator on its own thread and relay its events; yields None after `poll_s` of silence, returns
    what the generator returns.

    Driven directly by a web handler, the trainer would pause whenever the
    handler is busy sending a page update; on its own thread it never waits.
    Closing this generator does not stop the run: set the run's stop event.
    """
    relay: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            while True:
                try:
                    relay.put(next(events))
                except StopIteration as end:
                    relay.put((_DONE, end.value))
                    return
        except BaseException as err:  # handed to the consumer, raised there
            relay.put(err)

    threading.Thread(target=work, name="cnn_lab-training", daemon=True).start()
    while True:
        try:
            item = relay.get(timeout=poll_s)
        except queue.Empty:
            yield None
            continue
        if isinstance(item, tuple) and item[0] is _DONE:
            return item[1]
        if isinstance(item, BaseException):
            raise item
        yield item
