"""The Runs tab: the run history (every finished or stopped run, kept across restarts): a table to sort and filter,
curves of chosen runs overlaid, the difference of two setups in words, and deleting runs (after a confirmation); and
model files out and in."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pandas as pd

from cnn_lab.core.config import ConfigError
from cnn_lab.core.errors import quoted
from cnn_lab.runs.history import RunRecord
from cnn_lab.runs.leaderboard import MAX_RECORD_BYTES, RANKINGS, leaderboard_frame
from cnn_lab.runs.model_files import FORMATS, MAX_MODEL_BYTES
from cnn_lab.runs.tables import (
    COLUMNS,
    chosen,
    labels_text,
    run_curves,
    run_label,
    runs_frame,
    setup_diff,
    verdict_frame,
)
from cnn_lab.session import NAMES, Session
from cnn_lab.ui.parts.checked import Dropdown, Radio
from cnn_lab.ui.parts.downloads import download_folder
from cnn_lab.ui.parts.fields import RawNumber, number_from_text, setup_from_list
from cnn_lab.ui.parts.stop import stop as stop_training
from cnn_lab.ui.parts.tab_parts import Refresh, TabParts
from cnn_lab.ui.parts.wiring import by_name, escaped, refusal, user_errors
from cnn_lab.views.plots import curves_figure

COLUMN_WIDTHS = ["5%", "10%", "7%", "16%", "7%", "7%", "6%", "13%", "13%", "8%", "8%"]


def overlay_updates(records: list[RunRecord]) -> dict:
    """The chosen runs' curves on one chart, and in words which are drawn."""
    curves = run_curves(records)
    drawn = ", ".join(f"{label} ({len(xs)} point{'s' if len(xs) != 1 else ''})" for label, (xs, _) in curves.items())
    return {
        "curves": curves_figure(curves, "images seen", "test accuracy (%)"),
        "drawn": f"Drawn: {drawn}." if drawn else "Choose runs above to overlay their test accuracy.",
    }


def show_runs(text: str, picked: list[str] | None, doomed: list[str] | None, session: Session) -> dict:
    """The history as the user may see it, filtered by ``text``, the runs chosen to overlay drawn, the choices updated
    (``doomed``: the runs chosen to delete), and a delete that waited for its confirmation called off."""
    records = session.history.runs()
    labels = [run_label(r) for r in records]
    picked = [label for label in picked or [] if label in labels]
    about = (
        f"{len(records)} run{'s' if len(records) != 1 else ''} kept in {session.workspace.runs.path}"
        + (" (this browser session's only)" if session.workspace.public else "")
        if session.workspace.runs is not None
        else "The run history could not be opened: runs are not kept (see the server's output)."
    )
    return {
        "about": about,
        "table": runs_frame(records, text),
        "pick": Dropdown(choices=labels, value=picked, multiselect=True),
        "first": Dropdown(choices=labels),
        "second": Dropdown(choices=labels),
        **overlay_updates(chosen(picked, records)),
        "doomed": Dropdown(
            choices=labels, value=[label for label in doomed or [] if label in labels], multiselect=True
        ),
        **keep_runs(),
    }


def overlay(picked: list[str] | None, session: Session) -> dict:
    return overlay_updates(chosen(picked, session.history.runs()))


def compare_setups(first: str | None, second: str | None, session: Session) -> pd.DataFrame:
    """What differs between the two chosen runs' setups."""
    records = {run_label(r): r for r in session.history.runs()}
    missing = [
        str(label or "nothing") for label in (first, second) if not isinstance(label, str) or label not in records
    ]
    if missing:
        raise refusal(
            escaped(f"runs to compare must be two of the listed runs, got {quoted(', '.join(missing))}"),
            title="Pick runs",
        )
    found = setup_diff(records[first], records[second])
    if found.empty:
        gr.Info(f"{first} and {second} were set up alike.")
    return found


def ask_to_delete(doomed: list[str] | None, session: Session) -> dict:
    """The first step of deleting: name the runs chosen to delete and ask for a confirmation; nothing is deleted yet.
    Only the runs named in the question are deleted on Confirm (kept in ``armed``, this browser session's)."""
    listed, wanted = {run_label(r): r.id for r in session.history.runs()}, set(doomed or [])
    labels = [label for label in listed if label in wanted][::-1]  # oldest first
    if not labels:
        raise refusal("runs to delete: choose one or more of the listed runs first", title="Pick runs")
    runs = "run" if len(labels) == 1 else "runs"
    return {
        "question": f"**Delete {runs} {labels_text(labels)}?** This cannot be undone.",
        "ask": gr.Row(visible=True),
        "armed": [listed[label] for label in labels],
    }


def keep_runs() -> dict:
    """Call off a delete that waits for its confirmation (Cancel, another choice of runs, a refresh)."""
    return {"ask": gr.Row(visible=False), "armed": []}


def delete_runs(text: str, picked: list[str] | None, armed: list[int] | None, session: Session) -> dict:
    """The second step of deleting: forget the runs the question named (``armed``), then show what is left."""
    if not armed:
        raise refusal(
            "runs to delete: choose them under *Runs to delete*, press Delete, then Confirm", title="Pick runs"
        )
    gone = session.history.forget(list(armed))
    gr.Info(f"{gone} run{'s' if gone != 1 else ''} deleted.")
    return show_runs(text, picked, [], session)


def export_model_files(model: str, file_format: str, session: Session) -> list[str]:
    """Model A or B of the trained pair as a file: safetensors (weights and config; what Import reads), ONNX (0-1
    pixels in, logits out) or a PyTorch script (comes with the safetensors file it loads)."""
    folder = download_folder("cnn_lab_export_", session)
    with user_errors("Export · "):
        return [str(path) for path in session.history.export_model(model, file_format, folder)]


def import_model_file(model: str, upload: str | None, session: Session) -> str:
    """A cnn_lab .safetensors file into slot A or B; returns what was loaded and how well it reads the test set."""
    if not upload:
        raise refusal("model file: choose a .safetensors file exported by cnn_lab first", title="Check the settings")
    path = Path(upload)
    with user_errors("Import · "):
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise ConfigError(f"model file must be at most {MAX_MODEL_BYTES // 2**20} MB", "model file")
        return session.history.import_model(model, path.read_bytes(), path.name)


def repeat_with_seeds(*values):
    """The Train tab's setup over N seeds (the setup's values, then N): progress, then the verdict and a table of
    both models' mean ± standard deviation."""
    *setup, seeds, session = values
    with user_errors("Repeat with seeds · "):
        warning, updates = session.training.repeat_with_seeds(setup_from_list(setup), number_from_text(seeds, "seeds"))
        gr.Warning(warning)
        for line in updates:  # iterated at once, so that a closed tab always reaches the session's clean-up
            yield line, gr.skip()
    if session.training.verdict is not None:
        yield (
            f"**{session.training.verdict.text}** (± one standard error of the paired difference; a winner is named only "
            "beyond twice that).",
            verdict_frame(session.training.verdict),
        )


def export_record(who: str, session: Session) -> str:
    """The latest run as a leaderboard record (a small JSON file) signed with your name."""
    with user_errors("Leaderboard · "):
        record = session.history.leaderboard_record(who)
    folder = download_folder("cnn_lab_record_", session)
    path = folder / f"cnn_lab_record_{''.join(c if c.isalnum() else '_' for c in record['who'])}.json"
    path.write_text(json.dumps(record, indent=2))
    return str(path)


def show_leaderboard(ranking: str, session: Session) -> pd.DataFrame:
    dataset = session.pair.data.info.key if session.pair.data else "mnist"
    with user_errors("Leaderboard · "):
        return leaderboard_frame(session.history.leaderboard_entries, ranking, dataset)


def import_records(uploads: list[str] | None, ranking: str, session: Session) -> pd.DataFrame:
    """Leaderboard records (JSON files from the class) in; the ranking out."""
    if not uploads:
        raise refusal("records: choose one or more .json leaderboard records first", title="Check the settings")
    with user_errors("Leaderboard · "):
        files = []
        for upload in uploads:
            path = Path(upload)
            if path.stat().st_size > MAX_RECORD_BYTES:
                raise ConfigError(
                    f"record must be at most {MAX_RECORD_BYTES // 1024} KB, {path.name} is larger", "record"
                )
            files.append((path.read_bytes(), path.name))
        added = session.history.add_leaderboard_records(files)
    gr.Info(f"{added} model{'s' if added != 1 else ''} joined the leaderboard.")
    return show_leaderboard(ranking, session)


def run_report(session: Session) -> list[str]:
    """A report of the latest run: an HTML page with every figure embedded, and the same in Markdown."""
    folder = download_folder("cnn_lab_report_", session)
    with user_errors("Report · "):
        return [str(path) for path in session.history.write_report(folder)]


def model_files_section(session: gr.State) -> None:
    gr.Markdown(
        "**Model files**: take a trained model away (safetensors with its config, ONNX for Netron and onnxruntime, "
        "or a runnable PyTorch script), or load a cnn_lab .safetensors file into slot A or B (nothing else is "
        "opened: pickles can run code)."
    )
    with gr.Row(equal_height=True):
        model = Radio(list(NAMES), value="A", label="Model", elem_id="export-model")
        file_format = Radio(list(FORMATS), value="safetensors", label="Format", elem_id="export-format")
        export = gr.Button("Export", elem_id="export")
    files = gr.File(label="Exported files", file_count="multiple", interactive=False, elem_id="export-files")
    export.click(export_model_files, [model, file_format, session], files, api_name="export_model")
    with gr.Row(equal_height=True):
        upload = gr.File(
            label="A cnn_lab .safetensors file", file_types=[".safetensors"], type="filepath", elem_id="import-file"
        )
        slot = Radio(list(NAMES), value="B", label="Load into slot", elem_id="import-slot")
        load = gr.Button("Load", elem_id="import")
    note = gr.Markdown(elem_id="import-note")
    load.click(import_model_file, [slot, upload, session], note, api_name="import_model")


def seeds_section(setup_inputs: list, session: gr.State, slots: dict) -> None:
    gr.Markdown(
        "**Repeat with seeds**: is A really better than B, or did it draw a luckier seed? The Train tab's setup "
        "trains once per seed; every run lands in the history above."
    )
    with gr.Row(equal_height=True):
        seeds = RawNumber(3, label="Seeds (2 to 20)", precision=0, elem_id="seeds")  # our check names the field
        go = gr.Button("Repeat the Train tab's setup", variant="primary", elem_id="repeat-seeds")
        stop = gr.Button("Stop", variant="stop", elem_id="seeds-stop")
    status = gr.Markdown(elem_id="seeds-status")
    table = gr.Dataframe(
        headers=["", "test accuracy (mean ± std)", "per seed (%)"],
        interactive=False,
        elem_id="seeds-table",
        label="Both models over the seeds",
    )
    go.click(repeat_with_seeds, [*setup_inputs, seeds, session], [status, table], api_name="repeat_with_seeds", **slots)
    stop.click(stop_training, session, status, api_name=False, queue=False)


def leaderboard_section(session: gr.State) -> None:
    gr.Markdown(
        "**Class leaderboard**: export your latest run as a record; a teacher imports the class's records and "
        "ranks the models, beside published MNIST results (kept for this browser session)."
    )
    with gr.Row(equal_height=True):
        who = gr.Textbox(label="Your name (on the record)", elem_id="record-name", scale=2)
        export = gr.Button("Export the latest run as a record", elem_id="record-export", scale=1)
        record = gr.File(label="Record", interactive=False, elem_id="record-file", scale=2)
    export.click(export_record, [who, session], record, api_name="export_record")
    with gr.Row(equal_height=True):
        uploads = gr.File(
            label="Records of the class (.json)", file_count="multiple", file_types=[".json"], type="filepath",
            elem_id="records-upload", scale=2,
        )  # fmt: skip
        ranking = Radio(list(RANKINGS), value=RANKINGS[0], label="Rank by", elem_id="rank-by", scale=1)
        add = gr.Button("Add to the leaderboard", elem_id="records-add", scale=1)
    board = gr.Dataframe(
        leaderboard_frame([], RANKINGS[0]), interactive=False, wrap=True, elem_id="leaderboard", label="Leaderboard",
        column_widths=["6%", "10%", "24%", "10%", "8%", "10%", "32%"], max_height=560,
    )  # fmt: skip
    add.click(import_records, [uploads, ranking, session], board, api_name="import_records")
    ranking.input(show_leaderboard, [ranking, session], board, api_name=False)


def delete_section(session: gr.State) -> dict[str, gr.components.Component]:
    """Deleting runs: a choice of runs of its own (not the overlay's), and a question to confirm before any goes.
    Lays it out and wires the question; returns its parts for the Confirm button's wiring."""
    gr.Markdown("**Delete runs** from the history (it asks first)")
    parts = {}
    with gr.Row(equal_height=True):
        parts["doomed"] = Dropdown(
            label="Runs to delete", multiselect=True, choices=[], elem_id="runs-delete-pick", scale=3
        )
        parts["delete"] = gr.Button("Delete the chosen runs…", elem_id="runs-delete", scale=1)
    with gr.Row(equal_height=True, visible=False, elem_id="runs-delete-ask") as ask:
        parts["question"] = gr.Markdown(elem_id="runs-delete-question")
        parts["confirm"] = gr.Button("Confirm: delete", variant="stop", elem_id="runs-delete-confirm")
        parts["cancel"] = gr.Button("Cancel", elem_id="runs-delete-cancel")
    parts |= {"ask": ask, "armed": gr.State([])}  # armed: the ids the question names, all that Confirm deletes
    asking = {key: parts[key] for key in ("question", "ask", "armed")}
    parts["delete"].click(
        by_name(ask_to_delete, asking), [parts["doomed"], session], list(asking.values()), api_name=False
    )
    calling_off = {key: parts[key] for key in ("ask", "armed")}
    for trigger in (parts["cancel"].click, parts["doomed"].input):  # another choice: ask again about it
        trigger(by_name(keep_runs, calling_off), None, list(calling_off.values()), api_name=False, queue=False)
    return parts


def runs_tab(setup_inputs: list, session: gr.State, slots: dict) -> TabParts:
    """Lays the tab out; returns its refresh, for the app to make when it opens.
    ``setup_inputs``: the Train tab's setup fields (repeating with seeds trains that setup); ``slots``: the
    training events' queue settings (concurrency), shared with the Train tab."""
    shown = {"about": gr.Markdown("Every finished or stopped run is kept here.", elem_id="runs-about")}
    with gr.Row(equal_height=True):
        text = gr.Textbox(label="Filter (any text in a row)", elem_id="runs-filter", scale=3)
        refresh = gr.Button("Refresh", elem_id="runs-refresh", scale=1)
    shown["table"] = gr.Dataframe(
        headers=COLUMNS, interactive=False, wrap=True, elem_id="runs-table", label="Runs (click a header to sort)",
        column_widths=COLUMN_WIDTHS,
    )  # fmt: skip
    shown["pick"] = Dropdown(label="Runs to overlay", multiselect=True, choices=[], elem_id="runs-pick")
    shown["curves"] = gr.Plot(label="Test accuracy of the chosen runs", elem_id="runs-curves")
    shown["drawn"] = gr.Markdown(elem_id="runs-drawn")
    gr.Markdown("**Two setups, only what differs**")
    with gr.Row(equal_height=True):
        shown["first"] = Dropdown(label="Run", choices=[], elem_id="runs-first")
        shown["second"] = Dropdown(label="against run", choices=[], elem_id="runs-second")
        compare = gr.Button("Compare", elem_id="runs-compare")
    diff = gr.Dataframe(
        headers=["setting", "run", "against run"],
        interactive=False,
        wrap=True,
        elem_id="runs-diff",
        label="What differs",
        column_widths=["24%", "38%", "38%"],
    )
    deleting = delete_section(session)
    shown |= {key: deleting[key] for key in ("doomed", "ask", "armed")}
    inputs, outputs = [text, shown["pick"], shown["doomed"], session], list(shown.values())
    handler = by_name(show_runs, shown)
    refresh.click(handler, inputs, outputs, api_name=False)
    text.submit(handler, inputs, outputs, api_name=False)
    drawing = {key: shown[key] for key in ("curves", "drawn")}
    shown["pick"].input(
        by_name(overlay, drawing), [shown["pick"], session], list(drawing.values()), api_name=False,
        trigger_mode="always_last",  # a second pick while the first draws is drawn too, not dropped
    )  # fmt: skip
    deleting["confirm"].click(
        by_name(delete_runs, shown), [text, shown["pick"], shown["armed"], session], outputs, api_name=False
    )
    compare.click(compare_setups, [shown["first"], shown["second"], session], diff, api_name=False)
    with gr.Row(equal_height=True):
        report = gr.Button("Report of the latest run (HTML and Markdown)", elem_id="report", scale=1)
        report_files = gr.File(
            label="Report", file_count="multiple", interactive=False, elem_id="report-files", scale=2
        )
    report.click(run_report, session, report_files, api_name="run_report")
    seeds_section(setup_inputs, session, slots)
    model_files_section(session)
    leaderboard_section(session)
    return TabParts(on_open=(Refresh(handler, inputs, outputs),))
