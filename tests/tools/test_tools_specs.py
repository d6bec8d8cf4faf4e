"""The tool definitions have the exact shapes the Responses and Chat APIs expect."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from codex.patch import parse_patch
from codex.patch.parser import AddFile, DeleteFile, PatchParseError, UpdateFile
from codex.tools.registry import default_registry
from codex.tools.specs import (
    APPLY_PATCH_LARK_GRAMMAR,
    apply_patch_freeform_tool,
    default_tool_specs,
    shell_tool,
    to_chat_tools,
    update_plan_tool,
)


def test_freeform_apply_patch_is_a_custom_tool_with_a_lark_grammar() -> None:
    spec = apply_patch_freeform_tool()
    assert set(spec) == {"type", "name", "description", "format"}
    assert spec["type"] == "custom" and spec["name"] == "apply_patch"
    assert spec["format"] == {"type": "grammar", "syntax": "lark",
                              "definition": APPLY_PATCH_LARK_GRAMMAR}
    grammar = spec["format"]["definition"]
    assert grammar.startswith("start: begin_patch hunk+ end_patch\n")
    for rule in ('begin_patch: "*** Begin Patch" LF', 'end_patch: "*** End Patch" LF?',
                 'add_hunk: "*** Add File: " filename LF add_line+',
                 'delete_hunk: "*** Delete File: " filename LF',
                 'update_hunk: "*** Update File: " filename LF change_move? change?',
                 'change_move: "*** Move to: " filename LF',
                 'change_context: ("@@" | "@@ " /(.+)/) LF',
                 'change_line: ("+" | "-" | " ") /(.*)/ LF',
                 'eof_line: "*** End of File" LF', "%import common.LF"):
        assert rule in grammar.splitlines()


def test_function_tools_have_strict_false_object_schemas() -> None:
    for spec in (shell_tool(), update_plan_tool(), default_tool_specs("function")[1]):
        assert spec["type"] == "function"
        assert spec["strict"] is False
        params = spec["parameters"]
        assert params["type"] == "object" and params["additionalProperties"] is False
        assert set(params["required"]) <= set(params["properties"])
        json.dumps(spec)  # serialisable as sent


def test_shell_schema() -> None:
    props = shell_tool()["parameters"]["properties"]
    assert props["command"] == {"type": "array", "items": {"type": "string"},
                                "description": "The command to execute"}
    assert props["timeout_ms"]["type"] == "number"
    assert props["workdir"]["type"] == "string"
    assert props["sandbox_permissions"]["enum"] == ["use_default", "require_escalated"]
    assert props["justification"]["type"] == "string"
    assert shell_tool()["parameters"]["required"] == ["command"]


def test_update_plan_schema() -> None:
    params = update_plan_tool()["parameters"]
    item = params["properties"]["plan"]["items"]
    assert item["required"] == ["step", "status"]
    assert set(item["properties"]) == {"step", "status"}
    assert params["required"] == ["plan"]


def test_apply_patch_function_form_takes_input() -> None:
    spec = default_tool_specs("function")[1]
    assert spec["name"] == "apply_patch"
    assert spec["parameters"]["required"] == ["input"]
    assert "*** Begin Patch" in spec["description"]


def test_chat_conversion_nests_functions_and_turns_custom_into_function() -> None:
    chat = to_chat_tools(default_tool_specs("freeform"))
    assert [t["function"]["name"] for t in chat] == ["shell", "apply_patch", "update_plan"]
    for tool in chat:
        assert set(tool) == {"type", "function"} and tool["type"] == "function"
        assert set(tool["function"]) == {"name", "description", "parameters"}
    assert chat[1]["function"]["parameters"]["required"] == ["input"]


def test_registry_specs_follow_the_chosen_patch_form() -> None:
    assert [s["type"] for s in default_registry("freeform").specs()] == [
        "function", "custom", "function"]
    assert [s["type"] for s in default_registry("function").specs()] == ["function"] * 3


def _grammar() -> object:
    """The grammar as Python's lark can load it: lark refuses terminals that can match the
    empty string, so `/(.*)/` becomes the equivalent optional `/(.+)/?`; nothing else
    changes."""
    lark = pytest.importorskip("lark")
    assert APPLY_PATCH_LARK_GRAMMAR.count("/(.*)/") == 2
    return lark.Lark(APPLY_PATCH_LARK_GRAMMAR.replace("/(.*)/", "/(.+)/?"), parser="lalr")


def test_grammar_is_valid_lark_and_accepts_every_operation() -> None:
    parser = _grammar()
    patch = ("*** Begin Patch\n*** Add File: a.txt\n+hello\n*** Delete File: b.txt\n"
             "*** Update File: c.py\n*** Move to: d.py\n@@ def f():\n-    return 1\n"
             "+    return 2\n     pass\n@@\n-x\n+y\n*** End of File\n*** End Patch\n")
    parser.parse(patch)  # type: ignore[attr-defined]


def _hunks_in_tree(tree: Any) -> list[tuple[str, str]]:
    """(kind, file name) of every hunk in patch order, as the grammar parsed them. codex.patch
    trims whitespace around a file name (as the Codex CLI does), so the expectation is trimmed
    too."""
    found = []
    for hunk in tree.children:
        if getattr(hunk, "data", None) != "hunk":
            continue
        (op,) = hunk.children
        filename = next(c for c in op.children if getattr(c, "data", None) == "filename")
        found.append((str(op.data).removesuffix("_hunk"), str(filename.children[0]).strip()))
    return found


def _refusable(patch: str) -> bool:
    """Whether an update names no change at all, a `@@` header has no lines under it, or a
    file name is blank: the grammar allows these (`change?`, `/(.+)/` matching spaces), and
    the patch format calls them errors (codex.patch and the Codex CLI alike), so these are the
    only rejections allowed below."""
    lines = patch.split("\n")
    for index, line in enumerate(lines):
        for header in ("*** Add File: ", "*** Delete File: ", "*** Update File: ",
                       "*** Move to: "):
            if line.startswith(header) and not line.removeprefix(header).strip():
                return True
        rest = lines[index + 1:]
        if line.startswith("*** Update File: "):
            body = list(itertools.takewhile(
                lambda x: not x.startswith(("*** Add File: ", "*** Delete File: ",
                                            "*** Update File: ", "*** End Patch")), rest))
            if not any(x.startswith(("+", "-", " ", "*** Move to: ")) for x in body):
                return True
        if line.startswith("@@") and (not rest or rest[0][:1] not in ("+", "-", " ")):
            return True
    return False


def test_what_the_grammar_accepts_our_parser_accepts() -> None:
    """Any patch the model's sampler can produce must be readable by codex.patch, with the
    same file operations on the same paths. The patches are generated from the grammar
    itself (hypothesis' lark strategy), not picked by hand."""
    pytest.importorskip("lark")
    from hypothesis import HealthCheck, given, settings
    from hypothesis.extra.lark import from_lark

    parser = _grammar()
    kinds = {AddFile: "add", DeleteFile: "delete", UpdateFile: "update"}

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(from_lark(parser))  # type: ignore[arg-type]
    def check(patch: str) -> None:
        expected = _hunks_in_tree(parser.parse(patch))  # type: ignore[attr-defined]
        try:
            parsed = parse_patch(patch)
        except PatchParseError:
            assert _refusable(patch), f"codex.patch rejects a grammatical patch: {patch!r}"
            return
        assert [(kinds[type(op)], op.path) for op in parsed.ops] == expected
        tree = parser.parse(patch)  # type: ignore[attr-defined]
        moves = [str(next(t.find_data("filename")).children[0]).strip()
                 for t in tree.find_data("change_move")]
        # Every `+`/`-`/` ` line the grammar saw is a line of some hunk (none dropped).
        assert sum(len(chunk.lines) for op in parsed.ops if isinstance(op, UpdateFile)
                   for chunk in op.chunks) == len(list(tree.find_data("change_line")))
        assert sum(len(op.lines) for op in parsed.ops if isinstance(op, AddFile)) == len(
            list(tree.find_data("line")))
        assert [op.move_to for op in parsed.ops if isinstance(op, UpdateFile) and op.move_to
                ] == moves

    check()


def test_grammar_rejects_what_is_not_a_patch() -> None:
    lark = pytest.importorskip("lark")
    parser = _grammar()
    for bad in ("*** Begin Patch\n*** End Patch\n", "hello\n",
                "*** Begin Patch\n*** Add File: x\nno plus\n*** End Patch\n"):
        with pytest.raises(lark.exceptions.LarkError):
            parser.parse(bad)  # type: ignore[attr-defined]
