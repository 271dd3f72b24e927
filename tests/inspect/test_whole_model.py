"""The views of a whole model (issue 38) on real trained models: the lessons a learner would check."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from drawn_digits import render_digit

from cnn_lab.core.config import ModelSpec, RunConfig, TrainConfig
from cnn_lab.core.presets import PRESETS
from cnn_lab.data.datasets import DATASET_INFO, DatasetInfo, with_statistics
from cnn_lab.engine.contenders import Contender, create_contenders
from cnn_lab.engine.training import train_models
from cnn_lab.inspect.adversarial import accuracy_under_budget, smallest_flip
from cnn_lab.inspect.inference import predict_images, sketch_to_mnist
from cnn_lab.inspect.learned_space import learned_space
from cnn_lab.inspect.robustness import TRANSFORM_LEVELS, robustness_curves, robustness_words, transformed
from cnn_lab.inspect.training_path import LINE_POINTS, loss_line, weight_history


def trained(specs: dict[str, ModelSpec], data, images: int, seed: int = 0) -> dict[str, Contender]:
    run = RunConfig(train_subset=images, seed=seed, evals_per_epoch=1)
    contenders = create_contenders(specs, run)
    for _ in train_models(contenders, run, data):
        pass
    return {c.name: c for c in contenders}


@pytest.fixture(scope="module")
def cnn_and_mlp(mnist):
    """The default CNN and the MLP preset, trained alike until their plain accuracies are a few points apart."""
    cnn = PRESETS["default"].spec
    mlp = replace(PRESETS["mlp"].spec, train=replace(PRESETS["mlp"].spec.train, epochs=2))
    return trained({"A": cnn, "B": mlp}, mnist, 10_000)


def test_a_cnns_shift_curve_lies_above_an_mlps_of_similar_accuracy(cnn_and_mlp, mnist):
    found = robustness_curves(cnn_and_mlp, mnist, images=600)
    plain = {name: found.at("shift", 0, name) for name in "AB"}
    assert abs(plain["A"] - plain["B"]) < 0.05, plain  # similar accuracy on the images as they are
    for level in (2, 3, 4):
        assert found.at("shift", level, "A") > found.at("shift", level, "B") + 0.1, found.accuracy["shift"]
    words = robustness_words(found, {"A": True, "B": False})
    assert "model A (convolutions) holds up better than model B (no convolutions)" in words


def test_every_transform_starts_from_the_images_as_they_are_and_changes_them_as_named(mnist):
    images = mnist.test_images[:64].unsqueeze(1)
    for kind, levels in TRANSFORM_LEVELS.items():
        assert torch.equal(transformed(images, kind, levels[0], 0), images)
        strongest = transformed(images, kind, levels[-1], 0)
        assert strongest.shape == images.shape and not torch.equal(strongest, images)
        assert torch.equal(strongest, transformed(images, kind, levels[-1], 0))  # the same seed, the same change
    bar = torch.zeros(1, 1, 28, 28, dtype=torch.uint8)
    bar[..., 10:18, 12:16] = 255
    moved = transformed(bar, "shift", 4, 0)[0, 0].float()

    def centre(im):
        return torch.stack([(im.sum(1) * torch.arange(28)).sum(), (im.sum(0) * torch.arange(28)).sum()]) / im.sum()

    assert float(torch.linalg.norm(centre(moved) - centre(bar[0, 0].float()))) == pytest.approx(4, abs=0.5)
    hidden = transformed(torch.full((20, 1, 28, 28), 255, dtype=torch.uint8), "occlude", 8, 1)
    assert ((hidden == 0).flatten(1).sum(1) == 64).all()  # an 8x8 square, wholly inside every image
    tiny = transformed(torch.full((2, 1, 8, 8), 255, dtype=torch.uint8), "occlude", 12, 0)
    assert (tiny == 0).all()  # an upload of 8 px images: the 12 px square hides them whole, no error


def test_the_adversarial_change_flips_the_answer_and_is_reported_with_its_size(default_pair, mnist):
    drawn = sketch_to_mnist(render_digit(3))
    for name, contender in default_pair.items():
        flip = smallest_flip(contender, drawn, mnist, "pgd")
        assert flip.epsilon is not None and 0 < flip.epsilon < 0.5, flip.epsilon
        assert flip.after != flip.before
        again = predict_images({name: contender}, torch.from_numpy(flip.perturbed)[None], mnist.info)[name].argmax(1)[0]
        assert again == flip.after  # the image shown is read as said (rounded to 8-bit pixels)
        assert np.abs(flip.perturbed.astype(int) - drawn.astype(int)).max() <= flip.epsilon * 255 + 1
    fgsm = smallest_flip(default_pair["A"], drawn, mnist, "fgsm")
    assert fgsm.epsilon is not None and fgsm.after != fgsm.before
    pgd = accuracy_under_budget(default_pair, mnist, "pgd", budget=0.2, images=200)
    fgsm = accuracy_under_budget(default_pair, mnist, "fgsm", budget=0.2, images=200)
    for name in "AB":  # measured: 95-97 % plain, 8-18 % under PGD, 18-40 % under FGSM (seed 0)
        assert pgd[name]["plain"] > 0.9 and pgd[name]["attacked"] < pgd[name]["plain"] - 0.5, pgd
        assert pgd[name]["attacked"] <= fgsm[name]["attacked"], (pgd, fgsm)  # ten steps find more than one


def test_projecting_twice_with_the_same_seed_gives_the_same_map_and_places_the_drawing(default_pair, mnist):
    drawn = sketch_to_mnist(render_digit(7))
    first = learned_space(default_pair, mnist, "pca", drawn, images=400)
    again = learned_space(default_pair, mnist, "pca", drawn, images=400)
    for name in "AB":
        assert np.array_equal(first.points[name], again.points[name]) and first.points[name].shape == (400, 2)
        assert first.drawing[name].shape == (2,) and 0 < first.explained[name] <= 1
        assert (first.guesses[name] == first.labels).mean() > 0.85
    assert np.array_equal(first.index, again.index) and np.bincount(first.labels).tolist() == [40] * 10
    tsne = learned_space(default_pair, mnist, "tsne", drawn, images=300)
    assert np.allclose(tsne.points["A"], learned_space(default_pair, mnist, "tsne", drawn, images=300).points["A"])
    assert tsne.drawing["A"].shape == (2,)


def test_weights_over_time_and_the_loss_along_the_line(mnist):
    spec = ModelSpec(train=TrainConfig("adam", 1e-3, 64, 2))
    model = trained({"A": spec}, mnist, 3_000)["A"]
    history = weight_history(model, mnist)
    assert history.epochs == [0, 1, 2] and sorted(history.first_filters) == [0, 1, 2]
    conv1 = history.layers[0]
    assert conv1.weight_counts[0].sum() == model.module.state_dict()[f"{conv1.layer}.weight"].numel()
    assert conv1.weight_std[0] != conv1.weight_std[2]  # training moved them
    line = loss_line(model, mnist)
    assert len(line.alphas) == LINE_POINTS and line.alphas[0] == -0.25 and line.alphas[-1] == 1.25
    first, last = line.alphas.index(0.0), line.alphas.index(1.0)
    assert line.test_loss[last] < 0.5 * line.test_loss[first] and line.test_accuracy[last] > 0.85
    assert line.distance > 0
    imported = replace(model, initial_weights=None)
    assert loss_line(imported, mnist) is None and weight_history(imported, mnist).epochs == [1, 2]


def test_the_views_work_on_seven_classes_and_on_colour_photos():
    generator = torch.Generator().manual_seed(0)
    grey = torch.randint(0, 256, (140, 28, 28), dtype=torch.uint8, generator=generator)
    seven = with_statistics(
        DatasetInfo("custom", "sketches", tuple("abcdefg")),
        grey,
        torch.arange(140) % 7,
        grey,
        torch.arange(140) % 7,
        origin="test",
    )
    colour = torch.randint(0, 256, (100, 3, 32, 32), dtype=torch.uint8, generator=generator)
    photos = with_statistics(
        DATASET_INFO["cifar10"], colour, torch.arange(100) % 10, colour, torch.arange(100) % 10, origin="test"
    )
    for data in (seven, photos):
        spec = ModelSpec(
            replace(PRESETS["tiny"].spec.model, input_shape=data.image_shape, num_classes=data.info.num_classes)
        )
        pair = trained({"A": spec, "B": spec}, data, None)
        space = learned_space(pair, data, "pca", images=data.info.num_classes * 5)
        assert space.points["A"].shape[1] == 2 and set(np.unique(space.labels)) == set(range(data.info.num_classes))
        curves = robustness_curves(pair, data, images=data.info.num_classes * 5)
        assert set(curves.accuracy) == set(TRANSFORM_LEVELS)
        image = data.test_images[0].numpy()
        flip = smallest_flip(pair["A"], image, data)
        assert flip.epsilon is None or flip.perturbed.shape == image.shape
        assert weight_history(pair["A"], data).epochs == [0, 1] and loss_line(pair["B"], data) is not None
