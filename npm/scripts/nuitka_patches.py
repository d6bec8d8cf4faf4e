"""Source edits applied to the build venv's Nuitka before it compiles the native binary.

Lazy inspect patching. Nuitka 4.3.3's generated `main()` calls `patchInspectModule()` on every
start. That function imports the stdlib `inspect` (and with it ast, dis, tokenize, re, enum, ...)
only to swap in compiled-function-aware `inspect.getgeneratorstate`/`getcoroutinestate`,
`types.coroutine` and `inspect._get_code_position`: about 12 ms of a 22 ms `codex --version`.
Nuitka's own source carries a TODO to make it an import hook instead. These edits do that: the
call moves from `main()` to the loader's post-load step for the module `inspect`, so the same
patch still happens, just when something imports inspect (a hello-world start fell from 22.5 ms
to 10.2 ms). From Python 3.12 on the function also fixes `sys._getframemodulename` and the typing
types, which modules rely on before anyone imports inspect, so there it stays eager.

The edits are exact-anchor text replacements: a file already holding the result is left alone,
and a file holding neither anchor nor result (another Nuitka version) stops the build.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

WRITTEN_FOR_NUITKA = "4.3.3"


class PatchError(Exception):
    """The installed Nuitka does not match the patch; the message names file and anchor."""


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of `anchor` in `path` (relative to site-packages)."""

    path: str
    anchor: str
    replacement: str


_MAIN_CALL = """\
    NUITKA_PRINT_TRACE("main(): Calling patchInspectModule().");
    patchInspectModule(tstate);
#endif
"""

_POST_LOAD = "    Nuitka_LoadTriggeredModule(tstate, entry != NULL ? entry->m_post_load : NULL);\n"

EDITS = (
    Edit(
        path="nuitka/build/static_src/MainProgram.c",
        anchor="#if PYTHON_VERSION >= 0x300\n" + _MAIN_CALL,
        replacement=(
            "#if PYTHON_VERSION >= 0x3c0 /* codex: before 3.12 done when inspect is imported */\n"
            + _MAIN_CALL
        ),
    ),
    Edit(
        path="nuitka/build/static_src/MetaPathBasedLoader.c",
        anchor=_POST_LOAD,
        replacement=_POST_LOAD
        + "#if PYTHON_VERSION >= 0x300 && PYTHON_VERSION < 0x3c0\n"
        "    /* codex: patch inspect once it is imported instead of importing it at start. */\n"
        '    if (strcmp(name, "inspect") == 0) {\n'
        "        patchInspectModule(tstate);\n"
        "    }\n"
        "#endif\n",
    ),
)


def patched_text(edit: Edit, text: str, where: Path) -> str:
    """`text` with `edit` applied; unchanged when it already holds the replacement."""
    if edit.replacement in text:
        return text
    count = text.count(edit.anchor)
    if count != 1:
        found = "not found" if count == 0 else f"found {count} times"
        raise PatchError(
            f"{where}: anchor {edit.anchor!r} {found}; update npm/scripts/nuitka_patches.py "
            f"for the pinned Nuitka version (it was written for {WRITTEN_FOR_NUITKA})"
        )
    return text.replace(edit.anchor, edit.replacement)


def apply(site_packages: Path) -> list[Path]:
    """Apply every edit under `site_packages`; return the files that changed (none if done).

    All files are checked before any is written, so a mismatch leaves the venv untouched. Each
    write replaces the file atomically: another build reading it never sees half a file.
    """
    planned: list[tuple[Path, str]] = []
    for edit in EDITS:
        path = site_packages / edit.path
        if not path.is_file():
            raise PatchError(f"{path}: missing; is Nuitka {WRITTEN_FOR_NUITKA} installed there?")
        with path.open(encoding="utf-8", newline="") as handle:
            text = handle.read()
        new = patched_text(edit, text, path)
        if new != text:
            planned.append((path, new))
    for path, new in planned:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(new)
            os.chmod(tmp, path.stat().st_mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return [path for path, _ in planned]
