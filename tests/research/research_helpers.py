"""How the research tests start `codex research`: argv and environment against the scripted
model server, with a private CODEX_HOME and test keys for the loopback providers; and the
suite's fixtures (re-exported by conftest.py, imported by the native e2e suite).

`ENTRY` is the command that runs codex: the Python package here; tests/e2e/test_native_research.py
points it at the Nuitka binary so the same tests cover both."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from web_world import WebWorld

from support.model_server import ModelServer

RunResearch = Callable[..., subprocess.CompletedProcess[str]]
ENTRY: list[str] = [sys.executable, "-m", "codex"]


def research_argv(server: ModelServer, args: Sequence[str],
                  config: Sequence[str] = ()) -> list[str]:
    """`codex -c <loopback model> [-c CONFIG ...] research ARGS` (codex: `ENTRY`)."""
    overrides = ["-c", "model_provider=loop",
                 "-c", f"model_providers.loop.base_url={server.url}",
                 "-c", "model_providers.loop.wire_api=responses",
                 "-c", "model_providers.loop.request_max_retries=0"]
    for item in config:
        overrides += ["-c", item]
    return [*ENTRY, *overrides, "research", *args]


def research_env(codex_home: Path, **extra: str) -> dict[str, str]:
    """Our environment minus CODEX_*/OPENAI_*, with the test keys and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update({"CODEX_HOME": str(codex_home), "NO_COLOR": "1",
                "BRAVE_API_KEY": "brave-test-key", "TAVILY_API_KEY": "tvly-test-key", **extra})
    return env


@pytest.fixture
def codex_home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def web() -> Iterator[WebWorld]:
    world = WebWorld()
    try:
        yield world
    finally:
        world.close()


@pytest.fixture
def run_research(model_server: ModelServer, codex_home: Path,
                 tmp_path: Path) -> RunResearch:
    """`codex -c <loopback model> [-c ...] research ARGS`, to completion."""

    def run(*args: str, config: tuple[str, ...] = (), timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(research_argv(model_server, args, config), capture_output=True,
                              text=True, env=research_env(codex_home), cwd=tmp_path,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    return run


def make_pdf(lines: Sequence[str], *, title: str = "", created: str = "") -> bytes:
    """A minimal, valid one-page PDF whose text layer holds `lines` (Helvetica, one text line
    each), with the document info `title` and `created` (a PDF date such as D:20260314)."""
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(
        f"({escape(line)}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Title ({escape(title)}) /CreationDate ({created}) >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
