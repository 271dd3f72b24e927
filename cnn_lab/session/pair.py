"""The two models a session trains and looks at, shared by all of its parts: what they are and how they got there."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from cnn_lab.core.config import MODEL_NAMES as NAMES
from cnn_lab.core.config import ConfigError, ExperimentConfig, RunConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import RunFinished
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.models import ModelSummary
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.views.run_view import RunView

IMPORTED = "imported"  # a model's status after it was read from a file


class SessionError(Exception):
    """A call the session cannot take now (a run is going, nothing is trained yet); the message says what to do."""

    def __init__(self, message: str, title: str):
        super().__init__(message)
        self.title = title


def model_name(name: object) -> str:
    """``name`` if it names one of the pair's models (a ConfigError naming the field otherwise)."""
    if name not in NAMES:
        raise ConfigError(f"model must be one of {', '.join(NAMES)}, got {quoted(name)}", "model")
    return name


@dataclass(eq=False)
class Pair:
    """The pair of models, the data and run they came from, what the page shows of that run, and whether one goes.

    Every part of a Session reads and changes this one object, so a run, a roll-back or an import is seen by all."""

    contenders: dict[str, Contender] = field(default_factory=dict)
    summaries: dict[str, ModelSummary] = field(default_factory=dict)
    data: Dataset | None = None
    run: RunConfig | None = None  # of the trained pair; continuing training reuses it
    finished: RunFinished | None = None
    view: RunView | None = None  # what the page shows of the latest run
    running: bool = False
    recorded: int | None = None  # the run history's id of the latest run
    version: int = 0  # goes up whenever the weights change: what the page showed before is stale
    how: str = ""  # how the pair got its weights after its run (a roll-back, an import), for caption()
    scores: dict[int | None, PairScores] = field(default_factory=dict)  # on the test set, now (None) or at an epoch
    last_sketch: np.ndarray | None = None  # the latest drawing or image read, as the models see it

    @property
    def trained(self) -> bool:
        """True once a run has ended (finished or stopped) with at least one training step, or a trained model was
        imported from a file."""
        return self.finished is not None and any(
            r.steps > 0 or r.status == IMPORTED for r in self.finished.results.values()
        )

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """What the pair reads (C, H, W): its data's images, MNIST's before any run."""
        return self.data.image_shape if self.data is not None else (1, 28, 28)

    def setup(self) -> ExperimentConfig:
        """The setup the pair trains with now (each model's own settings, the shared run)."""
        return ExperimentConfig(self.contenders["A"].spec, self.contenders["B"].spec, self.run)

    def begin(self) -> None:
        """Mark the pair busy for a run (refused while another goes)."""
        if self.running:
            raise SessionError("A run is already in progress: press Stop first.", "Busy")
        self.running = True
        self.changed("")

    def changed(self, how: str) -> None:
        """New weights: scores computed before describe other models."""
        self.scores, self.version, self.how = {}, self.version + 1, how

    def require_trained(self, nothing_yet: str) -> None:
        """Refuse while a run goes, and before the first one (``nothing_yet`` says what is missing)."""
        if self.running:
            raise SessionError("Training is in progress: press Stop first, or wait for it to end.", "Busy")
        if not self.contenders or self.finished is None:
            raise SessionError(f"Train the models first: {nothing_yet}", "Train first")

    def as_it_is(self) -> Callable[[], None]:
        """What puts the pair (models, data, run and its view) back as it is now, should a fresh run fail: a failed
        run must not cost the user the models they had."""
        kept = self.data, self.run, self.finished, self.contenders, self.summaries, self.view

        def put_back() -> None:
            self.data, self.run, self.finished, self.contenders, self.summaries, self.view = kept

        return put_back

    def caption(self) -> str:
        """Which models the page's results describe: "Run #7 (A 98.12 %, B 96.40 %)", with a roll-back or import."""
        if self.running:
            return "A run is training now"
        if self.finished is None:
            return "No trained models yet"
        run = f"Run #{self.recorded}" if self.recorded is not None else f"Run {self.version}"
        scores = ", ".join(
            f"{name} {result.test_accuracy:.2%}"
            for name, result in self.finished.results.items()
            if result.test_accuracy is not None
        )
        how = f", {self.how}" if self.how else ""
        return f"{run}{how}" + (f" ({scores})" if scores else "")

    def at(self, epoch: int | None = None) -> dict[str, Contender]:
        """The trained pair as it is (``epoch`` None) or as it was at the end of a saved epoch: copies, so looking
        back never changes the pair that Continue trains on."""
        self.require_trained("there is nothing to inspect yet.")
        if not self.trained:
            raise SessionError("Train the models first: the last run stopped before its first step.", "Train first")
        if epoch is None:
            return self.contenders
        if epoch not in self.replay_epochs():
            saved = ", ".join(map(str, self.replay_epochs())) or "none yet"
            raise ConfigError(f"epoch must be one saved for both models ({saved}), got {epoch}", "epoch")
        pair = {}
        for name, contender in self.contenders.items():
            saved = contender.checkpoints[epoch]
            module = copy.deepcopy(contender.module)
            module.load_state_dict(saved.weights)
            pair[name] = replace(
                contender, module=module, test_accuracy=saved.test_accuracy, test_images=saved.test_images,
                epochs_done=epoch,
            )  # fmt: skip
        return pair

    def replay_epochs(self) -> list[int]:
        """The epochs both models have a checkpoint of, oldest first."""
        saved = [set(c.checkpoints) for c in self.contenders.values()]
        return sorted(set.intersection(*saved)) if saved else []

    def roll_back(self, name: str, epoch: int) -> str:
        """Model ``name`` back to the end of a saved epoch; its curves are cut back there. Returns a note for the page."""
        self.require_trained("there are no saved epochs yet.")
        contender = self.contenders[model_name(name)]
        contender.restore(epoch)
        self.changed(f"model {name} rolled back to epoch {contender.epochs_done}")
        self.finished.results[name] = replace(
            self.finished.results[name],
            status=f"rolled back to epoch {contender.epochs_done}",
            test_accuracy=contender.test_accuracy,
            validation_accuracy=contender.validation_accuracy,
            epochs_done=contender.epochs_done,
        )
        self.view.truncate(name, contender.images_seen)  # Continue draws on from there
        accuracy = f"{contender.test_accuracy:.2%}" if contender.test_accuracy is not None else "not evaluated"
        return f"Model {name} is back at the end of epoch {contender.epochs_done} (test accuracy {accuracy}); Continue trains on from there."

    def let_go(self) -> None:
        """Drop the models, their checkpoints, the view and the pictures (the user left)."""
        self.contenders, self.summaries, self.scores = {}, {}, {}
        self.data = self.view = self.finished = self.last_sketch = None
