"""The held-out set of real-looking digit drawings in tests/fixtures/real_drawings.npz (see
tests/fixtures/README.md; rebuilt by scripts/build_drawing_set.py).

Every image is a full 280x280 sketchpad canvas, uint8 grayscale, dark ink (0) on white paper (255),
exactly what the app's gr.Sketchpad(image_mode="L", type="numpy") hands over as its composite.
Three sources: "printed" (Debian fonts), "handwriting" (real handwritten digits, not MNIST writers)
and "mouse" (real pen trajectories drawn with the mouse on the Gradio sketchpad in Chromium).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "fixtures" / "real_drawings.npz"
SOURCES = ("printed", "handwriting", "mouse")


@lru_cache(maxsize=1)
def _load() -> dict[str, np.ndarray]:
    with np.load(PATH) as z:
        data = {key: z[key] for key in ("images", "labels", "source", "detail")}
    for array in data.values():
        array.setflags(write=False)  # cached and shared: callers must not change it
    return data


def real_drawing_set() -> dict[str, np.ndarray]:
    """All canvases: images (N, 280, 280) uint8, labels (N,) int64, source (N,) str, detail (N,) str.

    The arrays are read-only (cached); copy them to change them."""
    return dict(_load())


def small_fixed_part(n_per_source: int = 30) -> dict[str, np.ndarray]:
    """A small deterministic subset for a quick unit test: from each source, n_per_source // 10
    canvases per class (at least 1), spread evenly over that class's samples so that every
    sub-source (fonts, pendigits / mfeat / pyclustering, brush sizes) shows up.

    Same keys as real_drawing_set() plus "index": the rows' positions in the full set."""
    data = _load()
    per_class = max(1, n_per_source // 10)
    rows = []
    for source in SOURCES:
        for digit in range(10):
            idx = np.flatnonzero((data["source"] == source) & (data["labels"] == digit))
            if len(idx):
                rows.extend(idx[np.unique(np.linspace(0, len(idx) - 1, min(per_class, len(idx))).round().astype(int))])
    index = np.array(sorted(rows), dtype=np.int64)
    part = {key: value[index] for key, value in data.items()}
    part["index"] = index
    return part
