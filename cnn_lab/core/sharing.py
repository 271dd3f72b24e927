"""A whole A/B setup as a short URL-safe token, so a link reproduces it exactly.

The token is the experiment's JSON, zlib-compressed and base64url-encoded.
Anything malformed or tampered with is refused with a ConfigError, never a
crash: the page then falls back to its defaults and says why.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from cnn_lab.core.config import ConfigError, ExperimentConfig
from cnn_lab.core.strict_json import NotJSON, load_json

QUERY_KEY = "setup"
MAX_TOKEN_CHARS = 8192  # a URL stays well under browsers' limits
MAX_JSON_BYTES = 65536  # a tiny token must not inflate into megabytes


def experiment_to_token(experiment: ExperimentConfig) -> str:
    text = json.dumps(experiment.to_dict(), separators=(",", ":"))
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def experiment_from_token(token: str) -> ExperimentConfig:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise ConfigError(f"share link: the {QUERY_KEY} value must be 1 to {MAX_TOKEN_CHARS} characters", QUERY_KEY)
    damaged = ConfigError("share link: the setup in this link is damaged (was it cut off when copied?)", QUERY_KEY)
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), MAX_JSON_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        raise damaged from None
    if inflater.unconsumed_tail:
        raise ConfigError(f"share link: the setup is too large (over {MAX_JSON_BYTES} bytes)", QUERY_KEY)
    try:
        data = load_json(text, QUERY_KEY, "share link")
    except NotJSON:
        raise damaged from None
    return ExperimentConfig.from_dict(data)
