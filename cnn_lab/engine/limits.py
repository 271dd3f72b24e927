"""What one run may ask of the server: tight on a public one (a Space, `--public`), generous on your own.

A probe found a legal setup (19 conv layers of 160 channels, batch 512, 50 epochs, full MNIST) that a
public server accepted with an estimate of 227 hours: two such requests would have held every training
slot for days. A public server counts a run's work before it starts (training FLOPs: a forward and a
backward pass cost about 3 forward passes per image, for every image and epoch of both models) and
refuses it with the numbers; a run that still runs long is stopped cleanly at a wall-clock limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnn_lab.core.config import ConfigError, ExperimentConfig

if TYPE_CHECKING:  # the limits import without torch: the command line's --help says them in a blink
    from cnn_lab.engine.models import ModelSummary

CHECKPOINT_BUDGET_BYTES = 256 * 2**20  # per model: the oldest epochs go first (all fit for models of the presets' size)
TRAINING_FLOPS_PER_FORWARD = 3  # forward + backward (about twice the forward)


def training_flops(summaries: dict[str, ModelSummary], epochs: dict[str, int], images_per_epoch: int) -> float:
    """The run's work: both models' training FLOPs over all their epochs."""
    return sum(TRAINING_FLOPS_PER_FORWARD * s.flops * images_per_epoch * epochs[name] for name, s in summaries.items())


@dataclass(frozen=True)
class ServerLimits:
    """Caps on one run (None: only the config's own limits apply)."""

    max_run_tflops: float | None = None  # both models' training work over the whole run, in 10^12 FLOPs
    max_epochs: int | None = None
    max_params: int | None = None  # per model
    max_train_images: int | None = None
    max_run_s: float | None = None  # wall clock: the run is stopped there, its models kept
    max_queue: int | None = None  # requests waiting in Gradio's queue; more are told the queue is full
    upload_mb_per_hour: int | None = None  # what one address may upload in an hour (Gradio's upload route)
    ask_over_s: float | None = None  # a run estimated longer than this is started only when asked for twice
    checkpoint_bytes: int = CHECKPOINT_BUDGET_BYTES  # per model: over it, its oldest saved epochs are dropped

    def check(
        self, setup: ExperimentConfig, summaries: dict[str, ModelSummary], images_per_epoch: int, runs: int = 1
    ) -> None:
        """Refuse (ConfigError naming the field and the numbers) a request over any cap, before it starts: one run,
        or ``runs`` of it (a repeat over seeds), whose work counts whole."""
        specs = {"A": setup.a, "B": setup.b}
        for name, spec in specs.items():
            if self.max_epochs is not None and spec.train.epochs > self.max_epochs:
                raise ConfigError(
                    f"Model {name} · epochs: at most {self.max_epochs} on this server, got {spec.train.epochs}",
                    "epochs",
                )
            if self.max_params is not None and summaries[name].params > self.max_params:
                raise ConfigError(
                    f"Model {name} · layers: at most {self.max_params:,} parameters on this server, "
                    f"this model has {summaries[name].params:,}",
                    "layers",
                )
        if self.max_train_images is not None and images_per_epoch > self.max_train_images:
            raise ConfigError(
                f"train_subset: at most {self.max_train_images:,} training images on this server, "
                f"got {images_per_epoch:,}",
                "train_subset",
            )
        epochs = {name: spec.train.epochs for name, spec in specs.items()}
        self.check_work(
            runs * training_flops(summaries, epochs, images_per_epoch),
            f"both models, {images_per_epoch:,} images, epochs A {epochs['A']} / B {epochs['B']}"
            + (f", {runs} runs" if runs > 1 else ""),
        )

    def check_work(self, flops: float, what: str) -> None:
        """Refuse a run whose training work (FLOPs) is over the cap; ``what`` says what it is made of."""
        if self.max_run_tflops is not None and flops / 1e12 > self.max_run_tflops:
            raise ConfigError(
                f"this run would take {flops / 1e12:,.0f} TFLOPs of training ({what}), over this server's limit "
                f"for one run of {self.max_run_tflops:,.0f}: use fewer epochs, fewer training images or a smaller "
                "model",
                "epochs",
            )

    def describe(self) -> str:
        """The limits in one sentence, for the page."""
        parts = []
        if self.max_run_tflops is not None:
            parts.append(f"{self.max_run_tflops:,.0f} TFLOPs of training (both models)")
        if self.max_epochs is not None:
            parts.append(f"{self.max_epochs} epochs")
        if self.max_params is not None:
            parts.append(f"{self.max_params:,} parameters per model")
        if self.max_train_images is not None:
            parts.append(f"{self.max_train_images:,} training images")
        if self.max_run_s is not None:
            parts.append(f"{self.max_run_s / 60:g} minutes per run (then it stops and keeps its models)")
        if self.checkpoint_bytes < CHECKPOINT_BUDGET_BYTES:
            parts.append(f"saved epochs up to {self.checkpoint_bytes / 2**20:g} MB per model (the oldest go first)")
        if self.upload_mb_per_hour is not None:
            parts.append(f"uploads up to {self.upload_mb_per_hour} MB an hour from one address")
        return "; ".join(parts)


LOCAL = ServerLimits(ask_over_s=3600.0)  # your own machine: any run, but one over an hour only when you confirm it
# About 10 minutes of training for the default pair's work rate on 2 CPU cores; one run per session (a session
# trains one run at a time anyway), and 20 requests waiting at most.
PUBLIC = ServerLimits(
    max_run_tflops=100.0,
    max_epochs=20,
    max_params=2_000_000,
    max_train_images=60_000,
    max_run_s=15 * 60,
    max_queue=20,
    upload_mb_per_hour=500,  # five datasets at the 100 MB upload limit
    # the largest model allowed (2M parameters: 8 MB of weights, 16 MB of Adam's state) keeps its last two epochs
    # and its best one; preset-size models keep 10 or more. About 100 MB per session at most.
    checkpoint_bytes=48 * 2**20,
)
