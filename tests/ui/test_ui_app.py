from types import SimpleNamespace

from cnn_lab.ui import build_app, quiet_queue
from cnn_lab.ui.app import PROGRESS_POLL_S, QUEUE_POLL_S


def test_the_queue_is_told_to_poll_less_and_says_so():
    demo = build_app()
    demo.queue()
    assert quiet_queue(demo)
    assert (demo._queue.sleep_when_free, demo._queue.progress_update_sleep_when_free) == (QUEUE_POLL_S, PROGRESS_POLL_S)
    # progress is looked for once a second: only the t-SNE map (seconds long) reports to a gr.Progress
    assert {fn.name for fn in demo.fns.values() if fn.tracks_progress} == {"map_space"}


def test_a_gradio_without_those_settings_is_left_alone():
    assert not quiet_queue(SimpleNamespace(_queue=SimpleNamespace()))  # a queue that polls otherwise: untouched


def test_importing_a_setup_says_when_its_input_shape_is_not_kept(tmp_path):
    from cnn_lab.core.config import ExperimentConfig, ModelConfig, ModelSpec
    from cnn_lab.ui.train.setup import import_setup

    setup = ExperimentConfig(ModelSpec(ModelConfig((), input_shape=(3, 32, 32), num_classes=10)))
    path = tmp_path / "setup.json"
    path.write_text(setup.to_json())
    note = import_setup(str(path))[-1]
    assert note.startswith("Setup imported.") and "input shape and class count are not kept" in note
    path.write_text(ExperimentConfig().to_json())
    assert import_setup(str(path))[-1] == "Setup imported."
    path.write_text("[" * 70_000)  # larger than any setup
    assert import_setup(str(path))[-1] != "Setup imported."
