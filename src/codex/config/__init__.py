"""config.toml loading, `-c` overrides, config profiles and the effective config.

Public interface:
- `load_config(options, cwd=None, *, home=None) -> EffectiveConfig` (raises `ConfigError`);
  `options` is anything shaped like `codex.cli.state.GlobalOptions`.
- `EffectiveConfig`: the merged settings plus `security_profile`, `cwd`, `codex_home`,
  `config_path`, `config_profile`, `sources` and `warnings`; `.sandbox_policy()`.
- `ConfigError`: `str(err) == "<where>:<line>: <key.path>: <what is wrong>"`.
- `codex_home()` (stdlib only, in `codex.config.home`).

Exports are loaded lazily so `codex.config.home` stays importable without pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from codex.config.effective import EffectiveConfig
    from codex.config.errors import ConfigError
    from codex.config.home import codex_home
    from codex.config.loader import load_config

__all__ = ["ConfigError", "EffectiveConfig", "codex_home", "load_config"]

_HOMES = {
    "ConfigError": "codex.config.errors",
    "EffectiveConfig": "codex.config.effective",
    "codex_home": "codex.config.home",
    "load_config": "codex.config.loader",
}


__getattr__ = lazy_exports(__name__, _HOMES)
