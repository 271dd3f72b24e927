import numpy as np
import pytest

from cnn_lab.data.framing import MNIST_FRAMING, Framing, measure_framing, stroke_width


def test_measuring_mnist_finds_the_framing_its_preprocessing_was_built_on(mnist):
    measured = measure_framing(mnist.train_images)
    assert measured.centre == "mass"  # LeCun's digits are centred by centre of mass in 28x28
    assert measured.box == pytest.approx(MNIST_FRAMING.box, abs=1)  # the longer side fills a 20 px box
    assert measured.stroke == pytest.approx(MNIST_FRAMING.stroke, abs=0.3)


def test_drawings_centred_by_their_box_are_told_from_drawings_centred_by_their_mass():
    images = np.zeros((50, 28, 28), np.uint8)
    images[:, 4:24, 2:26] = 255  # a 24 x 20 block, its box centred ...
    images[:, 6:22, 4:24] = 0
    images[:, 6:22, 4:8] = 255  # ... with most ink on the left: the mass is not centred
    framing = measure_framing(images)
    assert framing == Framing(box=24.0, stroke=framing.stroke, centre="box") and 2 <= framing.stroke <= 4
    mass_x = (images[0].sum(0) * np.arange(28)).sum() / images[0].sum()
    shifted = np.roll(images, round(13.5 - mass_x), axis=2)  # moved so that their centre of mass is the image's
    assert measure_framing(shifted).centre == "mass"


def test_blank_images_leave_mnist_framing():
    assert measure_framing(np.zeros((5, 28, 28), np.uint8)) == MNIST_FRAMING


def test_stroke_width_is_the_width_of_a_long_bar():
    ink = np.zeros((40, 40), np.float32)
    ink[5:35, 10:13] = 255  # 3 px wide, 30 long
    assert stroke_width(ink) == pytest.approx(3, rel=0.1)
