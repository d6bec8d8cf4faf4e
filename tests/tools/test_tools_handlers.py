"""The handlers end to end: real guard chain, real kernel sandbox, real audit log on disk.

Oracles are files in the workspace (and outside it) and the audit log's entries, not the
handlers' own word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex.approvals import NonInteractiveApprover
from codex.audit import AuditLog, read_entries, verify_log
from codex.policies import ApprovalPolicy, ReviewDecision
from codex.security import SecurityProfile, resolve_policy
from codex.tools.base import ToolContext
from codex.tools.guarded_exec import Guard
from codex.tools.registry import default_registry
from support.approvers import ScriptedApprover

pytestmark = pytest.mark.timeout(120)

PATCH = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def make_ctx(ws: Path, home: Path, *, approval: ApprovalPolicy = ApprovalPolicy.NEVER,
             approver: object | None = None,
             profile: SecurityProfile = SecurityProfile.WORKSPACE_WRITE,
             sink: list[tuple[str, bytes]] | None = None) -> ToolContext:
    audit = AuditLog(home)
    guard = Guard.create(codex_home=home, approval_policy=approval,
                         approver=approver or NonInteractiveApprover(),  # type: ignore[arg-type]
                         audit=audit, session_id="sess-tools", actor="agent")
    return ToolContext(
        workspace=ws, sandbox_policy=resolve_policy(profile, ws), approval_policy=approval,
        session_id="sess-tools", guard=guard, audit=audit,
        on_output=(lambda s, c: sink.append((s, c))) if sink is not None else None,
    )


def audit_trail(home: Path) -> list[tuple[str, str, str]]:
    report = verify_log(home / "audit")
    assert report.ok, report.findings
    return [(e.operation, e.decision, e.target) for e in read_entries(home / "audit")]


def shell(ctx: ToolContext, **arguments: object) -> tuple[bool, str, dict[str, object]]:
    out = default_registry().dispatch("shell", json.dumps(arguments), ctx)
    return out.success, out.text, out.data


# --- shell --------------------------------------------------------------------------------

def test_shell_runs_a_command_and_streams_output(ws: Path, home: Path) -> None:
    chunks: list[tuple[str, bytes]] = []
    ok, text, data = shell(make_ctx(ws, home, sink=chunks), command=["echo", "hi"])
    assert ok
    assert text.startswith("Exit code: 0\nWall time: ")
    assert text.endswith("\nOutput:\nhi\n")
    assert data["type"] == "command_execution" and data["exit_code"] == 0
    assert data["aggregated_output"] == "hi\n"
    assert b"".join(c for _, c in chunks) == b"hi\n"
    assert ("command_exec", "allowed", "echo hi") in audit_trail(home)


def test_shell_workdir_and_writes_inside_workspace(ws: Path, home: Path) -> None:
    (ws / "sub").mkdir()
    ok, _, data = shell(make_ctx(ws, home), command=["touch", "made.txt"], workdir="sub")
    assert ok, data
    assert (ws / "sub" / "made.txt").exists()


def test_shell_cannot_write_outside_the_workspace(tmp_path: Path, ws: Path, home: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("control: writable without the sandbox\n")  # control run
    outside.unlink()
    ok, text, _ = shell(make_ctx(ws, home), command=["touch", str(outside)])
    assert not ok
    assert not outside.exists()
    assert "Exit code: 1" in text


def test_shell_output_is_capped_head_and_tail(ws: Path, home: Path) -> None:
    ok, text, data = shell(make_ctx(ws, home), command=["seq", "1", "100000"])
    assert ok
    assert "Total output lines: 100000\n" in text
    body = text.split("Output:\n", 1)[1]
    lines = body.splitlines()
    assert lines[0] == "1" and lines[-1] == "100000"
    assert any(line.startswith("[... ") and "lines /" in line for line in lines)
    assert len(body.encode()) < 11 * 1024
    assert data["output_truncated"] is True


def test_shell_timeout_is_reported(ws: Path, home: Path) -> None:
    ok, text, data = shell(make_ctx(ws, home), command=["sleep", "30"], timeout_ms=300)
    assert not ok
    assert data["timed_out"] is True
    assert "timed out after 300 ms" in text


def test_forbidden_command_is_not_run(ws: Path, home: Path) -> None:
    victim = ws / "keep.txt"
    victim.write_text("x")
    ok, text, data = shell(make_ctx(ws, home), command=["rm", "-rf", "/"])
    assert not ok
    assert text.startswith("Command not run (forbidden)")
    assert data["status"] == "declined" and data["exit_code"] == 126
    assert victim.exists()
    assert ("command_exec", "denied", "rm -rf /") in audit_trail(home)


def test_escalation_request_is_declined_without_approval(tmp_path: Path, ws: Path,
                                                         home: Path) -> None:
    outside = tmp_path / "escaped.txt"
    ok, text, _ = shell(make_ctx(ws, home), command=["touch", str(outside)],
                        sandbox_permissions="require_escalated",
                        justification="needs to write outside")
    assert not ok
    assert "Command not run" in text
    assert not outside.exists()


def test_escalation_approved_runs_outside_the_sandbox(tmp_path: Path, ws: Path,
                                                      home: Path) -> None:
    outside = tmp_path / "escaped.txt"
    approver = ScriptedApprover(ReviewDecision.APPROVED)
    ok, _, data = shell(make_ctx(ws, home, approval=ApprovalPolicy.ON_REQUEST,
                                 approver=approver),
                        command=["touch", str(outside)], with_escalated_permissions=True,
                        justification="write the release notes outside the repo")
    assert ok, data
    assert outside.exists()
    assert data["sandboxed"] is False
    assert len(approver.requests) == 1


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"command": "ls -la"}, "argv array"),
        ({"command": []}, "non-empty array"),
        ({"command": ["ls"], "timeout_ms": -1}, "positive number"),
        ({"command": ["ls"], "sandbox_permissions": "root"}, "use_default"),
        ({"command": ["ls"], "bogus": 1}, "unknown argument"),
        ({"command": ["ls"], "workdir": "missing-dir"}, "not a directory"),
    ],
)
def test_shell_argument_errors(ws: Path, home: Path, arguments: dict[str, object],
                               fragment: str) -> None:
    ok, text, _ = shell(make_ctx(ws, home), **arguments)
    assert not ok and fragment in text


# --- apply_patch, all three ways in ------------------------------------------------------

def test_apply_patch_freeform(ws: Path, home: Path) -> None:
    out = default_registry().dispatch("apply_patch", PATCH, make_ctx(ws, home), kind="custom")
    assert out.success, out.text
    assert out.text == "Success. Updated the following files:\nA hello.txt"
    assert (ws / "hello.txt").read_text() == "hello\n"
    assert out.data["type"] == "file_change"
    assert out.data["changes"][0]["kind"] == "added"
    [(operation, decision, target)] = audit_trail(home)  # the user name is scrubbed
    assert (operation, decision) == ("patch_apply", "allowed")
    assert target.endswith("/ws/hello.txt")


def test_apply_patch_json_function(ws: Path, home: Path) -> None:
    out = default_registry("function").dispatch("apply_patch", json.dumps({"input": PATCH}),
                                                make_ctx(ws, home))
    assert out.success, out.text
    assert (ws / "hello.txt").exists()


@pytest.mark.parametrize("argv", [
    ["apply_patch", PATCH],
    ["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}EOF\n"],
])
def test_shell_apply_patch_is_routed_to_the_patch_engine(ws: Path, home: Path,
                                                         argv: list[str]) -> None:
    ok, text, data = shell(make_ctx(ws, home), command=argv)
    assert ok, text
    assert (ws / "hello.txt").read_text() == "hello\n"
    assert data["type"] == "file_change"
    operations = [op for op, _, _ in audit_trail(home)]
    assert operations == ["patch_apply"]  # no command ran


def test_shell_heredoc_with_cd_applies_in_that_directory(ws: Path, home: Path) -> None:
    (ws / "pkg").mkdir()
    ok, text, _ = shell(make_ctx(ws, home),
                        command=["bash", "-lc", f"cd pkg && apply_patch <<'EOF'\n{PATCH}EOF"])
    assert ok, text
    assert (ws / "pkg" / "hello.txt").exists()


def test_protected_patch_is_refused_and_audited(ws: Path, home: Path) -> None:
    text = "*** Begin Patch\n*** Add File: .git/hooks/pre-commit\n+evil\n*** End Patch"
    out = default_registry().dispatch("apply_patch", text, make_ctx(ws, home), kind="custom")
    assert not out.success
    assert "protected path" in out.text and "no file was changed" in out.text
    assert not (ws / ".git").exists()
    [(operation, decision, _)] = audit_trail(home)
    assert (operation, decision) == ("patch_apply", "denied")


def test_read_only_profile_refuses_patches(ws: Path, home: Path) -> None:
    ctx = make_ctx(ws, home, profile=SecurityProfile.OFFLINE)
    out = default_registry().dispatch("apply_patch", PATCH, ctx, kind="custom")
    assert not out.success and "--profile workspace-write" in out.text
    assert not (ws / "hello.txt").exists()


def test_untrusted_asks_the_guard_approver_and_respects_no(ws: Path, home: Path) -> None:
    approver = ScriptedApprover(ReviewDecision.DENIED, ReviewDecision.APPROVED)
    ctx = make_ctx(ws, home, approval=ApprovalPolicy.UNTRUSTED, approver=approver)
    registry = default_registry()
    refused = registry.dispatch("apply_patch", PATCH, ctx, kind="custom")
    assert not refused.success and "declined" in refused.text
    assert not (ws / "hello.txt").exists()
    accepted = registry.dispatch("apply_patch", PATCH, ctx, kind="custom")
    assert accepted.success
    assert (ws / "hello.txt").exists()
    assert approver.requests[0].argv == ("apply_patch", "hello.txt")
    assert "+hello" in approver.requests[0].reason
    decisions = [d for op, d, _ in audit_trail(home) if op == "patch_apply"]
    assert decisions == ["denied", "allowed"]


def test_failed_patch_tells_the_model_nothing_changed(ws: Path, home: Path) -> None:
    (ws / "a.txt").write_text("a\n")
    bad = "*** Begin Patch\n*** Update File: a.txt\n@@\n-nope\n+x\n*** End Patch"
    out = default_registry().dispatch("apply_patch", bad, make_ctx(ws, home), kind="custom")
    assert not out.success
    assert "hunk 1" in out.text and "no file was changed" in out.text
    assert (ws / "a.txt").read_text() == "a\n"


# --- registry ------------------------------------------------------------------------------

def test_registry_reports_model_mistakes_as_outputs(ws: Path, home: Path) -> None:
    registry = default_registry()
    ctx = make_ctx(ws, home)
    assert "unknown tool 'nope'" in registry.dispatch("nope", "{}", ctx).text
    assert "as JSON" in registry.dispatch("shell", "{not json", ctx).text
    assert "JSON object" in registry.dispatch("shell", "[1]", ctx).text
    assert "takes JSON arguments" in registry.dispatch("shell", "ls", ctx, kind="custom").text


def test_update_plan_through_the_registry(ws: Path, home: Path) -> None:
    out = default_registry().dispatch(
        "update_plan", json.dumps({"plan": [{"step": "a", "status": "in_progress"}]}),
        make_ctx(ws, home))
    assert out.success and out.text == "Plan updated"
    assert out.data["items"] == [{"text": "a", "status": "in_progress", "completed": False}]


def test_file_edited_while_the_user_reviews_is_not_overwritten(ws: Path, home: Path) -> None:
    target = ws / "a.txt"
    target.write_text("a\n")

    def review(preview: object) -> ReviewDecision:
        target.write_text("the user's own edit\n")  # the user edits while deciding
        return ReviewDecision.APPROVED

    ctx = make_ctx(ws, home, approval=ApprovalPolicy.UNTRUSTED)
    ctx.approve_patch = review  # type: ignore[assignment]
    out = default_registry().dispatch(
        "apply_patch", "*** Begin Patch\n*** Update File: a.txt\n@@\n-a\n+b\n*** End Patch",
        ctx, kind="custom")
    assert not out.success
    assert "changed while the patch was being applied" in out.text
    assert target.read_text() == "the user's own edit\n"
