"""What one address may upload to a public server in an hour; and downloads that do not outlive their session."""

from __future__ import annotations

import json
import threading

import httpx
from gradio_client import Client
from test_app import settings

from cnn_lab.ui.upload_quota import HOUR_S, UploadQuota


def test_an_address_is_charged_what_it_sent_in_the_last_hour():
    quota = UploadQuota(app=None, mb_per_hour=10)
    assert quota.charge("10.0.0.1", 6 * 2**20, now=0.0) is None
    why = quota.charge("10.0.0.1", 6 * 2**20, now=60.0)
    assert "at most 10 MB an hour from one address" in why and "6 MB sent" in why and "try again in 59 min" in why
    assert quota.charge("10.0.0.2", 6 * 2**20, now=60.0) is None  # another address has its own hour
    assert quota.charge("10.0.0.1", 6 * 2**20, now=HOUR_S + 1) is None  # the first upload is an hour old


def test_a_public_server_refuses_uploads_over_the_hourly_quota(playground):
    url, _ = playground("--public", "--upload-mb-per-hour", "2")
    upload = f"{url.rstrip('/')}/gradio_api/upload"
    megabyte = {"files": ("data.zip", b"x" * (2**20 - 1000), "application/zip")}
    answers = [httpx.post(upload, files=megabyte, timeout=30) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "at most 2 MB an hour from one address" in answers[2].json()["detail"]


def test_an_exported_file_is_not_served_once_its_session_has_closed(playground, wait_until, monkeypatch):
    """An exported setup or model was served to anyone with its link 37 minutes after its session closed."""
    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "0.5")
    url, _ = playground("--public")
    client = Client(url, verbose=False, download_files=False)
    tab = threading.Event()

    def heartbeat() -> None:  # a browser tab's open connection; it drops when the tab closes
        with httpx.stream("GET", f"{url.rstrip('/')}/gradio_api/heartbeat/{client.session_hash}", timeout=60) as r:
            for _ in r.iter_lines():
                if tab.is_set():
                    return

    threading.Thread(target=heartbeat, daemon=True).start()
    small = ("8,8,16,16", "adam", 0.002, 100, 1, False)
    exported = client.predict(*settings(a=small, b=small, subset=1000)[:-1], api_name="/export_setup")
    served = httpx.get(exported["url"], timeout=30)
    assert served.status_code == 200 and json.loads(served.text)["run"]["train_subset"] == 1000
    tab.set()
    gone = (403, 404)  # Gradio says 403 for a path it no longer knows
    wait_until(
        lambda: httpx.get(exported["url"], timeout=30).status_code in gone, 30, "the closed session's file to go"
    )
    client.close()
