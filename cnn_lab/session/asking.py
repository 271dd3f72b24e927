"""Asking before long work: a run estimated over the server's ``ask_over_s`` is refused once, with its estimate."""

from __future__ import annotations

import math
import time

from cnn_lab.core.config import ExperimentConfig
from cnn_lab.data.datasets import Dataset
from cnn_lab.engine.limits import training_flops
from cnn_lab.engine.models import ModelSummary
from cnn_lab.engine.seeds import estimate_repeat_s
from cnn_lab.session.pair import SessionError
from cnn_lab.session.speeds import Speeds
from cnn_lab.session.workspace import Workspace
from cnn_lab.views.run_view import duration_text

ASK_AGAIN_S = 120.0  # a long run asked about starts when asked for again within this
# Bounds on how slowly training can go (a step's fixed cost, FLOPs/s on a slow laptop core): a run whose steps and
# FLOPs cannot add up to the server's ask_over_s at these rates is surely short, and not worth timing first.
SLOWEST_STEP_S = 0.005
SLOWEST_FLOPS_PER_S = 5e9


class AskFirst:
    """Where the server asks before long runs (your own: a public one has a wall-clock limit instead), a run that
    may be long is timed on a few batches and refused once with its estimate; asked for again, it starts."""

    def __init__(self, workspace: Workspace, speeds: Speeds):
        self.workspace = workspace  # whose limits say when to ask (read at each run: a terminal sets its own)
        self.speeds = speeds
        self._asked: tuple[str, float] | None = None  # the long work last asked about, and when

    def before_a_run(
        self, setup: ExperimentConfig, data: Dataset, summaries: dict[str, ModelSummary], images: int, what: str
    ) -> None:
        """Time a run that may be long (skipped when it is surely short) and ask first if it is estimated longer."""
        if self.workspace.limits.ask_over_s is None:
            return
        steps = sum(math.ceil(images / spec.train.batch_size) * spec.train.epochs for spec in (setup.a, setup.b))
        epochs = {"A": setup.a.train.epochs, "B": setup.b.train.epochs}
        at_most_s = steps * SLOWEST_STEP_S + training_flops(summaries, epochs, images) / SLOWEST_FLOPS_PER_S
        if at_most_s > self.workspace.limits.ask_over_s:  # else surely short: not worth timing
            seconds = estimate_repeat_s(setup, data, 1, self.speeds.seconds_per_image)
            self.estimated(seconds, f"{what} ({setup.to_json()})", what)

    def estimated(self, seconds: float, key: str, what: str) -> None:
        """Refuse, once, work estimated over the server's ``ask_over_s``, with the estimate: the same work (``key``)
        asked for again within ASK_AGAIN_S starts (a second press of the button is the answer)."""
        limit = self.workspace.limits.ask_over_s
        if limit is None or seconds <= limit:
            return
        asked, self._asked = self._asked, None
        if asked is not None and asked[0] == key and time.monotonic() - asked[1] < ASK_AGAIN_S:
            return
        self._asked = (key, time.monotonic())
        raise SessionError(
            f"{what.capitalize()} would take about {duration_text(seconds)} here (timed on a few batches of each "
            f"model). Press the same button again within {ASK_AGAIN_S / 60:g} minutes to start it anyway, or use "
            "fewer epochs, fewer training images or a smaller model.",
            "A long run: are you sure?",
        )
