"""Where files offered for download are written: in the session's own folder inside Gradio's cache, removed when
the session closes.

A file a handler returns from inside Gradio's cache is served from there as it is (Gradio copies any other file into
its cache, where only its age would remove it): an exported model was still served by its link 37 minutes after its
session had closed. Written here, the session's one copy goes with the session."""

from __future__ import annotations

from pathlib import Path

from gradio.utils import get_upload_folder

from cnn_lab.session import Session

FOLDER = "cnn_lab_downloads"


def download_folder(prefix: str, session: Session) -> Path:
    """A new empty folder for one download's files, owned by ``session``."""
    return session.files_folder(Path(get_upload_folder()) / FOLDER, prefix)
