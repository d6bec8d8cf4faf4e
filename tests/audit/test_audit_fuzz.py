"""Property tests: the reader and verifier survive any bytes; any changed byte is detected."""

from __future__ import annotations

import contextlib
import shutil
import string
import tempfile
from pathlib import Path

from audit_helpers import fill
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex.audit import AuditLog, Scrubber, read_entries, verify_log
from codex.audit.entry import MalformedEntry, parse_line

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Byte soup biased towards the structure of real entries, so the fuzzer reaches deep paths.
_FRAGMENTS = st.sampled_from([
    b"{", b"}", b"\n", b'"seq":', b'"hash":"', b'"prev_hash":"', b"0" * 64, b'","', b"1",
    b'"ts":"2026-01-01T00:00:00Z"', b"\xff", b"\x00", b"[" * 50, b"NaN", b"1e999", b'\\ud800',
    b'"operation":"command_exec"', b'"decision":"allowed"', b"true",
])
_SOUP = st.lists(st.one_of(_FRAGMENTS, st.binary(max_size=40)), max_size=40).map(b"".join)


@FUZZ
@given(files=st.lists(_SOUP, min_size=1, max_size=3), lock=st.binary(max_size=200))
def test_verifier_and_reader_never_crash(files: list[bytes], lock: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for day, content in enumerate(files, start=1):
            (directory / f"audit-2026-01-{day:02d}.jsonl").write_bytes(content)
        (directory / "audit.lock").write_bytes(lock)
        report = verify_log(directory)
        assert report.ok == (report.error is None)
        report.to_dict()
        list(read_entries(directory))
        list(read_entries(directory, session="x"))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_parse_line_only_raises_malformed(raw: bytes) -> None:
    with contextlib.suppress(MalformedEntry):
        parse_line(raw)


@FUZZ
@given(raw=_SOUP)
def test_appending_after_garbage_keeps_a_verifiable_chain(raw: bytes) -> None:
    """Whatever a crash left behind at the end, the next append chains on a fresh line."""
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        log = AuditLog(home, scrubber=Scrubber())
        fill(log, 2)
        (day_file,) = (home / "audit").glob("audit-*.jsonl")
        with open(day_file, "ab") as handle:
            handle.write(raw.replace(b"\n", b" "))  # a torn write is one partial line
        entry = log.record("command_exec", "next", "allowed", "", "offline", "s", "user")
        report = verify_log(home / "audit")
        assert report.ok, report.error
        assert report.last_seq == entry.seq


_TEMPLATE: dict[str, bytes] = {}


def _template_log() -> bytes:
    """A 12-entry log, built once (content differs only by timestamps between runs)."""
    if "log" not in _TEMPLATE:
        with tempfile.TemporaryDirectory() as scratch:
            log = AuditLog(Path(scratch), scrubber=Scrubber())
            fill(log, 12)
            (day_file,) = (Path(scratch) / "audit").glob("audit-*.jsonl")
            _TEMPLATE["log"] = day_file.read_bytes()
            _TEMPLATE["lock"] = (Path(scratch) / "audit" / "audit.lock").read_bytes()
    return _TEMPLATE["log"]


@FUZZ
@given(position=st.integers(min_value=0), replacement=st.binary(min_size=1, max_size=1))
def test_any_changed_byte_is_detected(position: int, replacement: bytes) -> None:
    original = _template_log()
    index = position % len(original)
    if original[index:index + 1] == replacement:
        return
    tampered = original[:index] + replacement + original[index + 1:]
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "audit-2026-01-01.jsonl").write_bytes(tampered)
        (directory / "audit.lock").write_bytes(_TEMPLATE["lock"])
        report = verify_log(directory)
        assert not report.ok, (index, replacement)


@FUZZ
@given(text=st.text(max_size=300))
def test_scrub_output_is_always_storable(text: str) -> None:
    out = Scrubber(secret_values=["s3cr3t-value"], homes=["/home/u"], users=["u1"]).scrub(text)
    out.encode("utf-8")


@FUZZ
@given(prefix=st.text(max_size=30), suffix=st.text(max_size=30),
       secret=st.text(alphabet=string.ascii_letters + string.digits + "-_/+=",
                      min_size=8, max_size=40))
def test_environment_secret_never_survives(prefix: str, suffix: str, secret: str) -> None:
    scrubber = Scrubber(secret_values=[secret], homes=["/home/zed"], users=["zed"])
    assert secret not in scrubber.scrub(prefix + secret + suffix)


def test_template_is_a_valid_log() -> None:
    """The mutation test above starts from a log that verifies cleanly."""
    directory = Path(tempfile.mkdtemp())
    try:
        (directory / "audit-2026-01-01.jsonl").write_bytes(_template_log())
        (directory / "audit.lock").write_bytes(_TEMPLATE["lock"])
        report = verify_log(directory)
        assert report.ok and report.entries == 12
    finally:
        shutil.rmtree(directory)
