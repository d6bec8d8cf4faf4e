"""Property: for any document built from tables and keys, the index finds each key's line."""

from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from codex.config.toml_lines import index_key_lines

bare_keys = st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)
quoted_keys = st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                    blacklist_characters='"\\'), min_size=1, max_size=8)
keys = st.one_of(bare_keys, quoted_keys)
values = st.one_of(st.integers(), st.booleans(),
                   st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10),
                   st.just('"""\nfake = 1\n"""'))
tables = st.dictionaries(st.tuples(keys, keys), st.dictionaries(keys, values, max_size=4),
                         max_size=4)


def _key(part: str) -> str:
    return part if part.replace("_", "").replace("-", "").isalnum() and part.isascii() \
        else json.dumps(part)


def _value(value: object) -> str:
    if isinstance(value, str) and value.startswith('"""'):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@settings(max_examples=150, deadline=None)
@given(tables)
def test_every_written_key_is_found_on_its_line(
    doc: dict[tuple[str, str], dict[str, object]]
) -> None:
    lines: list[str] = []
    expected: dict[tuple[str, ...], int] = {}
    for (outer, inner), body in doc.items():
        lines.append(f"[{_key(outer)} . {_key(inner)}]")
        expected.setdefault((outer,), len(lines))
        expected[(outer, inner)] = len(lines)
        for key, value in body.items():
            expected[(outer, inner, key)] = len(lines) + 1
            lines.extend(f"{_key(key)} = {_value(value)}".split("\n"))
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # the generated document is valid TOML
    index = index_key_lines(text)
    assert index == expected, text
