from dataclasses import replace

from cnn_lab.data.datasets import DATASET_INFO
from cnn_lab.data.framing import Framing
from cnn_lab.data.stats import overview
from cnn_lab.views.data_view import about_text, sketch_label


def test_the_sketchpad_asks_for_a_digit_or_names_the_classes():
    assert sketch_label(DATASET_INFO["mnist"]) == "Draw a digit: both models read it"
    assert sketch_label(DATASET_INFO["quickdraw"]) == "Draw one of the 7 classes (cat, dog, horse, ...)"
    letters = sketch_label(DATASET_INFO["emnist_letters"])
    assert letters == "Draw one of the 26 classes (a, b, c, ...)" and len(letters) <= 55


def test_the_data_tab_says_how_a_drawing_will_be_framed(mnist):
    sketches = replace(mnist, info=replace(mnist.info, framing=Framing(26.0, 2.3, "box")))
    text = about_text(sketches, overview(sketches))
    assert "the longer side 26 px of 28, centred by its box, strokes 2.3 px wide" in text
    assert "centred by its centre of mass" in about_text(mnist, overview(mnist))
