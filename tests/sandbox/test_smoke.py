"""Functional smoke per profile: hardening must never silently break real work (git, a C
compiler with make, a Python venv with an offline pip install, multiprocessing, tar, cp -a,
and HTTP to loopback in the -net profiles)."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from escape_kit import NET_PROFILES, PROFILES, WRITE_PROFILES, Arena, Outcome, nonce

pytestmark = pytest.mark.timeout(240)

HELLO_C = '#include <stdio.h>\nint main(void) { puts("hello from make"); return 0; }\n'
MAKEFILE = ("hello: hello.c\n\t$(CC) -O0 -o $@ hello.c\n"
            "check:\n\t$(CC) -pipe -fsyntax-only hello.c\n\t$(CC) -pipe -c -o /dev/null hello.c\n")


def ok(outcome: Outcome) -> None:
    assert outcome.returncode == 0, outcome.describe()


@pytest.fixture
def project(arena: Arena) -> Arena:
    src = arena.ws / "src"
    src.mkdir()
    (src / "hello.c").write_text(HELLO_C)
    (src / "Makefile").write_text(MAKEFILE)
    (src / "data.txt").write_text("data\n")
    os.utime(src / "data.txt", (1_000_000, 1_000_000))
    return arena


@pytest.mark.parametrize("profile", sorted(WRITE_PROFILES))
def test_git_init_add_commit(profile: str, project: Arena) -> None:
    shutil.rmtree(project.ws / ".git")
    script = ("git init -q . && git add src && "
              "git -c user.name=smoke -c user.email=smoke@example.com commit -qm init && "
              "git log --oneline")
    outcome = project.run(["sh", "-c", script], profile=profile)
    ok(outcome)
    log = subprocess.run(["git", "-C", str(project.ws), "log", "--format=%s"],
                         capture_output=True, text=True, check=False,
                         env={**project.env, "GIT_CONFIG_NOSYSTEM": "1"})
    assert log.stdout.strip() == "init", log.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_c_compile_with_make(profile: str, project: Arena) -> None:
    src = project.ws / "src"
    if profile in WRITE_PROFILES:
        outcome = project.run(["sh", "-c", "make -s -C src hello && ./src/hello"],
                              profile=profile)
        ok(outcome)
        assert b"hello from make" in outcome.stdout
        assert os.access(src / "hello", os.X_OK)
    else:
        ok(project.run(["make", "-s", "-C", str(src), "check"], profile=profile))


# An in-tree PEP 517 backend, so `pip wheel` builds offline with no build dependency at all.
SMOKE_BACKEND = """
import base64, hashlib, zipfile

NAME, VERSION = "codexsmoke", "1.0"
DIST = f"{NAME}-{VERSION}.dist-info"
FILES = {
    "codexsmoke.py": b"VALUE = 'smoke-ok'\\n",
    f"{DIST}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n".encode(),
    f"{DIST}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: smoke\\nRoot-Is-Purelib: true\\n"
                     b"Tag: py3-none-any\\n",
}


def _digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    record = "".join(f"{p},sha256={_digest(d)},{len(d)}\\n" for p, d in FILES.items())
    with zipfile.ZipFile(f"{wheel_directory}/{name}", "w") as whl:
        for path, data in FILES.items():
            whl.writestr(path, data)
        whl.writestr(f"{DIST}/RECORD", record + f"{DIST}/RECORD,,\\n")
    return name
"""


@pytest.fixture(scope="session")
def tiny_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built here, offline, with `pip wheel` of a one-module project."""
    root = tmp_path_factory.mktemp("wheelsrc")
    (root / "smoke_backend.py").write_text(SMOKE_BACKEND)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "smoke_backend"\n'
        'backend-path = ["."]\n')
    out = tmp_path_factory.mktemp("wheels")
    env = {**os.environ, "PIP_NO_INDEX": "1", "HOME": str(root)}
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index",
                           "--no-cache-dir", "-w", str(out), str(root)],
                          capture_output=True, text=True, env=env, check=False)
    wheels = list(out.glob("codexsmoke-*.whl"))
    if proc.returncode != 0 or not wheels:
        pytest.fail(f"could not build the smoke wheel offline: {proc.stderr}")
    return wheels[0]


@pytest.mark.parametrize("profile", sorted(WRITE_PROFILES))
def test_venv_and_offline_pip_install(profile: str, project: Arena, tiny_wheel: Path) -> None:
    base = Path(getattr(sys, "_base_executable", sys.executable))
    script = (f"{base} -m venv --without-pip venv && "
              f"{sys.executable} -m pip --python venv/bin/python install -q --no-index "
              f"--no-cache-dir {tiny_wheel} && "
              "venv/bin/python -c 'import codexsmoke; print(codexsmoke.VALUE)'")
    outcome = project.run(["sh", "-c", script], profile=profile, timeout=180)
    ok(outcome)
    assert b"smoke-ok" in outcome.stdout
    assert list((project.ws / "venv").glob("lib/python*/site-packages/codexsmoke.py"))


@pytest.mark.parametrize("profile", PROFILES)
def test_multiprocessing_pool(profile: str, project: Arena) -> None:
    code = ("from multiprocessing import Pool\n"
            "if __name__ == '__main__':\n"
            "    with Pool(2) as pool:\n"
            "        print('pool', sum(pool.map(abs, range(-10, 0))))\n")
    outcome = project.run([sys.executable, "-c", code], profile=profile)
    ok(outcome)
    assert b"pool 55" in outcome.stdout


@pytest.mark.parametrize("profile", PROFILES)
def test_tar_and_cp_archive(profile: str, project: Arena) -> None:
    if profile in WRITE_PROFILES:
        script = ("tar cf src.tar src && mkdir un && tar xf src.tar -C un && "
                  "cp -a src copy && tar tf src.tar")
        outcome = project.run(["sh", "-c", script], profile=profile)
        ok(outcome)
        for copy in (project.ws / "copy" / "data.txt", project.ws / "un" / "src" / "data.txt"):
            assert copy.read_text() == "data\n"
            assert copy.stat().st_mtime == 1_000_000, "mtime not preserved"
    else:
        outcome = project.run(["sh", "-c", "tar cf - src | tar tvf -"], profile=profile)
        ok(outcome)
        assert b"src/hello.c" in outcome.stdout


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    paths: list[str] = []  # noqa: RUF012  (shared log of requested paths)

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture(scope="session")
def http_server() -> Iterator[tuple[str, type[_Handler]]]:
    _Handler.body = ("served-" + nonce()).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Handler
    server.shutdown()


@pytest.mark.parametrize("profile", sorted(NET_PROFILES))
def test_http_get_to_loopback(profile: str, project: Arena,
                              http_server: tuple[str, type[_Handler]]) -> None:
    url, handler = http_server
    path = "/" + nonce()
    code = f"import urllib.request; print(urllib.request.urlopen('{url}{path}').read())"
    outcome = project.run([sys.executable, "-c", code], profile=profile)
    ok(outcome)
    assert handler.body in outcome.stdout
    assert path in handler.paths, "the server never saw the request"
