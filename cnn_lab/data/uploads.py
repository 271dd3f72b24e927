"""A user's own dataset from an uploaded file: a .zip of class-named folders of PNG/JPEG images, or an .npz of arrays.

An upload is untrusted. Nothing in it is unpickled (``np.load(allow_pickle=False)``), nothing is written to disk
(members are read into memory, each bounded by the size the archive declares), and an archive is checked member
by member before anything is decoded: paths that climb out (``..``, absolute), symlinks, members that unpack far
beyond their compressed size (zip bombs), too many files or too many bytes. Every refusal is a ConfigError that
names the file or member and the limit.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from cnn_lab.core.config import ConfigError
from cnn_lab.data.dataset import UPLOADED, Dataset, DatasetInfo, pixel_statistics, with_statistics

FIELD = "dataset file"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
TEST_SHARE = 1 / 6  # held out for testing when the upload has no test/ folder (MNIST's 10,000 of 70,000)
SPLIT_FOLDERS = ("train", "test")


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold; generous for a teaching dataset, small enough for a shared 2-core server."""

    max_file_mb: int = 100
    max_unpacked_mb: int = 400
    max_ratio: int = 100  # a member may unpack to this many times its compressed size, no more (zip bombs)
    max_images: int = 100_000
    min_classes: int = 2
    max_classes: int = 100
    min_per_class: int = 2  # one for training and one for testing, at the least
    min_side: int = 8  # of an image as the models see it
    max_side: int = 128
    max_source_side: int = 4096  # of an image as uploaded, before any resize
    max_decoded_mb: int = 1024  # of all images' pixels as decoded, counted from their headers before any is decoded
    max_dataset_mb: int = 256  # of the images as kept in memory (uint8), for as long as the session lasts


LIMITS = UploadLimits()


def read_upload(path: str | Path, resize: int | None = None, seed: int = 0) -> Dataset:
    """The dataset in the uploaded file ``path``, its images resized to ``resize`` x ``resize`` when given (needed
    when the images differ in size or are larger than the models may read)."""
    path = Path(path)
    if resize is not None and not LIMITS.min_side <= resize <= LIMITS.max_side:
        raise ConfigError(
            f"resize must be from {LIMITS.min_side} to {LIMITS.max_side} px (or none), got {resize}", "resize"
        )
    size = path.stat().st_size
    if size > LIMITS.max_file_mb * 2**20:
        raise ConfigError(
            f"{FIELD} must be at most {LIMITS.max_file_mb} MB, got {size / 2**20:.0f} MB ({path.name})", FIELD
        )
    suffix = path.suffix.lower()
    if suffix not in (".zip", ".npz"):
        raise ConfigError(
            f"{FIELD} must be a .zip of class-named folders of PNG/JPEG images or an .npz with arrays x and y, "
            f"got {path.name}",
            FIELD,
        )
    try:
        archive = zipfile.ZipFile(path)  # an .npz is a zip of .npy files: the same checks hold
    except (zipfile.BadZipFile, OSError):
        raise ConfigError(
            f"{FIELD}: {path.name} is not a readable {suffix} file (damaged or not a zip)", FIELD
        ) from None
    with archive:
        members = checked_members(archive)
        if suffix == ".npz":
            splits, class_names = _read_npz(archive, members)
        else:
            splits, class_names = _read_folders(archive, members, resize, seed)
    splits = _fit_sides(splits, resize)
    statistics = pixel_statistics(splits[0])
    # light marks on a dark background read like the sketchpad's drawings: drawing on it makes sense
    drawable = splits[0].ndim == 3 and statistics[0][0] < 0.5
    info = DatasetInfo(UPLOADED, path.stem[:60] or "your data", class_names, drawable=drawable)
    return with_statistics(info, *splits, origin="upload", statistics=statistics)


def checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's files, once each is known to stay inside it, not to be a link, and not to unpack into more
    than the limits allow (directories are dropped)."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > LIMITS.max_images + 1000:
        raise ConfigError(
            f"{FIELD} may hold at most {LIMITS.max_images:,} images, it holds {len(infos):,} files", FIELD
        )
    total = 0
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ConfigError(f"{FIELD}: member {name!r} points outside the archive (path traversal); refused", FIELD)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ConfigError(f"{FIELD}: member {name!r} is a symbolic link; links are refused", FIELD)
        if info.file_size > LIMITS.max_ratio * max(info.compress_size, 1) and info.file_size > 2**20:
            raise ConfigError(
                f"{FIELD}: member {name!r} unpacks to {info.file_size / 2**20:,.0f} MB from "
                f"{info.compress_size:,} bytes (over {LIMITS.max_ratio}x: a zip bomb?); refused",
                FIELD,
            )
        total += info.file_size
    if total > LIMITS.max_unpacked_mb * 2**20:
        raise ConfigError(
            f"{FIELD} must unpack to at most {LIMITS.max_unpacked_mb} MB, it would unpack to {total / 2**20:,.0f} MB",
            FIELD,
        )
    return infos


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes. zipfile never unpacks more than the header declares (the size checked_members counted);
    a member that is damaged, or whose header lies about its size, fails its CRC check and is refused."""
    try:
        with archive.open(info) as member:
            return member.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise ConfigError(f"{FIELD}: member {info.filename!r} is damaged ({err}); refused", FIELD) from None


# ---------------------------------------------------------------- folders of images


def _labelled_paths(members: list[zipfile.ZipInfo]) -> dict[str, list[tuple[str, zipfile.ZipInfo]]]:
    """Images by split ("train", "test" or "all") as (class, member), from ``class/image`` or
    ``train|test/class/image`` under at most one shared top folder; other files (a README, .DS_Store) are ignored."""
    images = [
        m for m in members if m.filename.lower().endswith(IMAGE_SUFFIXES) and not _hidden(PurePosixPath(m.filename))
    ]
    paths = [PurePosixPath(m.filename).parts for m in images]
    tops = {p[0] for p in paths}
    if len(tops) == 1 and all(len(p) >= 3 for p in paths) and next(iter(tops)).lower() not in SPLIT_FOLDERS:
        paths = [p[1:] for p in paths]  # the whole dataset zipped as one folder
    found: dict[str, list[tuple[str, zipfile.ZipInfo]]] = {}
    for parts, member in zip(paths, images, strict=True):
        if len(parts) == 3 and parts[0].lower() in SPLIT_FOLDERS:
            found.setdefault(parts[0].lower(), []).append((parts[1], member))
        elif len(parts) == 2:
            found.setdefault("all", []).append((parts[0], member))
        else:
            raise ConfigError(
                f"{FIELD}: {member.filename!r} is not in a class folder; lay the archive out as class/image.png "
                "(or train/class/image.png and test/class/image.png)",
                FIELD,
            )
    if "all" in found and len(found) > 1:
        raise ConfigError(f"{FIELD}: use either class folders or train/ and test/ folders, not both", FIELD)
    if len(found) == 1 and "all" not in found:
        raise ConfigError(f"{FIELD}: it has a {next(iter(found))}/ folder but not the other of train/ and test/", FIELD)
    if not found:
        raise ConfigError(f"{FIELD}: it holds no PNG or JPEG images in class folders", FIELD)
    return found


def _hidden(path: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


@dataclass(frozen=True)
class _Header:
    """What an image's header says, read before a pixel is decoded."""

    member: zipfile.ZipInfo
    label: int
    size: tuple[int, int]
    bands: int  # channels as decoded (1 grey, 3 colour, 4 with alpha)

    @property
    def decoded_bytes(self) -> int:
        return self.size[0] * self.size[1] * self.bands


def _open(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Image.Image:
    """An image of the archive, opened (its header read, no pixel decoded yet), its side checked."""
    try:
        image = Image.open(io.BytesIO(_read_member(archive, member)))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ConfigError(f"{FIELD}: {member.filename!r} is not a readable PNG or JPEG image", FIELD) from None
    if max(image.size) > LIMITS.max_source_side:
        width, height = image.size
        raise ConfigError(
            f"{FIELD}: {member.filename!r} is {width}x{height}; images may be at most "
            f"{LIMITS.max_source_side} px a side",
            FIELD,
        )
    return image


def _headers(archive: zipfile.ZipFile, items: list[tuple[str, zipfile.ZipInfo]], index: dict) -> list[_Header]:
    """Every image's header, and the whole judged by them: sides, one size where nothing is resized, and what
    decoding them all would take (a 535 KB zip can hold 80 PNGs of 4096x4096, 4 GB decoded)."""
    headers = []
    for name, member in items:
        image = _open(archive, member)
        headers.append(_Header(member, index[name], image.size, len(image.getbands())))
    decoded = sum(h.decoded_bytes for h in headers)
    if decoded > LIMITS.max_decoded_mb * 2**20:
        raise ConfigError(
            f"{FIELD}: its images would take {decoded / 2**20:,.0f} MB decoded (their headers say so), over the "
            f"{LIMITS.max_decoded_mb:,} MB allowed; upload smaller images or fewer of them",
            FIELD,
        )
    return headers


def _decode(archive: zipfile.ZipFile, header: _Header, resize: int | None) -> tuple[Image.Image, bool]:
    """One image decoded and, with ``resize``, shrunk at once (a JPEG already while it is decoded), so that only
    one image is ever held at its full size; and whether it is colour (not grey saved as RGB)."""
    image = _open(archive, header.member)
    try:
        if resize is not None:  # a JPEG decodes at 1/2, 1/4 or 1/8 scale where that is still enough
            image.draft(image.mode, (resize, resize))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise ConfigError(f"{FIELD}: {header.member.filename!r} is not a readable PNG or JPEG image", FIELD) from None
    image = image.convert("L") if image.mode in ("L", "1", "I", "I;16", "F", "LA") else image.convert("RGB")
    colour = image.mode == "RGB" and not _looks_grey(image)
    if resize is not None:
        image = image.resize((resize, resize), Image.BILINEAR)
    return image, colour


def _read_folders(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], resize: int | None, seed: int
) -> tuple[tuple[torch.Tensor, ...], tuple[str, ...]]:
    found = _labelled_paths(members)
    class_names = tuple(sorted({name for items in found.values() for name, _ in items}))
    _check_classes(class_names, Counter(name for items in found.values() for name, _ in items))
    index = {name: k for k, name in enumerate(class_names)}
    count = sum(len(items) for items in found.values())
    if count > LIMITS.max_images:
        raise ConfigError(f"{FIELD} may hold at most {LIMITS.max_images:,} images, it holds {count:,}", FIELD)
    headers = {split: _headers(archive, items, index) for split, items in found.items()}
    if resize is None:
        sizes = {h.size: h.member.filename for items in headers.values() for h in items}
        if len(sizes) > 1:
            (a, first), (b, second) = list(sizes.items())[:2]
            raise ConfigError(
                f"{FIELD}: the images differ in size ({a[0]}x{a[1]} in {first!r}, {b[0]}x{b[1]} in {second!r}); "
                "choose a size to resize them to",
                "resize",
            )
        _check_sides(*next(iter(sizes)))
    decoded = {split: [(*_decode(archive, h, resize), h.label) for h in items] for split, items in headers.items()}
    colour = any(is_colour for items in decoded.values() for _, is_colour, _ in items)

    def stack(items: list[tuple[Image.Image, bool, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(np.stack([np.asarray(image.convert("RGB" if colour else "L")) for image, _, _ in items]))
        return (x.permute(0, 3, 1, 2).contiguous() if colour else x), torch.tensor([k for _, _, k in items])

    if "all" in decoded:
        x, y = stack(decoded["all"])
        return _split(x, y, seed), class_names
    return (*stack(decoded["train"]), *stack(decoded["test"])), class_names


def _looks_grey(image: Image.Image) -> bool:
    """An RGB image whose three channels are equal (a grey image saved as colour)."""
    r, g, b = image.split()
    return r.tobytes() == g.tobytes() == b.tobytes()


def _split(x: torch.Tensor, y: torch.Tensor, seed: int) -> tuple[torch.Tensor, ...]:
    """A stratified train/test split: TEST_SHARE of every class (at least one image) held out for testing."""
    generator = torch.Generator().manual_seed(seed)
    test = []
    for label in y.unique().tolist():
        members = (y == label).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        test.append(members[: max(1, round(len(members) * TEST_SHARE))])
    held = torch.zeros(len(y), dtype=torch.bool)
    held[torch.cat(test)] = True
    return x[~held], y[~held], x[held], y[held]


def _check_classes(class_names: tuple[str, ...], counts: Counter) -> None:
    if not LIMITS.min_classes <= len(class_names) <= LIMITS.max_classes:
        raise ConfigError(
            f"{FIELD} must hold from {LIMITS.min_classes} to {LIMITS.max_classes} classes, got {len(class_names)}"
            + (f" ({class_names[0]!r})" if len(class_names) == 1 else ""),
            FIELD,
        )
    few = [name for name in class_names if counts[name] < LIMITS.min_per_class]
    if few:
        raise ConfigError(
            f"{FIELD}: class {few[0]!r} has {counts[few[0]]} image(s); each class needs at least "
            f"{LIMITS.min_per_class} (one to train on, one to test)",
            FIELD,
        )


# ---------------------------------------------------------------- arrays


def _read_npz(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo]
) -> tuple[tuple[torch.Tensor, ...], tuple[str, ...]]:
    """``x`` (N, H, W), (N, H, W, C) or (N, C, H, W) with C 1 or 3, uint8 or floats in [0, 1]; ``y`` whole numbers
    from 0; optional ``class_names``, and ``x_test``/``y_test`` (else a stratified share is held out)."""
    arrays = {}
    for member in members:
        key = PurePosixPath(member.filename).name.removesuffix(".npy")
        arrays[key] = _load_array(archive, member, key)
    for required in ("x", "y"):
        if required not in arrays:
            raise ConfigError(f"{FIELD}: the .npz must hold arrays x and y; {required!r} is missing", FIELD)
    names = arrays.get("class_names")
    labels = [_labels(arrays["y"], "y")] + ([_labels(arrays["y_test"], "y_test")] if "y_test" in arrays else [])
    count = int(max(int(y.max()) for y in labels)) + 1
    if names is not None:
        if names.ndim != 1 or names.dtype.kind not in "US":
            raise ConfigError(f"{FIELD}: class_names must be a list of texts, got an array of {names.dtype}", FIELD)
        if len(names) < count:
            raise ConfigError(f"{FIELD}: y goes up to {count - 1} but class_names has only {len(names)} names", FIELD)
        class_names = tuple(str(n) for n in names.tolist())
    else:
        class_names = tuple(str(k) for k in range(count))
    all_labels = torch.cat(labels)
    _check_classes(class_names, Counter(class_names[k] for k in all_labels.tolist()))
    x = _images(arrays["x"], "x", len(labels[0]))
    if "x_test" in arrays or "y_test" in arrays:
        if "x_test" not in arrays or "y_test" not in arrays:
            raise ConfigError(f"{FIELD}: x_test and y_test come together; one is missing", FIELD)
        x_test = _images(arrays["x_test"], "x_test", len(labels[1]))
        if x_test.shape[1:] != x.shape[1:]:
            raise ConfigError(
                f"{FIELD}: x_test images have shape {tuple(x_test.shape[1:])}, x images {tuple(x.shape[1:])}", FIELD
            )
        return (x, labels[0], x_test, labels[1]), class_names
    return _split(x, labels[0], seed=0), class_names


def _load_array(archive: zipfile.ZipFile, member: zipfile.ZipInfo, key: str) -> np.ndarray:
    """An .npy member, its header judged first: the shape and type it declares must fit the limits and the bytes
    that follow (a header may declare (10^8, 1000) over a few bytes: loading would ask for 100 GB at once)."""
    data = _read_member(archive, member)
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(stream)
    except (ValueError, TypeError, SyntaxError, EOFError) as err:
        raise ConfigError(f"{FIELD}: array {key!r} is not a readable .npy array ({err})", FIELD) from None
    if dtype.hasobject:
        raise ConfigError(
            f"{FIELD}: array {key!r} holds Python objects (a pickle); only plain number or text arrays are read", FIELD
        )
    if shape and shape[0] > LIMITS.max_images:
        raise ConfigError(f"{FIELD} may hold at most {LIMITS.max_images:,} images, {key} holds {shape[0]:,}", FIELD)
    declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if declared > len(data) - stream.tell():
        raise ConfigError(
            f"{FIELD}: array {key!r} declares shape {tuple(shape)} of {dtype} ({declared / 2**20:,.0f} MB) but holds "
            f"{(len(data) - stream.tell()) / 2**20:,.1f} MB; refused",
            FIELD,
        )
    stream.seek(0)
    try:
        return np.load(stream, allow_pickle=False)
    except ValueError as err:
        raise ConfigError(f"{FIELD}: array {key!r} is not a readable .npy array ({err})", FIELD) from None


def _labels(y: np.ndarray, key: str) -> torch.Tensor:
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) == 0:
        raise ConfigError(
            f"{FIELD}: {key} must be a list of whole-number labels, got {y.dtype} of shape {y.shape}", FIELD
        )
    if y.min() < 0:
        raise ConfigError(f"{FIELD}: {key} labels must be from 0 (the first class), got {int(y.min())}", FIELD)
    if y.max() >= LIMITS.max_classes:
        raise ConfigError(f"{FIELD}: {key} labels must be below {LIMITS.max_classes}, got {int(y.max())}", FIELD)
    return torch.from_numpy(y.astype(np.int64))


def _images(x: np.ndarray, key: str, count: int) -> torch.Tensor:
    """Images as uint8 (N, H, W) or (N, C, H, W)."""
    if len(x) != count:
        raise ConfigError(f"{FIELD}: {key} has {len(x):,} images but its labels {count:,}", FIELD)
    if count > LIMITS.max_images:
        raise ConfigError(f"{FIELD} may hold at most {LIMITS.max_images:,} images, {key} holds {count:,}", FIELD)
    if x.ndim == 4 and x.shape[-1] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[1] in (1, 3))):
        raise ConfigError(
            f"{FIELD}: {key} must be images of shape (N, H, W), (N, H, W, C) or (N, C, H, W) with 1 or 3 channels, "
            f"got {x.shape}",
            FIELD,
        )
    if x.dtype.kind == "f":
        if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise ConfigError(f"{FIELD}: {key} as floats must lie in [0, 1], with no NaN or infinity", FIELD)
        x = np.round(x * 255)
    elif x.dtype.kind in "iu":
        if x.min() < 0 or x.max() > 255:
            raise ConfigError(f"{FIELD}: {key} as whole numbers must lie in 0 to 255", FIELD)
    else:
        raise ConfigError(f"{FIELD}: {key} must hold numbers, got {x.dtype}", FIELD)
    images = torch.from_numpy(np.ascontiguousarray(x, dtype=np.uint8))
    return images[:, 0].contiguous() if images.ndim == 4 and images.shape[1] == 1 else images


def _fit_sides(splits: tuple[torch.Tensor, ...], resize: int | None) -> tuple[torch.Tensor, ...]:
    """Arrays resized to ``resize`` when given (folders are resized as they are decoded); then the sides checked."""
    train_x = splits[0]
    if resize is not None and tuple(train_x.shape[-2:]) != (resize, resize):
        splits = tuple(_resized(x, resize) if k % 2 == 0 else x for k, x in enumerate(splits))
    kept = sum(x.numel() for x in splits[::2])
    if kept > LIMITS.max_dataset_mb * 2**20:
        raise ConfigError(
            f"{FIELD}: its images would take {kept / 2**20:,.0f} MB in memory, over the {LIMITS.max_dataset_mb} MB "
            "allowed; choose a smaller resize or upload fewer images",
            "resize",
        )
    height, width = splits[0].shape[-2:]
    _check_sides(width, height)
    return splits


def _check_sides(width: int, height: int) -> None:
    if not (LIMITS.min_side <= height <= LIMITS.max_side and LIMITS.min_side <= width <= LIMITS.max_side):
        raise ConfigError(
            f"{FIELD}: its images are {width}x{height}; models read from {LIMITS.min_side} to {LIMITS.max_side} px "
            "a side: choose a size to resize them to",
            "resize",
        )


RESIZE_CHUNK = 1024  # images resized at a time: in floats a whole upload would take 4x its bytes at once


def _resized(x: torch.Tensor, side: int) -> torch.Tensor:
    grey = x.ndim == 3
    chunks = []
    for start in range(0, len(x), RESIZE_CHUNK):
        part = x[start : start + RESIZE_CHUNK]
        y = F.interpolate(
            (part.unsqueeze(1) if grey else part).float(), size=(side, side), mode="bilinear", antialias=True
        )
        chunks.append(y.round().clamp(0, 255).to(torch.uint8))
    y = torch.cat(chunks)
    return y[:, 0].contiguous() if grey else y.contiguous()
