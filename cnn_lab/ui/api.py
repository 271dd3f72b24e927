"""Endpoints for programs only: no component of the page shows them. Each takes and gives plain data (base64 images
in, JSON out) and is documented by its docstring, which Gradio's "Use via API" page and gradio_client show.

The page's own events are endpoints too (/train, /predict_sketch, ...: see docs/api.md); these are the ones a program
needs that no button has."""

from __future__ import annotations

import dataclasses

import gradio as gr

from cnn_lab.data.pictures import attribution_overlay, displayable, feature_map_grid, png_base64
from cnn_lab.inspect.adversarial import BUDGET
from cnn_lab.inspect.inference import drawing_from_base64
from cnn_lab.session import Session
from cnn_lab.ui.parts.wiring import user_errors

INPUT_SCALE = 6  # an attribution over a 28x28 input, drawn at 168 px


def read_digit(drawing: str, session: Session) -> dict:
    """API only: a drawing as a base64 PNG or JPEG (or a data: URL), dark ink on white, in; out, as JSON, each model's
    confidence per class ({"A": {"0": 0.01, ...}, "B": ...}, null before training) and a note. No file goes either way,
    and it skips the queue: the fastest way for a program to read digits."""
    with user_errors("read_digit · "):
        reading = session.inspection.read_sketch(drawing_from_base64(drawing))
    return {**reading.confidences, "note": reading.note}


def inspect_test_set(session: Session) -> dict:
    """API only: both trained models on the test set as plain data: class names, accuracy, confusion matrices (row:
    true class, column: guess), per-class accuracy, disagreement counts and the most confused pairs in words."""
    with user_errors():
        return session.inspection.test_set_scores().as_data()


def cross_reading(dataset: str, session: Session) -> dict:
    """API only: both trained models reading another dataset's test images (a built-in name or "custom" for the
    upload) of the classes both name alike: per class, the images read and each model's accuracy there and on its
    own test set, and over all of them."""
    with user_errors("cross_reading · "):
        return session.inspection.cross_reading(session.datasets.named(dataset)).as_data()


def learned_space(method: str, session: Session) -> dict:
    """API only: both trained models' last hidden features of the same class-balanced test images projected to 2-D
    (method pca, or tsne with openTSNE; empty: pca): per model the points, its guesses, the latest drawing's point
    (null: nothing drawn) and, for PCA, the share of variance kept; the test images' positions and labels."""
    with user_errors("learned_space · "):
        space, _ = session.inspection.learned_space(method or "pca")
    return space.as_data()


def robustness(session: Session) -> dict:
    """API only: both trained models' accuracy on the same test images shifted, rotated, scaled, blurred, noised
    and occluded, per transform and strength (levels and their units given), and what the curves say in words."""
    with user_errors("robustness · "):
        found, words = session.inspection.robustness()
    return found.as_data() | {"words": words}


def adversarial(attack: str, session: Session) -> dict:
    """API only: per model, the smallest change (L-infinity, pixels 0-1) of the latest drawing or own image that
    flips its answer with the attack (pgd or fgsm, Captum's; empty: pgd), the answers before and after, the changed
    image as a base64 PNG; and each model's test accuracy attacked within a fixed budget."""
    with user_errors("adversarial · "):
        _, flips, budget = session.inspection.adversarial(attack or "pgd")
    names = session.pair.data.info.class_names
    return {
        "attack": attack or "pgd",
        "models": {
            name: {
                "epsilon": f.epsilon,
                "before": names[f.before],
                "after": None if f.after is None else names[f.after],
                "changed_pixels": f.changed_pixels,
                "perturbed_png": None if f.perturbed is None else png_base64(displayable(f.perturbed)),
            }
            for name, f in flips.items()
        },
        "budget": BUDGET,
        "budget_accuracy": budget,
    }


def weights_over_time(session: Session) -> dict:
    """API only: per model and layer, histograms of the weights and of their gradients on a fixed batch at every
    saved epoch (0: as created), bins shared by a layer's epochs; the weights' spread and the gradients' norm."""
    with user_errors("weights_over_time · "):
        return {name: h.as_data() for name, h in session.inspection.weights_over_time().items()}


def loss_line(session: Session) -> dict:
    """API only: per model the loss on training and test images and the test accuracy along the straight line from
    its first weights (a = 0) to its last (a = 1), a from -0.25 to 1.25, and the line's length (null: the first
    weights are not known, a model from a file)."""
    with user_errors("loss_line · "):
        return {
            name: None if line is None else line.as_data() for name, line in session.inspection.loss_lines().items()
        }


def explain_sketch(drawing: str, method: str, session: Session) -> dict:
    """API only: a drawing as a base64 PNG or JPEG (or a data: URL), dark ink on white, and a method (saliency,
    grad-cam or occlusion; empty: saliency) in; out, per model, its prediction and confidence per class, the
    attribution over the 28x28 input and every conv layer's feature maps, as base64 PNG images."""
    with user_errors("explain_sketch · "):
        drawn, found = session.inspection.explain_drawing(drawing_from_base64(drawing), method or "saliency")
    names = session.pair.data.info.class_names
    return {
        name: {
            "prediction": names[e.target],
            "confidence": float(e.probabilities[e.target]),
            "probabilities": {names[k]: float(p) for k, p in enumerate(e.probabilities)},
            "method": e.method,
            "attribution_png": png_base64(attribution_overlay(drawn, e.attribution, INPUT_SCALE)),
            "feature_maps_png": {layer: png_base64(feature_map_grid(maps)) for layer, maps in e.feature_maps.items()},
        }
        for name, e in found.items()
    }


def list_runs(session: Session) -> list[dict]:
    """API only: the runs this user may see, newest first, as plain data: setup, data, device, precision, each
    model's result (test accuracy, images/s, parameters, FLOPs, ...), every evaluation, the code version."""
    return [
        {
            "id": r.id,
            "started_at": r.started_at,
            "status": r.status,
            "setup": r.setup.to_dict(),
            "data_source": r.data_source,
            "device": r.device,
            "precision": r.precision,
            "duration_s": r.duration_s,
            "code_version": r.code_version,
            "models": {name: dataclasses.asdict(m) for name, m in r.models.items()},
            "evaluations": [dataclasses.asdict(e) for e in r.evaluations],
        }
        for r in session.history.runs()
    ]


def program_endpoints(session: gr.State) -> None:
    """Wire the API-only endpoints, each to hidden components of its own (inside the app's Blocks): a program calls
    them by name (gr.api cannot pass a session's gr.State)."""
    drawing, answer = gr.Textbox(visible=False), gr.JSON(visible=False)
    drawing.submit(read_digit, [drawing, session], answer, api_name="read_digit", queue=False)
    drawn, method, explained = gr.Textbox(visible=False), gr.Textbox(visible=False), gr.JSON(visible=False)
    gr.Button(visible=False).click(explain_sketch, [drawn, method, session], explained, api_name="explain_sketch")
    scores = gr.JSON(visible=False)
    gr.Button(visible=False).click(inspect_test_set, session, scores, api_name="inspect_test_set")
    dataset = gr.Textbox(visible=False)
    gr.Button(visible=False).click(cross_reading, [dataset, session], gr.JSON(visible=False), api_name="cross_reading")
    method, attack = gr.Textbox(visible=False), gr.Textbox(visible=False)
    gr.Button(visible=False).click(learned_space, [method, session], gr.JSON(visible=False), api_name="learned_space")
    gr.Button(visible=False).click(robustness, session, gr.JSON(visible=False), api_name="robustness")
    gr.Button(visible=False).click(adversarial, [attack, session], gr.JSON(visible=False), api_name="adversarial")
    gr.Button(visible=False).click(weights_over_time, session, gr.JSON(visible=False), api_name="weights_over_time")
    gr.Button(visible=False).click(loss_line, session, gr.JSON(visible=False), api_name="loss_line")
    runs = gr.JSON(visible=False)
    gr.Button(visible=False).click(list_runs, session, runs, api_name="list_runs")
