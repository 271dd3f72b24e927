"""Image inputs that refuse an oversized image before Gradio decodes it.

Gradio decodes an image input (to the numpy array the handler gets) before
any handler runs: a 228 KB PNG of 13,000 x 13,000 pixels took the server up
1.56 GB for 6 s, from a session with no trained model. These components
read the image's header first (its file size and pixel count cost nothing)
and refuse it with the field and the limit named. An image of one's own is
then decoded already shrunk to READ_SIDE (the models read 28-128 px): a
117 KB PNG of 6000 x 6000 took the server up 1.2 GB, most of it in the
full-size copies that preparing it made."""

from __future__ import annotations

import base64
import binascii
import os
from io import BytesIO
from typing import Any

import gradio as gr
import numpy as np
import PIL.Image
import PIL.ImageOps

from cnn_lab.ui.parts.wiring import refusal

MAX_SKETCH_PIXELS = 4_000_000  # the sketchpad sends 280 x 280 (x its screen's pixel ratio): 2000 x 2000 is plenty
MAX_SKETCH_BYTES = 8 * 2**20
MAX_PHOTO_PIXELS = 40_000_000  # a 40-megapixel photo; decoded as RGB that is 120 MB, for a moment
MAX_PHOTO_BYTES = 40 * 2**20
READ_SIDE = 1024  # an image of one's own is shrunk to this many px a side as it is read


def check_image(source: Any, field: str, max_pixels: int, max_bytes: int) -> None:
    """Refuse (a gr.Error naming ``field``) an image file or bytes over ``max_bytes`` or ``max_pixels``, or one PIL
    cannot identify, without decoding its pixels."""
    path = getattr(source, "path", None)  # FileData (the sketchpad's layers) or ImageData (an upload)
    if isinstance(path, str) and path:
        size, opened = os.path.getsize(path), path
    elif isinstance(source, (bytes, bytearray, memoryview)):
        size, opened = len(source), BytesIO(source)
    else:
        return
    if size > max_bytes:
        raise refusal(f"{field}: files up to {max_bytes // 2**20} MB; this one is {size / 2**20:.1f} MB")
    try:
        with PIL.Image.open(opened) as image:  # reads the header only
            width, height = image.size
    except (OSError, PIL.Image.DecompressionBombError):
        raise refusal(f"{field}: not an image that can be read (PNG, JPEG, WebP, ...)") from None
    if width * height > max_pixels:
        raise refusal(
            f"{field}: images up to {max_pixels / 1e6:g} million pixels; this one is {width:,} x {height:,} "
            f"({width * height / 1e6:.1f} million)"
        )


class BoundedSketchpad(gr.Sketchpad):
    """The sketchpad, each of its images checked before it is decoded."""

    FIELD = "sketch"

    def get_block_name(self) -> str:
        return "imageeditor"  # drawn by Gradio's own editor, as gr.Sketchpad is

    def convert_and_format_image(self, file, flatten_on_white: bool = False):
        check_image(file, self.FIELD, MAX_SKETCH_PIXELS, MAX_SKETCH_BYTES)
        try:
            return super().convert_and_format_image(file, flatten_on_white)
        except (ValueError, OSError) as err:  # a header that reads and pixels that do not (a truncated PNG)
            raise refusal(f"{self.FIELD}: not an image that can be read ({err})") from None


class BoundedImage(gr.Image):
    """An image upload, checked before it is decoded."""

    is_template = True  # drawn by Gradio's own image component
    FIELD = "own image"  # what a refusal calls it

    def preprocess(self, payload) -> np.ndarray | None:
        """The image as an array (RGBA where it has transparency, else RGB), at most READ_SIDE px a side: a JPEG
        decoded at a reduced scale, anything else shrunk as soon as it is decoded. Turned as its EXIF says."""
        if payload is None:
            return None
        source: Any = payload
        url = getattr(payload, "url", None) or ""
        if url.startswith("data:"):  # sent inline rather than uploaded: the same limits
            text = url.partition(",")[2]
            if len(text) > MAX_PHOTO_BYTES * 4 // 3 + 4:
                raise refusal(f"{self.FIELD}: files up to {MAX_PHOTO_BYTES // 2**20} MB")
            try:
                source = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise refusal(f"{self.FIELD}: not an image that can be read (damaged base64)") from None
        elif not getattr(payload, "path", None):
            raise refusal(f"{self.FIELD}: not an image that can be read (no file came with it)")
        check_image(source, self.FIELD, MAX_PHOTO_PIXELS, MAX_PHOTO_BYTES)
        try:
            with PIL.Image.open(BytesIO(source) if isinstance(source, bytes) else payload.path) as image:
                image.draft(image.mode, (READ_SIDE, READ_SIDE))  # a JPEG decodes at a reduced scale
                image.thumbnail((READ_SIDE, READ_SIDE))
                image = PIL.ImageOps.exif_transpose(image)
                alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                return np.asarray(image.convert("RGBA" if alpha else "RGB"))
        except (ValueError, OSError, SyntaxError, PIL.Image.DecompressionBombError) as err:
            raise refusal(f"{self.FIELD}: not an image that can be read ({err})") from None
