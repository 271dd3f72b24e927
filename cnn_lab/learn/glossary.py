"""The words of the field, each with a short meaning and a picture computed here from a real digit (never a stored
image): what a 3x3 edge kernel makes of a 7, what max-pooling keeps of that, what dropout hides.

A picture is an RGB uint8 array. The digit is the first 7 of the dataset's training split; the dataset's class
means make a tiny, real classifier (nearest mean by dot product) whose logits, softmax and confusion matrix the
pictures show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from cnn_lab.data.augmentation import augment_batch
from cnn_lab.data.pictures import DIVERGING, HEAT, enlarge

SCALE = 4  # a 28x28 map drawn at 112 px
EDGE = torch.tensor(
    [[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
)  # responds to a dark-to-light step downwards
BLUR = torch.full((3, 3), 1 / 9)
GAP = np.full((28 * SCALE, 6, 3), 255, np.uint8)


@dataclass(frozen=True)
class Digits:
    """What the pictures are computed from: one real digit, and every class's mean image (0-1 floats)."""

    digit: torch.Tensor  # (28, 28) in [0, 1]
    class_means: torch.Tensor  # (classes, 28, 28)
    test_images: torch.Tensor  # (N, 28, 28) a few test digits, for the confusion matrix
    test_labels: torch.Tensor


def digits_from(train_images: torch.Tensor, train_labels: torch.Tensor, test_images, test_labels) -> Digits:
    """The first 7 (or the first image), class means from up to 500 images a class, 200 test digits."""
    sevens = (train_labels == 7).nonzero().flatten()
    first = int(sevens[0]) if len(sevens) else 0
    classes = int(train_labels.max()) + 1
    means = torch.stack(
        [train_images[(train_labels == k).nonzero().flatten()[:500]].float().mean(0) / 255 for k in range(classes)]
    )
    return Digits(train_images[first].float() / 255, means, test_images[:200].float() / 255, test_labels[:200])


# ---------------------------------------------------------------- the pictures


def grey(x: torch.Tensor) -> np.ndarray:
    """A map scaled to its own range, white high, as RGB."""
    x = x.float()
    x = (x - x.min()) / max(float(x.max() - x.min()), 1e-6)
    return np.repeat((x.numpy() * 255).round().astype(np.uint8)[..., None], 3, axis=2)


def signed(x: torch.Tensor) -> np.ndarray:
    """A map of positive (red) and negative (blue) values around white."""
    peak = max(float(x.abs().max()), 1e-6)
    return (DIVERGING((x.numpy() / peak + 1) / 2)[..., :3] * 255).round().astype(np.uint8)


def heat(x: torch.Tensor) -> np.ndarray:
    x = x.float()
    return (HEAT((x / max(float(x.max()), 1e-6)).clamp(0, 1).numpy())[..., :3] * 255).round().astype(np.uint8)


def side_by_side(*pictures: np.ndarray, height: int = 28 * SCALE) -> np.ndarray:
    """Pictures scaled (pixel blocks) to one height and set in a row with white gaps."""
    row = []
    for picture in pictures:
        factor = max(1, height // picture.shape[0])
        big = enlarge(picture, factor)
        pad = height - big.shape[0]
        big = np.pad(big, ((pad // 2, pad - pad // 2), (0, 0), (0, 0)), constant_values=255)
        row += [big, GAP[: big.shape[0]]]
    return np.concatenate(row[:-1], axis=1)


def bars(values: np.ndarray, colour=(37, 99, 235), height: int = 28 * SCALE, width: int = 14) -> np.ndarray:
    """Bars of values in [0, 1] (or signed: drawn from the middle), one per class, as a small chart."""
    picture = np.full((height, len(values) * (width + 4), 3), 255, np.uint8)
    low = min(float(values.min()), 0.0)
    span = max(float(values.max()) - low, 1e-6)
    zero = int(height * (1 - (0 - low) / span))
    for k, value in enumerate(values):
        top = int(height * (1 - (value - low) / span))
        a, b = sorted((top, zero))
        picture[a : max(b, a + 1), k * (width + 4) : k * (width + 4) + width] = colour
    return picture


def conv(x: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 1) -> torch.Tensor:
    return F.conv2d(x[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def logits_of(d: Digits, images: torch.Tensor) -> torch.Tensor:
    """The tiny real classifier, nearest class mean: each class scores minus half the squared distance of the
    image to its mean image (x.m - |m|^2 / 2, the same ranking)."""
    means = d.class_means.flatten(1)
    return images.flatten(1) @ means.T - (means * means).sum(1) / 2


def curve(ys: list[np.ndarray], colours: list[tuple[int, int, int]], height: int = 28 * SCALE, width: int = 180):
    """Lines through points (each a sequence over the same x range), scaled together, as a small chart."""
    picture = np.full((height, width, 3), 255, np.uint8)
    low = min(float(y.min()) for y in ys)
    high = max(float(y.max()) for y in ys)
    for y, colour in zip(ys, colours, strict=True):
        xs = np.linspace(2, width - 3, len(y)).round().astype(int)
        rows = (height - 3 - (y - low) / max(high - low, 1e-6) * (height - 6)).round().astype(int)
        for i in range(len(xs) - 1):  # a line: dense points between neighbours
            for t in np.linspace(0, 1, 12):
                r = int(round(rows[i] + t * (rows[i + 1] - rows[i])))
                c = int(round(xs[i] + t * (xs[i + 1] - xs[i])))
                picture[max(r - 1, 0) : r + 1, c : c + 2] = colour
    return picture


BLUE, ORANGE, GREEN = (37, 99, 235), (234, 88, 12), (22, 163, 74)


def _descent(rate: float, momentum: float = 0.0, steps: int = 30) -> np.ndarray:
    """Loss of gradient descent on a real quadratic: the digit's mean-squared distance to a moving template."""
    curvature, x, v, losses = 1.0, 2.0, 0.0, []
    for _ in range(steps):
        losses.append(0.5 * curvature * x * x)
        v = momentum * v - rate * curvature * x
        x += v
    return np.log1p(np.array(losses))


def _fit_errors() -> tuple[np.ndarray, np.ndarray]:
    """Training and validation error of polynomials of degree 1 to 12 fitted to 12 noisy points of a curve: the
    training error only falls, the validation error falls, then rises (overfitting)."""
    rng = np.random.default_rng(3)
    x, x_val = np.linspace(-1, 1, 12), rng.uniform(-1, 1, 200)
    truth = lambda t: np.sin(2.5 * t)  # noqa: E731
    y, y_val = truth(x) + rng.normal(0, 0.25, 12), truth(x_val) + rng.normal(0, 0.25, 200)
    train, validation = [], []
    for degree in range(1, 12):
        fit = np.polynomial.Polynomial.fit(x, y, degree)
        train.append(np.mean((fit(x) - y) ** 2))
        validation.append(np.mean((fit(x_val) - y_val) ** 2))
    return np.log(np.array(train) + 1e-3), np.log(np.array(validation) + 1e-3)


def _picture_makers() -> dict[str, Callable[[Digits], np.ndarray]]:
    g = torch.Generator().manual_seed(0)
    edge = lambda d: conv(d.digit, EDGE)  # noqa: E731 - a shared step of several pictures
    return {
        "digit and edges": lambda d: side_by_side(grey(d.digit), signed(edge(d))),
        "kernel": lambda d: side_by_side(signed(EDGE), signed(BLUR)),
        "stride": lambda d: side_by_side(signed(edge(d)), signed(conv(d.digit, EDGE, stride=2))),
        "padding": lambda d: side_by_side(grey(d.digit), _padded(d.digit, 3)),
        "feature maps": lambda d: side_by_side(*(signed(conv(d.digit, k)) for k in (EDGE, EDGE.T, -EDGE, BLUR))),
        "max pooling": lambda d: side_by_side(heat(edge(d).clamp(min=0)), heat(F.max_pool2d(edge(d).clamp(min=0)[None], 2)[0])),
        "average pooling": lambda d: side_by_side(heat(edge(d).clamp(min=0)), heat(F.avg_pool2d(edge(d).clamp(min=0)[None], 2)[0])),
        "relu": lambda d: side_by_side(signed(edge(d)), signed(edge(d).clamp(min=0))),
        "tanh": lambda d: side_by_side(signed(edge(d)), signed(torch.tanh(edge(d) / 2))),
        "batch norm": lambda d: side_by_side(grey(d.digit), signed((d.digit - d.digit.mean()) / d.digit.std())),
        "dropout": lambda d: side_by_side(grey(d.digit), grey(d.digit * (torch.rand(28, 28, generator=g) > 0.5) * 2)),
        "flatten": lambda d: side_by_side(grey(d.digit), grey(d.digit.reshape(-1, 56))),
        "logits": lambda d: side_by_side(grey(d.digit), bars(logits_of(d, d.digit[None])[0].numpy())),
        "softmax": lambda d: side_by_side(grey(d.digit), bars(torch.softmax(logits_of(d, d.digit[None])[0], 0).numpy())),
        "class means": lambda d: side_by_side(*(grey(m) for m in d.class_means[:5])),
        "weights": lambda d: side_by_side(*(signed(m - d.class_means.mean(0)) for m in d.class_means[:4])),
        "batch": lambda d: side_by_side(*(grey(m) for m in d.test_images[:6])),
        "augmentation": lambda d: side_by_side(
            grey(d.digit),
            *(grey(a[0]) for a in augment_batch(d.digit[None, None].repeat(3, 1, 1, 1), g, ("rotate", "shift", "scale", "elastic"))),
        ),
        "receptive field": lambda d: side_by_side(_boxes(d.digit)),
        "confusion matrix": lambda d: side_by_side(heat(_confusion(d))),
        "domain shift": lambda d: side_by_side(grey(d.digit), grey(_off_frame(d.digit))),
        "normalisation": lambda d: side_by_side(grey(d.digit), signed((d.digit - d.class_means.mean()) / d.class_means.std())),
        "learning rate": lambda d: curve([_descent(0.05, steps=12), _descent(0.6, steps=12), _descent(2.15, steps=12)], [BLUE, GREEN, ORANGE]),
        "momentum": lambda d: curve([_descent(0.05), _descent(0.05, 0.9)], [BLUE, ORANGE]),
        "one-hot and smoothed": lambda d: side_by_side(bars(np.eye(10)[7]), bars(np.eye(10)[7] * 0.9 + 0.01)),
        "cross-entropy": lambda d: curve([-np.log(np.linspace(0.02, 1, 50))], [BLUE]),
        "fit": lambda d: curve(list(_fit_errors()), [BLUE, ORANGE]),
    }  # fmt: skip


def _off_frame(digit: torch.Tensor) -> torch.Tensor:
    """The digit as another population might bring it: half the size, in a corner, fainter."""
    small = F.interpolate(digit[None, None], size=(14, 14), mode="bilinear", antialias=True)[0, 0]
    out = torch.zeros_like(digit)
    out[2:16, 12:26] = small * 0.7
    return out


def _padded(digit: torch.Tensor, pad: int) -> np.ndarray:
    """The digit with ``pad`` pixels of zeros around it, the added zeros tinted blue to be seen."""
    picture = grey(F.pad(digit, (pad, pad, pad, pad)))
    border = np.ones(picture.shape[:2], bool)
    border[pad:-pad, pad:-pad] = False
    picture[border] = (30, 64, 150)
    return picture


def _boxes(digit: torch.Tensor) -> np.ndarray:
    """The digit with the 3x3, 5x5 and 7x7 windows that one, two and three 3x3 conv layers see of it."""
    picture = enlarge(grey(digit), SCALE)
    centre = 14 * SCALE
    for size, colour in ((3, BLUE), (5, GREEN), (7, ORANGE)):
        half = size * SCALE // 2
        a, b = centre - half, centre + half
        picture[a:b, a : a + 2] = picture[a:b, b - 2 : b] = colour
        picture[a : a + 2, a:b] = picture[b - 2 : b, a:b] = colour
    return picture


def _confusion(d: Digits) -> torch.Tensor:
    guesses = logits_of(d, d.test_images).argmax(1)
    k = len(d.class_means)
    return torch.bincount(d.test_labels * k + guesses, minlength=k * k).reshape(k, k).float().sqrt()


@dataclass(frozen=True)
class Term:
    name: str
    meaning: str
    picture: str  # which picture maker
    caption: str  # what the picture shows


TERMS = (
    Term("convolution", "Slides a small grid of weights (a kernel) over the image and sums the products at every position: one number per position, a new image.", "digit and edges", "a 7, and what an edge kernel makes of it (red: positive, blue: negative)"),
    Term("kernel (filter)", "The small grid of weights a convolution slides; training learns its values. 3x3 is the common size.", "kernel", "a horizontal-edge kernel and a blur kernel"),
    Term("stride", "How far the kernel moves between positions. Stride 2 halves the output's width and height.", "stride", "the same kernel at stride 1 and stride 2"),
    Term("padding", "Zeros added around the image so the kernel also fits at the border; padding 1 keeps a 3x3 convolution's output the size of its input.", "padding", "the 7, and the 7 padded with 3 pixels of zeros (tinted blue)"),
    Term("feature map", "One convolution kernel's output over the whole image; a layer with 16 channels makes 16 of them.", "feature maps", "four kernels' maps of the same 7"),
    Term("channel", "One of the images stacked in a layer's input or output: 1 for a grey digit, 3 for colour, one per kernel after a convolution.", "feature maps", "four channels of one layer"),
    Term("pooling", "Shrinks a feature map by summarising each small window; it keeps what was found and forgets exactly where.", "max pooling", "a map and its 2x2 max-pooling"),
    Term("max pooling", "Keeps the largest value of each window (2x2: a quarter of the values).", "max pooling", "a map and its 2x2 max-pooling"),
    Term("average pooling", "Keeps the mean of each window: smoother than max-pooling (LeNet-5 used it).", "average pooling", "a map and its 2x2 average-pooling"),
    Term("activation function", "A function applied to every value after a layer; without one, stacked layers collapse into a single linear map.", "relu", "a feature map before and after ReLU"),
    Term("ReLU", "max(0, x): negative values become 0, positive ones pass. Fast, and gradients do not shrink for positive values.", "relu", "negatives (blue) become 0"),
    Term("tanh", "Squeezes values into -1 to 1; its gradient is small for large values, which slows deep networks.", "tanh", "a feature map before and after tanh"),
    Term("dead ReLU", "A ReLU unit whose input is negative for every image: it outputs 0 and gets no gradient, so it never learns again (Inspect counts them).", "relu", "where the input is negative, ReLU outputs 0"),
    Term("batch normalisation", "Rescales each channel over the batch to mean 0 and std 1, then learns a scale and shift; allows higher learning rates.", "batch norm", "values before and after standardising"),
    Term("dropout", "During training, zeroes a random share p of the values (and scales the rest by 1/(1-p)); the network cannot rely on any one of them.", "dropout", "the 7 with half its pixels dropped"),
    Term("flatten", "Lays a stack of feature maps out as one long vector, for the fully connected layers after it.", "flatten", "28x28 pixels as rows of 56, on the way to one row of 784"),
    Term("fully connected (linear) layer", "Every output is a weighted sum of every input; the classifier at the end is one, with one output per class.", "weights", "the weights of a linear classifier: one image per class"),
    Term("weights and parameters", "The numbers training adjusts: kernel values, linear weights, biases, batch-norm scales.", "weights", "weights of a linear classifier for 0, 1, 2, 3"),
    Term("logits", "The raw scores of the last layer, one per class, before softmax.", "logits", "a 7 and its logits from a nearest-mean classifier"),
    Term("softmax", "Turns logits into probabilities that sum to 1; the largest logit gets the largest share.", "softmax", "the same scores as probabilities"),
    Term("class", "One of the answers a model chooses from: the ten digits, or the names of your own folders.", "class means", "the mean image of classes 0-4"),
    Term("cross-entropy loss", "-log of the probability given to the right class: 0 when sure and right, large when sure and wrong.", "cross-entropy", "loss against the probability of the right class"),
    Term("label smoothing", "Trains against targets that give the right class a little less than 1 and the others a little more: less over-confidence.", "one-hot and smoothed", "one-hot and smoothed targets for a 7"),
    Term("batch", "The images one training step sees together; the gradient is averaged over them.", "batch", "six images of a batch"),
    Term("epoch", "One pass over every training image; a run trains for a few epochs.", "batch", "an epoch is many such batches, each image once"),
    Term("learning rate", "How big a step each update takes along the gradient: too small learns slowly, too big overshoots or diverges.", "learning rate", "loss by step: a small (blue), good (green) and too large (orange) rate"),
    Term("gradient", "How much the loss changes with each weight; training moves every weight a little against it.", "weights", "for a linear model, the gradient of a class score is its weight image"),
    Term("optimizer", "The rule that turns gradients into weight updates: SGD, SGD with momentum, Adam, RMSprop...", "momentum", "SGD (blue) and SGD with momentum (orange) on the same problem"),
    Term("momentum", "Keeps a running average of past updates and keeps moving along it: faster through long valleys.", "momentum", "loss by step without (blue) and with momentum (orange)"),
    Term("data augmentation", "Random changes to training images (rotation, shift, zoom, warp, erasing): more variety, less overfitting.", "augmentation", "one 7, three random variations"),
    Term("normalisation of inputs", "Subtracting the dataset's mean pixel and dividing by its std, so inputs are centred and of unit spread.", "normalisation", "the 7, and normalised: the background below zero (blue)"),
    Term("receptive field", "The part of the input one value of a layer depends on: 3x3 after one 3x3 convolution, 5x5 after two, 7x7 after three.", "receptive field", "3x3, 5x5 and 7x7 windows on the 7"),
    Term("confusion matrix", "A table of true class (rows) against predicted class (columns); off the diagonal are the mistakes.", "confusion matrix", "a nearest-mean classifier on 200 test digits"),
    Term("domain shift", "The images a model reads differ from those it learnt from (other writers, pens, scanners, framing): its test accuracy no longer holds. Inspect's *Reading another dataset* measures it class by class.", "domain shift", "a 7 as MNIST frames it, and as another source might"),
    Term("learned space (embedding)", "The features a network hands its last layer, one point per image: a good model pulls each class together and the classes apart. Inspect projects them to 2-D (PCA or t-SNE).", "class means", "the mean images the classes' points gather around"),
    Term("adversarial example", "An image changed very little, on purpose, so that a model reads it otherwise: the change follows the gradient of the model's loss. FGSM takes one step, PGD several.", "domain shift", "a small change of the image, a large change of the answer"),
    Term("loss landscape", "The loss as a function of all the weights; the line from a model's first weights to its last is one slice of it (Inspect: the loss along the line).", "learning rate", "loss falling along a path of training steps"),
    Term("overfitting", "The model learns its training images, noise included, and does worse on new ones: training error keeps falling while validation error rises.", "fit", "error of ever bigger fits to 12 noisy points: training (blue), validation (orange)"),
    Term("underfitting", "The model is too small or trained too little to capture even the training data: both errors stay high.", "fit", "left: fits too simple, both errors high"),
    Term("validation set", "Training images held out to check a model during training; the test set stays untouched until the end.", "fit", "only held-out points (orange) show where a fit stops generalising"),
    Term("early stopping", "Stop when the validation score has not improved for a few epochs, and keep the best epoch's weights.", "fit", "stop where the validation error (orange) turns up"),
)  # fmt: skip


def picture(term: Term, digits: Digits) -> np.ndarray:
    return PICTURES[term.picture](digits)


PICTURES = _picture_makers()
