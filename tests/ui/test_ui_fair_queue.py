"""A public server's queue shared out per session and per address: one client cannot fill it for everyone."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import httpx
from api_inputs import settings
from gradio_client import Client
from gradio_client.utils import extract_validation_message

from cnn_lab.ui.fair_queue import QueueShare, refused_in_words

SMALL = ("8,8,16,16", "adam", 0.002, 100, 1, False)


def request_from(host: str, forwarded: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        client=SimpleNamespace(host=host), headers={"x-forwarded-for": forwarded} if forwarded else {}
    )


def waiting(session: str, host: str) -> SimpleNamespace:
    return SimpleNamespace(session_hash=session, request=request_from(host))


def test_a_share_is_half_the_queue_per_address_and_a_few_per_session():
    share = QueueShare.of(20)
    assert (share.per_session, share.per_address) == (4, 10)
    line = [waiting(f"made-up-{k}", "10.0.0.1") for k in range(10)]
    assert "Your address already has 10 requests waiting" in share.refusal(line, "made-up-11", "10.0.0.1")
    assert share.refusal(line, "someone", "10.0.0.2") is None  # others are served
    mine = [waiting("tab", "10.0.0.3") for _ in range(4)]
    assert "This session already has 4 requests waiting" in share.refusal(mine, "tab", "10.0.0.3")
    assert QueueShare.of(1).per_address == 1


def test_a_refusal_reaches_each_kind_of_client_in_words():
    why = "This session already has 4 requests waiting in the queue"
    to_program = refused_in_words(why, "api")
    told = extract_validation_message(httpx.Response(to_program.status_code, json={"detail": to_program.detail}))
    assert told == f"1 parameter(s) failed validation:\n- queue share: {why}"  # what gradio_client raises
    to_page = refused_in_words(why, "app")
    assert (to_page.status_code, to_page.detail) == (429, why)  # the page shows any non-503 error's detail


def test_the_forwarded_address_is_read_only_behind_a_proxy_and_its_last_entry_only():
    forged = request_from("127.0.0.1", "1.2.3.4, 10.0.0.9")  # the caller wrote 1.2.3.4; the proxy appended 10.0.0.9
    assert QueueShare.of(20).address(forged) == "127.0.0.1"
    assert QueueShare.of(20, trust_forwarded=True).address(forged) == "10.0.0.9"


def join(
    url: str, fn_index: int, data: list, session: str, address: str, headers: dict | None = None
) -> httpx.Response:
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None, "event_data": None}
    headers = {"X-Forwarded-For": address} | (headers or {})
    return httpx.post(f"{url}/gradio_api/queue/join", json=body, headers=headers, timeout=30)


def test_one_client_flooding_the_queue_leaves_room_for_another(playground):
    """The probe's flood: /train_setup under 22 made-up session ids from one machine; every other user then got
    "503 Queue is full" on every queued event."""
    url, _ = playground("--public", "--behind-proxy", "--max-queue", "6", "--max-concurrent-trainings", "1")
    url = url.rstrip("/")
    config = httpx.get(f"{url}/config", timeout=30).json()
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "train_setup")
    other = Client(url, verbose=False, headers={"X-Forwarded-For": "10.0.0.2"})
    long_run = ("8,8,16,16", "adam", 0.002, 50, 20, False)
    setup = other.predict(*settings(a=long_run, b=long_run, subset=4000)[:-1], api_name="/export_setup")
    setup_json = open(setup).read()
    json.loads(setup_json)
    answers = [join(url, fn_index, [setup_json, False, None], f"flood-{k}", "10.0.0.1") for k in range(12)]
    taken = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert 3 <= len(taken) <= 4  # one trains, three wait (half of the queue of 6)
    assert all(a.status_code == 422 and "Your address already has 3 requests waiting" in a.text for a in refused)
    page = join(url, fn_index, [setup_json, False, None], "flood-page", "10.0.0.1", {"x-gradio-user": "app"})
    assert page.status_code == 429 and "Your address already has 3" in page.json()["detail"]  # the page shows it

    started = time.monotonic()
    served = other.predict(*settings(a=SMALL, b=SMALL, subset=1000)[:-1], api_name="/export_setup")
    assert served and time.monotonic() - started < 15  # another user's call is still served, at once
    queued = other.submit(*settings(a=SMALL, b=SMALL, subset=1000), api_name="/train")
    deadline = time.monotonic() + 30
    while queued.status().code.name not in ("IN_QUEUE", "PROCESSING", "ITERATING", "FINISHED"):
        assert time.monotonic() < deadline, queued.status()
        time.sleep(0.2)
    assert queued.status().code.name == "IN_QUEUE"  # its run waits its turn instead of being refused
    queued.cancel()
    other.close()
