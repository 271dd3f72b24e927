"""Pictures a learner reads: the heat sits where the attribution is, every map gets its own range, filters share one."""

import base64
import io

import numpy as np
from PIL import Image

from cnn_lab.data.pictures import GAP, attribution_overlay, feature_map_grid, filter_grid, png_base64


def test_the_overlay_is_brightest_where_the_attribution_is():
    image = np.zeros((28, 28), np.uint8)
    image[10:18, 10:18] = 255
    attribution = np.zeros((28, 28), np.float32)
    attribution[2:6, 20:24] = 1.0  # evidence away from the ink
    picture = attribution_overlay(image, attribution, scale=4)
    assert picture.shape == (112, 112, 3) and picture.dtype == np.uint8
    hot, ink, empty = picture[4 * 3, 4 * 21], picture[4 * 12, 4 * 12], picture[4 * 25, 4 * 2]
    assert hot.sum() > ink.sum() > empty.sum() == 0


def test_each_feature_map_gets_its_own_range_and_a_flat_one_stays_black():
    maps = np.stack([np.linspace(0, 1, 16).reshape(4, 4), np.linspace(0, 1e-3, 16).reshape(4, 4), np.full((4, 4), 7.0)])
    grid = feature_map_grid(maps, tile_px=8)  # 4x4 maps drawn 8x8
    assert grid.shape == (8, 3 * 8 + 2 * GAP, 3)
    weak = grid[:, 8 + GAP : 16 + GAP, 0]
    assert weak.min() == 0 and weak.max() == 255  # a faint map shows its pattern as clearly as a strong one
    assert (grid[:, 16 + 2 * GAP :] == 0).all()


def test_filters_share_one_scale_and_png_text_round_trips():
    filters = np.stack([np.full((3, 3), 1.0), np.full((3, 3), -0.5), np.zeros((3, 3))])
    grid = filter_grid(filters, tile_px=3)
    positive, negative, zero = grid[1, 1], grid[1, 3 + GAP + 1], grid[1, 2 * (3 + GAP) + 1]
    assert positive[0] > positive[2] and negative[2] > negative[0]  # red positive, blue negative
    assert zero.min() > 240  # white at zero
    back = Image.open(io.BytesIO(base64.b64decode(png_base64(grid))))
    assert np.array_equal(np.asarray(back), grid)
