"""`-c key=value` parsing follows the Codex CLI: TOML value, else a plain string."""

from __future__ import annotations

import pytest

from codex.config import ConfigError
from codex.config.overrides import parse_override, parse_toml_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("42", 42),
        ("1.5", 1.5),
        ('"o3"', "o3"),
        ("o3", "o3"),
        ("  gpt-4.1  ", "gpt-4.1"),
        ('["a", "b"]', ["a", "b"]),
        ("{ x = 1 }", {"x": 1}),
        ("[unclosed", "[unclosed"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_value_is_toml_or_a_string(text: str, expected: object) -> None:
    assert parse_toml_value(text) == expected


def test_key_splits_on_first_equals_and_dots() -> None:
    item = parse_override(" sandbox_workspace_write.network_access = true")
    assert item.path == ("sandbox_workspace_write", "network_access")
    assert item.value is True
    assert parse_override("notify=a=b").value == "a=b"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [("model", "expected KEY=VALUE"), ("a..b=1", "empty key segment"), ("=1", "empty key")],
)
def test_malformed_override_names_the_flag(raw: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_override(raw)
    assert str(err.value).startswith("-c: ")
    assert fragment in str(err.value)
