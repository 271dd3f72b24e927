"""What to do when training goes wrong: symptoms, their usual causes, and what to try, in the order to try it.

The entries are keyed by a slug; the warnings (advice.py) and the page link to them by it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Trouble:
    slug: str
    symptom: str
    causes: tuple[str, ...]
    remedies: tuple[str, ...]


TROUBLES = {
    t.slug: t
    for t in (
        Trouble(
            "loss-is-nan",
            "The loss is NaN, or grows to huge values (the run is marked diverged)",
            ("The learning rate is too high for the optimizer: each step overshoots and the next overshoots more.",
             "A loss or an input without bounds: pixels not normalised with a high rate, MSE with a large rate."),
            ("Divide the learning rate by 10 (SGD: 0.01-0.1; Adam: 0.001).",
             "Add batch norm after the convolutions, or a warm-up of 0.5 epochs.",
             "Keep *Normalise inputs* on."),
        ),
        Trouble(
            "stuck-at-chance",
            "Accuracy stays near 10 % (chance for ten classes), the loss near 2.30",
            ("The rate is far too small (nothing moves) or too large (ReLUs die, the output is constant).",
             "Too little signal: one tiny layer, or dropout of 0.9, or SGD at 0.001 for one epoch.",
             "Batch norm with a batch of 1 or 2: its statistics are noise."),
            ("Try Adam at 0.001 with the defaults; change one thing at a time from there.",
             "Look at Inspect's gradient flow: all-zero gradients or dead ReLUs point at the rate.",
             "Train longer or with more images before judging a small learning rate."),
        ),
        Trouble(
            "diverging",
            "The loss fell, then rose and kept rising",
            ("The learning rate is too high for the later, finer steps.", "A schedule that raises the rate too far."),
            ("Use a schedule that anneals the rate (cosine, one-cycle), or a lower constant rate.",
             "Turn on early stopping with a validation split: it keeps the best epoch."),
        ),
        Trouble(
            "overfitting",
            "Training accuracy keeps rising, validation accuracy stalls or falls (the curves part)",
            ("The model is large for the data: it learns the training images, noise included.",
             "Too few training images, or too many epochs."),
            ("Add augmentation (rotate, shift, elastic) or dropout.", "Use more training images.",
             "Use early stopping on validation loss.", "Try a smaller model (fewer channels)."),
        ),
        Trouble(
            "underfitting",
            "Training and validation accuracy are both lower than they should be, and close together",
            ("The model is too small, or trained too little, or its rate is too small.",
             "Heavy regularisation: strong dropout, label smoothing and augmentation together."),
            ("Train more epochs, or use a wider or deeper model.", "Raise the learning rate (or use one-cycle).",
             "Remove some regularisation."),
        ),
        Trouble(
            "plateau",
            "The loss stops falling for a long stretch, then (maybe) moves again",
            ("A flat region, or a rate that is now too large to settle and too small to escape.",),
            ("A schedule (step, cosine) lowers the rate when progress stalls.", "Momentum or Adam cross flat regions faster."),
        ),
        Trouble(
            "dead-relus",
            "Inspect reports many dead ReLUs (units that output 0 for every image)",
            ("A high learning rate pushed their weights to always-negative inputs; they get no gradient back.",),
            ("Lower the learning rate.", "Add batch norm before the ReLUs.", "Try a leaky ReLU or ELU activation."),
        ),
        Trouble(
            "vanishing-gradients",
            "Inspect shows the first layers' gradients far smaller than the last layers'",
            ("Many layers of saturating activations (tanh, sigmoid) shrink the gradient at every layer.",),
            ("Use ReLU, batch norm, or fewer layers.", "Adam adapts each weight's step and copes better than SGD."),
        ),
        Trouble(
            "training-slow",
            "Training is slow",
            ("A large model, many epochs or all the images on a CPU.", "Augmentation costs time on every batch.",
             "Many test evaluations per epoch."),
            ("Train on a subset first (*Training images*: 10,000), 1-3 epochs.", "Use a larger batch (128).",
             "Fewer channels: the cost grows with channels squared.", "Use a GPU if you have one (device: auto)."),
        ),
        Trouble(
            "wrong-on-my-drawing",
            "Right on the test set, but wrong on my drawing",
            ("Your drawing differs from the training images: stroke width, size, position, style.",
             "A network that pooled its maps to 1x1 has lost where things are.",
             "The model has only seen MNIST's writers."),
            ("Draw big and centred; the app centres and thickens strokes like MNIST, but not everything.",
             "Train with augmentation (rotate, shift, zoom, stroke width).",
             "Use Inspect's explanation on your drawing to see what each model looked at."),
        ),
        Trouble(
            "fails-when-moved",
            "The model reads the test images but fails on the same images shifted, rotated or scaled a little",
            ("It learnt where the strokes usually are, not what they form: an MLP (no convolutions) does so most, "
             "and so does a CNN that never saw images moved during training.",
             "The drawings you test come from another population (other pens, framing, writers): domain shift."),
            ("Compare its curves in Inspect's *How robust each model is*: a CNN's shift curve should lie above an "
             "MLP's.", "Turn on *Augment* rotate, shift and scale: the model then sees moved copies while it learns.",
             "Use convolutions and pooling rather than fully connected layers on raw pixels.",
             "Read the other population in *Reading another dataset* to see which classes shift most."),
        ),
        Trouble(
            "fooled-by-noise",
            "A change too small to see flips the model's answer (Inspect's smallest fooling change is tiny)",
            ("A model follows the gradient of its loss: many small pixel changes that each push the same way add up "
             "(adversarial examples); every standard-trained network has them.",),
            ("Compare models by the budget that fools them, not by whether one can be fooled.",
             "Augmentation and noise help a little; robustness to such changes needs adversarial training (training "
             "on attacked copies), which this playground does not do."),
        ),
        Trouble(
            "out-of-memory",
            "Out of memory (the run fails, or the process ends)",
            ("A large batch of a wide network keeps every layer's activations for the backward pass.",),
            ("Halve the batch size.", "Use fewer channels, or pool earlier.", "On a GPU, bf16 precision halves activations."),
        ),
    )
}  # fmt: skip


def trouble_markdown(trouble: Trouble) -> str:
    causes = "\n".join(f"- {c}" for c in trouble.causes)
    remedies = "\n".join(f"{k}. {r}" for k, r in enumerate(trouble.remedies, start=1))
    return f"**Why, usually:**\n{causes}\n\n**What to try:**\n{remedies}"
