"""What the gradients recorded during a run say, in words under their chart."""

from __future__ import annotations

from cnn_lab.core.events import GradientEvent
from cnn_lab.engine.gradient_flow import GRADIENT_EVERY


def gradient_flow_words(caption: str, gradients: dict[str, list[GradientEvent]], said: list[str]) -> str:
    """How often each model was sampled, then each finding as a bullet (or that both look healthy)."""
    samples = ", ".join(f"{len(events)} for {name}" for name, events in gradients.items())
    verdict = "\n".join(f"- {line}" for line in said) or (
        "- Both look healthy: no layer's gradient vanishes or explodes, and no ReLU layer is mostly dead."
    )
    return f"**{caption}**: recorded on every {GRADIENT_EVERY}th training step ({samples}):\n{verdict}"
