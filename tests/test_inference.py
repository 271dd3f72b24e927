import numpy as np
import pytest
import torch
from drawn_digits import render_digit
from PIL import Image

from cnn_lab.config import ModelSpec, RunConfig, TrainConfig
from cnn_lab.contenders import Contender
from cnn_lab.inference import predict_images, sketch_to_mnist
from cnn_lab.training import train_models


def test_off_centre_oversized_drawing_ends_centred_at_mnist_size():
    canvas = np.full((400, 400), 255, np.uint8)
    canvas[20:390, 250:330] = 0  # a tall bar, far right, filling the height
    image = sketch_to_mnist(canvas)
    rows, cols = np.nonzero(image > 40)
    assert rows.max() - rows.min() + 1 in (20, 21)
    mass_y, mass_x = (np.array(np.nonzero(image)) * 1.0).mean(axis=1)
    assert abs(mass_y - 13.5) <= 1 and abs(mass_x - 13.5) <= 1


def test_blank_or_cleared_canvas_is_nothing_drawn():
    assert sketch_to_mnist(np.full((280, 280), 255, np.uint8)) is None
    assert sketch_to_mnist(np.full((280, 280), 240, np.uint8)) is None  # faint paper grain
    assert sketch_to_mnist(None) is None


def test_thin_strokes_keep_full_ink():
    image = sketch_to_mnist(render_digit(7, canvas=400, thickness=4))
    assert image.max() == 255


def test_rgba_with_transparent_background_reads_as_white():
    rgba = np.zeros((100, 100, 4), np.uint8)  # transparent black everywhere
    rgba[30:70, 45:55] = (0, 0, 0, 255)  # opaque ink
    image = sketch_to_mnist(rgba)
    assert image is not None and image[14, 14] > 200 and image[0, 0] == 0


@pytest.fixture(scope="module")
def trained(mnist):
    contender = Contender.create("A", ModelSpec(train=TrainConfig(batch_size=64)))
    for _ in train_models([contender], RunConfig(train_subset=12_800), mnist):
        pass
    return contender


def test_a_real_test_digit_drawn_large_is_read_like_the_original(mnist, trained):
    info = mnist.info
    agree = 0
    for index in range(20):
        digit = mnist.test_images[index].numpy()
        big = 255 - np.asarray(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))  # dark ink on white
        drawn = sketch_to_mnist(big)
        probs = predict_images({"A": trained}, torch.from_numpy(np.stack([digit, drawn])), info)["A"]
        agree += probs[0].argmax() == probs[1].argmax() == mnist.test_labels[index].item()
    assert agree >= 18


def test_predict_returns_probabilities_per_model(mnist, trained):
    drawn = torch.from_numpy(sketch_to_mnist(render_digit(3)))[None]
    out = predict_images({"A": trained, "again": trained}, drawn, mnist.info)
    assert set(out) == {"A", "again"} and out["A"].shape == (1, 10)
    assert np.isclose(out["A"].sum(), 1, atol=1e-5) and np.array_equal(out["A"], out["again"])
    assert out["A"].argmax() == 3
