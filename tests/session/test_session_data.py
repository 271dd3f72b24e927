"""A session on data other than MNIST: the user's own upload (grey and colour, 3 and 26 classes), its class names
in every result, and an image of the user's own read by both models."""

from dataclasses import replace

import numpy as np
import pytest
from own_datasets import THREE_CLASSES, class_images, digits_zip, twenty_six_classes
from real_drawings import small_fixed_part

from cnn_lab.core.config import ConfigError, ExperimentConfig, ModelConfig, ModelSpec, Pool, RunConfig, TrainConfig
from cnn_lab.data.datasets import UPLOADED
from cnn_lab.session import Session, Workspace

SMALL = ModelConfig.from_conv_channels([4, 8, 8, 8])


def setup_on(dataset: str, epochs: int = 5) -> ExperimentConfig:
    return ExperimentConfig(
        ModelSpec(SMALL, TrainConfig("adam", 0.003, 32, epochs)),
        ModelSpec(SMALL, TrainConfig("adam", 0.002, 32, epochs)),
        RunConfig(dataset=dataset, seed=1, precision="fp32"),
    )


@pytest.fixture
def session():
    return Session(Workspace(processes=False))


def test_an_uploaded_dataset_trains_and_its_class_names_reach_every_result(session, tmp_path, mnist):
    session.datasets.upload(digits_zip(tmp_path / "three digits.zip", mnist, per_class=120))
    for _ in session.training.train(setup_on(UPLOADED)):
        pass
    results = session.pair.finished.results
    assert session.pair.trained and all(
        r.test_accuracy > 0.8 for r in results.values()
    )  # 3 easy classes of real digits
    assert session.pair.contenders["A"].spec.model.num_classes == 3
    html = session.inspection.sample_results(count=12, seed=0)
    assert "true: seven" in html and "true: zero" in html
    scores = session.inspection.test_set_scores()
    assert scores.class_names == ("one", "seven", "zero") and scores.confusion("A").shape == (3, 3)
    # an image of the user's own: a real MNIST seven not among the uploaded ones, dark on white as on paper
    seven = class_images(mnist, {"seven": 7}, 1, offset=500)["seven"][0]
    reading = session.inspection.read_image(255 - np.kron(seven, np.ones((5, 5), np.uint8)))
    assert set(reading.confidences["A"]) == {"one", "seven", "zero"}
    assert max(reading.confidences["A"], key=reading.confidences["A"].get) == "seven"
    assert reading.preview.shape == (28, 28) and reading.preview.mean() < 80  # white on black again


def test_another_session_never_sees_the_upload(session, tmp_path, mnist):
    session.datasets.upload(digits_zip(tmp_path / "mine.zip", mnist, per_class=12))
    other = Session(session.workspace)
    with pytest.raises(ConfigError, match="upload a .zip or .npz in the Data tab first"):
        list(other.training.train(setup_on(UPLOADED)))


def test_twenty_six_classes_train_and_fill_a_26_by_26_matrix(session, tmp_path, mnist):
    x, y, names = twenty_six_classes(mnist, per_class=30)
    np.savez(tmp_path / "twenty six.npz", x=x, y=y, class_names=np.array(names))
    session.datasets.upload(tmp_path / "twenty six.npz")
    for _ in session.training.train(setup_on(UPLOADED, epochs=5)):
        pass
    scores = session.inspection.test_set_scores()
    assert scores.class_names == tuple(names) and scores.confusion("B").shape == (26, 26)
    assert scores.accuracy("A") > 3 / 26  # above chance: it learns
    shown = session.inspection.sample_results(count=60, seed=1)
    assert sum(f"true: {name}<" in shown for name in names) >= 20  # the names, not numbers, under the images


def test_colour_images_train_explain_export_and_read_an_uploaded_photo(session, tmp_path, mnist):
    digits = class_images(mnist, {"zero": 0, "one": 1}, 60)
    x = np.concatenate([np.stack([d, d // 3, d // 5], 1) for d in digits.values()])  # tinted: still real digits
    x[60:] = x[60:, ::-1]  # the ones in blue, the zeros in red
    y = np.repeat([0, 1], 60)
    np.savez(tmp_path / "tinted.npz", x=x, y=y, class_names=np.array(["red zero", "blue one"]))
    data = session.datasets.upload(tmp_path / "tinted.npz", resize=20)
    assert data.image_shape == (3, 20, 20) and len(data.info.mean) == 3
    for _ in session.training.train(setup_on(UPLOADED)):
        pass
    assert session.pair.finished.results["A"].test_accuracy > 0.9
    found = session.inspection.explain(session.inspection.test_image(0), "occlusion")
    assert found["A"].attribution.shape == (20, 20)
    photo = np.zeros((100, 80, 3), np.uint8)
    photo[..., 2] = np.kron(digits["one"][50], np.ones((4, 3), np.uint8))[:100, :80]  # a blue one, larger
    reading = session.inspection.read_image(photo)
    assert reading.preview.shape == (20, 20, 3) and set(reading.confidences["B"]) == {"red zero", "blue one"}
    assert session.inspection.read_sketch(np.full((50, 50), 255, np.uint8)).note.startswith("These models read colour")
    folder = tmp_path / "files"
    folder.mkdir()
    (written,) = session.history.export_model("A", "safetensors", folder)
    session.history.import_model("B", written.read_bytes(), written.name)
    assert session.pair.contenders["B"].spec.model.input_shape == (3, 20, 20)
    assert session.pair.finished.results["B"].test_accuracy == session.pair.finished.results["A"].test_accuracy


def test_a_preset_that_cannot_read_small_images_says_why(session, tmp_path, mnist):
    small = class_images(mnist, THREE_CLASSES, 10)
    x = np.concatenate([d[:, ::3, ::3] for d in small.values()])  # 10x10 digits
    np.savez(tmp_path / "tiny.npz", x=x, y=np.repeat([0, 1, 2], 10))
    session.datasets.upload(tmp_path / "tiny.npz")
    deep = ModelConfig((*SMALL.layers, Pool(), Pool()))
    setup = setup_on(UPLOADED)
    with pytest.raises(ConfigError, match=r"model A cannot read tiny \(10x10, 1 channel, 3 classes\).*below 1x1|only"):
        list(session.training.train(replace(setup, a=replace(setup.a, model=deep))))
    assert not session.pair.running


def test_an_uploaded_photo_of_a_real_drawing_is_seen_as_the_sketchpad_sees_the_drawing(session):
    """Real drawings (tests/fixtures: printed, handwritten and mouse-drawn digits of other writers) as a user's own
    files: dark on white as drawn, light on dark as scanned negatives, and as RGBA with a transparent background.
    The models see each exactly as the sketchpad's path makes it."""
    part = small_fixed_part(10)
    for drawing in part["images"]:
        seen = session.inspection.read_sketch(drawing).preview
        assert seen is not None and seen.shape == (28, 28)
        assert np.array_equal(session.inspection.read_image(drawing).preview, seen)
        assert np.array_equal(session.inspection.read_image(255 - drawing).preview, seen)  # a negative is turned back
        rgba = np.zeros((*drawing.shape, 4), np.uint8)
        rgba[..., 3] = 255 - drawing  # ink as opaque black, paper transparent
        assert np.array_equal(session.inspection.read_image(rgba).preview, seen)


def test_a_public_server_does_not_show_its_data_folder(mnist, monkeypatch):
    monkeypatch.setattr(
        "cnn_lab.session.workspace.load_dataset", lambda name, data_dir: replace(mnist, origin="/srv/secret/data")
    )
    public, local = Workspace(processes=False, public=True), Workspace(processes=False)
    assert "/srv/secret" not in public.dataset("mnist").source and "the data folder" in public.dataset("mnist").source
    assert "from /srv/secret/data" in local.dataset("mnist").source  # your own machine: where it came from helps
