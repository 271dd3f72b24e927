"""Where the time of an A/B run goes: torch.profiler tables for A and B together and for each alone.

    CNN_LAB_DATA=../shared/datasets python benchmarks/profile_pair.py

Used to explain pair_vs_sequential_ratio: if pairing costs something, the
same ops should take longer in the pair than in the two solo runs together.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn_lab.config import ModelConfig, ModelSpec, RunConfig, TrainConfig  # noqa: E402
from cnn_lab.data import load_dataset  # noqa: E402
from cnn_lab.runtime import tune_allocator  # noqa: E402
from cnn_lab.training import Contender, train_models  # noqa: E402

B_SPEC = ModelSpec(ModelConfig.from_conv_channels([8, 16, 32, 32]), TrainConfig("sgd", 0.05, 64, 1))


def run(names: tuple[str, ...], data) -> float:
    contenders = [Contender.create(n, ModelSpec() if n == "A" else B_SPEC) for n in names]
    started = time.perf_counter()
    for _ in train_models(contenders, RunConfig(train_subset=6400, evals_per_epoch=1), data):
        pass
    return time.perf_counter() - started


def main() -> None:
    tune_allocator()
    data = load_dataset("mnist")
    run(("A", "B"), data)  # warm-up: every kernel primed once
    totals = {}
    for label, names in (("pair", ("A", "B")), ("A alone", ("A",)), ("B alone", ("B",))):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            totals[label] = run(names, data)
        print(f"\n=== {label}: {totals[label]:.2f} s wall ===")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))
    print(f"pair / (A + B) = {totals['pair'] / (totals['A alone'] + totals['B alone']):.3f}")


if __name__ == "__main__":
    main()
