import os
import time

from cnn_lab.ui import downloads


def test_each_download_gets_a_new_folder_and_old_ones_go(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads.tempfile, "gettempdir", lambda: str(tmp_path))
    first = downloads.download_folder("cnn_lab_setup_")
    (first / "cnn_lab_setup.json").write_text("{}")
    old = time.time() - downloads.KEEP_S - 1
    os.utime(first, (old, old))
    second = downloads.download_folder("cnn_lab_setup_")
    assert second.parent == tmp_path / "cnn_lab_downloads" and second.is_dir()
    assert not first.exists()  # older than KEEP_S: gone
    third = downloads.download_folder("cnn_lab_report_")
    assert second.exists() and third.exists() and third != second
