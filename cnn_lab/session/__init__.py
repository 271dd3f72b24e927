"""One user's work, without Gradio: the Session the page and the command line call, made of parts sharing a Pair."""

from cnn_lab.engine.runtime import available_devices, release_memory  # the machine, as the page may ask of it
from cnn_lab.session.pair import NAMES, Pair, SessionError
from cnn_lab.session.session import Session
from cnn_lab.session.training import RunResult, RunUpdates
from cnn_lab.session.workspace import Workspace

__all__ = [
    "NAMES",
    "Pair",
    "RunResult",
    "RunUpdates",
    "Session",
    "SessionError",
    "Workspace",
    "available_devices",
    "release_memory",
]
