import json
import threading

import httpx
import pytest
from api_inputs import settings
from gradio_client import Client

from cnn_lab.session import Session, SessionError, Workspace
from cnn_lab.ui.parts import downloads


def test_downloads_live_in_their_sessions_folder_in_gradios_cache_and_go_with_the_session(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    mine, theirs = Session(Workspace(processes=False)), Session(Workspace(processes=False))
    first = downloads.download_folder("cnn_lab_setup_", mine)
    (first / "cnn_lab_setup.json").write_text("{}")
    second = downloads.download_folder("cnn_lab_report_", mine)
    other = downloads.download_folder("cnn_lab_setup_", theirs)
    assert first.parent == second.parent != other.parent and first != second
    assert first.parent.parent == tmp_path / downloads.FOLDER  # inside Gradio's cache: served as it is, not copied
    mine.close()
    assert not first.parent.exists() and other.exists()  # the session's files went with it, and only its files
    with pytest.raises(SessionError, match="This session has ended"):
        downloads.download_folder("cnn_lab_setup_", mine)


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
