"""The key-line index must find where each key is written, whatever the TOML layout."""

from __future__ import annotations

from codex.config.toml_lines import index_key_lines, line_of

DOC = '''\
model = "o3"          # line 1
"quoted.key" = 1
instructions = """
fake = "not a key"
"""
[model_providers.local]
base_url = "http://x"
[ profiles . "fast mode" ]
model = "a"
inline = { a = 1, b = 2 }
[[mcp_list]]
name = "x"
sandbox_workspace_write.network_access = true
'''


def test_lines_of_keys_headers_and_dotted_keys() -> None:
    lines = index_key_lines(DOC)
    assert lines[("model",)] == 1
    assert lines[("quoted.key",)] == 2
    assert lines[("instructions",)] == 3
    assert ("fake",) not in lines
    assert lines[("model_providers", "local")] == 6
    assert lines[("model_providers",)] == 6
    assert lines[("model_providers", "local", "base_url")] == 7
    assert lines[("profiles", "fast mode", "model")] == 9
    assert lines[("mcp_list", "sandbox_workspace_write", "network_access")] == 13


def test_line_of_falls_back_to_the_nearest_written_ancestor() -> None:
    lines = index_key_lines(DOC)
    assert line_of(lines, ("profiles", "fast mode", "inline", "b")) == 10
    assert line_of(lines, ("model_providers", "local", "wire_api")) == 6
    assert line_of(lines, ("nowhere",)) is None
