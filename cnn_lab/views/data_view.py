"""A dataset as the Data tab describes it, from its counts: in words, and its images per class as a table."""

from __future__ import annotations

import pandas as pd

from cnn_lab.data.datasets import Dataset, DatasetInfo
from cnn_lab.data.stats import DataOverview


def counts_frame(names: tuple[str, ...], seen: DataOverview) -> pd.DataFrame:
    """Images per class in each split."""
    return pd.DataFrame(
        {"class": names, "training images": list(seen.train_counts), "test images": list(seen.test_counts)}
    )


def about_text(data: Dataset, seen: DataOverview) -> str:
    """Where the data comes from, its images, pixel statistics, duplicates between splits and balance, in words."""
    channels, height, width = data.image_shape
    colour = "colour (red, green, blue)" if channels == 3 else "grey"
    statistics = ", ".join(f"{m:.3f} ± {s:.3f}" for m, s in zip(seen.mean, seen.std, strict=True))
    duplicates = (
        f"**{seen.duplicates:,} test images are also training images** (pixel for pixel): a test score on them "
        "measures memory, not generalisation."
        if seen.duplicates
        else "No test image is also a training image."
    )
    balance = (
        f"The classes are unbalanced: the largest has {seen.imbalance:.1f}x the images of the smallest; accuracy "
        "then flatters a model that favours the large ones (look at the per-class accuracy in Inspect)."
        if seen.imbalance > 1.5
        else "The classes are about equally common."
    )
    framing = data.info.framing
    drawing = (
        "You can draw on the sketchpad for it: a drawing is framed as these images frame theirs (the longer side "
        f"{framing.box:g} px of {height}, centred by its {'centre of mass' if framing.centre == 'mass' else 'box'}, "
        f"strokes {framing.stroke:.1f} px wide)."
        if data.info.drawable and framing is not None
        else "You can draw on the sketchpad for it."
        if data.info.drawable
        else "Test the trained models with an image of your own in *Train & compare*, beside the results."
    )
    return (
        f"**{data.source}**. Images of {width}x{height} pixels, {colour}, in {len(data.info.class_names)} classes. "
        f"Pixel mean ± std per channel (0-1): {statistics}; with *Normalise inputs* on, the models see "
        f"(pixel - mean) / std. {duplicates} {balance} {drawing}"
    )


def sketch_label(info: DatasetInfo) -> str:
    """What the sketchpad asks a person to draw: a digit for digit sets, the classes by name otherwise (the first
    three: the pad's toolbar leaves its label about 55 characters; the confidence bars name them all)."""
    names = info.class_names
    if names == tuple(str(d) for d in range(10)):
        return "Draw a digit: both models read it"
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"Draw one of the {len(names)} classes ({shown})"
