from types import SimpleNamespace

from cnn_lab.ui import build_app, quiet_queue
from cnn_lab.ui.app import PROGRESS_POLL_S, QUEUE_POLL_S


def test_the_queue_is_told_to_poll_less_and_says_so():
    demo = build_app()
    demo.queue()
    assert quiet_queue(demo)
    assert (demo._queue.sleep_when_free, demo._queue.progress_update_sleep_when_free) == (QUEUE_POLL_S, PROGRESS_POLL_S)


def test_a_gradio_without_those_settings_is_left_alone():
    assert not quiet_queue(SimpleNamespace(_queue=SimpleNamespace()))  # a queue that polls otherwise: untouched
