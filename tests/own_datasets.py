"""Users' own datasets as they would upload them, made of real MNIST digits (the test fixture's), never of drawings
we generate: a .zip of class-named folders of PNG files, and an .npz of arrays."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

THREE_CLASSES = {"zero": 0, "one": 1, "seven": 7}


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def class_images(mnist, classes: dict[str, int], per_class: int, offset: int = 0) -> dict[str, np.ndarray]:
    """``per_class`` real training digits for each class name, from the digit it stands for."""
    images, labels = mnist.train_images.numpy(), mnist.train_labels.numpy()
    return {name: images[labels == digit][offset : offset + per_class] for name, digit in classes.items()}


def digits_zip(path: Path, mnist, classes: dict[str, int] = THREE_CLASSES, per_class: int = 60, top: str = "") -> Path:
    """A .zip as a user makes one: ``top/<class>/<n>.png`` for each class (``top`` empty: class folders at the root)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, images in class_images(mnist, classes, per_class).items():
            for k, image in enumerate(images):
                archive.writestr(f"{top + '/' if top else ''}{name}/{k:04d}.png", png_bytes(image))
    return path


def twenty_six_classes(mnist, per_class: int = 40) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """26 classes of real digits: the ten digits, the ten mirrored, and six of them turned a quarter."""
    images, labels = mnist.train_images.numpy(), mnist.train_labels.numpy()
    x, y, names = [], [], []
    for k in range(26):
        digit = k % 10
        found = images[labels == digit][(k // 10) * per_class : (k // 10 + 1) * per_class]
        if k >= 20:
            found, name = np.rot90(found, axes=(1, 2)), f"{digit} turned"
        elif k >= 10:
            found, name = found[:, :, ::-1], f"{digit} mirrored"
        else:
            name = str(digit)
        x.append(found)
        y += [k] * len(found)
        names.append(name)
    return np.ascontiguousarray(np.concatenate(x)), np.array(y), names


# ---------------------------------------------------------------- hostile ones (issue 34's probe)


def big_flat_pngs_zip(path: Path, side: int, count: int) -> Path:
    """``count`` PNGs of ``side`` x ``side`` in two class folders: a flat colour compresses to a few kB however
    large, so a small zip holds gigabytes of pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(buffer, format="PNG")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for k in range(count):
            archive.writestr(f"{('a', 'b')[k % 2]}/{k}.png", buffer.getvalue())
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def lying_npz(path: Path, declared_shape: tuple[int, ...]) -> Path:
    """An .npz whose x.npy header declares ``declared_shape`` over the bytes of 4 images of 28 x 28."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros((4, 28, 28), np.uint8))
    header["shape"] = declared_shape
    forged = io.BytesIO()
    np.lib.format.write_array_header_1_0(forged, header)
    forged.write(bytes(4 * 28 * 28))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", forged.getvalue())
        archive.writestr("y.npy", npy_bytes(np.zeros(4, np.int64)))
    return path
