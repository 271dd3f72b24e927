import pytest

from cnn_lab.core.builder import layers_from_json
from cnn_lab.core.config import ConfigError, ExperimentConfig, RunConfig
from cnn_lab.core.errors import quoted
from cnn_lab.core.sharing import experiment_from_token
from cnn_lab.core.strict_json import MAX_DEPTH, load_json


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"lr": NaN}', "NaN is not a number JSON allows"),
        ("[-Infinity]", "-Infinity is not a number JSON allows"),
        ("[1e400]", "1e400 is too large a number"),
        ("[" + "9" * 5000 + "]", "a number of 5000 digits"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested too deeply"),
        ("{", "not valid JSON"),
    ],
)
def test_what_python_json_takes_but_a_setup_cannot_hold_is_refused_by_field(text, reason):
    with pytest.raises(ConfigError, match=reason) as caught:
        load_json(text, "layers")
    assert caught.value.field == "layers" and str(caught.value).startswith("layers: ")


def test_ordinary_json_reads_as_json():
    assert load_json('{"a": [1, 2.5, -3, true, null, "x"]}', "f") == {"a": [1, 2.5, -3, True, None, "x"]}
    assert load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f") is not None
    assert load_json("[" + "9" * 18 + "]", "f") == [int("9" * 18)]


def test_every_parser_of_user_json_reads_strictly():
    with pytest.raises(ConfigError, match="Infinity"):
        layers_from_json('[{"type": "conv", "out_channels": Infinity}]')
    with pytest.raises(ConfigError, match="nested too deeply"):
        ExperimentConfig.from_json('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    import base64
    import zlib

    token = base64.urlsafe_b64encode(zlib.compress(b'{"run": {"seed": NaN}}')).decode().rstrip("=")
    with pytest.raises(ConfigError, match="share link: NaN"):
        experiment_from_token(token)


@pytest.mark.parametrize(
    "seed", [float("nan"), float("inf"), 10**5000, "abc", 2.5, None], ids=["nan", "inf", "huge", "abc", "2.5", "None"]
)
def test_whole_number_checks_name_the_field_for_any_value(seed):
    with pytest.raises(ConfigError, match="seed must be") as caught:
        RunConfig(seed=seed)
    assert len(str(caught.value)) < 200


def test_a_quote_is_short_whatever_it_quotes():
    assert quoted("abc") == "'abc'"
    assert quoted("x" * 1_000_000).endswith("... (cut)") and len(quoted("x" * 1_000_000)) < 80
    assert quoted(10**5000) == "a whole number of about 5001 digits"
    assert len(quoted(list(range(100_000)))) < 80
