"""The Data tab's handlers on a session: an upload's overview, a bad file as a message naming the field, and the
builders' layer tables on the run's dataset."""

import gradio as gr
import numpy as np
import pytest
from own_datasets import THREE_CLASSES, class_images

from cnn_lab.core.builder import layers_to_json
from cnn_lab.core.config import ModelConfig
from cnn_lab.session import Session, Workspace
from cnn_lab.ui.data import dataset_overview, upload_dataset
from cnn_lab.ui.train.setup import builder_table

DEFAULT = layers_to_json(ModelConfig.from_conv_channels([16, 32, 64, 64]).layers)


@pytest.fixture
def session():
    return Session(Workspace(processes=False))


def test_an_upload_is_counted_checked_for_duplicates_and_shown_by_class(session, tmp_path, mnist):
    digits = class_images(mnist, THREE_CLASSES, 30)
    np.savez(
        tmp_path / "with copies.npz",
        x=np.concatenate(list(digits.values())),
        y=np.repeat([0, 1, 2], 30),
        x_test=np.concatenate([d[:4] for d in digits.values()]),  # 4 of every class also in training: 12 copies
        y_test=np.repeat([0, 1, 2], 4),
        class_names=np.array(list(THREE_CLASSES)),
    )
    shown = upload_dataset(str(tmp_path / "with copies.npz"), 0, session)
    assert shown["dataset"] == shown["choice"] == "custom"
    assert "**12 test images are also training images**" in shown["about"]
    assert shown["counts"]["training images"].tolist() == [30, 30, 30]
    assert shown["examples"].count('class="cnn-truth">seven<') == 6
    assert all(verdict.startswith("fits") for verdict in shown["presets"]["on this data"])


def test_a_bad_file_is_a_message_naming_the_field(session, tmp_path):
    (tmp_path / "notes.txt").write_text("not data")
    with pytest.raises(gr.Error, match="Upload · dataset file must be a .zip of class-named folders"):
        upload_dataset(str(tmp_path / "notes.txt"), 0, session)
    with pytest.raises(gr.Error, match="choose a .zip or .npz file"):
        upload_dataset(None, 0, session)
    assert "upload a .zip or .npz in the Data tab first" in dataset_overview("custom", session)["about"]


def test_the_builders_table_follows_the_runs_dataset(session, tmp_path, mnist):
    assert builder_table(DEFAULT, "mnist", session)["output"].tolist()[0] == "16x28x28"
    digits = class_images(mnist, THREE_CLASSES, 12)
    x = np.concatenate([np.stack([d, d, d], -1) for d in digits.values()])  # grey digits saved as colour
    x[..., 0] = 255 - x[..., 0]  # ... made colour
    np.savez(tmp_path / "colour.npz", x=x, y=np.repeat([0, 1, 2], 12))
    upload_dataset(str(tmp_path / "colour.npz"), 20, session)
    table = builder_table(DEFAULT, "custom", session)
    assert table["output"].tolist()[0] == "16x20x20" and table["params"].tolist()[0] == f"{16 * 3 * 9 + 16:,}"
    assert table["output"].tolist()[-1] == "64x5x5"  # 20 px pooled twice
    assert builder_table(DEFAULT, "kmnist", session)["output"].tolist()[0] == "16x28x28"  # not here: MNIST's shape


def test_the_class_chart_draws_the_tables_counts_of_the_dataset_shown(session, tmp_path, mnist):
    """MNIST, then an upload, then MNIST again: each time the chart's bars are the table's training images, class by
    class in the table's order, and its label names the dataset (issue 33: it lagged one dataset behind)."""
    digits = class_images(mnist, THREE_CLASSES, 30)
    np.savez(
        tmp_path / "three digits.npz",
        x=np.concatenate([digits["seven"], digits["zero"][:20], digits["one"][:10]]),
        y=np.repeat([0, 1, 2], [30, 20, 10]),
        class_names=np.array(["seven", "zero", "one"]),  # not in alphabetical order
    )
    for shown, title in (
        (dataset_overview("mnist", session), "MNIST"),
        (upload_dataset(str(tmp_path / "three digits.npz"), 0, session), "three digits"),
        (dataset_overview("mnist", session), "MNIST"),
    ):
        chart = shown["chart"]
        assert chart.value["data"] == shown["counts"][["class", "training images"]].values.tolist(), title
        assert chart.label == f"Training images per class: {title}"
        # only its data and label change: any other property makes the page's plot redraw from the data it had before
        assert set(chart.constructor_args) == {"value", "label"}
    assert [row[1] for row in chart.value["data"]] == mnist.train_labels.bincount().tolist()
    drawn = upload_dataset(str(tmp_path / "three digits.npz"), 0, session)["chart"].value["data"]
    assert [name for name, _ in drawn] == [
        "seven",
        "zero",
        "one",
    ]  # the file's order (part of each is held out to test)
