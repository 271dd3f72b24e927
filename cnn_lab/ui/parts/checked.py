"""Gradio's choice and range inputs, whose refusals name the field and leave no traceback in the server's log.

The page only ever sends these a value they offer, but anyone can call the page's events (by index, as the
browser does) with anything: Gradio's own check then fails with "unhashable type: 'list'" or a comparison
error, or refuses with a message that names no field, and prints a traceback either way (a fuzz test sent
hundreds). Each class here is drawn by Gradio's own component of the same name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from cnn_lab.core.errors import quoted
from cnn_lab.ui.parts.wiring import refusal


def checked(component: gr.components.Component, preprocess: Callable[[Any], Any], payload: Any) -> Any:
    """``preprocess(payload)``, any failure of it a refusal naming the component's label."""
    try:
        return preprocess(payload)
    except Exception:
        choices = [str(value) for _, value in getattr(component, "choices", None) or []]
        if choices:
            allowed = f"must be one of {', '.join(choices[:12])}{', ...' if len(choices) > 12 else ''}"
        elif hasattr(component, "minimum"):
            allowed = f"must be a number from {component.minimum:g} to {component.maximum:g}"
        else:
            allowed = "not a value it takes"
        raise refusal(f"{component.label or 'a field'}: {allowed}, got {quoted(payload)}") from None


# Each a direct subclass (drawn by Gradio's component of the same name), written out: Gradio's component metaclass
# reads each class's source.
class Dropdown(gr.Dropdown):
    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return checked(self, self._one_value, payload)

    def _one_value(self, payload: Any) -> Any:
        """Gradio's check, and a single choice where only one may be picked (Gradio passed ["adam"] on)."""
        if not self.multiselect and isinstance(payload, (list, dict)):
            raise ValueError("a list where one choice is taken")
        return super().preprocess(payload)


class Radio(gr.Radio):
    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return checked(self, super().preprocess, payload)


class CheckboxGroup(gr.CheckboxGroup):
    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return checked(self, super().preprocess, payload)


class Slider(gr.Slider):
    is_template = True

    def preprocess(self, payload: Any) -> Any:
        return checked(self, super().preprocess, payload)


class Checkbox(gr.Checkbox):
    """True or false, nothing else: Gradio's own passes any JSON on ("abc", a list) and a handler reads it as true."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is None or isinstance(payload, bool):
            return bool(payload)
        raise refusal(f"{self.label or 'a checkbox'}: must be true or false, got {quoted(payload)}")
