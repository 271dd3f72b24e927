"""The Inspect tab: both trained models on the test set (confusion matrices, confused pairs, disagreements), and
the two networks layer by layer (diagram and per-layer table), side by side."""

from __future__ import annotations

import gradio as gr
import numpy as np
import pandas as pd

from ..builder import layers_from_json
from ..config import ConfigError, ModelConfig
from ..confusion import PairScores
from ..plots import network_diagram, per_class_chart
from ..session import NAMES, Session
from ..views import LOSS_COLORS
from .builder_panel import report_frame
from .wiring import user_errors

MATRIX_COLUMNS = ["12%"] + ["8.8%"] * 10  # the ten classes of MNIST and Fashion-MNIST fit at half the page
GALLERY_CAP = 40  # images shown of a cell or a disagreement (the count says how many there are)


def diagram(layers_a: str, layers_b: str):
    """Both networks as blocks coloured by layer type, sized by activation volume (a broken list is left out)."""
    configs = {}
    for name, text in zip(NAMES, (layers_a, layers_b)):
        try:
            configs[name] = ModelConfig(layers_from_json(text))
        except ConfigError:
            continue  # its table says what is wrong
    return network_diagram(configs) if configs else None


def matrix_frame(matrix: np.ndarray, class_names: tuple[str, ...]) -> pd.DataFrame:
    """A confusion matrix as a table: one row per true class, one column per guess."""
    frame = pd.DataFrame(matrix, columns=list(class_names))
    frame.insert(0, "true", list(class_names))
    return frame


def per_class_frame(scores: PairScores) -> pd.DataFrame:
    a, b = (scores.per_class_accuracy(name) for name in NAMES)
    return pd.DataFrame(
        {
            "class": list(scores.class_names),
            "A": [f"{x:.1%}" for x in a],
            "B": [f"{x:.1%}" for x in b],
            "B - A (pp)": [f"{100 * (y - x):+.1f}" for x, y in zip(a, b, strict=True)],
        }
    )


def gallery(session: Session, scores: PairScores, index: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Up to GALLERY_CAP test images, each captioned with its class and both models' guesses and confidences."""
    shown = index[:GALLERY_CAP]
    names = scores.class_names
    items = []
    for image, i in zip(session.test_images(shown), shown, strict=True):
        guesses = ", ".join(
            f"{name} {names[scores.guesses[name][i]]} {scores.confidences[name][i]:.0%}" for name in NAMES
        )
        items.append((255 - image, f"{names[scores.labels[i]]}: {guesses}"))
    return items


def score_test_set(session: Session) -> tuple:
    """Both trained models on every test image: the summary in words, the matrices of A, B and B - A, per-class
    accuracy (table and chart), and the first disagreement gallery."""
    with user_errors():
        scores = session.test_set_scores()
    a, b = (scores.confusion(name) for name in NAMES)
    pairs = "\n".join(f"- {line}" for line in scores.confused_pairs()) or "- no mistakes at all"
    summary = (
        f"On {scores.size:,} test images: A {scores.accuracy('A'):.2%}, B {scores.accuracy('B'):.2%}. "
        f"Most confused:\n{pairs}\n\nClick a cell of a matrix to see its test images."
    )
    kinds = list(scores.disagreements())
    _, images, label = disagreement(kinds[0], session)
    return (
        summary,
        matrix_frame(a, scores.class_names),
        matrix_frame(b, scores.class_names),
        matrix_frame(b - a, scores.class_names),
        per_class_frame(scores),
        per_class_chart(
            scores.class_names, {name: scores.per_class_accuracy(name).tolist() for name in NAMES}, LOSS_COLORS
        ),
        gr.Radio(choices=kinds, value=kinds[0]),
        gr.Gallery(images, label=label),
    )


def open_cell(model: str, session: Session, event: gr.SelectData):
    """The test images of a clicked cell of model ``model``'s matrix (the first column names the class)."""
    row, column = event.index
    with user_errors():
        scores = session.test_set_scores()
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

    def open_model_cell(session: Session, event: gr.SelectData):
        return open_cell(model, session, event)

    return open_model_cell


def disagreement(kind: str, session: Session) -> tuple[str, list, str]:
    with user_errors():
        scores = session.test_set_scores()
    found = scores.disagreements()
    if kind not in found:
        raise gr.Error(f"disagreement must be one of {', '.join(found)}, got {kind!r}", title="Check the settings")
    index = found[kind]
    shown = f" (showing {GALLERY_CAP})" if len(index) > GALLERY_CAP else ""
    return kind, gallery(session, scores, index), f"{kind}: {len(index)} test images{shown}"


def show_disagreement(kind: str, session: Session):
    _, images, label = disagreement(kind, session)
    return gr.Gallery(images, label=label)


def inspect_test_set(session: Session) -> dict:
    """API only: both trained models on the test set as plain data: class names, accuracy, confusion matrices (row:
    true class, column: guess), per-class accuracy, disagreement counts and the most confused pairs in words."""
    with user_errors():
        return session.test_set_scores().as_data()


def test_set_section(session: gr.State) -> None:
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
    with gr.Row():
        matrices["A"].render()
        matrices["B"].render()
    with gr.Row():
        matrices["diff"].render()
        per_class = gr.Dataframe(label="Per-class accuracy", interactive=False, elem_id="per-class")
    matrices = list(matrices.values())
    chart = gr.Plot(label="Per-class accuracy of both models", elem_id="per-class-chart")
    cell_gallery = gr.Gallery(label="A cell's test images", columns=6, height="auto", elem_id="cell-gallery")
    kinds = gr.Radio(label="Where they disagree", choices=[], elem_id="disagreement-kind")
    disagreement_gallery = gr.Gallery(label="Disagreements", columns=6, height="auto", elem_id="disagreement-gallery")
    score.click(
        score_test_set, session, [summary, *matrices, per_class, chart, kinds, disagreement_gallery], api_name=False
    )
    for model, matrix in zip(NAMES, matrices):
        matrix.select(cell_opener(model), session, cell_gallery, api_name=False)
    kinds.input(show_disagreement, [kinds, session], disagreement_gallery, api_name=False)
    hidden_trigger, data = gr.Button(visible=False), gr.JSON(visible=False)  # /inspect_test_set's call and answer
    hidden_trigger.click(inspect_test_set, session, data, api_name="inspect_test_set")


def inspect_tab(layer_boxes: list[gr.Textbox], session: gr.State) -> None:
    test_set_section(session)
    gr.Markdown("### The two networks")
    gr.Markdown(
        "**The two networks, layer by layer** (a block's height shows its activation volume). They follow the Train tab's settings."
    )
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
    for box, table in zip(layer_boxes, tables):
        box.change(diagram, layer_boxes, network, api_name=False, show_progress="hidden", trigger_mode="always_last")
        box.change(report_frame, box, table, api_name=False, show_progress="hidden", trigger_mode="always_last")
