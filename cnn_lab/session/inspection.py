"""Reading the shared pair: its results and test images, a drawing or an image of the user's, and why each model
reads an image as it does (attributions, feature maps, gradient flow, costs per layer)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from cnn_lab.core.config import ConfigError
from cnn_lab.core.errors import quoted
from cnn_lab.core.events import GradientEvent
from cnn_lab.data.datasets import Dataset
from cnn_lab.data.framing import Framing
from cnn_lab.data.pictures import displayable
from cnn_lab.engine.gradient_flow import gradient_health
from cnn_lab.inspect.adversarial import Flip, accuracy_under_budget, smallest_flip
from cnn_lab.inspect.confusion import PairScores, score_on_test_set
from cnn_lab.inspect.costs import ModelCost, measure_costs
from cnn_lab.inspect.cross_reading import CrossReading, cross_reading
from cnn_lab.inspect.explain import Explanation, check_method, explain
from cnn_lab.inspect.inference import drawing_as_input, image_as_input, predict_images
from cnn_lab.inspect.learned_space import LearnedSpace, learned_space
from cnn_lab.inspect.robustness import Robustness, robustness_curves, robustness_words
from cnn_lab.inspect.training_path import LossLine, WeightHistory, loss_line, weight_history
from cnn_lab.session.pair import NAMES, Pair, SessionError
from cnn_lab.views.run_view import checkpoint_frame, results_html, summary_frame

RESULT_IMAGES = 20


@dataclass(frozen=True)
class SketchReading:
    """What the page shows for a drawing: each model's confidence per class (None: no answer), the input as the
    models see it, and a note."""

    confidences: dict[str, dict[str, float] | None]
    preview: np.ndarray | None
    note: str


class Inspection:
    """Everything the page asks of the trained pair after a run, now or at a saved epoch; never changes its weights."""

    def __init__(self, pair: Pair):
        self.pair = pair

    # ------------------------------------------------------------ results on the Train tab

    def summary(self) -> pd.DataFrame:
        """Both models' numbers side by side (empty before a run ends)."""
        if self.pair.finished is None:
            return pd.DataFrame(columns=["", "Model A", "Model B"])
        return summary_frame(self.pair.finished.results, self.pair.summaries)

    def checkpoints(self) -> pd.DataFrame:
        """The epochs each model saved, with their test accuracy (to roll back to)."""
        return checkpoint_frame(self.pair.contenders)

    def sample_results(self, count: int = RESULT_IMAGES, seed: int | None = None) -> str:
        """A grid of random test images with both models' guesses (HTML), or a hint before the first run."""
        if not self.pair.trained:
            return "<p>Train the models to see their predictions on test images here.</p>"
        data = self.pair.data
        index = np.random.default_rng(seed).choice(len(data.test_labels), count, replace=False)
        images = data.test_images[index]
        probs = predict_images(self.pair.contenders, images, data.info)
        return results_html(images.numpy(), data.test_labels[index].numpy(), probs, data.info.class_names)

    # ------------------------------------------------------------ a drawing or an image of the user's

    def read_sketch(self, drawing: np.ndarray | None) -> SketchReading:
        """Both models' reading of a drawing (dark ink on white, any size)."""
        shape = self.pair.input_shape
        if shape[0] != 1:
            return SketchReading(
                {name: None for name in NAMES}, None, "These models read colour images: upload one instead of drawing."
            )
        return self._read(drawing_as_input(drawing, shape, self._framing()), "Nothing drawn yet.")

    def read_image(self, image: np.ndarray | None) -> SketchReading:
        """Both models' reading of any image (a photo, a scan, a file), prepared like the training images."""
        if image is None:
            return self._read(None, "No image yet.")
        data = self.pair.data
        dark = data is None or data.info.mean[0] < 0.5
        drawable = data is None or data.info.drawable
        return self._read(
            image_as_input(image, self.pair.input_shape, dark, drawable, self._framing()), "No image yet."
        )

    def _framing(self) -> Framing | None:
        """How the models' training images frame their drawings (None: MNIST's, before any data is chosen)."""
        data = self.pair.data
        return None if data is None else data.info.framing

    def _read(self, seen: np.ndarray | None, nothing: str) -> SketchReading:
        """Both models' confidences for an image already as they see it (uint8, (H, W) or (C, H, W))."""
        nobody = {name: None for name in NAMES}
        if seen is None:
            return SketchReading(nobody, None, nothing)
        self.pair.last_sketch = seen
        shown = displayable(seen)
        if self.pair.running:
            return SketchReading(nobody, shown, "Training is in progress; try again when it finishes.")
        if not self.pair.trained:
            return SketchReading(
                nobody, shown, "Train the models first: untrained models only guess with random weights."
            )
        info = self.pair.data.info
        probs = predict_images(self.pair.contenders, torch.from_numpy(seen)[None], info)
        confidences = {name: {info.class_names[k]: float(p) for k, p in enumerate(probs[name][0])} for name in NAMES}
        return SketchReading(confidences, shown, "What each model sees and how sure it is.")

    # ------------------------------------------------------------ the Inspect tab

    def test_set_scores(self, epoch: int | None = None) -> PairScores:
        """Both models, now or at a saved epoch, on every test image (computed once per state: a second or two on a
        CPU)."""
        pair = self.pair.at(epoch)
        if epoch not in self.pair.scores:
            self.pair.scores[epoch] = score_on_test_set(pair, self.pair.data)
        return self.pair.scores[epoch]

    def cross_reading(self, other: Dataset) -> CrossReading:
        """Both models (now) reading another dataset's test images of the classes both name alike, class by class
        beside their own test set: how far what they learnt carries (a few seconds on 2 cores)."""
        pair = self.pair.at()
        if other.info.title == self.pair.data.info.title and other.origin == self.pair.data.origin:
            raise ConfigError(
                f"dataset: the models were trained on {other.info.title}; pick another dataset to read", "dataset"
            )
        return cross_reading(pair, self.pair.data, self.test_set_scores(), other)

    # ------------------------------------------------------------ the whole model (issue 38's views)

    def latest_drawing(self) -> np.ndarray | None:
        """The latest drawing or own image as the models see it, if it still fits their input."""
        seen = self.pair.last_sketch
        if seen is None or not self.pair.trained:
            return None
        shape = self.pair.input_shape
        return seen if (seen.shape if seen.ndim == 3 else (1, *seen.shape)) == shape else None

    def learned_space(self, method: str = "pca") -> tuple[LearnedSpace, np.ndarray]:
        """Both models' maps of the same test images (and those images, for the hover), the latest drawing placed."""
        space = learned_space(self.pair.at(), self.pair.data, method, self.latest_drawing())
        return space, self.test_images(space.index)

    def robustness(self) -> tuple[Robustness, str]:
        """Both models' accuracy as the test images are shifted, rotated, scaled, blurred, noised and occluded, and
        what the curves say."""
        pair = self.pair.at()
        found = robustness_curves(pair, self.pair.data)
        convolutional = {name: any(layer.type == "conv" for layer in c.spec.model.layers) for name, c in pair.items()}
        return found, robustness_words(found, convolutional)

    def adversarial(self, attack: str = "pgd") -> tuple[np.ndarray, dict[str, Flip], dict[str, dict[str, float]]]:
        """The smallest change of the latest drawing (or own image) that flips each model, and each model's accuracy
        on test images attacked within a fixed budget."""
        pair = self.pair.at()
        drawing = self.latest_drawing()
        if drawing is None:
            raise ConfigError(
                "drawing: draw on the sketchpad beside the results (or test an image of your own there) first",
                "drawing",
            )
        flips = {name: smallest_flip(c, drawing, self.pair.data, attack) for name, c in pair.items()}
        return drawing, flips, accuracy_under_budget(pair, self.pair.data, attack)

    def weights_over_time(self) -> dict[str, WeightHistory]:
        """Each model's weight and gradient histograms per layer at every saved epoch, and its first filters."""
        return {name: weight_history(c, self.pair.data) for name, c in self.pair.at().items()}

    def loss_lines(self) -> dict[str, LossLine | None]:
        """Each model's loss along the line from its first weights to its last (None: first weights unknown)."""
        return {name: loss_line(c, self.pair.data) for name, c in self.pair.at().items()}

    def test_images(self, index: np.ndarray) -> np.ndarray:
        """Test images (uint8, N x H x W, or N x C x H x W) by index, for galleries."""
        return self.pair.data.test_images[torch.from_numpy(np.asarray(index, dtype=np.int64))].numpy()

    def test_image(self, number: int | None) -> np.ndarray:
        """Test image ``number`` (uint8 H x W or C x H x W), or the latest sketch or own image as the models saw it
        (``number`` None)."""
        self.pair.at()
        if number is None:
            if self.pair.last_sketch is None:
                raise SessionError(
                    "Draw a digit on the Train & compare tab's sketchpad first (or test an image of your own there), "
                    "or choose a test image.",
                    "Nothing drawn yet",
                )
            return self.pair.last_sketch
        count = len(self.pair.data.test_labels)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < count:
            raise ConfigError(
                f"test image must be a whole number from 0 to {count - 1}, got {quoted(number)}", "test image"
            )
        return self.test_images([number])[0]

    def explain(self, image: np.ndarray, method: str, epoch: int | None = None) -> dict[str, Explanation]:
        """Both models' reading of a uint8 image as they see it (28x28 white on black), each with ``method``'s
        attribution, its conv layers' feature maps and every layer's activation strength."""
        pair = self.pair.at(epoch)
        check_method(method, pair)
        info = self.pair.data.info
        return {
            name: explain(c, torch.from_numpy(np.ascontiguousarray(image)), info, method) for name, c in pair.items()
        }

    def explain_drawing(self, drawing: np.ndarray, method: str) -> tuple[np.ndarray, dict[str, Explanation]]:
        """A drawing (dark ink on white, any size) as the models see it, and both models' explanations of it."""
        self.pair.at()
        shape = self.pair.input_shape
        drawn = drawing_as_input(drawing, shape, self._framing()) if shape[0] == 1 else None
        if drawn is None:
            raise ConfigError("drawing must show a digit, but it has no ink (dark marks on white)", "drawing")
        return drawn, self.explain(drawn, method)

    def explain_last_drawing(self, method: str) -> dict[str, Explanation]:
        """Both models' explanations of the latest drawing or own image (empty: nothing read yet)."""
        sketch = self.pair.last_sketch
        return {} if sketch is None else self.explain(sketch, method)

    def gradient_flow(self) -> tuple[dict[str, list[GradientEvent]], list[str]]:
        """Both models' sampled gradient norms and dead ReLUs over their training so far, and what they say in
        words (nothing said: they look healthy)."""
        self.pair.at()
        gradients = {name: list(self.pair.view.gradients[name]) for name in NAMES}
        return gradients, [line for events in gradients.values() for line in gradient_health(events)]

    def layer_costs(self) -> dict[str, ModelCost]:
        """Both trained models' cost per layer and latency: measured here and now, a few seconds on a CPU."""
        return {name: measure_costs(c, c.spec.model.input_shape) for name, c in self.pair.at().items()}
