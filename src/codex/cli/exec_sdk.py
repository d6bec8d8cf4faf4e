"""What `codex exec` takes from programs built on the Codex CLI (the TypeScript SDK
`@openai/codex-sdk` above all): its extra flags, environment variables and error style.

The SDK spawns `codex exec --experimental-json [--config K=V]... [--model M] [--thread-source S]
[--sandbox MODE] [--cd DIR] [--add-dir DIR]... [--skip-git-repo-check] [--output-schema FILE]
[--cyber-access-program P] [resume ID] [--image FILE]...` with the prompt on stdin, and sets
CODEX_INTERNAL_ORIGINATOR_OVERRIDE (who is calling: sent as the `originator` header and
recorded in the session) and CODEX_API_KEY (the openai provider's key, see
`codex.model.provider`). A flag this version does not know (one a newer SDK may send) is
one line on stderr and exit 2, never a usage dump or a traceback.
"""

from __future__ import annotations

import base64
import dataclasses
import mimetypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer import _click
from typer.core import TyperCommand

if TYPE_CHECKING:
    from codex.config import EffectiveConfig
    from codex.model import ResolvedProvider

ORIGINATOR_ENV = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE"
DEFAULT_ORIGINATOR = "codex_exec"
CYBER_ACCESS_PROGRAMS = ("standard", "daybreak_blue", "daybreak_red")
EXIT_USAGE = 2


class SdkFlagError(Exception):
    """A flag's value cannot be used: one line, exit 2."""


class OneLineUsageErrors(TyperCommand):
    """`codex exec` whose parse errors (unknown flag, missing value) are one line + exit 2."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _click.exceptions.UsageError as exc:
            typer.echo(f"codex exec: {exc.format_message()} (see `codex exec --help` for the "
                       "flags this version accepts)", err=True)
            raise typer.Exit(EXIT_USAGE) from None


@dataclasses.dataclass(frozen=True)
class SessionExtras:
    """Per-run inputs beyond the config: attached images and the thread's source label."""

    images: tuple[str, ...] = ()
    thread_source: str | None = None


def with_added_dirs(cfg: EffectiveConfig, dirs: Sequence[Path]) -> EffectiveConfig:
    """`cfg` whose workspace-write profile may also write in each of `dirs` (`--add-dir`)."""
    if not dirs:
        return cfg
    added = []
    for directory in dirs:
        path = directory if directory.is_absolute() else cfg.cwd / directory
        if not path.is_dir():
            raise SdkFlagError(f"--add-dir {directory}: not a directory; create it or drop "
                               "the flag")
        added.append(path)
    table = cfg.sandbox_workspace_write
    return cfg.model_copy(update={"sandbox_workspace_write": table.model_copy(
        update={"writable_roots": [*table.writable_roots, *added]})})


def read_images(paths: Sequence[Path], cwd: Path) -> tuple[str, ...]:
    """Each `--image FILE` as a data: URL (the type guessed from the file name)."""
    urls = []
    for given in paths:
        path = given if given.is_absolute() else cwd / given
        mime, _ = mimetypes.guess_type(path.name)
        if mime is None or not mime.startswith("image/"):
            raise SdkFlagError(f"--image {given}: not an image file name (use .png, .jpg, "
                               ".gif or .webp)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SdkFlagError(f"--image {given}: cannot read it ({exc.strerror})") from None
        urls.append(f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")
    return tuple(urls)


def originator(env: Mapping[str, str] | None = None) -> str:
    """Who runs this exec: the SDK says `codex_sdk_ts`; by default `codex_exec`."""
    value = (os.environ if env is None else env).get(ORIGINATOR_ENV, "").strip()
    return value or DEFAULT_ORIGINATOR


def with_originator(provider: ResolvedProvider, name: str) -> ResolvedProvider:
    """`provider` whose requests carry the `originator` header, as the Codex CLI's do."""
    headers: dict[str, Any] = {**provider.headers, "originator": name}
    return dataclasses.replace(provider, headers=headers)
