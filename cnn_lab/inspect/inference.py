"""From a drawing to what the training images look like, and from there to class probabilities.

MNIST digits are white on black, their longer side about 20 px, centred by
centre of mass in 28x28; Quick, Draw! sketches fill 26 px and are centred by
their box (cnn_lab.data.framing measures each dataset's framing). A sketch
that is only resized looks nothing like either (thin strokes vanish,
off-centre drawings fall off the receptive field), so we redo the dataset's
own preprocessing on the sketch.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torch import nn

from cnn_lab.core.config import ConfigError
from cnn_lab.data.datasets import DatasetInfo
from cnn_lab.data.framing import INK_THRESHOLD, MNIST_FRAMING, Framing, centre_of_mass, ink_box, stroke_width
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import prepare_batch

CANVAS = 28


MAX_DRAWING_BYTES = 2 * 2**20  # a 1,000 x 1,000 PNG of a digit is far below this
MAX_DRAWING_SIDE = 2000


def drawing_from_base64(text: str | None) -> np.ndarray:
    """A drawing sent as text (a base64 PNG or JPEG, or a data: URL of one) as an array; programs reading digits
    send it so, inline, without uploading a file first. Anything else is refused naming the field."""
    if text is not None and not isinstance(text, str):
        raise ConfigError(f"drawing must be base64 text, got a value of type {type(text).__name__}", "drawing")
    text = (text or "").strip()
    if text.startswith("data:"):
        text = text.partition(",")[2]
    if not text:
        raise ConfigError("drawing must be a base64-encoded PNG or JPEG image, got nothing", "drawing")
    if len(text) > MAX_DRAWING_BYTES * 4 // 3 + 4:
        raise ConfigError(
            f"drawing must be at most {MAX_DRAWING_BYTES // 2**20} MB, got {len(text) * 3 // 4:,} bytes", "drawing"
        )
    unreadable = ConfigError("drawing must be a base64-encoded PNG or JPEG image (it could not be decoded)", "drawing")
    try:
        image = Image.open(io.BytesIO(base64.b64decode(text, validate=True)))  # reads the header only
    except (ValueError, UnidentifiedImageError, Image.DecompressionBombError):  # binascii.Error, non-ASCII text
        raise unreadable from None
    if max(image.size) > MAX_DRAWING_SIDE:
        width, height = image.size
        raise ConfigError(f"drawing must be at most {MAX_DRAWING_SIDE} px a side, got {width}x{height}", "drawing")
    try:
        return np.asarray(image.convert("RGBA"))
    except OSError:  # a truncated or corrupt body
        raise unreadable from None


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) -> (H, W) uint8 with dark ink on white; transparent pixels count as white."""
    image = np.asarray(image)
    if image.ndim == 3:
        rgb = image[..., :3].astype(np.float32)
        gray = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if image.shape[2] >= 3 else rgb[..., 0]
        if image.shape[2] == 4:
            alpha = image[..., 3].astype(np.float32) / 255
            gray = gray * alpha + 255 * (1 - alpha)
        image = gray
    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)  # rounded: 254.9999 is 255, not 254
    return image


def match_stroke(crop: np.ndarray, framing: Framing = MNIST_FRAMING) -> np.ndarray:
    """Thicken or thin the strokes of a cropped drawing so that, scaled into the framing's box, they are as wide as
    the training images' (MNIST's by default).

    A user's pen is a fixed number of canvas pixels: a big drawing ends up
    hair-thin when shrunk and a small one blotchy. Dilation and erosion are
    max-pooling on the ink (and on its negative)."""
    target = framing.stroke_share * max(crop.shape)
    radius = int(round((target - stroke_width(crop)) / 2))
    if radius == 0:
        return crop
    x = torch.from_numpy(np.pad(crop, abs(radius)))[None, None]  # blank paper around: strokes at the edge thin too
    kernel = 2 * abs(radius) + 1
    x = F.max_pool2d(x, kernel, 1, abs(radius)) if radius > 0 else -F.max_pool2d(-x, kernel, 1, abs(radius))
    out = x[0, 0].numpy()
    if radius < 0 and not (out > INK_THRESHOLD).any():  # never erase a drawing
        return crop
    return _ink_crop(out)


def _ink_crop(ink: np.ndarray) -> np.ndarray | None:
    box = ink_box(ink)
    if box is None:
        return None
    top, bottom, left, right = box
    return ink[top : bottom + 1, left : right + 1]


def frame_drawing(
    sketch: np.ndarray | None, framing: Framing = MNIST_FRAMING, match_pen: bool = True
) -> np.ndarray | None:
    """Dark-on-white drawing of any size -> 28x28 uint8 white-on-black, framed as the training images are (its
    longer side in the framing's box, centred by centre of mass or by its box); None when nothing is drawn.

    ``match_pen`` brings the pen's width to the training images' (see match_stroke)."""
    if sketch is None:
        return None
    crop = _ink_crop(255 - to_grayscale(sketch).astype(np.float32))
    if crop is None:
        return None
    if match_pen:
        crop = match_stroke(crop, framing)
    h, w = crop.shape
    scale = min(framing.box, CANVAS) / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    small = F.interpolate(
        torch.from_numpy(crop)[None, None], size=size, mode="bilinear", antialias=True, align_corners=False
    )[0, 0]
    small = small * (255.0 / max(float(small.max()), 1.0))  # thin strokes fade when shrunk: restore full ink
    small = small.clamp(0, 255).numpy()

    if framing.centre == "mass":
        cy, cx = centre_of_mass(small)
    else:
        cy, cx = (size[0] - 1) / 2, (size[1] - 1) / 2
    top = int(np.clip(round(CANVAS / 2 - 0.5 - cy), 0, CANVAS - size[0]))
    left = int(np.clip(round(CANVAS / 2 - 0.5 - cx), 0, CANVAS - size[1]))
    out = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    out[top : top + size[0], left : left + size[1]] = small
    return out.round().astype(np.uint8)


def sketch_to_mnist(sketch: np.ndarray | None, match_stroke: bool = True) -> np.ndarray | None:
    """A drawing framed as an MNIST digit (frame_drawing with MNIST's framing)."""
    return frame_drawing(sketch, MNIST_FRAMING, match_stroke)


def resized(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A uint8 (H, W) or (H, W, 3) image at another size, filtered (antialiased) when it shrinks."""
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def drawing_as_input(
    sketch: np.ndarray | None, shape: tuple[int, int, int], framing: Framing | None = None
) -> np.ndarray | None:
    """A dark-on-white drawing as a grey model of input ``shape`` reads it: framed like its training images
    (MNIST's framing when they have none) on a 28 px square, then the input's size; None when nothing is drawn."""
    framing = framing or MNIST_FRAMING
    if max(shape[1:]) != CANVAS:  # a framing is in its images' pixels: brought to the 28 px square's
        k = CANVAS / max(shape[1:])
        framing = Framing(framing.box * k, framing.stroke * k, framing.centre)
    drawn = frame_drawing(sketch, framing)
    return None if drawn is None else resized(drawn, shape[1], shape[2])


def border_brightness(grey: np.ndarray) -> float:
    """The mean of an image's outermost pixels: its background, for nearly every photo or scan of one thing."""
    return float(np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]).mean())


def image_as_input(
    image: np.ndarray,
    shape: tuple[int, int, int],
    dark_background: bool,
    drawable: bool,
    framing: Framing | None = None,
) -> np.ndarray:
    """Any uploaded image (H, W), (H, W, 3) or (H, W, 4) prepared like the training images of input ``shape``:
    grey or colour, the training images' size, and for grey data their polarity (a dark digit photographed on
    white paper becomes white on black when the training images are light on dark). A digit-like dataset
    (``drawable``) is framed as its training images are, as the sketchpad's drawings are. Returns uint8 (H, W) or (C, H, W)."""
    channels, height, width = shape
    if channels == 3:
        rgba = np.asarray(image)
        rgb = np.repeat(rgba[..., None], 3, axis=2) if rgba.ndim == 2 else rgba[..., :3]
        return resized(np.ascontiguousarray(rgb.astype(np.uint8)), height, width).transpose(2, 0, 1).copy()
    grey = to_grayscale(image)
    light_background = border_brightness(grey) > 127
    if drawable:  # sketch_to_mnist wants dark ink on white
        drawn = drawing_as_input(grey if light_background else 255 - grey, shape, framing)
        return drawn if drawn is not None else np.zeros((height, width), np.uint8)
    if dark_background and light_background:
        grey = 255 - grey
    return resized(grey, height, width)


@torch.inference_mode()
def predict(models: Mapping[str, nn.Module], x: torch.Tensor) -> dict[str, np.ndarray]:
    """Class probabilities of each model for a batch x (on the CPU); returns (B, classes) arrays."""
    out = {}
    for name, module in models.items():
        device = next(module.parameters()).device
        was_training = module.training
        module.eval()
        logits = module(x.to(device).contiguous(memory_format=torch.channels_last)).float()
        module.train(was_training)
        out[name] = torch.softmax(logits, dim=1).cpu().numpy()
    return out


def predict_images(
    contenders: Mapping[str, Contender], images: torch.Tensor, info: DatasetInfo
) -> dict[str, np.ndarray]:
    """Class probabilities of each model for uint8 (B, H, W) or (B, C, H, W) images, each normalised the way that
    model was trained."""
    return {
        name: predict({name: c.module}, prepare_batch(images, *c.normalization(info)))[name]
        for name, c in contenders.items()
    }
