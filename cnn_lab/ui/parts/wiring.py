"""Small glue between plain handlers and Gradio: outputs by name, and user errors as messages instead of tracebacks."""

from __future__ import annotations

import functools
import html
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import gradio as gr

from cnn_lab.core.config import ConfigError
from cnn_lab.data.datasets import DataError
from cnn_lab.session import SessionError


def refusal(message: str, title: str = "Check the settings") -> gr.Error:
    """A refused input as the page shows it; not printed with a traceback in the server's log (it is no fault)."""
    return gr.Error(message, title=title, print_exception=False)


def escaped(text: object) -> str:
    """Text that may quote a user's input, made safe to show: Gradio renders toasts and Markdown as HTML, and a value
    such as <img src=x> from a share link must appear as those characters, not as an element."""
    return html.escape(str(text), quote=False)


@contextmanager
def user_errors(prefix: str = "") -> Iterator[None]:
    """A bad value, missing data or a busy session becomes a gr.Error naming the field (the models are never touched);
    ``prefix`` says what was being done, e.g. "Cross-validation · "."""
    try:
        yield
    except SessionError as err:
        raise refusal(escaped(err), title=err.title) from None
    except (ConfigError, DataError) as err:
        raise refusal(escaped(f"{prefix}{err}"), title="Check the settings") from None


def by_name(handler: Callable, outputs: dict[str, gr.components.Component]) -> Callable:
    """``handler`` returns (or yields) dicts keyed by output name; Gradio gets them keyed by component.

    The wrapper keeps the handler's name, docstring and signature: Gradio's
    "Use via API" page shows them."""

    def keyed(result):
        return {outputs[name]: value for name, value in result.items()} if isinstance(result, dict) else result

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def stream(*args, **kwargs):
            for result in handler(*args, **kwargs):
                yield keyed(result)

        return stream

    @functools.wraps(handler)
    def call(*args, **kwargs):
        return keyed(handler(*args, **kwargs))

    return call
