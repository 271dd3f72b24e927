"""The Data tab: which images the models learn from (a built-in dataset or the user's own), looked at before any
training: classes, sizes, pixel statistics, duplicates, examples, and the images as a model will see them."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from cnn_lab.core.config import ConfigError
from cnn_lab.data.datasets import UPLOADED, DataError
from cnn_lab.data.uploads import LIMITS
from cnn_lab.session import Session
from cnn_lab.ui.parts.checked import Dropdown
from cnn_lab.ui.parts.fields import DATASET_CHOICES, RawNumber, number_from_text
from cnn_lab.ui.parts.tab_parts import Refresh, TabParts
from cnn_lab.ui.parts.wiring import by_name, user_errors
from cnn_lab.views.data_view import about_text, counts_frame
from cnn_lab.views.run_view import image_grid_html

CHART_LABEL = "Training images per class"


def dataset_overview(dataset: str, session: Session) -> dict:
    """Where the data comes from and what it holds: images per class in each split, pixel statistics, test images
    that are also training images, a few training images of every class, and which presets can read it."""
    try:
        look = session.datasets.look(dataset)
    except (DataError, ConfigError) as err:
        empty = pd.DataFrame()
        return {
            "about": f"⚠ {err}",
            "counts": empty,
            "chart": gr.BarPlot(None, label=CHART_LABEL),
            "examples": "",
            "presets": empty,
        }
    names = look.data.info.class_names
    return {
        "about": about_text(look.data, look.counted),
        "counts": counts_frame(names, look.counted),
        "chart": class_chart(look.data.info.title, names, look.counted.train_counts),
        "examples": image_grid_html(look.examples, [names[k] for k in look.example_labels]),
        "presets": pd.DataFrame(look.presets, columns=["preset", "on this data"]),
    }


def class_chart(title: str, names: tuple[str, ...], counts: tuple[int, ...]) -> gr.BarPlot:
    """The bar chart's new data and its label, nothing else. Gradio's plot rebuilds its chart when a property such as
    sort, y_lim or the label angle changes, from the data it still holds: the previous dataset's (issue 33). New data
    alone is drawn in place; so data_tab fixes those properties once, for every dataset."""
    return gr.BarPlot(
        pd.DataFrame({"class": list(names), "training images": list(counts)}),
        label=f"{CHART_LABEL}: {title}",
    )


def upload_dataset(file: str | None, resize, session: Session) -> dict:
    """Your own dataset: a .zip of class-named folders of PNG/JPEG images (or train/ and test/ folders of them), or
    an .npz with arrays x, y and optionally class_names, x_test, y_test. `resize` is a side in pixels (0: keep the
    images' size). Returns a summary of the data (then the counts, chart, examples and presets of the Data tab), and
    sets the run's dataset to it; a bad file is refused with the reason."""
    with user_errors("Upload · "):
        if not file:
            raise ConfigError("dataset file: choose a .zip or .npz file to upload", "dataset file")
        side = number_from_text(resize, "resize") or None
        session.datasets.upload(file, side)
    return dataset_overview(UPLOADED, session) | {"dataset": UPLOADED, "choice": UPLOADED}


def show_dataset(dataset: str, session: Session) -> dict:
    return dataset_overview(dataset, session) | {"choice": dataset}


def as_models_see_them(dataset: str, kinds_a: list[str], kinds_b: list[str], session: Session) -> dict:
    """The same few training images as they are, and as models A and B see them with their augmentations (a new
    random draw each time)."""
    try:
        shown = {
            "plain": session.datasets.augmentation_preview((), dataset),
            "seen A": session.datasets.augmentation_preview(tuple(kinds_a or ()), dataset),
            "seen B": session.datasets.augmentation_preview(tuple(kinds_b or ()), dataset),
        }
    except (ConfigError, DataError):
        return {key: "" for key in ("plain", "seen A", "seen B")}  # the overview beside says what is wrong
    return {
        key: image_grid_html([image for image, _ in found], [label for _, label in found])
        for key, found in shown.items()
    }


def upload_box() -> tuple[gr.File, gr.Number, gr.Button]:
    """Where a person brings their own data: the file, the side to resize its images to, and the button."""
    upload = gr.File(
        label=(
            f"Your own data: a .zip of class folders of PNG/JPEG images, or an .npz (x, y, class_names); "
            f"{LIMITS.min_classes}-{LIMITS.max_classes} classes, up to {LIMITS.max_images:,} images, "
            f"{LIMITS.max_file_mb} MB"
        ),
        file_types=[".zip", ".npz"],
        elem_id="data-upload",
    )
    with gr.Row():
        resize = RawNumber(
            0,
            label="Resize to (px a side, 0 = keep)",
            precision=0,
            info=f"needed when the images differ in size or exceed {LIMITS.max_side} px",
            elem_id="data-resize",
        )
        read = gr.Button("Use this file", variant="primary", elem_id="data-read")
    return upload, resize, read


def data_tab(dataset: gr.Dropdown, augment: dict[str, gr.CheckboxGroup], session: gr.State) -> TabParts:
    """``dataset`` is the run's dataset in the Train tab: this tab's choice and upload set it, and show what it holds;
    ``augment`` are models A's and B's augmentation choices there, shown at work on a few images."""
    gr.Markdown(
        "The images both models learn from. Choose a dataset, or bring your own; it is the run's dataset in "
        "*Train & compare* too. Everything here is counted before any training."
    )
    with gr.Row(equal_height=False):
        choice = Dropdown(DATASET_CHOICES, value="mnist", label="Dataset", elem_id="data-choice", scale=1)
        with gr.Column(scale=2):
            upload, resize, read = upload_box()
    c = {"about": gr.Markdown("", elem_id="data-about")}
    with gr.Row(equal_height=False):
        c["counts"] = gr.Dataframe(label="Images per class", interactive=False, scale=1, elem_id="data-counts")
        c["chart"] = gr.BarPlot(
            None, x="class", y="training images", label=CHART_LABEL, scale=2, elem_id="data-chart",
            sort=[], y_lim=[0, None],  # kept for every dataset (see class_chart); sort []: the table's order
        )  # fmt: skip
    c["examples"] = gr.HTML("", elem_id="data-examples")
    c["presets"] = gr.Dataframe(label="Presets on this data", interactive=False, wrap=True, elem_id="data-presets")
    with gr.Accordion("As the models see them: augmentation at work", open=True, elem_id="data-seen"):
        gr.Markdown(
            "The same training images as they are, then as each model sees them in one step of training with the "
            "augmentations chosen for it in *Train & compare* (each step draws anew)."
        )
        seen = {}
        for key, label in (("plain", "As they are"), ("seen A", "Model A sees"), ("seen B", "Model B sees")):
            gr.Markdown(f"**{label}**")
            seen[key] = gr.HTML("", elem_id=f"data-{key.replace(' ', '-')}", elem_classes="cnn-seen")
        redraw = gr.Button("Draw again", size="sm", elem_id="data-redraw")
    shown = c | {"choice": choice}
    everything = shown | {"dataset": dataset}
    choice.input(lambda value: value, choice, dataset, api_name=False)  # the Train tab's choice follows this one
    dataset.change(by_name(show_dataset, shown), [dataset, session], list(shown.values()), api_name=False)
    read.click(
        by_name(upload_dataset, everything), [upload, resize, session], list(everything.values()),
        api_name="upload_dataset",
    )  # fmt: skip
    upload.upload(
        by_name(upload_dataset, everything), [upload, resize, session], list(everything.values()), api_name=False
    )
    look = [dataset, augment["A"], augment["B"], session]
    for trigger in (redraw.click, dataset.change, augment["A"].change, augment["B"].change):
        trigger(by_name(as_models_see_them, seen), look, list(seen.values()), api_name=False, show_progress="hidden")
    overview_shown = {key: c[key] for key in ("about", "counts", "chart", "examples", "presets")}
    return TabParts(
        on_open=(
            Refresh(by_name(dataset_overview, overview_shown), [dataset, session], list(overview_shown.values())),
            Refresh(by_name(as_models_see_them, seen), look, list(seen.values()), then=True),
        )
    )
