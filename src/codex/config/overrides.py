"""`-c key.path=value` overrides, parsed the way the Codex CLI parses them.

The text before the first `=` is a dotted key path; the text after it is read as a TOML value
(`-c 'writable_roots=["/tmp"]'`, `-c network_access=true`) and, when that fails, taken as a
plain string (`-c model=o3`), so shell-quoted words need no TOML quoting.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from codex.config.errors import ConfigError


@dataclass(frozen=True)
class Override:
    """One parsed `-c` argument."""

    raw: str
    path: tuple[str, ...]
    value: Any

    @property
    def key(self) -> str:
        return ".".join(self.path)


def parse_toml_value(text: str) -> Any:
    """Read `text` as a TOML value; if it is not valid TOML, return it as a string."""
    stripped = text.strip()
    try:
        return tomllib.loads(f"_x_ = {stripped}")["_x_"]
    except tomllib.TOMLDecodeError:
        return stripped


def parse_override(raw: str) -> Override:
    """Parse one `-c` argument; raise ConfigError naming the argument when it is malformed."""
    key, sep, value = raw.partition("=")
    if not sep:
        raise ConfigError(
            "-c", f"expected KEY=VALUE, got {raw!r} (for example: -c model=o3)")
    parts = tuple(part.strip() for part in key.strip().split("."))
    if not parts or any(not part for part in parts):
        raise ConfigError(
            "-c", f"empty key segment in {key.strip()!r}: use a dotted path like "
            "sandbox_workspace_write.network_access")
    return Override(raw=raw, path=parts, value=parse_toml_value(value))
