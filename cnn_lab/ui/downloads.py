"""Where files offered for download are written: one folder of the app's, emptied of old files as new ones come.

Gradio copies a file a handler returns into its own cache (which it cleans itself, see app.py); the handler's copy
is needed only until then. A folder per call under the system's temp folder, never deleted, grew by one per click."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

KEEP_S = 600  # well past the moment Gradio has copied a file away


def download_folder(prefix: str) -> Path:
    """A new empty folder for one download's files; folders of earlier downloads older than KEEP_S go."""
    root = Path(tempfile.gettempdir()) / "cnn_lab_downloads"
    root.mkdir(exist_ok=True)
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > KEEP_S:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # another session removed it first
            pass
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))
