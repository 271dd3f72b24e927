"""Small setups and recorded runs the tests share: quick to train, or written straight to a run history."""

from __future__ import annotations

from cnn_lab.core.config import ExperimentConfig, ModelConfig, ModelSpec, RunConfig, TrainConfig
from cnn_lab.runs.history import Evaluation, ModelRecord, RunRecord

SMALL = ModelConfig.from_conv_channels([4, 8, 8, 8])  # a model that trains in a moment


def small_setup(epochs: int = 2, images: int = 1200) -> ExperimentConfig:
    return ExperimentConfig(
        ModelSpec(SMALL, TrainConfig("adam", 0.003, 100, epochs)),
        ModelSpec(SMALL, TrainConfig("sgd", 0.01, 100, epochs)),
        RunConfig(train_subset=images, seed=3, precision="fp32"),
    )


def record(owner: str = "local", seed: int = 0, evaluations: int = 3) -> RunRecord:
    result = ModelRecord("finished", 0.98, None, 2, 200, 12_800, 4.0, 3_200.0, 12_002, 2_390_000)
    return RunRecord(
        owner, "2026-11-27T03:00:00+00:00", "finished", ExperimentConfig(run=RunConfig(seed=seed)),
        "MNIST sample", "CPU (2 threads)", "bf16", 9.5, {"A": result, "B": result},
        tuple(Evaluation("A", 1 + k // 2, 6400 * (k + 1), 0.1, 0.9 + k / 100) for k in range(evaluations)),
    )  # fmt: skip
