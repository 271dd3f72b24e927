import re

import numpy as np

from cnn_lab.inspect.learned_space import LearnedSpace
from cnn_lab.views.space_svg import space_svg


def test_a_map_has_a_dot_per_image_rings_the_misread_and_shows_each_dot_with_both_answers():
    labels = np.array([0, 1, 2, 1])
    space = LearnedSpace(
        "pca", np.arange(4), labels,
        {"A": np.array([[0, 0], [1, 0], [0, 1], [1, 1]], float), "B": np.zeros((4, 2))},
        {"A": np.array([0, 1, 1, 1]), "B": np.array([0, 2, 2, 1])},
        {"A": np.array([0.5, 0.5]), "B": None},
        {"A": 0.8, "B": None},
    )  # fmt: skip
    images = np.zeros((4, 28, 28), np.uint8)
    svg = space_svg(space, "A", images, ("zero", "one", "two"))
    assert svg.count('<g class="pt">') == 4 and svg.count('stroke="#dc2626"') == 1  # only image 2 is misread by A
    assert "4 test images, 1 misread (ringed)" in svg and svg.count("<polygon") == 1  # the drawing's star
    assert "<title>true two · A: one · B: two</title>" in svg  # its own answer first, then the other model's
    assert len(re.findall(r'href="data:image/png;base64,', svg)) == 4
    flat = space_svg(space, "B", images, ("zero", "one", "two"))  # every point in one place: no division by zero
    assert "nan" not in flat and flat.count("<polygon") == 0
