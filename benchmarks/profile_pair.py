"""Where the time of an A/B run goes: torch.profiler tables for A and B together and for each alone.

    CNN_LAB_DATA=../shared/datasets python -m benchmarks.profile_pair

Used to explain pair_vs_sequential_ratio: if pairing costs something, the
same ops should take longer in the pair than in the two solo runs together.
"""

from __future__ import annotations

import time

from torch.profiler import ProfilerActivity, profile

from cnn_lab.core.config import ModelSpec, RunConfig
from cnn_lab.core.presets import default_experiment
from cnn_lab.data.datasets import load_dataset
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.runtime import tune_allocator
from cnn_lab.engine.training import train_models

B_SPEC = default_experiment().b  # the page's model B


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
