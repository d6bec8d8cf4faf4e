"""The rollout file: durable lines, torn tails after a crash, lookup by id or recency."""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

import pytest

from codex.agent.rollout import (
    RolloutError,
    RolloutWriter,
    find_rollout,
    load_rollout,
    new_session_id,
)
from codex.model import FunctionCall, FunctionCallOutput, Message


def _write_session(home: Path, items: list, meta: dict | None = None) -> Path:
    session_id = new_session_id()
    writer = RolloutWriter.create(home, session_id, meta or {"cwd": "/w"})
    writer.append_items(items)
    writer.close()
    return writer.path


def test_round_trip_and_file_modes(tmp_path: Path) -> None:
    items = [Message("user", "hi"), FunctionCall("c1", "shell", '{"command": ["ls"]}'),
             FunctionCallOutput("c1", "a\nb"), Message("assistant", "done")]
    path = _write_session(tmp_path, items)
    loaded = load_rollout(path)
    assert loaded.items == items and not loaded.torn_tail
    assert loaded.meta["cwd"] == "/w" and loaded.session_id in path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"rollout-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-[0-9a-f-]{36}\.jsonl", path.name)


def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = _write_session(tmp_path, [Message("user", "hi")])
    with path.open("ab") as handle:
        handle.write(b'{"type":"response_item","payload":{"type":"mess')
    loaded = load_rollout(path)
    assert loaded.items == [Message("user", "hi")] and loaded.torn_tail
    writer = RolloutWriter.resume(path)
    writer.append_items([Message("user", "again")])
    writer.close()
    lines = path.read_text().splitlines()
    assert all(json.loads(line) for line in lines)
    assert load_rollout(path).items == [Message("user", "hi"), Message("user", "again")]


def test_damaged_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    path = _write_session(tmp_path, [Message("user", "hi")])
    content = path.read_text().splitlines()
    path.write_text("\n".join([content[0], "garbage", content[1]]) + "\n")
    with pytest.raises(RolloutError, match=rf"{re.escape(str(path))}:2: "):
        load_rollout(path)


def test_not_a_session_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"timestamp":"t","type":"response_item","payload":'
                    '{"type":"message","role":"user","content":"hi"}}\n')
    with pytest.raises(RolloutError, match="no session_meta"):
        load_rollout(path)


def test_find_by_prefix_and_most_recent(tmp_path: Path) -> None:
    with pytest.raises(RolloutError, match="no recorded session"):
        find_rollout(tmp_path)
    first = _write_session(tmp_path, [])
    time.sleep(0.01)
    second = _write_session(tmp_path, [])
    assert find_rollout(tmp_path) == second
    os.utime(first)  # appended to later: now the most recent
    past = second.stat().st_mtime_ns - 10**9
    os.utime(second, ns=(past, past))
    assert find_rollout(tmp_path) == first
    first_id = load_rollout(first).session_id
    assert find_rollout(tmp_path, first_id) == first
    assert find_rollout(tmp_path, first_id.upper()[:20]) == first
    with pytest.raises(RolloutError, match="no session with id"):
        find_rollout(tmp_path, "0000")


def test_session_ids_are_uuid7_and_time_ordered() -> None:
    ids = [new_session_id() for _ in range(50)]
    for value in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            value)
    assert len(set(ids)) == 50
    earlier = new_session_id()
    time.sleep(0.002)
    assert new_session_id()[:13] > earlier[:13]


def test_a_live_session_cannot_be_opened_twice(tmp_path: Path) -> None:
    writer = RolloutWriter.create(tmp_path, new_session_id(), {"cwd": "/w"})
    with pytest.raises(RolloutError, match="in use by another codex process"):
        RolloutWriter.resume(writer.path)
    writer.close()
    RolloutWriter.resume(writer.path).close()  # free again once the first writer is gone
