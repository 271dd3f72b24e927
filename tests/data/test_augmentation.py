import pytest
import torch

from cnn_lab.core.config import AUGMENTATIONS, ModelSpec, RunConfig, TrainConfig
from cnn_lab.data.augmentation import _bicubic_upsampling, _neighbourhood, augment_batch
from cnn_lab.engine.contenders import Contender
from cnn_lab.engine.training import augmented_examples, prepare_batch, train_models
from cnn_lab.inspect.inference import predict


def batch(mnist, size=256) -> torch.Tensor:
    return mnist.train_images[:size].unsqueeze(1).float() / 255


@pytest.fixture(scope="module")
def reader(mnist):
    """A model trained on plain images: it reads augmented ones only if they still show their own digit."""
    contender = Contender.create("reader", ModelSpec(train=TrainConfig(batch_size=64)))
    for _ in train_models([contender], RunConfig(train_subset=6400, precision="fp32"), mnist):
        pass
    return contender


# A mirrored 3 is no 3, and a digit moved 4 px leaves the plain reader's field: mirroring and cropping are for photos
FOR_DIGITS = tuple(kind for kind in AUGMENTATIONS if kind not in ("flip", "crop"))


@pytest.mark.parametrize("kinds", [(kind,) for kind in FOR_DIGITS] + [FOR_DIGITS], ids=lambda k: "+".join(k))
def test_augmented_batches_keep_their_labels(mnist, reader, kinds):
    images, labels = mnist.test_images[:512], mnist.test_labels[:512]
    x = prepare_batch(images, mnist.info.mean, mnist.info.std, torch.Generator().manual_seed(0), kinds)
    plain = prepare_batch(images, mnist.info.mean, mnist.info.std)
    assert x.shape == plain.shape and (x - plain).abs().flatten(1).sum(1).gt(1).float().mean() > (
        0.3 if kinds in (("erase",), ("stroke",)) else 0.6
    )  # these leave about half the images as they are
    guesses = predict({"reader": reader.module}, x)["reader"].argmax(1)
    assert (guesses == labels.numpy()).mean() > (
        0.6 if kinds == FOR_DIGITS else 0.7 if kinds == ("erase",) else 0.8
    )  # still the same digits, in their labels' order (an erased patch can take a digit's telling stroke)
    assert (guesses == labels.roll(1).numpy()).mean() < 0.3  # (a model reading a shifted order would fail this)


def test_mirroring_flips_about_half_the_images_left_to_right_and_nothing_else():
    x = torch.rand(400, 3, 8, 8)
    out = augment_batch(x, torch.Generator().manual_seed(0), ("flip",))
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert ((out == x).flatten(1).all(1) | mirrored).all() and 0.4 < mirrored.float().mean() < 0.6


def test_a_random_crop_is_a_window_of_the_reflection_padded_image_within_four_pixels():
    x = torch.rand(200, 3, 32, 32)
    out = augment_batch(x, torch.Generator().manual_seed(1), ("crop",))
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    shifts = []
    for image, original in zip(out, padded):
        found = [
            (dy, dx)
            for dy in range(9)
            for dx in range(9)
            if torch.equal(original[:, dy : dy + 32, dx : dx + 32], image)
        ]
        assert found, "not a window of the padded image"
        shifts.append(found[0])
    assert len(set(shifts)) > 40  # each image its own shift, over all 81


def test_erasing_blanks_a_rectangle_and_nothing_else(mnist):
    original = batch(mnist, 64)
    erased = augment_batch(original.clone(), torch.Generator().manual_seed(1), ("erase",))
    removed = (original > 0) & (erased == 0)
    assert torch.equal(erased[~removed], original[~removed])  # only ink was taken away
    one = removed[removed.flatten(1).any(1)][0, 0]
    rows, cols = one.any(1).nonzero().flatten(), one.any(0).nonzero().flatten()
    assert rows.max() - rows.min() < 28 and cols.max() - cols.min() < 28


def test_the_same_generator_gives_the_same_batch_and_no_kinds_change_nothing(mnist):
    x = batch(mnist, 32)
    first = augment_batch(x.clone(), torch.Generator().manual_seed(3), AUGMENTATIONS)
    assert torch.equal(first, augment_batch(x.clone(), torch.Generator().manual_seed(3), AUGMENTATIONS))
    assert torch.equal(augment_batch(x.clone(), torch.Generator().manual_seed(3), ()), x)


def test_preview_images_are_what_the_trainer_sees_before_normalisation(mnist):
    images = mnist.train_images[:8]
    shown = augmented_examples(images, ("rotate", "erase"), seed=4)
    assert shown.dtype == torch.uint8 and shown.shape == images.shape and not torch.equal(shown, images)
    assert torch.equal(augmented_examples(images, (), seed=4), images)


def test_the_fast_stroke_and_warp_paths_equal_the_torch_operations_they_replace():
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    assert torch.equal(_neighbourhood(x, torch.maximum), torch.nn.functional.max_pool2d(x, 3, 1, 1))
    assert torch.equal(_neighbourhood(x, torch.minimum), -torch.nn.functional.max_pool2d(-x, 3, 1, 1))
    field = torch.randn(16, 2, 4, 4, generator=torch.Generator().manual_seed(6))
    rows, cols = _bicubic_upsampling(28, 4), _bicubic_upsampling(28, 4)
    expected = torch.nn.functional.interpolate(field, size=(28, 28), mode="bicubic", align_corners=False)
    assert torch.allclose(rows @ field @ cols.T, expected, atol=1e-5)
