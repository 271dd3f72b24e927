"""How a tab shares with the app: each tab function returns one small frozen dataclass, a TabParts or a subclass.

The app asks nothing else of a tab: it fires ``on_open`` when the tab is selected and ``on_load`` when the page
loads, and hands a tab's shared components (the Train tab's setup inputs) to the tabs that need them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class Refresh:
    """One update a tab makes: ``handler`` reading ``inputs`` into ``outputs``; ``then``: after the update before
    it in its tuple, not beside it."""

    handler: Callable
    inputs: list
    outputs: list
    queue: bool = True
    then: bool = False


@dataclass(frozen=True)
class TabParts:
    """What any tab gives the app: the updates to make each time it is opened, and when the page loads."""

    on_open: tuple[Refresh, ...] = ()
    on_load: tuple[Refresh, ...] = ()


def fire(triggered, refreshes: tuple[Refresh, ...]) -> None:
    """Wire ``refreshes`` to an event listener (a tab's ``select``, the page's ``load``)."""
    event = None
    for r in refreshes:
        listen = event.then if r.then and event is not None else triggered
        event = listen(r.handler, r.inputs, r.outputs, api_name=False, queue=r.queue, show_progress="hidden")


def wire_tab(demo: gr.Blocks, page: gr.Tab, parts: TabParts) -> None:
    """A tab's updates: when it is opened, and when the page loads."""
    fire(page.select, parts.on_open)
    fire(demo.load, parts.on_load)
