"""A session's memory goes back when its user leaves: a closed tab (Gradio's heartbeat ends) closes the Session."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from api_inputs import STATUS, settings
from gradio_client import Client

from cnn_lab.session import Session, Workspace
from cnn_lab.ui import build_app, quiet_queue

SMALL = ("8,8,16,16", "adam", 0.002, 100, 1, False)


@pytest.fixture(scope="module")
def app():
    demo = build_app()
    demo.queue(default_concurrency_limit=16)
    quiet_queue(demo)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    yield demo, url
    demo.close()


def sessions_of(demo, session_hash: str) -> list[Session]:
    state = demo.state_holder.session_data.get(session_hash)
    return [value for value in state.state_data.values() if isinstance(value, Session)] if state else []


def test_a_closed_tab_frees_its_sessions_models_at_once(app, monkeypatch, wait_until):
    demo, url = app
    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "0.5")
    client = Client(url, verbose=False)
    tab = threading.Event()

    def heartbeat() -> None:  # what a browser tab keeps open while it shows the page
        with httpx.stream("GET", f"{url.rstrip('/')}/gradio_api/heartbeat/{client.session_hash}", timeout=60) as reply:
            for _ in reply.iter_lines():
                if tab.is_set():
                    return  # the tab closes: the connection drops

    threading.Thread(target=heartbeat, daemon=True).start()
    assert client.predict(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")[STATUS].startswith(
        "**Finished**"
    )
    (session,) = sessions_of(demo, client.session_hash)
    assert session.pair.trained and session.pair.contenders
    tab.set()
    wait_until(lambda: session.closed, 30, "the unload event to close the session")
    assert not session.pair.contenders and session.pair.view is None and session.pair.data is None
    assert not sessions_of(demo, client.session_hash)  # Gradio holds no state of it any more
    client.close()


def test_closing_a_session_stops_its_run_and_keeps_nothing_it_returns(mnist):
    session = Session(Workspace(processes=False))
    updates = session.training.train(session_setup())
    next(updates)  # the run has started
    session.close()
    for _ in updates:
        pass
    assert session.closed and not session.pair.running and not session.pair.contenders and session.pair.finished is None


def session_setup():
    from dataclasses import replace

    from cnn_lab.core.presets import default_experiment

    setup = default_experiment()
    return replace(setup, run=replace(setup.run, train_subset=3000))


def test_idle_sessions_are_forgotten_but_not_while_they_train(app, monkeypatch):
    from cnn_lab.ui import app as app_module

    demo, url = app
    idle, busy = Client(url, verbose=False), Client(url, verbose=False)
    for client in (idle, busy):
        client.predict(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")
    (idle_session,), (busy_session,) = sessions_of(demo, idle.session_hash), sessions_of(demo, busy.session_hash)
    busy_session.pair.running = True  # as during a long run, whose last event may be hours old
    sweeping = app_module.forget_idle_sessions(demo, idle_s=0, every_s=0.2)
    deadline = time.monotonic() + 10
    while not idle_session.closed and time.monotonic() < deadline:
        time.sleep(0.1)
    sweeping.set()
    assert idle_session.closed and not busy_session.closed and sessions_of(demo, busy.session_hash)
    busy_session.pair.running = False
    for client in (idle, busy):
        client.close()
