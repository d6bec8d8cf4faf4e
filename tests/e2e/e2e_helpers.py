"""Helpers and fixtures for the install matrix (imported by conftest.py; a uniquely named
module because every suite has a `conftest`): the native binary, the packed tarballs, pinned package
managers and a throwaway local npm registry (verdaccio) holding only what we publish.

Everything real: the Nuitka binary built by npm/scripts/build_native.py (dev/test builds it
first; a missing binary is an error, not a skip), tarballs from npm/scripts/pack-all.js, and
npm/pnpm/yarn talking HTTP to verdaccio on 127.0.0.1. Each install gets its own prefix, HOME and
cache so no case sees another's state.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NPM_DIR = REPO / "npm"
META_VERSION = json.loads((NPM_DIR / "package.json").read_text())["version"]


def host_triple() -> str:
    """The triple the launcher maps this machine to (Linux or macOS)."""
    arch = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    if platform.system() == "Darwin":
        return f"{arch}-apple-darwin"
    libc = "gnu" if platform.libc_ver()[0] == "glibc" else "musl"
    return f"{arch}-unknown-linux-{libc}"


def platform_package() -> str:
    arch = "x64" if platform.machine() == "x86_64" else "arm64"
    if platform.system() == "Darwin":
        return f"@openai/codex-darwin-{arch}"
    suffix = "" if platform.libc_ver()[0] == "glibc" else "-musl"
    return f"@openai/codex-linux-{arch}{suffix}"


@pytest.fixture(scope="session")
def native_binary() -> Path:
    binary = REPO / "vendor" / host_triple() / "codex" / "codex"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: build it with `python3 npm/scripts/build_native.py` "
                    "(dev/test does this before the e2e suite)")
    return binary


@pytest.fixture(scope="session")
def tools() -> Path:
    """Directory holding node_modules with verdaccio, pnpm 9/10/12 and yarn 4."""
    out = subprocess.run([str(REPO / "tests/e2e/tools/install.sh")], check=True,
                         capture_output=True, text=True, timeout=600)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def packed(native_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Pack every package (plus the single-package fallback) and return manifest.json."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(["node", str(NPM_DIR / "scripts/pack-all.js"), "--no-build", "--single",
                    "--out", str(out)], check=True, timeout=600)
    manifest: dict[str, object] = json.loads((out / "manifest.json").read_text())
    manifest["dir"] = str(out)
    return manifest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Registry:
    """A running verdaccio and the npmrc that authenticates to it."""

    url: str
    npmrc: Path
    token: str
    published: list[str] = field(default_factory=list)


def _create_user(url: str) -> str:
    body = json.dumps({"name": "e2e", "password": "e2e-password", "type": "user",
                       "roles": [], "date": "2026-01-01T00:00:00Z"}).encode()
    req = urllib.request.Request(f"{url}/-/user/org.couchdb.user:e2e", data=body, method="PUT",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        token: str = json.loads(resp.read())["token"]
        return token


@pytest.fixture(scope="session")
def registry(tools: Path, packed: dict[str, object],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """verdaccio on 127.0.0.1 with no uplink (nothing leaks to or from the public registry),
    holding our platform package(s), metadata-only packages for the targets not built here,
    and the meta package (published last, as a release does)."""
    root = tmp_path_factory.mktemp("verdaccio")
    port = free_port()
    config = root / "config.yaml"
    config.write_text(
        f"storage: {root / 'storage'}\n"
        f"auth:\n  htpasswd:\n    file: {root / 'htpasswd'}\n    max_users: 10\n"
        "uplinks: {}\n"
        "packages:\n"
        "  '**':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n"
        "server:\n  keepAliveTimeout: 60\n"
        "max_body_size: 300mb\n"
        "log: { type: stdout, format: pretty, level: warn }\n"
    )
    log = (root / "verdaccio.log").open("wb")
    proc = subprocess.Popen(
        ["node", str(tools / "node_modules/verdaccio/bin/verdaccio"), "--config", str(config),
         "--listen", f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ping", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "verdaccio.log").read_text()) from None
                time.sleep(0.3)
        token = _create_user(url)
        npmrc = root / "npmrc"
        npmrc.write_text(f"registry={url}/\n//127.0.0.1:{port}/:_authToken={token}\n"
                         "fund=false\naudit=false\nupdate-notifier=false\n")
        reg = Registry(url=url, npmrc=npmrc, token=token)
        dist = Path(str(packed["dir"]))
        packages = packed["packages"]
        assert isinstance(packages, list)
        order = [p for p in packages if p["kind"] in ("platform", "plugin-runtime")]
        built = {str(p["name"]) for p in order}
        order += [{"file": str(_metadata_package(suffix, kind, dist, root))}
                  for suffix in PLATFORM_PACKAGES for kind in ("", "-plugin-runtime")
                  if f"@openai/codex-{suffix}{kind}" not in built]
        order += [p for p in packages if p["kind"] == "meta"]
        for pkg in order:
            pub = subprocess.run(["npm", "publish", str(dist / pkg["file"]), "--registry", url,
                                  "--userconfig", str(npmrc), "--tag", "latest"],
                                 capture_output=True, text=True, timeout=300)
            if pub.returncode != 0:
                raise RuntimeError(f"npm publish {pkg['file']} failed:\n{pub.stderr}")
            reg.published.append(str(pkg["file"]))
        yield reg
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()


PLATFORM_PACKAGES = {
    # package suffix -> (os, cpu, libc or None), as npm/scripts/pack-all.js writes them
    "linux-x64": ("linux", "x64", "glibc"), "linux-arm64": ("linux", "arm64", "glibc"),
    "linux-x64-musl": ("linux", "x64", "musl"), "linux-arm64-musl": ("linux", "arm64", "musl"),
    "darwin-x64": ("darwin", "x64", None), "darwin-arm64": ("darwin", "arm64", None),
    "win32-x64": ("win32", "x64", None), "win32-arm64": ("win32", "arm64", None),
}


def _metadata_package(suffix: str, kind: str, dist: Path, root: Path) -> Path:
    """A METADATA-ONLY platform package (`kind` "") or plugin runtime package (`kind`
    "-plugin-runtime") for a target that cannot be built on this host.

    The real registry holds all eight platform packages, and package managers read every
    optional dependency's metadata to pick one, so the local registry needs them too. These
    carry the package.json the pack script writes for that target (os/cpu/libc) and no binary;
    the tests assert that they are never installed here, except for `--libc=musl`, which
    checks only that npm selects the musl package and runs nothing from it."""
    os_name, cpu, libc = PLATFORM_PACKAGES[suffix]
    stage = root / "metadata" / f"{suffix}{kind}" / "package"
    stage.mkdir(parents=True)
    manifest: dict[str, object] = {
        "name": f"@openai/codex-{suffix}{kind}",
        "version": META_VERSION,
        "description": "e2e test artifact: metadata only, no binary",
        "license": "Apache-2.0",
        "os": [os_name], "cpu": [cpu],
        "files": ["vendor"], "preferUnplugged": True,
    }
    if libc:
        manifest["libc"] = [libc]
    (stage / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    out = subprocess.run(["npm", "pack", "--json", "--pack-destination", str(dist)], cwd=stage,
                         check=True, capture_output=True, text=True, timeout=120)
    filename: str = json.loads(out.stdout)[0]["filename"]
    return dist / filename


@dataclass
class Sandbox:
    """An isolated HOME / prefix / cache for one install case."""

    root: Path
    env: dict[str, str]

    def run(self, argv: list[str], *, cwd: Path | None = None, timeout: float = 300,
            check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(argv, cwd=cwd or self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout, input=input_text)
        if check and proc.returncode != 0:
            raise AssertionError(f"{argv} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                 f"stderr:\n{proc.stderr}")
        return proc


@pytest.fixture
def sandbox(tmp_path: Path, registry: Registry) -> Sandbox:
    home = tmp_path / "home"
    home.mkdir()
    prefix = tmp_path / "prefix"
    env = {
        "HOME": str(home),
        "PATH": f"{prefix / 'bin'}:{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "npm_config_userconfig": str(registry.npmrc),
        "npm_config_registry": f"{registry.url}/",
        "npm_config_cache": str(tmp_path / "npm-cache"),
        "npm_config_prefix": str(prefix),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "TMPDIR": str(tmp_path),
    }
    return Sandbox(root=tmp_path, env=env)


def run_smoke(box: Sandbox, test_js: Path, *, command: str | None = None,
              runner: list[str] | None = None) -> str:
    """Run the installed package's test.js and require every check to pass."""
    argv = [*(runner or ["node"]), str(test_js)]
    if command:
        argv += ["--command", command]
    proc = box.run(argv, check=False, timeout=300)
    assert proc.returncode == 0, f"test.js failed:\n{proc.stdout}\n{proc.stderr}"
    assert " 0 failed" in proc.stdout, proc.stdout
    return proc.stdout


def which(name: str, env: dict[str, str]) -> str | None:
    return shutil.which(name, path=env["PATH"])
