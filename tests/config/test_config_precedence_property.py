"""Property: whichever layers set a key, the highest one wins and is named as the source."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex.cli.state import GlobalOptions
from codex.config import load_config

KEYS = {
    ("model",): st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1,
                        max_size=6),
    ("project_doc_max_bytes",): st.integers(min_value=0, max_value=10**9),
    ("history", "max_bytes"): st.integers(min_value=0, max_value=10**9),
    ("sandbox_workspace_write", "network_access"): st.booleans(),
}
LAYERS = ("file", "profile", "override")


@st.composite
def assignments(draw: st.DrawFn) -> dict[tuple[str, ...], dict[str, object]]:
    """For each key, the value each layer sets (a layer may leave it unset)."""
    plan: dict[tuple[str, ...], dict[str, object]] = {}
    for key, values in KEYS.items():
        plan[key] = {layer: draw(values) for layer in LAYERS if draw(st.booleans())}
    return plan


def _toml(value: object) -> str:
    return json.dumps(value)  # JSON scalars here are valid TOML scalars


@settings(max_examples=60, deadline=None)
@given(plan=assignments(), select_by_flag=st.booleans())
def test_highest_layer_wins(
    tmp_path_factory: pytest.TempPathFactory, plan: dict[tuple[str, ...], dict[str, object]],
    select_by_flag: bool
) -> None:
    home = tmp_path_factory.mktemp("home")
    file_lines: list[str] = [] if select_by_flag else ['profile = "p"']
    profile_lines: list[str] = ["[profiles.p]"]
    overrides: list[str] = []
    for key, layers in plan.items():
        dotted = ".".join(key)
        if "file" in layers:
            file_lines.append(f"{dotted} = {_toml(layers['file'])}")
        if "profile" in layers:
            profile_lines.append(f"{dotted} = {_toml(layers['profile'])}")
        if "override" in layers:
            overrides.append(f"{dotted}={_toml(layers['override'])}")
    text = "\n".join(file_lines + profile_lines) + "\n"
    (home / "config.toml").write_text(text)
    options = GlobalOptions(overrides=tuple(overrides),
                            config_profile="p" if select_by_flag else None)
    config = load_config(options, cwd=home, home=home)
    flat = config.to_flat()
    for key, layers in plan.items():
        dotted = ".".join(key)
        if "override" in layers:
            expected, source = layers["override"], "-c"
        elif "profile" in layers:
            expected, source = layers["profile"], "profile p"
        elif "file" in layers:
            line = 1 + (file_lines.index(f"{dotted} = {_toml(layers['file'])}"))
            expected, source = layers["file"], f"config.toml:{line}"
        else:
            assert config.sources[dotted] == "default", text
            continue
        assert (flat[dotted], config.sources[dotted]) == (expected, source), text
