"""The Gradio page: one module per tab, each laying out components and wiring them to the Session."""

from cnn_lab.ui.app import CSS, build_app, quiet_queue
from cnn_lab.ui.parts.fields import api_values

__all__ = ["CSS", "api_values", "build_app", "quiet_queue"]
