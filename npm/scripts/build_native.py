#!/usr/bin/env python3
"""Build the native `codex` executable with Nuitka (standalone) into vendor/<triple>/codex/.

Why this shape:
- Standalone, not onefile: onefile starts a second process (signal bugs) and unpacks into /tmp
  on every start. Standalone is a folder with the executable `codex` (`codex.exe` on Windows).
- Nuitka cannot cross-compile, so only the host triple is buildable here; any other triple named
  in CODEX_TARGETS (or --target) is refused with the reason, and the CI workflows build each
  triple on its own OS, architecture and libc.
- The result is cached outside the clone, keyed by a hash of everything that goes into it
  (sources, this script, the build venv's frozen dependency set, which follows pyproject and
  requirements.lock, the Nuitka and Python versions, the triple), so `.ci/run` rebuilds only
  when something changed. ccache and Nuitka's own caches live beside it and make a rebuild
  after a small change take minutes instead of ten.
- The build runs in its own virtual environment (not the dev venv) holding only Nuitka and the
  runtime dependencies, so optional packages that happen to be installed for development
  (zstandard, pytest, ...) cannot leak into the binary.
- That venv's Nuitka gets the source edits in nuitka_patches.py (start-up: inspect is patched
  when imported, not imported on every start). The edits are part of both the venv's name and
  the cache key, so changing them gives a fresh venv and a rebuild.

Usage: build_native.py [--target TRIPLE ...] [--force] [--setup-only] [--print-key]
Environment: CODEX_TARGETS (comma/space separated triples), CODEX_BUILD_CACHE (cache root,
default ~/.cache/codex-build), CODEX_BUILD_JOBS (parallel C compile jobs).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import nuitka_patches

REPO = Path(__file__).resolve().parents[2]
NUITKA_VERSION = "4.3.3"
BUILD_REQUIREMENTS = (f"nuitka=={NUITKA_VERSION}", "ordered-set==4.1.0")
# The pip that installs the build venv and writes its install report: older pips drop core
# metadata 2.4's License-Expression from the report, and the SBOM's licenses come from there.
BUILD_PIP = "pip==26.3"

ALL_TRIPLES = (
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
)

# Modules the program never needs at run time. pygments is half of rich's weight and only
# serves syntax highlighting; pydantic.v1 is the legacy API (reached only by an explicit
# import) and pydantic.mypy the type-checker plugin; tests/test-runners are never imported by
# the product; the optional httpx decoders/transports we do not use stay out.
NOFOLLOW = (
    "pygments",
    "pydantic.v1",
    "pydantic.mypy",
    "typer.rich_utils",
    "*.tests",
    "*.testing",
    "pytest",
    "_pytest",
    "setuptools",
    "pip",
    "IPython",
    "zstandard",
    "brotli",
    "brotlicffi",
    "h2",
    "socksio",
)

# Data files the program reads at run time, copied beside the executable (source under src/,
# destination in the build): the Public Suffix List that `codex research` reads.
DATA_FILES = ("codex_data/public_suffix_list.dat",)

# Native extension modules the program loads only inside a function (the exec policy's bash
# parser): named so the build fails loudly if one is missing instead of shipping a binary
# whose first `bash -lc` script cannot be judged.
# Beside each build (not shipped: they hold build-machine paths), the inputs of its SBOM:
# Nuitka's --report (every module and DLL compiled in) and pip's install report of the build
# venv (every distribution with the sha256 of the wheel it came from).
NUITKA_REPORT = "nuitka-report.xml"
INSTALL_REPORT = "pip-install-report.json"

INCLUDE_MODULES = (
    "tree_sitter._binding",
    "tree_sitter_bash._binding",
)


class BuildError(Exception):
    """A build precondition failed; the message says what to do."""


def host_triple() -> str:
    """The Rust-style target triple of this machine (what Nuitka can build here)."""
    system = platform.system()
    machine = platform.machine().lower()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(
        machine
    )
    if arch is None:
        raise BuildError(f"unsupported host architecture {machine!r}")
    if system == "Linux":
        libc, _ = platform.libc_ver()
        return f"{arch}-unknown-linux-{'gnu' if libc == 'glibc' else 'musl'}"
    if system == "Darwin":
        return f"{arch}-apple-darwin"
    if system == "Windows":
        return f"{arch}-pc-windows-msvc"
    raise BuildError(f"unsupported host system {system!r}")


def refusal_reason(triple: str, host: str) -> str | None:
    """Why `triple` cannot be built on `host`, or None when it can."""
    if triple not in ALL_TRIPLES:
        return f"unknown target {triple!r}; known targets: {', '.join(ALL_TRIPLES)}"
    if triple == host:
        return None
    return (
        f"cannot build {triple} on a {host} host: Nuitka compiles with the host's C compiler "
        f"and links the host's Python and libc, so it cannot cross-compile; build it on a "
        f"{triple} machine (the CI workflow .github/workflows/native.yml does)"
    )


def requested_targets(cli_targets: list[str], host: str) -> list[str]:
    """Targets from --target, else CODEX_TARGETS, else the host triple."""
    if cli_targets:
        return cli_targets
    env = os.environ.get("CODEX_TARGETS", "").replace(",", " ").split()
    return env or [host]


def cache_root() -> Path:
    default = Path.home() / ".cache" / "codex-build"
    return Path(os.environ.get("CODEX_BUILD_CACHE") or default).expanduser().resolve()


def exe_name(triple: str) -> str:
    return "codex.exe" if "windows" in triple else "codex"


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies (pyproject `dependencies`), nothing from `dev`."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    deps: list[str] = data["project"]["dependencies"]
    return deps


def venv_dir() -> Path:
    """Where the build venv for the current requirements, Python and Nuitka edits lives.

    The edits are in the name so a venv is only ever patched by one version of them (no venv
    holding an older edit that the anchors no longer match)."""
    lock = REPO / "requirements.lock"
    key = hashlib.sha256()
    key.update(sys.version.encode())
    key.update("\n".join((BUILD_PIP, *BUILD_REQUIREMENTS, *runtime_requirements())).encode())
    if lock.exists():
        key.update(lock.read_bytes())
    key.update(Path(nuitka_patches.__file__).read_bytes())
    return cache_root() / f"venv-{key.hexdigest()[:16]}"


def venv_site_packages(venv: Path) -> Path:
    """The venv's site-packages (it was made by this interpreter, so same X.Y)."""
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def build_venv() -> Path:
    """Create (once) and return the build venv: patched Nuitka + runtime dependencies only."""
    venv = venv_dir()
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not _venv_complete(venv):
        with build_lock(venv.name):
            if not _venv_complete(venv):
                _create_venv(venv, python, REPO / "requirements.lock")
    # Also on a finished venv: a no-op there, and it re-checks the files Nuitka will compile.
    patch_nuitka(venv)
    return python


def _venv_complete(venv: Path) -> bool:
    """Finished, with pip's install report (the SBOM takes each wheel's sha256 from it)."""
    return (venv / ".complete").exists() and (venv / INSTALL_REPORT).exists()


def patch_nuitka(venv: Path) -> None:
    try:
        changed = nuitka_patches.apply(venv_site_packages(venv))
    except nuitka_patches.PatchError as err:
        raise BuildError(str(err)) from err
    for path in changed:
        print(f"build: patched {path}", flush=True)


def _create_venv(venv: Path, python: Path, lock: Path) -> None:
    print(f"build: creating build venv {venv}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
    subprocess.run([*pip, BUILD_PIP], check=True)
    constraints = ["-c", str(lock)] if lock.exists() else []
    subprocess.run([*pip, *BUILD_REQUIREMENTS, *runtime_requirements(), *constraints,
                    "--report", str(venv / INSTALL_REPORT)], check=True)
    patch_nuitka(venv)
    (venv / ".complete").write_text("ok\n")


def input_files() -> list[Path]:
    """Every source file whose bytes decide the binary's content (plus this script and the
    Nuitka edits)."""
    # Not the *.egg-info that `pip install -e .` writes into src/: it is derived (from
    # pyproject.toml) and differs per checkout, so keying on it missed the cache on every clone.
    files = sorted(p for p in (REPO / "src").rglob("*") if p.is_file() and "__pycache__" not in
                   p.parts and p.suffix not in (".pyc", ".pyo")
                   and not any(part.endswith(".egg-info") for part in p.parts))
    files.append(Path(__file__).resolve())
    files.append(Path(nuitka_patches.__file__).resolve())
    return files


def build_key(triple: str, python: Path) -> str:
    """Hash of the build's inputs; equal keys mean an equal binary.

    Dependencies enter as the build venv's `pip freeze` (exactly what can be compiled in), not
    as requirements.lock or pyproject.toml, so a new dev-only dependency or a tool setting does
    not force a ten-minute rebuild.
    """
    freeze = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], check=True,
                            capture_output=True, text=True).stdout
    digest = hashlib.sha256()
    for item in (triple, sys.version, NUITKA_VERSION, freeze):
        digest.update(item.encode() + b"\0")
    for path in input_files():
        digest.update(str(path.relative_to(REPO)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def nuitka_command(python: Path, entry: Path, out_dir: Path, triple: str) -> list[str]:
    jobs = os.environ.get("CODEX_BUILD_JOBS") or str(os.cpu_count() or 1)
    cmd = [
        str(python), "-m", "nuitka",
        "--standalone",
        "--assume-yes-for-downloads",
        f"--output-dir={out_dir}",
        f"--output-filename={exe_name(triple)}",
        f"--jobs={jobs}",
        "--lto=no",
        "--python-flag=no_site",
        # The sandbox helper re-executes this binary, and the command it confines is often
        # `sh -c ...`: Nuitka's fork-bomb guard would mistake that `-c` for the binary
        # calling itself as a Python interpreter and abort.
        "--no-deployment-flag=self-execution",
        "--include-package=codex",
        "--remove-output",
        "--quiet",
        "--no-progressbar",
        f"--report={out_dir / NUITKA_REPORT}",
    ]
    cmd += [f"--nofollow-import-to={name}" for name in NOFOLLOW]
    cmd += [f"--include-module={name}" for name in INCLUDE_MODULES]
    cmd += [f"--include-data-files={REPO / 'src' / name}={name}" for name in DATA_FILES]
    cmd.append(str(entry))
    return cmd


@contextlib.contextmanager
def build_lock(name: str) -> Iterator[None]:
    """Serialize builds of one key: a second `dev/test` waits for the first and reuses it."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{name}.lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: CI runs one build per runner anyway
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"build: waiting for another build of {name} to finish", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def run_nuitka(triple: str, key: str, python: Path) -> Path:
    """Compile into the cache (once per key, under a lock); return the `codex` folder."""
    with build_lock(f"{triple}-{key}"):
        return _run_nuitka_locked(triple, key, python)


def _run_nuitka_locked(triple: str, key: str, python: Path) -> Path:
    root = cache_root()
    final = root / "out" / f"{triple}-{key}"
    if all((final / name).exists() for name in (f"codex/{exe_name(triple)}", "manifest.json",
                                                  NUITKA_REPORT, INSTALL_REPORT)):
        print(f"build: cache hit {final}", flush=True)
        return final / "codex"
    work = Path(tempfile.mkdtemp(prefix=f"build-{triple}-", dir=root))
    try:
        entry = work / "codex_entry.py"
        entry.write_text(
            '"""Native entry point: the same `main` as `python -m codex`."""\n'
            "import sys\n\nfrom codex.__main__ import main\n\nsys.exit(main())\n",
            encoding="utf-8",
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO / "src")
        env["NUITKA_CACHE_DIR"] = str(root / "nuitka-cache")
        env["CCACHE_DIR"] = str(root / "ccache")
        env.pop("PYTHONHOME", None)
        cmd = nuitka_command(python, entry, work / "out", triple)
        print("build: " + " ".join(cmd), flush=True)
        started = time.monotonic()
        subprocess.run(cmd, check=True, env=env, cwd=work)
        seconds = time.monotonic() - started
        dist = work / "out" / "codex_entry.dist"
        if not (dist / exe_name(triple)).exists():
            raise BuildError(f"Nuitka finished but {dist / exe_name(triple)} is missing")
        staged = work / "final"
        staged.mkdir()
        dist.rename(staged / "codex")
        (work / "out" / NUITKA_REPORT).rename(staged / NUITKA_REPORT)
        shutil.copy2(python.parents[1] / INSTALL_REPORT, staged / INSTALL_REPORT)
        manifest = {
            "triple": triple,
            "key": key,
            "nuitka": NUITKA_VERSION,
            "python": platform.python_version(),
            "build_seconds": round(seconds, 1),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)
        print(f"build: compiled {triple} in {seconds:.0f}s -> {final}", flush=True)
        return final / "codex"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def install_into_vendor(built: Path, triple: str) -> Path:
    """Replace vendor/<triple>/codex with the cached build (copy, then rename into place)."""
    target_dir = REPO / "vendor" / triple
    target_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".codex-", dir=target_dir))
    shutil.copytree(built, tmp / "codex", symlinks=False)
    manifest = built.parent / "manifest.json"
    shutil.copy2(manifest, tmp / "codex" / "build-manifest.json")
    for report in (NUITKA_REPORT, INSTALL_REPORT):
        shutil.copy2(built.parent / report, target_dir / report)
    dest = target_dir / "codex"
    old = target_dir / ".codex-old"
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    (tmp / "codex").rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return dest / exe_name(triple)


# The plugin runtime's native library stays out of the binary's folder (see
# codex/plugins/wasmtime_lib.py: it would take the platform package past its budget); it goes
# to vendor/<triple>/plugin-runtime/, laid out as in the wheel, for its own npm package.
PLUGIN_RUNTIME = "plugin-runtime"
WASMTIME_LIBRARIES = ("_libwasmtime.so", "_libwasmtime.dylib", "_wasmtime.dll")


def install_plugin_runtime(python: Path, triple: str) -> Path:
    """Copy wasmtime's native library (and its license) from the build venv into
    vendor/<triple>/plugin-runtime/; the path of the library."""
    package = venv_site_packages(python.parents[1]) / "wasmtime"
    found = [p for p in sorted(package.glob("*/*")) if p.name in WASMTIME_LIBRARIES]
    if len(found) != 1:
        raise BuildError(f"expected one wasmtime library under {package}, found {found}; "
                         "recreate the build venv (delete it) and build again")
    library = found[0]
    licenses = sorted(package.parent.glob("wasmtime-*.dist-info/LICENSE*")) + sorted(
        package.parent.glob("wasmtime-*.dist-info/licenses/LICENSE*"))
    target = REPO / "vendor" / triple / PLUGIN_RUNTIME
    shutil.rmtree(target, ignore_errors=True)
    dest = target / "wasmtime" / library.parent.name / library.name
    dest.parent.mkdir(parents=True)
    shutil.copy2(library, dest)
    if licenses:
        shutil.copy2(licenses[0], target / "LICENSE-wasmtime")
    return dest


def smoke(binary: Path) -> None:
    """The fresh binary must answer --version with the package version."""
    proc = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout.startswith("codex "):
        raise BuildError(f"{binary} --version failed ({proc.returncode}): {proc.stderr.strip()}")
    print(f"build: {binary} -> {proc.stdout.strip()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", default=[], help="triple to build")
    parser.add_argument("--force", action="store_true", help="ignore the cached build")
    parser.add_argument("--setup-only", action="store_true",
                        help="only create the build venv (used by dev/setup)")
    parser.add_argument("--print-key", action="store_true", help="print the cache key and exit")
    args = parser.parse_args(argv)
    try:
        host = host_triple()
        if args.setup_only:
            print(f"build: build venv ready: {build_venv()}")
            return 0
        targets = requested_targets(args.target, host)
        refused = [(t, r) for t in targets if (r := refusal_reason(t, host))]
        for triple, reason in refused:
            print(f"build: refusing {triple}: {reason}", file=sys.stderr)
        if refused:
            return 2
        python = build_venv()
        for triple in targets:
            key = build_key(triple, python)
            if args.print_key:
                print(key)
                continue
            if args.force:
                shutil.rmtree(cache_root() / "out" / f"{triple}-{key}", ignore_errors=True)
            built = run_nuitka(triple, key, python)
            with build_lock(f"vendor-{triple}"):
                smoke(install_into_vendor(built, triple))
                install_plugin_runtime(python, triple)
        return 0
    except BuildError as err:
        print(f"build: error: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(f"build: error: command failed with exit {err.returncode}: {err.cmd}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
