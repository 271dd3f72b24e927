"""The Data tab: the dataset the run trains on, counted and shown before training."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from ..data import DataError
from ..session import Session
from ..views import image_grid_html

PREVIEW_PER_CLASS = 6


def dataset_overview(dataset: str, session: Session) -> tuple[str, pd.DataFrame, str]:
    """Where the data comes from, images per class in each split, and a few training images of every class."""
    try:
        data = session.workspace.dataset(dataset)
    except DataError as err:
        return f"⚠ {err}", pd.DataFrame(), ""
    names = data.info.class_names
    counts = pd.DataFrame(
        {
            "class": names,
            "training images": [f"{n:,}" for n in data.train_labels.bincount(minlength=len(names)).tolist()],
            "test images": [f"{n:,}" for n in data.test_labels.bincount(minlength=len(names)).tolist()],
        }
    )
    about = f"**{data.source}**; images of {data.image_shape[1]}x{data.image_shape[2]} pixels, {len(names)} classes."
    picks = [
        i
        for label in range(len(names))
        for i in (data.train_labels == label).nonzero().flatten()[:PREVIEW_PER_CLASS].tolist()
    ]
    return (
        about,
        counts,
        image_grid_html(data.train_images[picks].numpy(), [names[data.train_labels[i]] for i in picks]),
    )


def data_tab(dataset: gr.Dropdown, session: gr.State) -> tuple[gr.Markdown, gr.Dataframe, gr.HTML]:
    gr.Markdown("The dataset chosen under *Data, validation and hardware* in the Train tab, before any training.")
    about = gr.Markdown("", elem_id="data-about")
    with gr.Row(equal_height=False):
        counts = gr.Dataframe(label="Images per class", interactive=False, scale=1, elem_id="data-counts")
        examples = gr.HTML("", elem_id="data-examples")
    dataset.change(dataset_overview, [dataset, session], [about, counts, examples], api_name=False)
    return about, counts, examples
