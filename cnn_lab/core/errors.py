"""The error every refused input raises, and how a message quotes what it refused."""

from __future__ import annotations

from typing import Any

QUOTE_CHARS = 60  # a refusal quotes this much of a value: a 10 MB value must not come back as a 10 MB message


class ConfigError(ValueError):
    """A refused setting; the message names the layer (1-based), the field, the value and what is allowed."""

    def __init__(self, message: str, field: str | None = None, layer: int | None = None):
        super().__init__(message)
        self.field = field
        self.layer = layer


def quoted(value: Any, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters, saying how long it was when cut."""
    if isinstance(value, (str, bytes)) and len(value) > 4 * limit:
        value = value[: 4 * limit]  # no repr of a whole megabyte to throw away
        text, cut = repr(value), True
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1} digits"
    else:
        text, cut = repr(value), False
    if len(text) <= limit and not cut:
        return text
    return f"{text[:limit]}... (cut)"
