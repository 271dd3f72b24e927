import gradio as gr
import pytest
from gradio.data_classes import FileData
from PIL import Image

from cnn_lab.ui.parts.bounded import MAX_SKETCH_PIXELS, BoundedImage, BoundedSketchpad, check_image


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(tmp_path):
    big = tmp_path / "big.png"
    Image.new("L", (2_001, 2_000), 255).save(big)
    with pytest.raises(gr.Error, match=r"sketch: images up to 4 million pixels; this one is 2,001 x 2,000"):
        check_image(FileData(path=str(big)), "sketch", MAX_SKETCH_PIXELS, 2**30)
    with pytest.raises(gr.Error, match="sketch: files up to 0 MB"):
        check_image(big.read_bytes(), "sketch", MAX_SKETCH_PIXELS, 100)
    fits = tmp_path / "fits.png"
    Image.new("L", (280, 280), 255).save(fits)
    check_image(FileData(path=str(fits)), "sketch", MAX_SKETCH_PIXELS, 2**20)  # the sketchpad's canvas passes


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(gr.Error, match="own image: not an image that can be read"):
        check_image(FileData(path=str(text)), "own image", 100, 2**20)


def test_the_bounded_inputs_are_drawn_by_gradios_own_components():
    with gr.Blocks():
        sketch, image = BoundedSketchpad(type="numpy"), BoundedImage(type="numpy")
    assert sketch.get_block_name() == "imageeditor" and image.get_block_name() == "image"


def test_a_truncated_drawing_is_refused_by_name_not_with_a_traceback(tmp_path):
    """Its header reads (the size check passes), its pixels do not: Gradio's decoder raised OSError, three
    tracebacks in the server's log."""
    whole = tmp_path / "whole.png"
    Image.effect_noise((280, 280), 60).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with gr.Blocks():
        sketch = BoundedSketchpad(type="numpy", image_mode="L")
    with pytest.raises(gr.Error, match="sketch: not an image that can be read"):
        sketch.convert_and_format_image(FileData(path=str(cut)))
    assert sketch.convert_and_format_image(FileData(path=str(whole))).shape == (280, 280)


MEASURE_PHOTO = """
import resource, sys
from gradio.data_classes import ImageData
from cnn_lab.ui.parts.bounded import BoundedImage
from cnn_lab.session import Session, Workspace

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

image, session = BoundedImage(type="numpy"), Session(Workspace(processes=False))
before = peak_mb()
array = image.preprocess(ImageData(path=sys.argv[1], orig_name="big.png"))
session.inspection.read_image(array)
print(array.shape, peak_mb() - before)
"""


def test_a_big_photo_is_read_shrunk_within_twice_its_decoded_size(tmp_path):
    """The probe's 117 KB PNG of 6000 x 6000 took the server up 1,178 MB through /predict_image; read shrunk as it
    is decoded it takes what the decoded image takes (108 MB as RGB) and a little more."""
    import subprocess
    import sys

    import numpy as np

    big = tmp_path / "big.png"
    pixels = np.zeros((6000, 6000, 3), np.uint8)
    pixels[2000:4000, 2900:3100] = 255  # a stroke: a digit "1"
    Image.fromarray(pixels).save(big)
    del pixels
    out = subprocess.run([sys.executable, "-c", MEASURE_PHOTO, str(big)], capture_output=True, text=True, timeout=120)
    shape, grew_mb = out.stdout.rsplit(" ", 1)[0], float(out.stdout.split()[-1])
    assert shape == "(1024, 1024, 3)" and grew_mb < 2 * 108, out.stdout + out.stderr


def test_a_transparent_image_keeps_its_alpha_so_that_transparent_reads_as_paper(tmp_path):
    drawn = tmp_path / "drawn.png"
    ink = Image.new("RGBA", (300, 200), (0, 0, 0, 0))  # transparent black, as many drawing apps save
    ink.paste((0, 0, 0, 255), (140, 40, 160, 160))
    ink.save(drawn)
    from gradio.data_classes import ImageData

    array = BoundedImage(type="numpy").preprocess(ImageData(path=str(drawn), orig_name="drawn.png"))
    assert array.shape == (200, 300, 4) and array[0, 0, 3] == 0 and array[100, 150, 3] == 255
