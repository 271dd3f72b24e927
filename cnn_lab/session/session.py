"""One user's work: a thin Session made of parts that share one Pair. No Gradio here.

The page keeps one Session per browser tab (in a ``gr.State``) and only calls its parts: ``training`` (runs),
``inspection`` (reading the trained pair), ``history`` (the run history and model files) and ``datasets``; a test, a
script or the command line drives the same calls without a server. Every Session of an app shares one Workspace."""

from __future__ import annotations

import gc
import shutil
import tempfile
import uuid
from pathlib import Path

from cnn_lab.core.config import ConfigError
from cnn_lab.data.datasets import DataError
from cnn_lab.engine.runtime import release_memory
from cnn_lab.learn.walkthrough import Facts, first_comparison
from cnn_lab.session.datasets import Datasets
from cnn_lab.session.history import History
from cnn_lab.session.inspection import Inspection
from cnn_lab.session.pair import NAMES, Pair, SessionError
from cnn_lab.session.training import Training
from cnn_lab.session.workspace import Workspace


class Session:
    """One user's pair of models and everything done with it."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.owner = uuid.uuid4().hex  # whose runs these are in the history of a public server
        self.pair = Pair()
        self.datasets = Datasets(workspace)
        self.inspection = Inspection(self.pair)
        self.history = History(self.pair, workspace, self.datasets, self.inspection, self.owner)
        self.training = Training(self.pair, workspace, self.datasets, self.history)
        self.closed = False  # the user left: nothing more is kept
        self._first_set_up = False  # the Learn tab's first comparison was set up (Start here, step 1)
        self._files: Path | None = None  # the folder of the files made for this session to download

    def __deepcopy__(self, memo) -> Session:
        """gr.State deep-copies its first value for every new browser session: each gets a fresh Session, same Workspace."""
        return Session(self.workspace)

    def close(self) -> None:
        """The user left (the tab closed, or the session expired): stop a run and let go of the models, their
        checkpoints, the upload and the pictures now, rather than when Gradio drops the state an hour later."""
        self.closed = True
        self.training.close()
        if self._files is not None:  # its downloads go with it: their links stop working
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None
        self.pair.let_go()
        self.datasets.uploaded = None
        self.history.leaderboard_entries = []
        gc.collect()
        release_memory()

    def files_folder(self, under: Path, prefix: str) -> Path:
        """A new empty folder for one download's files, in this session's own folder under ``under``; all of them
        are removed when the session closes (a file served by its link must not outlive its session)."""
        if self.closed:
            raise SessionError("This session has ended; reload the page.", "Session")
        if self._files is None:
            self._files = under / uuid.uuid4().hex
        self._files.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self._files))

    def first_comparison_set_up(self) -> None:
        """The Learn tab set up the first comparison (Start here, step 1)."""
        self._first_set_up = True

    def walkthrough(self) -> Facts:
        """What Start here needs to know of this session to tick its steps."""
        pair = self.pair
        results = pair.finished.results if pair.finished is not None and pair.trained else {}
        accuracies = {name: r.test_accuracy for name, r in results.items()}
        complete = set(accuracies) == set(NAMES) and None not in accuracies.values()
        try:
            first_run = self.training.plan_words(first_comparison())  # the numbers the Train tab's status names
        except (ConfigError, DataError):
            first_run = ""
        return Facts(
            self._first_set_up, pair.trained, accuracies if complete else None, pair.last_sketch is not None,
            bool(pair.scores), first_run,
        )  # fmt: skip
