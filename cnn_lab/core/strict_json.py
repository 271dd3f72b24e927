"""JSON from users (setups, layer lists, share links, records, model files' metadata), read strictly.

Python's json takes NaN, Infinity, 1e400 (as inf), integers of any length and
nesting until the interpreter's recursion limit; each of those reached our
checks as a value they could not compare, or never reached them. Here each
is refused as a ConfigError naming the field, before any check runs."""

from __future__ import annotations

import json
import math
from typing import Any

from cnn_lab.core.errors import ConfigError


class NotJSON(ConfigError):
    """The text is not JSON at all (cut off, or something else), as opposed to JSON holding values we refuse."""


MAX_DEPTH = 16  # a setup is 4 levels deep (experiment, model, layers, layer); records 5
MAX_INT_DIGITS = 18


def load_json(text: str | bytes, field: str, what: str = "") -> Any:
    """Parse ``text`` or raise ConfigError("<field>: ..."): numbers finite and at most 18 digits, at most 16 levels."""

    def refuse(reason: str) -> ConfigError:
        return ConfigError(f"{what or field}: {reason}", field)

    def whole(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise refuse(f"a number of {len(digits)} digits; numbers here have at most {MAX_INT_DIGITS}")
        return int(digits)

    def real(digits: str) -> float:
        number = float(digits)
        if not math.isfinite(number):
            raise refuse(f"{digits[:20]} is too large a number")
        return number

    def constant(name: str) -> float:
        raise refuse(f"{name} is not a number JSON allows; write a finite number")

    if not isinstance(text, (str, bytes, bytearray)):
        raise refuse(f"must be JSON text, got {type(text).__name__}")

    try:
        data = json.loads(text, parse_int=whole, parse_float=real, parse_constant=constant)
    except RecursionError:
        raise refuse(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NotJSON(f"{what or field}: not valid JSON ({err})", field) from None
    if _depth(data) > MAX_DEPTH:
        raise refuse(f"nested too deeply (at most {MAX_DEPTH} levels)")
    return data


def _depth(data: Any) -> int:
    """How many lists and objects deep ``data`` goes, without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
