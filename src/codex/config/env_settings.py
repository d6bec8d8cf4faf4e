"""Environment variables that set a config value, below config.toml (as in the Codex CLI).

Stdlib only: the loader layers them, and the sandbox settings cache keys on them.
"""

from __future__ import annotations

from codex.config.toml_lines import KeyPath

ENV_SETTINGS: dict[str, KeyPath] = {
    "OPENAI_BASE_URL": ("model_providers", "openai", "base_url"),
}
