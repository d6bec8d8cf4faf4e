"""history.jsonl under `[history] max_bytes`: the oldest prompts go, the newest stay whole,
and concurrent writers (separate processes, as separate sessions are) lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

from codex.tui.history import HISTORY_FILE, PromptHistory


def texts(home: Path) -> list[str]:
    return [json.loads(line)["text"] for line in
            (home / HISTORY_FILE).read_text().splitlines()]


def test_the_file_stays_under_the_cap_keeping_the_newest_prompts(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path, persist=True, session_id="s", max_bytes=400)
    for i in range(40):
        history.store_string(f"prompt number {i:02}")
    path = tmp_path / HISTORY_FILE
    assert path.stat().st_size <= 400
    kept = texts(tmp_path)
    assert kept == [f"prompt number {i:02}" for i in range(40 - len(kept), 40)]
    assert len(kept) >= 5  # each line is ~60 bytes: the cap holds several
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == [HISTORY_FILE]  # no temporary left
    assert next(iter(PromptHistory(tmp_path, persist=True).load_history_strings())) == \
        "prompt number 39"


def test_without_a_cap_nothing_is_dropped(tmp_path: Path) -> None:
    history = PromptHistory(tmp_path, persist=True)
    for i in range(40):
        history.store_string(f"prompt number {i:02}")
    assert len(texts(tmp_path)) == 40


def _writer(home: str, tag: str, count: int) -> None:
    history = PromptHistory(Path(home), persist=True, max_bytes=1_000_000)
    for i in range(count):
        history.store_string(f"{tag}-{i}")


def test_trims_under_concurrent_writers_lose_no_newer_prompt(tmp_path: Path) -> None:
    # A first file over a small cap: every writer's first append trims it, so renames race
    # with appends. With a cap bigger than everything written later, nothing else may go.
    (tmp_path / HISTORY_FILE).write_bytes(b'{"text": "old"}\n' * 80_000)  # ~1.3 MB
    procs = [multiprocessing.get_context("fork").Process(
        target=_writer, args=(str(tmp_path), f"w{n}", 200)) for n in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    new = [t for t in texts(tmp_path) if t != "old"]
    assert sorted(new) == sorted(f"w{n}-{i}" for n in range(4) for i in range(200))
    assert os.path.getsize(tmp_path / HISTORY_FILE) <= 1_000_000
