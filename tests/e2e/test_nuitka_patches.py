"""The Nuitka source edits in npm/scripts/nuitka_patches.py, run against copies of the real files
of the pinned Nuitka (from the build venv, else from this interpreter). Each copy is checked
against the wheel's RECORD hash first, so the edits are tested on what Nuitka actually ships."""

from __future__ import annotations

import base64
import csv
import difflib
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "npm" / "scripts"


def script_module(name: str) -> ModuleType:
    """Import a module from npm/scripts (build_native imports nuitka_patches as a sibling)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)


build_native = script_module("build_native")
nuitka_patches = script_module("nuitka_patches")
MAIN = "nuitka/build/static_src/MainProgram.c"
LOADER = "nuitka/build/static_src/MetaPathBasedLoader.c"


def read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def shipped_text(site: Path, name: str) -> str | None:
    """`name` as the pinned Nuitka in `site` shipped it (our edit undone), None if not installed
    there; fails if the file is neither the shipped one nor it plus the current edit."""
    record = site / f"nuitka-{build_native.NUITKA_VERSION}.dist-info" / "RECORD"
    if not record.is_file():
        return None
    with record.open(newline="") as handle:
        hashes = {row[0]: row[1] for row in csv.reader(handle) if len(row) >= 2}
    edit = next(e for e in nuitka_patches.EDITS if e.path == name)
    text = read(site / name).replace(edit.replacement, edit.anchor)
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
    assert f"sha256={digest.decode()}" == hashes[name], (
        f"{site / name} is neither the file Nuitka shipped nor it plus the current edit")
    return text


@pytest.fixture
def pristine(tmp_path: Path) -> Path:
    """A fake site-packages holding the two files exactly as the pinned Nuitka ships them, taken
    from the current build venv, else this interpreter's Nuitka."""
    build_venv = build_native.venv_site_packages(build_native.venv_dir())
    sites = [build_venv]
    spec = importlib.util.find_spec("nuitka")
    if spec is not None and spec.origin is not None:
        sites.append(Path(spec.origin).parents[1])
    for site in sites:
        texts = {edit.path: shipped_text(site, edit.path) for edit in nuitka_patches.EDITS}
        if all(text is not None for text in texts.values()):
            for name, text in texts.items():
                target = tmp_path / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(str(text).encode())
            return tmp_path
    pytest.skip(f"Nuitka {build_native.NUITKA_VERSION} is installed neither in the build venv "
                f"({build_venv}) nor in this interpreter; `npm/scripts/build_native.py "
                "--setup-only` installs it")


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines, stripped."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:].strip() for line in diff if line.startswith("- ")]
    added = [line[2:].strip() for line in diff if line.startswith("+ ")]
    return removed, added


def test_apply_moves_the_inspect_patch_from_start_to_import(pristine: Path) -> None:
    before = {name: read(pristine / name) for name in (MAIN, LOADER)}
    changed = nuitka_patches.apply(pristine)
    assert sorted(changed) == sorted([pristine / MAIN, pristine / LOADER])
    after = {name: read(pristine / name) for name in (MAIN, LOADER)}

    # main(): the unconditional (3.x) call is now only compiled for 3.12+.
    removed, added = changed_lines(before[MAIN], after[MAIN])
    assert removed == ["#if PYTHON_VERSION >= 0x300"]
    assert len(added) == 1 and added[0].startswith("#if PYTHON_VERSION >= 0x3c0 ")
    lines = after[MAIN].splitlines()
    call = lines.index("    patchInspectModule(tstate);")
    guard = next(line for line in reversed(lines[:call]) if line.startswith("#if"))
    assert guard == added[0]

    # loadPostLoadCode(): the call is added right after the post-load triggers, for `inspect`.
    removed, added = changed_lines(before[LOADER], after[LOADER])
    assert removed == []
    assert [line for line in added if not line.startswith("/*")] == [
        "#if PYTHON_VERSION >= 0x300 && PYTHON_VERSION < 0x3c0",
        'if (strcmp(name, "inspect") == 0) {',
        "patchInspectModule(tstate);",
        "}",
        "#endif",
    ]
    body = after[LOADER].split("static void loadPostLoadCode(", 1)[1].split("\n}\n", 1)[0]
    trigger = body.index("Nuitka_LoadTriggeredModule(tstate, entry != NULL")
    assert body.index('strcmp(name, "inspect")') > trigger


def test_apply_twice_changes_nothing(pristine: Path) -> None:
    nuitka_patches.apply(pristine)
    first = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pristine.rglob("*.c")}
    assert nuitka_patches.apply(pristine) == []
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pristine.rglob("*.c")} == first


def test_missing_anchor_is_one_clear_error_and_writes_nothing(pristine: Path) -> None:
    loader = pristine / LOADER
    loader.write_text(read(loader).replace("Nuitka_LoadTriggeredModule(tstate,",
                                           "Nuitka_RunPostLoad(tstate,"))
    main_before = (pristine / MAIN).read_bytes()
    with pytest.raises(nuitka_patches.PatchError) as caught:
        nuitka_patches.apply(pristine)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{loader}: anchor ")
    assert "Nuitka_LoadTriggeredModule" in message and "not found" in message
    assert "update npm/scripts/nuitka_patches.py for the pinned Nuitka version" in message
    assert (pristine / MAIN).read_bytes() == main_before


def test_build_stops_on_a_mismatched_nuitka(pristine: Path, tmp_path: Path) -> None:
    """build_native turns the mismatch into its BuildError (printed as one `build: error:`)."""
    venv = tmp_path / "venv"
    site = build_native.venv_site_packages(venv)
    site.mkdir(parents=True)
    (pristine / "nuitka").rename(site / "nuitka")
    (site / MAIN).write_text(read(site / MAIN).replace("patchInspectModule(tstate);", ""))
    with pytest.raises(build_native.BuildError, match=r"MainProgram\.c: anchor .* not found"):
        build_native.patch_nuitka(venv)


def test_edits_are_part_of_the_cache_and_venv_keys(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    source = Path(nuitka_patches.__file__).resolve()
    assert source in build_native.input_files()
    venv = build_native.venv_dir()
    edited = tmp_path / "nuitka_patches.py"
    edited.write_text(source.read_text() + "\n# changed\n")
    monkeypatch.setattr(nuitka_patches, "__file__", str(edited))
    assert build_native.venv_dir() != venv
