import pytest

from cnn_lab.session import Session, SessionError, Workspace
from cnn_lab.ui import downloads


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
