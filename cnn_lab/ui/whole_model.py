"""Inspect's views of each whole model, both side by side: the space it learnt, how robust it is, the smallest
change that fools it, how its weights moved, and the loss along its path. Layout and wiring only: the numbers come
from the session (cnn_lab/inspect/*), the figures from cnn_lab/views."""

from __future__ import annotations

import gradio as gr
import numpy as np

from cnn_lab.data.pictures import displayable, enlarge, filter_grid
from cnn_lab.inspect.adversarial import BUDGET, BUDGET_IMAGES
from cnn_lab.inspect.learned_space import METHOD_TITLES
from cnn_lab.inspect.robustness import TRANSFORM_UNITS
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.checked import Radio, Slider
from cnn_lab.ui.parts.sections import SECTIONS, prompt_text, shown_now
from cnn_lab.ui.parts.wiring import by_name, user_errors
from cnn_lab.views.plots import loss_line_figure, robustness_figure, weight_histograms_figure
from cnn_lab.views.run_view import LOSS_COLORS
from cnn_lab.views.space_svg import space_svg

SECTIONS.update(
    {
        "space": ("space note", "press **Map what each model learnt**."),
        "robust": ("robust note", "press **Measure robustness**."),
        "attack": (
            "attack note",
            "draw on the Train & compare tab's sketchpad (or test an image of your own), then press **Find the "
            "smallest change that fools each model**.",
        ),
        "weights": ("weights note", "press **Show how the weights moved**."),
        "line": ("line note", "press **Walk the line from first to last weights**."),
    }
)


def _note(section: str) -> gr.Markdown:
    return gr.Markdown(f"Train the models, then {prompt_text(section)}", elem_id=f"{section}-note")


# ---------------------------------------------------------------- learned space


def map_space(method: str, session: Session, progress=gr.Progress()) -> dict:  # noqa: B008 (Gradio reads it)
    """Both models' last hidden features of the same test images, projected to 2-D, as two maps to hover."""
    if method == "tsne":
        progress(0, desc="t-SNE on both models' features (about 3 s on 2 cores for the default pair)...")
    with user_errors("Learned space · "):
        space, images = session.inspection.learned_space(method)
    names = session.pair.data.info.class_names
    drawn = "; the star is your latest drawing" if any(p is not None for p in space.drawing.values()) else ""
    kept = (
        ", ".join(f"{n} {v:.0%}" for n, v in space.explained.items() if v is not None) if space.method == "pca" else ""
    )
    return shown_now("space", session) | {
        "note": f"**{session.pair.caption()}**: {METHOD_TITLES[space.method]} of the features that reach each "
        f"model's classifier, for the same {len(space.index):,} test images (coloured by class, misread ringed in "
        f"red){drawn}. Classes far apart are easy for the last linear layer to separate; where colours mix, the "
        f"model confuses them." + (f" The two axes keep this share of the features' variance: {kept}." if kept else ""),
        **{f"map {n}": space_svg(space, n, images, names) for n in NAMES},
    }


def space_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### The space each model learnt")
    with gr.Row(equal_height=True):
        method = Radio(
            [("PCA (at once)", "pca"), ("t-SNE (openTSNE, a few seconds)", "tsne")], value="pca", label="Projection",
            elem_id="space-method", scale=2,
        )  # fmt: skip
        go = gr.Button("Map what each model learnt", elem_id="space-go", scale=1)
    shown = {"note": _note("space"), "version": version}
    with gr.Column(visible=False, elem_id="space-results") as shown["space results"]:
        with gr.Row():
            for name in NAMES:
                shown[f"map {name}"] = gr.HTML(elem_id=f"space-map-{name}")
    go.click(by_name(map_space, shown), [method, session], list(shown.values()), api_name=False)
    return {"space note": shown["note"], "space results": shown["space results"]}


# ---------------------------------------------------------------- robustness


def measure_robustness(session: Session) -> dict:
    """Both models' accuracy as the test images are shifted, rotated, scaled, blurred, noised and occluded."""
    with user_errors("Robustness · "):
        found, words = session.inspection.robustness()
    return shown_now("robust", session) | {
        "note": f"**{session.pair.caption()}**: {words}",
        "chart": robustness_figure(found.levels, found.accuracy, TRANSFORM_UNITS, LOSS_COLORS),
    }


def robustness_section(version: gr.State, session: gr.State) -> dict:
    return _chart_section(
        "robust", "How robust each model is", "Measure robustness", "Accuracy as the test images change",
        measure_robustness, version, session,
    )  # fmt: skip


def _chart_section(section: str, heading: str, button: str, label: str, handler, version, session) -> dict:
    """A section of a heading, a button, its words and one chart, the chart hidden until the button is pressed."""
    gr.Markdown(f"### {heading}")
    go = gr.Button(button, elem_id=f"{section}-go")
    shown = {"note": _note(section), "version": version}
    with gr.Column(visible=False, elem_id=f"{section}-results") as shown[f"{section} results"]:
        shown["chart"] = gr.Plot(label=label, elem_id=f"{section}-chart")
    go.click(by_name(handler, shown), session, list(shown.values()), api_name=False)
    return {f"{section} note": shown["note"], f"{section} results": shown[f"{section} results"]}


# ---------------------------------------------------------------- adversarial example


def fool_models(attack: str, session: Session) -> dict:
    """The smallest change of the latest drawing that flips each model, and accuracy under a fixed budget."""
    with user_errors("Adversarial example · "):
        drawing, flips, budget = session.inspection.adversarial(attack)
    names = session.pair.data.info.class_names
    lines = []
    for name, flip in flips.items():
        if flip.epsilon is None:
            lines.append(f"Model {name} reads it as {names[flip.before]} under every change up to 1 per pixel.")
        else:
            lines.append(
                f"Model {name} reads it as **{names[flip.before]}**; moving each pixel by at most "
                f"**{flip.epsilon:.3f}** (of 0-1; {flip.epsilon * 255:.0f} of 255, {flip.changed_pixels:.0%} of the "
                f"pixels changed) makes it read **{names[flip.after]}**."
            )
    held = "; ".join(f"model {n} {b['plain']:.0%} as they are, {b['attacked']:.0%} attacked" for n, b in budget.items())
    words = (
        f"**{session.pair.caption()}**, {attack.upper()} (Captum): "
        + " ".join(lines)
        + f" On {BUDGET_IMAGES} test images attacked within {BUDGET:g} per pixel: {held}. A change too small to "
        "see flips the answer because the model follows the gradient of its loss, not the shapes a person sees."
    )
    out = {"note": words, "drawing": enlarge(displayable(drawing), 6)}
    for name in NAMES:
        perturbed = flips[name].perturbed if name in flips else None
        out[f"changed {name}"] = None if perturbed is None else enlarge(displayable(perturbed), 6)
    return shown_now("attack", session) | out


def adversarial_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### The smallest change that fools each model")
    with gr.Row(equal_height=True):
        attack = Radio(
            [("PGD (10 steps)", "pgd"), ("FGSM (one step)", "fgsm")], value="pgd", label="Attack", elem_id="attack-kind",
            scale=2,
        )  # fmt: skip
        go = gr.Button("Find the smallest change that fools each model", elem_id="attack-go", scale=1)
    shown = {"note": _note("attack"), "version": version}
    with gr.Column(visible=False, elem_id="attack-results") as shown["attack results"]:
        with gr.Row():
            shown["drawing"] = gr.Image(label="Your drawing", elem_id="attack-drawing", height=200, interactive=False)
            for name in NAMES:
                shown[f"changed {name}"] = gr.Image(
                    label=f"Changed until model {name} reads it otherwise", elem_id=f"attack-changed-{name}",
                    height=200, interactive=False,
                )  # fmt: skip
    go.click(by_name(fool_models, shown), [attack, session], list(shown.values()), api_name=False)
    return {"attack note": shown["note"], "attack results": shown["attack results"]}


# ---------------------------------------------------------------- weights over time


def show_weights(epoch: float | None, session: Session) -> dict:
    """Each layer's weight and gradient histograms at one saved epoch, and the first filters, both models."""
    with user_errors("Weights over time · "):
        histories = session.inspection.weights_over_time()
    epochs = sorted(set.intersection(*(set(h.epochs) for h in histories.values())))
    chosen = int(epoch) if epoch is not None and int(epoch) in epochs else epochs[-1]
    layers = {
        name: [
            (h.layer, h.weight_edges, h.weight_counts[chosen], h.gradient_edges, h.gradient_counts[chosen])
            for h in history.layers
        ]
        for name, history in histories.items()
    }
    spread = "; ".join(
        f"model {name}: {history.layers[0].layer} weights' spread {history.layers[0].weight_std[epochs[0]]:.3f} at "
        f"epoch {epochs[0]}, {history.layers[0].weight_std[chosen]:.3f} at {chosen}"
        for name, history in histories.items()
    )
    out = {
        "note": f"**{session.pair.caption()}**: epochs {', '.join(map(str, epochs))} (0: as created). {spread}. "
        "Gradients are taken on the same 256 training images at every epoch: they shrink as the loss flattens.",
        "chart": weight_histograms_figure(layers, chosen, LOSS_COLORS),
        "epoch": Slider(minimum=epochs[0], maximum=epochs[-1], value=chosen, step=1, interactive=len(epochs) > 1),
    }
    for name in NAMES:
        kept = histories[name].first_filters if name in histories else {}
        bound = max((float(np.abs(f).max()) for f in kept.values()), default=None)  # one scale for every epoch
        out[f"filters {name}"] = filter_grid(kept[chosen], bound=bound) if chosen in kept else None
    return shown_now("weights", session) | out


def weights_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### How the weights moved")
    go = gr.Button("Show how the weights moved", elem_id="weights-go")
    shown = {"note": _note("weights"), "version": version}
    with gr.Column(visible=False, elem_id="weights-results") as shown["weights results"]:
        shown["epoch"] = Slider(0, 1, value=1, step=1, label="Epoch (0: as created)", elem_id="weights-epoch")
        shown["chart"] = gr.Plot(label="Weights and gradients per layer", elem_id="weights-chart")
        with gr.Row():
            for name in NAMES:
                shown[f"filters {name}"] = gr.Image(
                    label=f"Model {name}: first layer's filters", elem_id=f"weights-filters-{name}", height=220,
                    interactive=False,
                )  # fmt: skip
    inputs = [shown["epoch"], session]
    go.click(by_name(show_weights, shown), inputs, list(shown.values()), api_name=False)
    shown["epoch"].release(by_name(show_weights, shown), inputs, list(shown.values()), api_name=False)
    return {"weights note": shown["note"], "weights results": shown["weights results"]}


# ---------------------------------------------------------------- loss along a line


def walk_line(session: Session) -> dict:
    """Each model's loss from its first weights to its last, on training and test images."""
    with user_errors("Loss along a line · "):
        lines = session.inspection.loss_lines()
    known = {name: line for name, line in lines.items() if line is not None}
    if not known:
        return shown_now("line", session) | {
            "note": f"**{session.pair.caption()}**: these models came from files: their first weights are not known.",
            "chart": None,
        }
    words = []
    for name, line in known.items():
        start, end = line.alphas.index(0.0), line.alphas.index(1.0)
        inside = line.test_loss[start : end + 1]
        bumps = sum(b > a * 1.02 for a, b in zip(inside, inside[1:]))
        shape = "falls all the way" if bumps == 0 else f"rises {bumps} time{'s' if bumps > 1 else ''} on the way"
        words.append(
            f"model {name} went {line.distance:.1f} in weight space; its test loss {shape}, "
            f"{line.test_loss[start]:.2f} to {line.test_loss[end]:.2f}"
        )
    return shown_now("line", session) | {
        "note": f"**{session.pair.caption()}**: " + "; ".join(words) + ". A loss that falls all the way along the "
        "straight line means the path training took could have been a straight one.",
        "chart": loss_line_figure(
            {n: (line.alphas, line.train_loss, line.test_loss) for n, line in known.items()}, LOSS_COLORS
        ),
    }


def line_section(version: gr.State, session: gr.State) -> dict:
    return _chart_section(
        "line", "The loss along the line from first to last weights", "Walk the line from first to last weights",
        "Loss along the line", walk_line, version, session,
    )  # fmt: skip


def whole_model_sections(version: gr.State, session: gr.State) -> dict:
    """The five views, in the order a learner asks: what it learnt, how robust, how fooled, how it got there."""
    gr.Markdown("## Each model as a whole")
    stale = {}
    for build in (space_section, robustness_section, adversarial_section, weights_section, line_section):
        stale |= build(version, session)
    return stale
