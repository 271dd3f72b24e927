import io
import stat
import zipfile

import numpy as np
import pytest
import torch
from own_datasets import (
    THREE_CLASSES,
    big_flat_pngs_zip,
    class_images,
    digits_zip,
    lying_npz,
    png_bytes,
    twenty_six_classes,
)

from cnn_lab.core.config import ConfigError
from cnn_lab.data import uploads
from cnn_lab.data.uploads import read_upload


def test_a_zip_of_class_folders_becomes_a_dataset_split_per_class(tmp_path, mnist):
    data = read_upload(digits_zip(tmp_path / "my digits.zip", mnist, per_class=60))
    assert data.info.class_names == ("one", "seven", "zero")  # sorted folder names
    assert data.info.key == "custom" and data.info.title == "my digits" and data.origin == "upload"
    assert data.image_shape == (1, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.test_labels.bincount().tolist() == [10, 10, 10]  # a sixth of every class held out for testing
    assert data.train_labels.bincount().tolist() == [50, 50, 50]
    assert data.info.drawable  # white digits on black: the sketchpad's drawings read like them
    # the pixels are the PNGs' pixels, each under its class
    zeros = class_images(mnist, THREE_CLASSES, 60)["zero"]
    together = torch.cat([data.train_images[data.train_labels == 2], data.test_images[data.test_labels == 2]])
    assert {bytes(x) for x in together.numpy()} == {bytes(x) for x in zeros}
    assert data.info.mean[0] == pytest.approx(data.train_images.float().mean().item() / 255, abs=1e-4)
    assert data.info.std[0] == pytest.approx(data.train_images.float().div(255).std().item(), abs=1e-3)


def test_one_top_folder_and_train_test_folders_are_understood(tmp_path, mnist):
    assert read_upload(digits_zip(tmp_path / "a.zip", mnist, per_class=12, top="mydata")).info.num_classes == 3
    path = tmp_path / "split.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in (("train", 8), ("test", 3)):
            for name, images in class_images(mnist, THREE_CLASSES, count).items():
                for k, image in enumerate(images):
                    archive.writestr(f"{split}/{name}/{k}.png", png_bytes(image))
        archive.writestr("README.txt", "my digits")  # not an image: ignored
    data = read_upload(path)
    assert len(data.train_labels) == 24 and len(data.test_labels) == 9


def test_colour_images_stay_colour_and_a_resize_makes_sizes_agree(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "colours.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for k in range(6):
            for name, channel in (("red", 0), ("blue", 2)):
                image = np.zeros((20 + k, 20 + k, 3), np.uint8)  # sizes differ
                image[..., channel] = rng.integers(150, 256, image.shape[:2])
                archive.writestr(f"{name}/{k}.jpg", _jpeg(image))
    with pytest.raises(ConfigError, match="differ in size") as refused:
        read_upload(path)
    assert refused.value.field == "resize"
    data = read_upload(path, resize=16)
    assert data.image_shape == (3, 16, 16) and not data.info.drawable
    red = data.train_images[data.train_labels == data.info.class_names.index("red")].float()
    assert red[:, 0].mean() > 100 and red[:, 2].mean() < 30  # channel order kept


def test_an_npz_with_class_names_floats_and_its_own_test_split(tmp_path, mnist):
    x, y, names = twenty_six_classes(mnist, per_class=6)
    path = tmp_path / "letters.npz"
    np.savez(
        path,
        x=x[:, :, :, None].astype(np.float32) / 255,
        y=y,
        class_names=np.array(names),
        x_test=x[:52],
        y_test=y[:52],
    )
    data = read_upload(path)
    assert data.info.num_classes == 26 and data.info.class_names[13] == "3 mirrored"
    assert data.image_shape == (1, 28, 28) and len(data.test_labels) == 52
    assert torch.equal(data.train_images, torch.from_numpy(x))  # floats in [0, 1] back to the same bytes


@pytest.mark.parametrize(
    "make, reason",
    [
        ("bomb", "zip bomb"),
        ("traversal", "outside the archive"),
        ("absolute", "outside the archive"),
        ("symlink", "symbolic link"),
        ("one class", "from 2 to 100 classes, got 1"),
        ("unreadable", "'digits/one/bad.png' is not a readable PNG or JPEG"),
        ("lonely", "class 'seven' has 1 image"),
        ("loose file", "not in a class folder"),
        ("too many", "at most 40 images"),
        ("too big", "models read from 8 to 128 px"),
        ("not a zip", "not a readable .zip"),
        ("pickle npz", "Python objects"),
        ("npz without y", "'y' is missing"),
    ],
)
def test_bad_uploads_are_refused_with_a_named_reason(tmp_path, mnist, monkeypatch, make, reason):
    monkeypatch.setattr(uploads, "LIMITS", uploads.UploadLimits(max_images=40))
    digits = class_images(mnist, THREE_CLASSES, 4)
    path = tmp_path / ("data.npz" if "npz" in make else "data.zip")

    def archive_of(extra: dict[str, bytes], classes=digits, info: zipfile.ZipInfo | None = None) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, images in classes.items():
                for k, image in enumerate(images):
                    archive.writestr(f"digits/{name}/{k}.png", png_bytes(image))
            for member, content in extra.items():
                archive.writestr(member, content)
            if info is not None:
                archive.writestr(info, "../../etc/passwd")

    if make == "bomb":
        archive_of({"digits/one/huge.png": bytes(5 * 2**20)})  # 5 MB of zeros deflate to about 5 kB
    elif make == "traversal":
        archive_of({"digits/../../evil/x.png": png_bytes(digits["one"][0])})
    elif make == "absolute":
        archive_of({"/etc/x.png": png_bytes(digits["one"][0])})
    elif make == "symlink":
        link = zipfile.ZipInfo("digits/one/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive_of({}, info=link)
    elif make == "one class":
        archive_of({}, classes={"one": digits["one"]})
    elif make == "unreadable":
        archive_of({"digits/one/bad.png": b"this is not a png"})
    elif make == "lonely":
        archive_of({}, classes={**digits, "seven": digits["seven"][:1]})
    elif make == "loose file":
        archive_of({"digits/stray.png": png_bytes(digits["one"][0])})
    elif make == "too many":
        archive_of({}, classes=class_images(mnist, THREE_CLASSES, 14))
    elif make == "too big":
        big = np.zeros((200, 200), np.uint8)
        archive_of({}, classes={name: np.stack([big, big]) for name in digits})
    elif make == "not a zip":
        path.write_bytes(b"PK but not really a zip archive")
    elif make == "pickle npz":
        np.savez(path, x=np.zeros((4, 28, 28), np.uint8), y=np.array([{"a": 1}] * 4, dtype=object))
    elif make == "npz without y":
        np.savez(path, x=np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ConfigError, match=reason) as refused:
        read_upload(path)
    assert refused.value.field in ("dataset file", "resize")


def test_a_forged_header_cannot_unpack_more_than_it_declares(tmp_path, mnist):
    path = digits_zip(tmp_path / "forged.zip", mnist, per_class=3)
    with zipfile.ZipFile(path) as archive:
        member = archive.infolist()[0]
        member.file_size = 10  # the header lies: the real image is larger
        with pytest.raises(ConfigError, match="'zero/0000.png' is damaged"):
            uploads._read_member(archive, member)


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_images_too_big_to_decode_together_are_refused_from_their_headers_before_any_is_decoded(tmp_path, monkeypatch):
    """The probe's 535 KB zip of 80 PNGs of 4096x4096 (4 GB decoded) grew the server by 3.2 GB before its refusal."""
    from PIL import ImageFile

    path = big_flat_pngs_zip(tmp_path / "huge.zip", 4096, 80)
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image) or real_load(image))
    with pytest.raises(ConfigError, match=r"would take 3,840 MB decoded \(their headers say so\), over the 1,024 MB"):
        read_upload(path, resize=32)
    assert decoded == []  # not a pixel was decoded


def test_big_images_are_decoded_one_at_a_time_and_shrunk_at_once(tmp_path, monkeypatch):
    path = big_flat_pngs_zip(tmp_path / "photos.zip", 2048, 8)
    full_size_at_once = []
    real_decode = uploads._decode

    def decode(*args):
        image, colour = real_decode(*args)
        full_size_at_once.append(image.size)
        return image, colour

    monkeypatch.setattr(uploads, "_decode", decode)
    data = read_upload(path, resize=32)
    assert data.image_shape == (3, 32, 32) and full_size_at_once == [(32, 32)] * 8  # only the small ones were kept


def test_an_npz_whose_header_declares_more_than_it_holds_is_refused_before_loading(tmp_path):
    with pytest.raises(ConfigError, match=r"at most 100,000 images, x holds 100,000,000"):
        read_upload(lying_npz(tmp_path / "huge.npz", (10**8, 1000)))
    with pytest.raises(ConfigError, match=r"array 'x' declares shape \(4, 28, 2800\) of uint8 .* but holds"):
        read_upload(lying_npz(tmp_path / "wide.npz", (4, 28, 2800)))
