"""Models trained on MNIST reading other digits (real handwriting and printed digits from outside MNIST, drawn into
28x28 as they come, without MNIST's centring): the lesson of domain shift, class by class."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from real_drawings import real_drawing_set

from cnn_lab.core.config import ConfigError
from cnn_lab.data.datasets import DATASET_INFO, DatasetInfo, with_statistics
from cnn_lab.inspect.confusion import score_on_test_set
from cnn_lab.inspect.cross_reading import as_models_see, cross_reading
from cnn_lab.views.tables import cross_reading_frame, cross_reading_text


def digits_from_outside(names=tuple(str(d) for d in range(10)), title="outside writers", size=28):
    """The real drawings (fonts, other writers' handwriting, mouse strokes) only shrunk to ``size`` and turned white
    on black: no MNIST framing, so a different population of images than MNIST's."""
    drawn = real_drawing_set()
    small = np.stack(
        [np.asarray(Image.fromarray(255 - c).resize((size, size), Image.BILINEAR)) for c in drawn["images"]]
    )
    images, labels = torch.from_numpy(small), torch.from_numpy(drawn["labels"].copy())
    return with_statistics(DatasetInfo("custom", title, names), images, labels, images, labels, origin="upload")


@pytest.fixture(scope="module")
def scores(default_pair, mnist):
    return score_on_test_set(default_pair, mnist)


def test_mnist_models_read_other_writers_worse_than_their_own_test_set_class_by_class(default_pair, mnist, scores):
    other = digits_from_outside()
    reading = cross_reading(default_pair, mnist, scores, other)
    assert reading.class_names == tuple(str(d) for d in range(10)) and reading.resized_from is None
    assert reading.images.tolist() == np.bincount(other.test_labels.numpy(), minlength=10).tolist()
    for name in "AB":
        assert reading.own[name] == pytest.approx(scores.per_class_accuracy(name))  # the same numbers Inspect shows
        assert reading.accuracy(name, "own") > 0.9 and reading.accuracy(name) < reading.accuracy(name, "own") - 0.1
    frame = cross_reading_frame(reading)
    assert list(frame.columns) == [
        "class", "images", "A on outside writers", "A on its own test set", "B on outside writers",
        "B on its own test set",
    ]  # fmt: skip
    assert len(frame) == 10
    words = cross_reading_text(reading)
    assert words.startswith("Trained on MNIST") and "domain shift" in words and "points)" in words


def test_only_the_classes_both_name_alike_are_read(default_pair, mnist, scores):
    names = ("3", "seven", "1", "x", "4", "5", "6", "7", "8", "9")  # "0" and "2" are named otherwise here
    reading = cross_reading(default_pair, mnist, scores, digits_from_outside(names))
    assert reading.class_names == ("1", "3", "4", "5", "6", "7", "8", "9")  # in the models' order
    other = digits_from_outside(names)
    assert reading.images[reading.class_names.index("3")] == (other.test_labels == 0).sum()  # "3" is label 0 there


def test_a_dataset_with_none_of_the_classes_is_refused_naming_the_field(default_pair, mnist, scores):
    fashion = digits_from_outside(DATASET_INFO["fashion_mnist"].class_names, "Fashion-MNIST")
    with pytest.raises(ConfigError, match="dataset: Fashion-MNIST names none of these models' classes") as err:
        cross_reading(default_pair, mnist, scores, fashion)
    assert err.value.field == "dataset"


def test_images_of_another_size_or_colour_are_brought_to_the_models_input(default_pair, mnist, scores):
    other = digits_from_outside(size=32)
    colour = replace(other, test_images=other.test_images[:, None].repeat(1, 3, 1, 1))
    reading = cross_reading(default_pair, mnist, scores, colour)
    assert reading.resized_from == (3, 32, 32) and "were brought to the models' input" in cross_reading_text(reading)
    grey = as_models_see(colour.test_images[:5], (1, 28, 28))
    assert grey.shape == (5, 28, 28) and grey.dtype == torch.uint8
    assert as_models_see(mnist.test_images[:5], (3, 32, 32)).shape == (5, 3, 32, 32)
