"""`codex research --corpus DIR`: a local folder searched with FTS5/BM25, no network request,
a cited report; `--plan-only`; `-o FILE`; and `codex --version` loads none of research's
heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from research_helpers import RunResearch, make_pdf, research_argv, research_env

from support.model_server import ModelServer, responses_text

PLAN = json.dumps({"sub_questions": ["cache expiry time", "where is the cache stored"]})


def _corpus(root: Path) -> Path:
    folder = root / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "cache.md").write_text(
        "# Cache expiry\n\nThe cache expires entries after the configured time to live, "
        "which defaults to one day.\n\nA stale entry is revalidated with its ETag header "
        "before it is used again.\n")
    (folder / "sub" / "notes.txt").write_text(
        "Storage notes\n\nWe decided that the cache lives in a SQLite database file under "
        "the home directory of the user.\n")
    (folder / "page.html").write_text(
        "<html><head><title>Unrelated page</title></head><body><article><p>Bananas are "
        "yellow fruit that grow in tropical climates around the world.</p></article>"
        "</body></html>")
    (folder / "image.png").write_bytes(b"\x89PNG not indexed")
    return folder


def test_corpus_run_cites_local_files_without_network(
        run_research: RunResearch, model_server: ModelServer, tmp_path: Path,
        codex_home: Path) -> None:
    folder = _corpus(tmp_path)
    model_server.enqueue(responses_text(PLAN), responses_text(
        "Entries expire after one day by default [1]. The cache is a SQLite file [3]."))
    out_file = tmp_path / "report.md"
    result = run_research("--corpus", str(folder), "-o", str(out_file),
                          "how does the cache expire?")
    assert result.returncode == 0, result.stderr
    assert out_file.read_text() == result.stdout
    assert "## Sources" in result.stdout and "## Source bias" in result.stdout
    rerun_json = None
    model_server.enqueue(responses_text(PLAN), responses_text(
        "Entries expire after one day by default [1]. The cache is a SQLite file [3]."))
    rerun_json = json.loads(run_research("--json", "--corpus", str(folder),
                                         "how does the cache expire?").stdout)
    urls = {c["url"] for c in rerun_json["citations"]}
    assert urls and all(u.startswith("file://") for u in urls)
    assert all(Path(u[len("file://"):]).resolve().is_relative_to(folder.resolve())
               for u in urls)
    assert all(not u.endswith("page.html") for u in urls)
    # Each run is a recorded session: meta, every model exchange, how it ended.
    rollouts = sorted((codex_home / "sessions").rglob("rollout-*.jsonl"))
    assert len(rollouts) == 2
    lines = [json.loads(line) for line in rollouts[-1].read_text().splitlines()]
    assert lines[0]["type"] == "session_meta" and lines[0]["payload"]["kind"] == "research"
    assert sum(1 for line in lines if line["type"] == "response_item") == 4
    assert lines[-1]["payload"]["status"] == "completed"
    assert rerun_json["unsupported"] == []
    assert not list((codex_home / "audit").rglob("*.jsonl")) or "network" not in "".join(
        p.read_text() for p in (codex_home / "audit").rglob("*.jsonl"))


def test_plan_only_prints_the_plan_and_stops(run_research: RunResearch,
                                             model_server: ModelServer,
                                             tmp_path: Path) -> None:
    model_server.enqueue(responses_text(PLAN))
    result = run_research("--plan-only", "--json", "--corpus", str(_corpus(tmp_path)),
                          "how does the cache expire?")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"plan": ["cache expiry time",
                                                  "where is the cache stored"]}
    assert model_server.pending == 0 and len(model_server.requests) == 1


def test_missing_corpus_is_an_error(run_research: RunResearch, model_server: ModelServer,
                                    tmp_path: Path) -> None:
    model_server.enqueue(responses_text(PLAN))
    result = run_research("--corpus", str(tmp_path / "nope"), "q?")
    assert result.returncode == 1
    assert "not a directory" in result.stderr


def test_version_imports_no_research_library() -> None:
    probe = ("import sys\nfrom codex.__main__ import main\ncode = main(['--version'])\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "{'httpx', 'trafilatura', 'datasketch', 'tldextract', 'numpy', 'scipy', "
             "'lxml'}))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    control = subprocess.run([sys.executable, "-c", probe.replace(
        "from codex.__main__ import main\ncode = main(['--version'])",
        "import codex.research.pipeline")], capture_output=True, text=True, timeout=60,
        check=False)
    assert "httpx" in control.stdout  # control: the research pipeline does load httpx


def test_plan_is_edited_on_a_terminal_before_it_runs(model_server: ModelServer,
                                                     tmp_path: Path, codex_home: Path) -> None:
    import os
    import pty
    import select
    import time

    folder = _corpus(tmp_path)
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'edited question about ETag\\n' > \"$1\"\n")
    editor.chmod(0o755)
    model_server.enqueue(responses_text(PLAN), responses_text("Stale entries use ETag [1]."))
    env = research_env(codex_home, EDITOR=str(editor), VISUAL=str(editor), TERM="dumb")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        research_argv(model_server, ["--corpus", str(folder), "how does the cache expire?"]),
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path)
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        if not answered and b"Run it?" in output:
            os.write(master, b"e\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=10)
    os.close(master)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "cache expiry time" in text  # the model's plan was shown
    assert "searched corpus: 'edited question about ETag'" in text
    assert "where is the cache stored'" not in text.split("Run it?")[1]


def test_depth_two_searches_the_model_follow_ups(run_research: RunResearch,
                                                 model_server: ModelServer,
                                                 tmp_path: Path) -> None:
    folder = _corpus(tmp_path)
    model_server.enqueue(responses_text(PLAN),
                         responses_text(json.dumps({"sub_questions": ["ETag revalidation",
                                                                      "cache expiry time"]})),
                         responses_text("Stale entries are revalidated with an ETag [1]."))
    result = run_research("--json", "--depth", "2", "--corpus", str(folder), "cache?")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # The repeated sub-question is not searched twice.
    assert out["searched"] == ["cache expiry time", "where is the cache stored",
                               "ETag revalidation"]
    follow_up = model_server.requests[1].json
    assert "where is the cache stored" in json.dumps(follow_up["input"])


def test_pdf_files_are_searched_read_and_cited(run_research: RunResearch,
                                               model_server: ModelServer, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "wind.pdf").write_bytes(make_pdf(
        ["The turbine output peaked at 41 megawatts in March.",
         "Maintenance of the northern turbines is planned for June."],
        title="Wind farm report", created="D:20260314120000Z"))
    (folder / "scan.pdf").write_bytes(make_pdf([]))  # no text layer: skipped, not an error
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a PDF")
    (folder / "notes.md").write_text("# Notes\n\nThe turbines were installed in 2019 by "
                                     "the regional energy cooperative.\n")
    plan = json.dumps({"sub_questions": ["turbine output peak"]})
    model_server.enqueue(responses_text(plan), responses_text(
        "Output peaked at 41 megawatts in March [1]."))
    result = run_research("--json", "--corpus", str(folder), "what was the turbine output?")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (cite,) = report["citations"]
    assert cite["url"] == (folder / "wind.pdf").resolve().as_uri()
    assert "41 megawatts" in cite["quote"]
    assert (cite["title"], cite["date"]) == ("Wind farm report", "2026-03-14")
    assert report["unsupported"] == []
    # the model was shown the PDF's text, which only the text layer holds
    assert "41 megawatts" in model_server.requests[-1].body.decode()
