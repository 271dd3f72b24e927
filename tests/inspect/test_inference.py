import base64
import io
import os
from dataclasses import replace

import numpy as np
import pytest
import torch
from drawn_digits import render_digit
from PIL import Image, ImageDraw
from real_drawings import SOURCES, small_fixed_part

from cnn_lab.core.config import ConfigError, ModelSpec, RunConfig, TrainConfig
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import train_models
from cnn_lab.inspect.inference import drawing_from_base64, predict_images, sketch_to_mnist, stroke_width


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


@pytest.mark.parametrize("pen, canvas_share", [(4, 0.9), (24, 0.35)])
def test_a_pen_of_any_width_ends_as_wide_as_mnist_strokes(pen, canvas_share):
    """A thin pen on a big digit and a thick pen on a small one both come out near MNIST's median stroke (2.8 px)."""
    size = int(280 * canvas_share)
    canvas = np.full((280, 280), 255, np.uint8)
    image = Image.fromarray(canvas)
    ImageDraw.Draw(image).ellipse((20, 20, 20 + size * 0.6, 20 + size), outline=0, width=pen)  # a zero
    drawn = sketch_to_mnist(np.asarray(image))
    assert 2.0 <= stroke_width(drawn.astype(np.float32)) <= 3.8
    unmatched = sketch_to_mnist(np.asarray(image), match_stroke=False)
    assert abs(stroke_width(unmatched.astype(np.float32)) - 2.8) > abs(stroke_width(drawn.astype(np.float32)) - 2.8)


# Measured on this fixed part (3 drawings per class from each source: printed, handwriting, mouse), the default pair
# after one epoch on 10,000 images read right: A 82.2 % / B 73.3 % (full MNIST subset), A 87.8 % / B 75.6 % (offline
# sample); untrained or stalled models read about 10 %. After a full epoch of MNIST it is 90-98 % (benchmarks.sketch_reading).
READ_RIGHT_FLOORS = {"A": 0.75, "B": 0.65}


def test_a_fixed_part_of_the_held_out_drawings_is_read_right_by_the_default_pair(default_pair, mnist):
    part = small_fixed_part(30)
    x = torch.from_numpy(np.stack([sketch_to_mnist(image) for image in part["images"]]))
    probs = predict_images(default_pair, x, mnist.info)
    for name, p in probs.items():
        right = p.argmax(1) == part["labels"]
        by_source = {s: round(float(right[part["source"] == s].mean()), 3) for s in SOURCES}
        assert right.mean() >= READ_RIGHT_FLOORS[name], (name, by_source)


def encoded(image: Image.Image, fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_drawing_sent_as_base64_text_reads_like_the_same_drawing_as_an_array():
    canvas = small_fixed_part(10)["images"][0]
    text = encoded(Image.fromarray(canvas))
    for sent in (text, f"data:image/png;base64,{text}", f"  {text}\n"):
        decoded = drawing_from_base64(sent)
        assert decoded.shape == (*canvas.shape, 4)
        np.testing.assert_array_equal(sketch_to_mnist(decoded), sketch_to_mnist(canvas))
    jpeg = drawing_from_base64(encoded(Image.fromarray(canvas), "JPEG"))  # lossy, but the same digit
    assert np.abs(sketch_to_mnist(jpeg).astype(int) - sketch_to_mnist(canvas)).mean() < 8


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "got nothing"),
        (None, "got nothing"),
        (42, "base64 text, got a value of type int"),
        ("not base64 at all!", "could not be decoded"),
        (base64.b64encode(b"plain text, no image").decode(), "could not be decoded"),
        (encoded(Image.new("L", (2400, 10), 255)), "at most 2000 px a side, got 2400x10"),
        (encoded(Image.new("L", (280, 280), 255))[:200], "could not be decoded"),  # cut short
        ("A" * (3 * 2**20), "at most 2 MB"),
    ],
)
def test_text_that_is_not_a_drawing_is_refused_naming_the_field(text, says):
    with pytest.raises(ConfigError, match=says) as info:
        drawing_from_base64(text)
    assert info.value.field == "drawing"


REAL_QUICKDRAW = os.path.join(os.environ.get("CNN_LAB_DATA", ""), "quickdraw7.npz")


@pytest.mark.skipif(not os.path.isfile(REAL_QUICKDRAW), reason="needs quickdraw7.npz in the CNN_LAB_DATA folder")
def test_sketches_drawn_on_the_canvas_are_read_as_well_as_the_bitmaps_once_framed_like_them():
    """Held-out Quick, Draw! sketches redrawn as on the sketchpad (random size and place, the 14 px brush): framed
    like Google's bitmaps (the measured framing) a model reads them nearly as well as the bitmaps themselves, and
    far better than framed like MNIST digits (the page's only preparation before)."""
    from sketch_canvas import on_canvas

    from cnn_lab.core.presets import default_experiment
    from cnn_lab.data.datasets import load_dataset
    from cnn_lab.data.framing import MNIST_FRAMING
    from cnn_lab.inspect.inference import frame_drawing
    from cnn_lab.session.datasets import fitted

    sketches = load_dataset("quickdraw")
    spec = fitted(default_experiment(), sketches).a
    contender = Contender.create("A", replace(spec, train=replace(spec.train, epochs=2)))
    finished = list(train_models([contender], RunConfig("quickdraw"), sketches))[-1]
    bitmaps_read = finished.results["A"].test_accuracy
    rng = np.random.default_rng(0)
    canvases = [on_canvas(bitmap, rng) for bitmap in sketches.test_images.numpy()]  # all 1,492 held out
    labels = sketches.test_labels.numpy()

    def read(framing) -> float:
        x = torch.from_numpy(np.stack([frame_drawing(canvas, framing) for canvas in canvases]))
        return float((predict_images({"A": contender}, x, sketches.info)["A"].argmax(1) == labels).mean())

    framed, like_mnist = read(sketches.info.framing), read(MNIST_FRAMING)
    assert bitmaps_read > 0.75, bitmaps_read
    # measured over seeds 0-1: bitmaps 83.5-83.9 %, framed like them 80.0-81.1 %, framed like MNIST 74.3-74.7 %
    assert framed >= bitmaps_read - 0.07 and framed >= like_mnist + 0.03, (bitmaps_read, framed, like_mnist)


def test_a_drawing_for_larger_images_is_framed_in_their_proportions():
    """A framing measured on 56 px images (a box of 52) frames a drawing to the same share of the input."""
    from cnn_lab.data.framing import Framing
    from cnn_lab.inspect.inference import drawing_as_input

    canvas = np.full((280, 280), 255, np.uint8)
    canvas[40:240, 60:220] = 0  # a filled block, 200 tall
    seen = drawing_as_input(canvas, (1, 56, 56), Framing(52.0, 4.6, "box"))
    rows = np.nonzero(seen.max(1) > 40)[0]
    assert seen.shape == (56, 56) and 50 <= rows.max() - rows.min() + 1 <= 54  # 52 of 56, as its images
