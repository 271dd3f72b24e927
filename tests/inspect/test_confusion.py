"""Both models on the test set: matrices, cells, confused pairs and disagreements against direct counts."""

import numpy as np
import pytest

from cnn_lab.inspect.confusion import SURE, PairScores, score_on_test_set


def constructed() -> PairScores:
    """Six test images of classes 0-2: A misreads a 1 as 2; B misreads two 1s as 2 and a 0 as 1, unsure of the 0."""
    labels = np.array([0, 0, 1, 1, 2, 2])
    return PairScores(
        labels,
        {"A": np.array([0, 0, 1, 2, 2, 2]), "B": np.array([0, 1, 2, 2, 2, 2])},
        {"A": np.array([0.9, 0.9, 0.9, 0.95, 0.9, 0.9]), "B": np.array([0.9, 0.6, 0.99, 0.97, 0.9, 0.9])},
        ("zero", "one", "two"),
    )


def test_matrices_cells_and_pairs_of_a_constructed_case():
    scores = constructed()
    assert scores.confusion("A").tolist() == [[2, 0, 0], [0, 1, 1], [0, 0, 2]]
    assert scores.confusion("B").tolist() == [[1, 1, 0], [0, 0, 2], [0, 0, 2]]
    assert scores.per_class_accuracy("B").tolist() == [0.5, 0.0, 1.0]
    assert scores.cell("B", 1, 2).tolist() == [2, 3] and scores.cell("A", 1, 2).tolist() == [3]
    assert scores.confused_pairs() == [
        "B reads one as two on 2 test images, A on 1",
        "B reads zero as one on 1 test image, A on 0",
    ]
    found = scores.disagreements()
    assert found["A right, B wrong"].tolist() == [1, 2] and found["B right, A wrong"].tolist() == []
    assert found["both wrong and sure"].tolist() == [3]  # 0.95 and 0.97 >= SURE
    assert SURE == 0.9
    data = scores.as_data()
    assert data["disagreements"] == {"A right, B wrong": 2, "B right, A wrong": 0, "both wrong and sure": 1}
    assert data["accuracy"] == {"A": 5 / 6, "B": 3 / 6}


def test_calibration_bins_confidence_against_accuracy_and_weighs_the_gaps():
    found = constructed().calibration("B")  # 0.6 (wrong) | 0.9, 0.9, 0.9, 0.9 (3 right) | 0.97, 0.99 (both wrong)
    assert found.counts.tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0, 5]
    assert found.accuracy[6] == 0 and found.accuracy[9] == pytest.approx(3 / 5)
    assert found.confidence[9] == pytest.approx((0.9 * 3 + 0.99 + 0.97) / 5)
    gaps = 1 * 0.6 + 5 * abs(3 / 5 - (0.9 * 3 + 0.99 + 0.97) / 5)
    assert found.error == pytest.approx(gaps / 6)
    assert np.isnan(found.accuracy[0])  # an empty bin claims nothing
    data = constructed().as_data()["calibration"]["B"]
    assert data["expected_calibration_error"] == pytest.approx(gaps / 6)
    assert [b["images"] for b in data["bins"]] == [1, 5]


def test_the_trained_pair_on_real_test_images_matches_a_direct_count(default_pair, mnist):
    scores = score_on_test_set(default_pair, mnist)
    n, k = len(mnist.test_labels), len(mnist.info.class_names)
    for name in ("A", "B"):
        matrix = scores.confusion(name)
        assert matrix.sum() == n and matrix.shape == (k, k)
        direct = np.zeros((k, k), int)
        for truth, guess in zip(mnist.test_labels.tolist(), scores.guesses[name].tolist(), strict=True):
            direct[truth, guess] += 1
        assert (matrix == direct).all()
        assert scores.accuracy(name) > 0.9  # a trained pair, not chance
        truth, guess = np.unravel_index(np.argmax(matrix - np.diag(np.diag(matrix))), matrix.shape)
        cell = scores.cell(name, truth, guess)
        assert len(cell) == matrix[truth, guess] > 0
        assert (mnist.test_labels.numpy()[cell] == truth).all() and (scores.guesses[name][cell] == guess).all()
    both = scores.disagreements()
    a_right = scores.guesses["A"] == scores.labels
    b_right = scores.guesses["B"] == scores.labels
    assert len(both["A right, B wrong"]) == int((a_right & ~b_right).sum())
    assert len(both["B right, A wrong"]) == int((b_right & ~a_right).sum())
