"""Installed plugins: `$CODEX_HOME/plugins/<id>/` holds a copy of `plugin.toml` and its `.wasm`.

Installing copies both after checking the module against the manifest's `sha256`, so what
runs later is what was reviewed. Loading checks the hash again on every call (`load_installed`
raises `TamperedError`): a module changed on disk after install never runs.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from codex.plugins.manifest import Manifest, ManifestError, load_manifest

MANIFEST_NAME = "plugin.toml"
PLUGINS_DIR = "plugins"


class TamperedError(Exception):
    """The module's SHA-256 is not the one its manifest names; it is refused."""


class NotInstalledError(LookupError):
    pass


@dataclass(frozen=True)
class InstalledPlugin:
    manifest: Manifest
    wasm: bytes
    wasm_sha256: str


def plugins_dir(codex_home: Path) -> Path:
    return codex_home / PLUGINS_DIR


def source_manifest(source: str) -> Path:
    """The manifest named by `source`: a plugin directory, its plugin.toml, or a file:// URL."""
    if "://" in source:
        url = urlparse(source)
        if url.scheme != "file" or url.netloc not in ("", "localhost"):
            raise ManifestError(f"{source}: only local files can be installed (a path or a "
                                "file:// URL); download the plugin first")
        source = unquote(url.path)
    path = Path(source).expanduser()
    return path / MANIFEST_NAME if path.is_dir() else path


def read_checked(manifest: Manifest) -> InstalledPlugin:
    """The manifest's module, refused unless its SHA-256 matches `[plugin] sha256`."""
    try:
        wasm = manifest.wasm_path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{manifest.path}: plugin.wasm: cannot read {manifest.wasm_path}: "
                            f"{exc.strerror}") from None
    digest = hashlib.sha256(wasm).hexdigest()
    if digest != manifest.sha256:
        raise TamperedError(f"plugin {manifest.id!r}: {manifest.wasm_path.name} has SHA-256 "
                            f"{digest}, but the manifest says {manifest.sha256}; refusing to "
                            "load it (rebuild the module or fix the manifest, then reinstall)")
    return InstalledPlugin(manifest, wasm, digest)


def install(codex_home: Path, source: str) -> InstalledPlugin:
    """Copy a checked plugin into the plugins directory (replacing an older copy)."""
    checked = read_checked(load_manifest(source_manifest(source)))
    root = plugins_dir(codex_home)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
    try:
        shutil.copyfile(checked.manifest.path, staging / MANIFEST_NAME)
        shutil.copyfile(checked.manifest.wasm_path, staging / checked.manifest.wasm)
        target = root / checked.manifest.id
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_installed(codex_home, checked.manifest.id)


def load_installed(codex_home: Path, plugin_id: str) -> InstalledPlugin:
    manifest_path = plugins_dir(codex_home) / plugin_id / MANIFEST_NAME
    if not manifest_path.is_file():
        raise NotInstalledError(f"no plugin {plugin_id!r} is installed (codex plugin list shows "
                                "the installed ones; codex plugin install PATH adds one)")
    return read_checked(load_manifest(manifest_path))


def installed_ids(codex_home: Path) -> list[str]:
    root = plugins_dir(codex_home)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if not p.name.startswith(".") and (p / MANIFEST_NAME).is_file())


def uninstall(codex_home: Path, plugin_id: str) -> bool:
    target = plugins_dir(codex_home) / plugin_id
    if not target.is_dir():
        return False
    shutil.rmtree(target)
    return True
