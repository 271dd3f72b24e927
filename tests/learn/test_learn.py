"""The Learn tab's content: a glossary whose pictures are computed from the digit they are given, troubleshooting
entries every warning links to, and warnings shown in each model's column."""

from dataclasses import replace

import numpy as np

from cnn_lab.core.presets import default_experiment
from cnn_lab.learn.advice import RULES
from cnn_lab.learn.glossary import PICTURES, TERMS, digits_from, picture
from cnn_lab.learn.troubleshooting import TROUBLES
from cnn_lab.session import Session, Workspace
from cnn_lab.ui import api_values
from cnn_lab.ui.learn import glossary_html
from cnn_lab.ui.train.setup import setting_advice


def test_the_glossary_has_thirty_terms_each_with_a_picture_computed_from_the_digit_given(mnist):
    assert len(TERMS) >= 30 and len({t.name for t in TERMS}) == len(TERMS)
    assert {t.picture for t in TERMS} <= set(PICTURES)
    names = {t.name for t in TERMS}
    for needed in ("convolution", "kernel (filter)", "stride", "padding", "pooling", "ReLU", "batch normalisation",
                   "dropout", "epoch", "batch", "learning rate", "optimizer", "momentum", "overfitting",
                   "data augmentation", "softmax", "cross-entropy loss", "logits"):  # fmt: skip
        assert needed in names, needed
    digits = digits_from(mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels)
    other = digits_from(mnist.train_images.flip(1), mnist.train_labels, mnist.test_images, mnist.test_labels)
    changed = 0
    for term in TERMS:
        image = picture(term, digits)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.std() > 5, term.name
        changed += not np.array_equal(image, picture(term, other))
    assert changed >= 25  # computed from the digit: an upside-down digit changes most pictures


def test_the_glossary_renders_and_finds_terms(mnist):
    session = Session(Workspace(processes=False))
    session.workspace.dataset = lambda name: mnist
    everything = glossary_html("", session)
    assert everything.count('class="cnn-term"') == len(TERMS) and everything.count("data:image/png;base64,") == len(
        TERMS
    )
    pooling = glossary_html("pooling", session)
    assert 2 <= pooling.count('class="cnn-term"') < len(TERMS) and "max pooling" in pooling
    assert "No term holds" in glossary_html("zebra", session)


def test_every_warning_links_to_a_troubleshooting_entry_and_shows_in_its_column(mnist):
    session = Session(Workspace(processes=False))
    session.workspace.dataset = lambda name: mnist
    setup = default_experiment()
    assert setting_advice(*api_values(setup), session) == ("", "")  # quiet on the defaults
    risky = replace(setup, b=replace(setup.b, train=replace(setup.b.train, learning_rate=1.0)))
    a, b = setting_advice(*api_values(risky), session)
    assert a == "" and "SGD at a learning rate of 1 will most likely diverge" in b
    assert TROUBLES["loss-is-nan"].symptom in b
    assert len(RULES) == 5 and all(entry.causes and entry.remedies for entry in TROUBLES.values())


def test_the_guided_result_refuses_an_experiment_it_does_not_know_by_name():
    import gradio as gr
    import pytest

    from cnn_lab.ui.learn import guided_result

    for knob in (None, "warp speed", ["learning rate"]):  # /guided_result(null) once raised a KeyError
        with pytest.raises(gr.Error, match="experiment must be one of learning rate, batch size"):
            guided_result(knob, Session(Workspace(processes=False)))
