"""The whole page: one session per browser tab, five tabs, the app-wide look."""

from __future__ import annotations

import datetime
import threading

import gradio as gr

from cnn_lab.runs.history import open_history
from cnn_lab.session import Session, Workspace, release_memory
from cnn_lab.ui.api import program_endpoints
from cnn_lab.ui.data import data_tab
from cnn_lab.ui.inspect import inspect_tab
from cnn_lab.ui.learn import learn_tab
from cnn_lab.ui.parts import drag_drop
from cnn_lab.ui.parts.fields import in_page_order
from cnn_lab.ui.parts.tab_parts import wire_tab
from cnn_lab.ui.parts.theme import remember_theme, theme_switch
from cnn_lab.ui.runs import runs_tab
from cnn_lab.ui.train import CHART_CSS, PICK_BRUSH_JS, train_tab, training_slots
from cnn_lab.views.run_view import RESULTS_CSS

CSS = (
    RESULTS_CSS
    + CHART_CSS
    + drag_drop.CSS
    + """
.cnn-mono textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace !important; font-size: 13px !important; }
#page-header { align-items: center; }
@media (max-width: 640px) {  /* phones: controls that sit side by side stack, wide figures scroll */
  #tabs .tab-container button { padding: 4px 7px !important; font-size: 14px !important; }  /* all five tabs fit */
  #start-here { display: none; }  /* its tab is in reach: Learn */
  #chart-controls > * { flex-basis: 100% !important; min-width: 100% !important; }
  #network-diagram .matplotlib, #network-diagram img, #per-class-chart img, #gradient-chart img { min-width: 640px; }
  #network-diagram, #per-class-chart, #gradient-chart { overflow-x: auto; }
}
.cnn-layer-row { align-items: center; gap: 6px; }
.cnn-layer-buttons { flex-wrap: nowrap; gap: 4px; }
.cnn-small { min-height: 0 !important; padding: 4px 8px !important; }
.cnn-problem { color: #b91c1c; flex-basis: 100%; }
.cnn-augment img { image-rendering: pixelated; }
.cnn-augment .grid-container { padding-top: 26px; }
#sketch-preview img { width: 84px; height: 84px; object-fit: contain; image-rendering: pixelated; }
#data-examples .cnn-grid { grid-template-columns: repeat(6, minmax(0, 1fr)); }
#data-examples .cnn-card img { width: 100%; max-width: 84px; height: auto; }
.cnn-seen .cnn-grid { grid-template-columns: repeat(8, minmax(0, 1fr)); }
.cnn-seen .cnn-card img { width: 100%; max-width: 84px; height: auto; }
#settings-glossary .virtual-table-viewport { max-height: none !important; }
.cnn-glossary { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.cnn-term { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px; }
.cnn-term h4 { margin: 0 0 4px 0; }
.cnn-term p { margin: 0 0 6px 0; font-size: 14px; }
.cnn-term img { max-width: 100%; height: auto; image-rendering: pixelated; }
.cnn-term .cnn-caption { color: var(--body-text-color-subdued); font-size: 12px; }
"""
)


QUEUE_POLL_S = 0.05  # Gradio's own value on Windows
PROGRESS_POLL_S = 1.0  # only gr.Progress reads it: the t-SNE map's line


PUBLIC_CACHE_S = (600, 3600)  # Gradio's delete_cache: (how often, what age) in seconds
LOCAL_CACHE_S = (3600, 86400)
PUBLIC_SESSION_IDLE_S = 2 * 3600  # a public server forgets a session this long after its last event
SWEEP_EVERY_S = 60


def forget_session(demo: gr.Blocks, session_hash: str) -> bool:
    """Drop a browser or client session's state and close its Session (models, checkpoints, upload go now).

    Gradio keeps a session's State until 10,000 newer sessions push it out: its time-to-live and delete callback
    only apply to a State that a handler returns, and ours is only read. So the app forgets sessions itself."""
    holder = getattr(demo, "state_holder", None)
    if holder is None:
        return False
    with holder.lock:
        state = holder.session_data.pop(session_hash, None)
        holder.time_last_used.pop(session_hash, None)
    for value in list(state.state_data.values()) if state is not None else []:
        if isinstance(value, Session):
            value.close()
    return state is not None


def forget_idle_sessions(demo: gr.Blocks, idle_s: float, every_s: float = SWEEP_EVERY_S) -> threading.Event:
    """Every ``every_s``, forget the sessions with no event for ``idle_s`` and no run going (programs have no tab
    to close). Returns the event that ends the sweeping."""
    done = threading.Event()

    def sweep() -> None:
        while not done.wait(every_s):
            holder = getattr(demo, "state_holder", None)
            if holder is None:
                continue
            now = datetime.datetime.now()
            for session_hash, last in list(holder.time_last_used.items()):
                state = holder.session_data.get(session_hash)
                busy = state is not None and any(
                    isinstance(v, Session) and v.pair.running for v in list(state.state_data.values())
                )
                if (now - last).total_seconds() > idle_s and not busy:
                    forget_session(demo, session_hash)
            release_memory()  # what requests freed (a 50 MB text, a decoded photo) back to the system, not kept

    threading.Thread(target=sweep, name="cnn_lab-forget-idle-sessions", daemon=True).start()
    return done


def quiet_queue(demo: gr.Blocks) -> bool:
    """Poll Gradio's queue less often, after ``demo.queue()``.

    On Linux the queue looks for work every 1 ms and for progress every 10 ms,
    busy or idle: 4-5 % of a core with nobody on the page (measured), taken
    from training on a 2-core Space. Here it looks for work every 50 ms
    (Windows' rate) and for progress once a second (only gr.Progress reads
    it: the t-SNE map's progress line): an idle server uses 0.6 % of a
    core (0.7 % at Windows' 100 ms for progress); a queued event (a run, a
    button) starts at most 50 ms later, and the sketchpad skips the queue.
    Returns False (and changes nothing) where this Gradio's queue has no
    such settings.
    """
    queue = getattr(demo, "_queue", None)
    if not all(hasattr(queue, name) for name in ("sleep_when_free", "progress_update_sleep_when_free")):
        return False
    queue.sleep_when_free, queue.progress_update_sleep_when_free = QUEUE_POLL_S, PROGRESS_POLL_S
    return True


def page_header() -> tuple[gr.Button, gr.components.Component]:
    """The title, the newcomer's Start here button and the theme switch, on one row."""
    with gr.Row(elem_id="page-header", equal_height=True):
        with gr.Column(scale=4, min_width=100):
            gr.Markdown("# cnn_lab", elem_id="page-title")
        with gr.Column(scale=0, min_width=160):
            start = gr.Button("New here? Start here", size="sm", variant="secondary", elem_id="start-here")
        with gr.Column(scale=0, min_width=200):
            theme = theme_switch()
    return start, theme


def wire_page(demo: gr.Blocks, theme: gr.components.Component) -> None:
    """What the whole page does: forget a session when its tab closes, keep the theme chosen, install the builder's
    drag and drop and the sketchpad's brush."""

    def left(request: gr.Request) -> None:  # a tab closed (its heartbeat ended): its memory goes now
        if request is not None:
            forget_session(demo, request.session_hash)

    demo.unload(left)
    remember_theme(demo, theme)
    demo.load(None, None, None, js=drag_drop.INSTALL_JS, queue=False)
    demo.load(None, None, None, js=PICK_BRUSH_JS, queue=False)


def build_app(
    data_dir: str | None = None,
    device: str = "auto",
    max_concurrent_trainings: int = 2,
    processes: bool = True,
    runs_db: str | None = None,
    public: bool = False,
    train_processes: int = 1,
) -> gr.Blocks:
    """The playground as a gr.Blocks; playground.py launches it (with CSS). Runs train in worker processes, or on the
    server's threads with ``processes=False``; finished runs are kept in the SQLite file ``runs_db`` (default: under
    the user's cache folder), each browser session seeing only its own with ``public``; with ``train_processes``, each
    run trains with DDP on that many processes of this machine."""
    workspace = Workspace(data_dir, device, processes, open_history(runs_db), public, train_processes=train_processes)
    workspace.warm()  # a training process ready before the first click
    # Gradio's cache (uploads, and any file a handler returns from outside it) is cleaned by age: every 10 minutes
    # (an hour locally) what is older than an hour (a day) goes; a session's own downloads go with the session
    delete_cache = PUBLIC_CACHE_S if public else LOCAL_CACHE_S
    with gr.Blocks(title="cnn_lab: CNN training playground", delete_cache=delete_cache) as demo:
        session = gr.State(Session(workspace))  # deep-copied per browser tab: a fresh Session each
        start, theme = page_header()
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Train & compare", id="train", elem_id="tab-train") as train_page:
                limits = workspace.limits.describe() if public else ""
                train = train_tab(session, device, max_concurrent_trainings, limits)
            setup = in_page_order(train.setup)
            with gr.Tab("Inspect", id="inspect", elem_id="tab-inspect") as inspect_page:
                inspect = inspect_tab(train.layer_boxes, session)
            with gr.Tab("Runs", id="runs", elem_id="tab-runs") as runs_page:
                runs = runs_tab(setup, session, training_slots(max_concurrent_trainings))
            with gr.Tab("Data", id="data", elem_id="tab-data") as data_page:
                augment = {name: train.setup[f"{name}.augment"] for name in "AB"}
                data = data_tab(train.setup["run.dataset"], augment, session)
            with gr.Tab("Learn", id="learn", elem_id="tab-learn") as learn_page:
                learn = learn_tab(session, setup, train.share_note, tabs)
        program_endpoints(session)
        start.click(lambda: gr.Tabs(selected="learn"), None, tabs, api_name=False, queue=False)
        for page, parts in ((train_page, train), (inspect_page, inspect), (runs_page, runs), (data_page, data),
                            (learn_page, learn)):  # fmt: skip
            wire_tab(demo, page, parts)
        wire_page(demo, theme)
    if public:
        forget_idle_sessions(demo, PUBLIC_SESSION_IDLE_S)
    return demo
