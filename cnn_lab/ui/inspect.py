"""The Inspect tab, both models side by side: on the test set (confusion matrices, confused pairs, disagreements,
calibration), why each reads an image so (attributions, filters, feature maps, activation strength), how gradients
flowed while they trained, what each layer costs, and the two networks layer by layer. A replay slider takes the
first two back to any epoch saved for both models."""

from __future__ import annotations

import html

import gradio as gr
import numpy as np

from cnn_lab.core.builder import layers_from_json
from cnn_lab.core.config import ConfigError, ModelConfig
from cnn_lab.core.errors import quoted
from cnn_lab.data.pictures import attribution_overlay, displayable, enlarge, feature_map_grid
from cnn_lab.inspect.confusion import PairScores
from cnn_lab.inspect.costs import PROFILE_BATCH
from cnn_lab.inspect.diagram import network_svg, untrained_network_svg
from cnn_lab.inspect.explain import METHOD_NOTES, METHODS, Explanation
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.checked import Dropdown, Radio, Slider
from cnn_lab.ui.parts.fields import DATASET_CHOICES, RawNumber
from cnn_lab.ui.parts.sections import SECTIONS, forget_stale, prompt_text, shown_now
from cnn_lab.ui.parts.tab_parts import Refresh, TabParts
from cnn_lab.ui.parts.wiring import by_name, escaped, refusal, user_errors
from cnn_lab.ui.whole_model import whole_model_sections
from cnn_lab.views.gradient_words import gradient_flow_words
from cnn_lab.views.plots import (
    feature_maps_figure,
    gradient_flow_figure,
    network_diagram,
    per_class_chart,
    per_layer_chart,
    reliability_diagram,
)
from cnn_lab.views.run_view import LOSS_COLORS
from cnn_lab.views.tables import (
    cost_layer_frame,
    cost_summary_frame,
    cross_reading_frame,
    cross_reading_text,
    layer_times,
    matrix_frame,
    per_class_frame,
    report_frame,
)

MATRIX_COLUMNS = ["12%"] + ["8.8%"] * 10  # ten classes fit at half the page
SECTIONS.update(
    {
        "test": ("summary", "press **Score both models on the test set**."),
        "explain": (
            "explain summary",
            "draw a digit (or test an image of your own) on the Train & compare tab, or choose a test image, then "
            "press **Explain**.",
        ),
        "gradient": (
            "gradient words",
            "press **Show how gradients flowed** to see each layer's gradient norm and dead ReLUs, sampled while "
            "they trained.",
        ),
        "cost": (
            "cost note",
            "press **Measure both trained models** for parameters, FLOPs, memory and time per layer.",
        ),
        "cross": (
            "cross note",
            "pick another dataset with the same classes (for digits: MNIST, EMNIST digits or your own upload) and "
            "press **Read it with both models**.",
        ),
    }
)


def matrix_columns(classes: int) -> list[str] | None:
    """Column widths of a matrix: up to ten classes share half the page; more scroll sideways at their own width."""
    return ["12%"] + [f"{88 / classes:.1f}%"] * classes if classes <= 10 else None


GALLERY_CAP = 40  # images shown of a cell or a disagreement (the count says how many there are)
SOURCES = ("the latest sketch or own image", "a test image")
INPUT_SCALE = 6  # a 28x28 input shown at 168 px


def diagram(layers_a: str, layers_b: str):
    """Both networks as blocks coloured by layer type, sized by activation volume (a broken list is left out)."""
    configs = {}
    for name, text in zip(NAMES, (layers_a, layers_b)):
        try:
            configs[name] = ModelConfig(layers_from_json(text))
        except ConfigError:
            continue  # its table says what is wrong
    return network_diagram(configs) if configs else None


def gallery(session: Session, scores: PairScores, index: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Up to GALLERY_CAP test images, each captioned with its class and both models' guesses and confidences."""
    shown = index[:GALLERY_CAP]
    names = scores.class_names
    items = []
    for image, i in zip(session.inspection.test_images(shown), shown, strict=True):
        guesses = ", ".join(
            f"{name} {names[scores.guesses[name][i]]} {scores.confidences[name][i]:.0%}" for name in NAMES
        )
        shown_image = displayable(image)  # grey digits drawn dark on white, colour as it is
        items.append(
            (255 - shown_image if shown_image.ndim == 2 else shown_image, f"{names[scores.labels[i]]}: {guesses}")
        )
    return items


def replay_epoch(value: float | None) -> int | None:
    """The replay slider's value as an epoch: 0 (or nothing) means the models as they are now."""
    return int(value) if value else None


def scores_at(value: float | None, session: Session) -> PairScores:
    with user_errors():
        return session.inspection.test_set_scores(replay_epoch(value))


def score_test_set(value: float | None, session: Session) -> tuple:
    """Both trained models (now, or at the replayed epoch) on every test image: the summary in words, the matrices
    of A, B and B - A, per-class accuracy (table and chart), the first disagreement gallery, calibration and the
    replay slider's range."""
    scores = scores_at(value, session)
    a, b = (scores.confusion(name) for name in NAMES)
    pairs = "\n".join(f"- {line}" for line in scores.confused_pairs()) or "- no mistakes at all"
    epoch = replay_epoch(value)
    when = f"at the end of epoch {epoch}, on" if epoch else "on"
    summary = (
        f"**{session.pair.caption()}**, {when} {scores.size:,} test images: A {scores.accuracy('A'):.2%}, "
        f"B {scores.accuracy('B'):.2%}. "
        f"Most confused:\n{pairs}\n\nClick a cell of a matrix to see its test images."
    )
    calibrations = {name: scores.calibration(name) for name in NAMES}
    errors = ", ".join(f"{name} {100 * c.error:.1f} %" for name, c in calibrations.items())
    kinds = list(scores.disagreements())
    _, images, label = disagreement(kinds[0], value, session)
    epochs = session.pair.replay_epochs()
    return {
        "summary": summary,
        **{
            f"matrix {key}": gr.Dataframe(
                matrix_frame(matrix, scores.class_names), column_widths=matrix_columns(len(scores.class_names))
            )
            for key, matrix in (("A", a), ("B", b), ("diff", b - a))
        },
        "per class": per_class_frame(scores),
        "chart": per_class_chart(
            scores.class_names, {name: scores.per_class_accuracy(name).tolist() for name in NAMES}, LOSS_COLORS
        ),
        "kinds": Radio(choices=kinds, value=kinds[0]),
        "disagreements": gr.Gallery(images, label=label),
        "reliability": reliability_diagram(calibrations, LOSS_COLORS),
        "calibration": f"**Expected calibration error**: {errors}. It is the average gap between how sure a model "
        "is and how often it is right (0 % is perfectly calibrated): a model above the diagonal is right more often "
        "than it claims, one below it is overconfident.",
        "replay": Slider(maximum=max(epochs, default=0), interactive=bool(epochs)),
        "cell": gr.Gallery(None, label="A cell's test images"),  # a cell opened before showed other weights
    } | shown_now("test", session)


def open_cell(model: str, value: float | None, session: Session, event: gr.SelectData):
    """The test images of a clicked cell of model ``model``'s matrix (the first column names the class)."""
    row, column = event.index
    scores = scores_at(value, session)
    if column == 0:
        return gr.Gallery()
    truth, guess = row, column - 1
    index = scores.cell(model, truth, guess)
    names = scores.class_names
    shown = f" (showing {GALLERY_CAP})" if len(index) > GALLERY_CAP else ""
    label = f"Model {model} reads {names[truth]} as {names[guess]}: {len(index)} test images{shown}"
    return gr.Gallery(gallery(session, scores, index), label=label)


def cell_opener(model: str):
    """open_cell for one model's matrix (Gradio passes the click as the SelectData-annotated argument)."""

    def open_model_cell(value: float | None, session: Session, event: gr.SelectData):
        return open_cell(model, value, session, event)

    return open_model_cell


def disagreement(kind: str, value: float | None, session: Session) -> tuple[str, list, str]:
    scores = scores_at(value, session)
    found = scores.disagreements()
    if kind not in found:
        raise refusal(
            escaped(f"disagreement must be one of {', '.join(found)}, got {quoted(kind)}"), title="Check the settings"
        )
    index = found[kind]
    shown = f" (showing {GALLERY_CAP})" if len(index) > GALLERY_CAP else ""
    return kind, gallery(session, scores, index), f"{kind}: {len(index)} test images{shown}"


def show_disagreement(kind: str, value: float | None, session: Session):
    _, images, label = disagreement(kind, value, session)
    return gr.Gallery(images, label=label)


def test_set_section(replay: gr.Slider, version: gr.State, session: gr.State) -> dict:
    """Returns the section's note and results, for the tab to hide when they are stale."""
    gr.Markdown("### Both models on the test set")
    score = gr.Button("Score both models on the test set", variant="primary", elem_id="inspect-score")
    summary = gr.Markdown("Train the models, then score them here.", elem_id="inspect-summary")
    titles = {
        "A": "Model A: rows the true class, columns what it read",
        "B": "Model B: rows the true class, columns what it read",
        "diff": "B - A: positive where B makes more of that mistake (or gets more right, on the diagonal)",
    }
    matrices = {
        key: gr.Dataframe(
            label=title, interactive=False, elem_id=f"matrix-{key}", render=False, column_widths=MATRIX_COLUMNS
        )
        for key, title in titles.items()
    }
    with gr.Column(visible=False, elem_id="test-results") as results:
        with gr.Row():
            matrices["A"].render()
            matrices["B"].render()
        with gr.Row():
            matrices["diff"].render()
            per_class = gr.Dataframe(label="Per-class accuracy", interactive=False, elem_id="per-class")
        chart = gr.Plot(label="Per-class accuracy of both models", elem_id="per-class-chart")
        cell_gallery = gr.Gallery(label="A cell's test images", columns=6, height="auto", elem_id="cell-gallery")
        kinds = Radio(label="Where they disagree", choices=[], elem_id="disagreement-kind")
        disagreement_gallery = gr.Gallery(
            label="Disagreements", columns=6, height="auto", elem_id="disagreement-gallery"
        )
        with gr.Row(equal_height=True):
            reliability = gr.Plot(label="Are they as sure as they are right?", elem_id="reliability")
            calibration_note = gr.Markdown(elem_id="calibration-note")
    matrices = list(matrices.values())
    shown = {
        "summary": summary, "matrix A": matrices[0], "matrix B": matrices[1], "matrix diff": matrices[2],
        "per class": per_class, "chart": chart, "kinds": kinds, "disagreements": disagreement_gallery,
        "reliability": reliability, "calibration": calibration_note, "replay": replay, "cell": cell_gallery,
        "test results": results, "version": version,
    }  # fmt: skip
    score.click(by_name(score_test_set, shown), [replay, session], list(shown.values()), api_name=False)
    replay.release(by_name(score_test_set, shown), [replay, session], list(shown.values()), api_name=False)
    for model, matrix in zip(NAMES, matrices):
        matrix.select(cell_opener(model), [replay, session], cell_gallery, api_name=False)
    kinds.input(show_disagreement, [kinds, replay, session], disagreement_gallery, api_name=False)
    return {"summary": summary, "test results": results}


def image_to_explain(source: str, number: float | None, session: Session) -> np.ndarray:
    """The latest sketch, or test image ``number``."""
    if source not in SOURCES:
        raise refusal(
            escaped(f"explain must be one of {', '.join(SOURCES)}, got {quoted(source)}"), title="Check the settings"
        )
    whole = int(number) if isinstance(number, (int, float)) and float(number).is_integer() else number
    with user_errors():
        return session.inspection.test_image(None if source == SOURCES[0] else whole)


def reading_summary(found: dict[str, Explanation], method: str, class_names: tuple[str, ...]) -> str:
    """What each model reads and how sure it is, what the method shows, and a word where it found nothing."""
    reads = ", ".join(
        f"model {name} reads **{class_names[e.target]}** ({e.probabilities[e.target]:.0%} sure)"
        for name, e in found.items()
    )
    lines = [f"{reads[0].upper()}{reads[1:]}.", f"*{method}*: bright where {METHOD_NOTES[method]}."]
    for name, e in found.items():
        if not e.attribution.any():
            lines.append(
                f"{method} found nothing in model {name} that pushes towards {class_names[e.target]}: "
                "try another method."
            )
    return "\n\n".join(lines)


def explain_image(source: str, number: float | None, method: str, value: float | None, session: Session) -> dict:
    """Both models (now, or at the replayed epoch) on the latest sketch or a test image: what each reads, where it
    looked, its first layer's filters and every conv layer's feature maps, and each layer's activation strength."""
    image = image_to_explain(source, number, session)
    with user_errors():
        found = session.inspection.explain(image, method, replay_epoch(value))
    updates = {
        "summary": f"**{session.pair.caption()}**: "
        + reading_summary(found, method, session.pair.data.info.class_names),
        "input": enlarge(displayable(image), INPUT_SCALE),
        "strength": per_layer_chart(
            {name: e.activation_strength for name, e in found.items()},
            LOSS_COLORS,
            "mean |output|",
            "how strongly each layer responds to this image",
        ),
    }
    for name, e in found.items():
        updates[f"overlay {name}"] = attribution_overlay(image, e.attribution, INPUT_SCALE)
        updates[f"maps {name}"] = feature_maps_figure(f"Model {name}", e.feature_maps, e.filters)
    return updates | shown_now("explain", session)


def redraw_explanation(source: str, number: float | None, method: str, value: float | None, session: Session) -> dict:
    """The replay slider moved: the explanation at that epoch, or no change where there is nothing to explain yet
    (the test-set section above says why)."""
    try:
        return explain_image(source, number, method, value, session)
    except gr.Error:
        return {}


def explanation_section(replay: gr.Slider, version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### Why does each model read it so?")
    with gr.Row(equal_height=True):
        source = Radio(list(SOURCES), value=SOURCES[0], label="Explain", elem_id="explain-source")
        number = RawNumber(0, label="Test image (0 = the first)", precision=0, minimum=0, elem_id="explain-number")
        method = Radio(list(METHODS), value=METHODS[0], label="Where it looked, by", elem_id="explain-method")
        go = gr.Button("Explain", variant="primary", elem_id="explain")
    shown = {
        "summary": gr.Markdown(f"Train the models, then {prompt_text('explain')}", elem_id="explain-summary"),
        "version": version,
    }
    with gr.Column(visible=False, elem_id="explain-results") as shown["explain results"]:
        with gr.Row():
            shown["input"] = gr.Image(label="What both models see", elem_id="explain-input", height=200)
            for name in NAMES:
                shown[f"overlay {name}"] = gr.Image(
                    label=f"Model {name}: where it looked", elem_id=f"explain-{name}", height=200
                )
        with gr.Row():
            for name in NAMES:
                shown[f"maps {name}"] = gr.Plot(show_label=False, elem_id=f"feature-maps-{name}")
        shown["strength"] = gr.Plot(label="Activation strength per layer", elem_id="activation-chart")
    inputs = [source, number, method, replay, session]
    go.click(by_name(explain_image, shown), inputs, list(shown.values()), api_name=False)
    method.input(by_name(explain_image, shown), inputs, list(shown.values()), api_name=False)
    replay.release(by_name(redraw_explanation, shown), inputs, list(shown.values()), api_name=False)
    return {"explain summary": shown["summary"], "explain results": shown["explain results"]}


def show_gradient_flow(session: Session) -> dict:
    """Both models' gradient norms and dead ReLUs as recorded while they trained, and what they say."""
    with user_errors():
        gradients, said = session.inspection.gradient_flow()
    return {
        "words": gradient_flow_words(session.pair.caption(), gradients, said),
        "chart": gradient_flow_figure(gradients),
    } | shown_now("gradient", session)


def gradient_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### Gradient flow")
    go = gr.Button("Show how gradients flowed while they trained", elem_id="gradient-show")
    shown = {
        "words": gr.Markdown(f"Train the models, then {prompt_text('gradient')}", elem_id="gradient-words"),
        "version": version,
    }
    with gr.Column(visible=False, elem_id="gradient-results") as shown["gradient results"]:
        shown["chart"] = gr.Plot(show_label=False, elem_id="gradient-chart")
    go.click(by_name(show_gradient_flow, shown), session, list(shown.values()), api_name=False)
    return {"gradient words": shown["words"], "gradient results": shown["gradient results"]}


def measure_layer_costs(session: Session) -> dict:
    """Both trained models' cost per layer, measured now (a few seconds), as two tables and a chart."""
    with user_errors():
        costs = session.inspection.layer_costs()
    times = layer_times(costs)
    slowest = {name: max(layers, key=layers.get) for name, layers in times.items()}
    return shown_now("cost", session) | {
        "note": f"**{session.pair.caption()}**: measured on {costs['A'].device} with torch.profiler, each layer on its own, on a batch of "
        f"{PROFILE_BATCH}; the slowest layer is {', '.join(f'{lay} in model {n}' for n, lay in slowest.items())}. "
        "Time is not FLOPs: pooling and activations move memory without arithmetic.",
        "summary": cost_summary_frame(costs),
        "layers": cost_layer_frame(costs),
        "chart": per_layer_chart(
            times, LOSS_COLORS, "ms", f"forward + backward time per layer, batch of {PROFILE_BATCH}"
        ),
    }


def cost_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### What each layer costs")
    go = gr.Button("Measure both trained models", elem_id="measure-costs")
    shown = {
        "note": gr.Markdown(f"Train the models, then {prompt_text('cost')}", elem_id="cost-note"),
        "version": version,
    }
    with gr.Column(visible=False, elem_id="cost-results") as shown["cost results"]:
        with gr.Row():
            shown["summary"] = gr.Dataframe(label="Both models", interactive=False, elem_id="cost-summary", scale=2)
            shown["layers"] = gr.Dataframe(
                label="Per layer", interactive=False, elem_id="cost-layers", scale=3, max_height=420
            )
        shown["chart"] = gr.Plot(label="Time per layer", elem_id="cost-chart")
    go.click(by_name(measure_layer_costs, shown), session, list(shown.values()), api_name=False)
    return {"cost note": shown["note"], "cost results": shown["cost results"]}


def read_other_dataset(dataset: str, session: Session) -> dict:
    """Both trained models reading another dataset's test images of their classes: a table per class, in words."""
    with user_errors():
        reading = session.inspection.cross_reading(session.datasets.named(dataset))
    return shown_now("cross", session) | {
        "note": f"**{session.pair.caption()}**: {cross_reading_text(reading)}",
        "table": cross_reading_frame(reading),
    }


def cross_section(version: gr.State, session: gr.State) -> dict:
    gr.Markdown("### Reading another dataset")
    with gr.Row(equal_height=True):
        other = Dropdown(
            DATASET_CHOICES, value="mnist", label="Dataset to read", elem_id="cross-dataset", scale=2,
            info="the trained models read its test images of the classes they know",
        )  # fmt: skip
        go = gr.Button("Read it with both models", elem_id="cross-read", scale=1)
    shown = {
        "note": gr.Markdown(f"Train the models, then {prompt_text('cross')}", elem_id="cross-note"),
        "version": version,
    }
    with gr.Column(visible=False, elem_id="cross-results") as shown["cross results"]:
        shown["table"] = gr.Dataframe(label="Per class", interactive=False, elem_id="cross-table", max_height=420)
    go.click(by_name(read_other_dataset, shown), [other, session], list(shown.values()), api_name=False)
    return {"cross note": shown["note"], "cross results": shown["cross results"]}


def explorable_networks(layers_a: str, layers_b: str, session: Session) -> tuple[str, str]:
    """Both networks as SVGs to hover: the trained pair, lit by its activations for the latest drawing or image
    (a dot runs the data's path); before training, the Train tab's layer lists."""
    if session.pair.trained:
        lit = session.inspection.explain_last_drawing("saliency")
        return tuple(
            network_svg(
                c.spec.model, session.pair.summaries[name], f"Model {name} (trained)" + (", lit by your drawing" if lit else ""),
                lit[name].activation_strength if lit else None,
            )
            for name, c in session.pair.contenders.items()
        )  # fmt: skip
    shown = []
    for name, text in zip(NAMES, (layers_a, layers_b), strict=True):
        try:
            config = ModelConfig(layers_from_json(text))
        except ConfigError as err:
            shown.append(f"<p>Model {name}: ⚠ {html.escape(str(err))}</p>")
            continue
        shown.append(untrained_network_svg(config, name))
    return tuple(shown)


PICK_LAYER_JS = """
element.addEventListener('click', (event) => {
  const block = event.target.closest('.cnn-layer');
  const svg = event.target.closest('svg.cnn-net');
  const box = document.querySelector('#network-pick textarea, #network-pick input');
  if (!block || !svg || !box) return;
  box.value = svg.dataset.model + ':' + block.dataset.layer;
  box.dispatchEvent(new Event('input', { bubbles: true }));
});
"""


def block_maps(pick: str, session: Session) -> tuple[str, np.ndarray | None]:
    """A clicked block ("A:conv2"): its layer's feature maps for the latest drawing or image, or what to do first."""
    model, _, layer = (pick or "").partition(":")
    if model not in NAMES or not session.pair.trained:
        return "Train the models, then click a block of a network to see its feature maps.", None
    lit = session.inspection.explain_last_drawing("saliency")
    if not lit:
        return "Draw a digit (or test an image of your own) in Train & compare first: the maps are for it.", None
    found = lit[model]
    if layer not in found.feature_maps:
        kinds = ", ".join(found.feature_maps) or "none"
        return f"Model {model}'s {layer} has no feature maps of its own to show; click a conv layer ({kinds}).", None
    maps = found.feature_maps[layer]
    return f"Model {model}, {layer}: its {len(maps)} feature maps for your drawing.", feature_map_grid(maps)


def inspect_tab(layer_boxes: list[gr.Textbox], session: gr.State) -> TabParts:
    """Lay out the tab; returns what it draws when it opens. The networks are drawn only then, where they are seen:
    every builder edit and sketch stroke once redrew them too, a diagram figure and a Captum pass each time."""
    replay = Slider(
        0, 1, value=0, step=1, interactive=False, elem_id="replay-epoch",
        label="Replay: both models at the end of epoch (0: as they are now)",
        info="Scoring the test set lists the epochs saved for both models; moving this redraws what is shown below.",
    )  # fmt: skip
    version = gr.State(0)  # the session's pair_version the shown results are of
    stale = {"version": version, "replay": replay}
    stale |= test_set_section(replay, version, session)
    stale |= explanation_section(replay, version, session)
    stale |= gradient_section(version, session)
    stale |= cost_section(version, session)
    stale |= cross_section(version, session)
    stale |= whole_model_sections(version, session)
    gr.Markdown("### The two networks")
    gr.Markdown(
        "**The two networks, layer by layer** (a block's height shows its activation volume). "
        "They follow the Train tab's settings."
    )
    gr.Markdown(
        "**Explore them**: hover (or tab to) a block to see what the layer does, its output, parameters and FLOPs; "
        "yellow squares are kernels and pooling windows to the scale of the map they slide over. After training, each "
        "stroke on the sketchpad (or an image of your own) lights every block as strongly as its layer responds."
    )
    explorable = [gr.HTML("", elem_id=f"network-svg-{name}", js_on_load=PICK_LAYER_JS) for name in NAMES]
    pick = gr.Textbox(visible="hidden", elem_id="network-pick")  # "A:conv2": the block a click chose
    with gr.Row():
        picked_note = gr.Markdown("Click a block of a trained network to see its feature maps for your drawing.")
        picked_maps = gr.Image(label="Its feature maps", elem_id="network-maps", height=260, interactive=False)
    pick.change(
        block_maps, [pick, session], [picked_note, picked_maps], api_name=False, show_progress="hidden",
        trigger_mode="always_last",
    )  # fmt: skip
    network = gr.Plot(diagram(*(box.value for box in layer_boxes)), show_label=False, elem_id="network-diagram")
    tables = []
    with gr.Row():
        for name, box in zip(NAMES, layer_boxes):
            tables.append(
                gr.Dataframe(
                    report_frame(box.value),
                    label=f"Model {name}: output shape, parameters and FLOPs per layer",
                    interactive=False,
                    wrap=True,
                    elem_id=f"layer-table-{name}",
                )
            )

    networks = [*layer_boxes, session]
    return TabParts(
        on_open=(  # results of an earlier pair hidden at once, then the networks as the Train tab sets them
            Refresh(by_name(forget_stale, stale), [version, session], list(stale.values()), queue=False),
            Refresh(explorable_networks, networks, explorable),
            Refresh(diagram, layer_boxes, network),
            *(Refresh(report_frame, box, table) for box, table in zip(layer_boxes, tables, strict=True)),
        )
    )
