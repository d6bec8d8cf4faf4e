"""Reading rule files: our TOML schema (`*.toml`) and the Codex CLI's Starlark `*.rules`.

TOML schema (one file may hold many rules; every key but `pattern` and `decision` is optional):

    [[rule]]
    id = "git-remote"                      # name shown in matches; default "rule[N]"
    pattern = ["git", ["push", "fetch"]]   # words in order; a list means "any of these"
    decision = "prompt"                    # allow | prompt | forbidden
    justification = "talks to the remote"  # shown in prompts and refusals
    match = ["git push origin", ["git", "fetch"]]   # examples that must match
    not_match = ["git pull"]                         # examples that must not match

Examples are strings (split like a POSIX shell) or lists of words, and are checked when the file
loads: a failing example is a load error naming the file, the line of the rule and the rule.

Codex `.rules` files hold `prefix_rule(pattern=…, decision=…, justification=…, match=…,
not_match=…)` calls (Starlark syntax; `decision` defaults to allow there, as in the Codex CLI).
They are read with Python's `ast` module and only literal strings and lists are accepted; nothing
is ever evaluated.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codex.execpolicy.rules import PatternToken, Rule, RuleLoadError, RuleSet
from codex.execpolicy.types import Decision

RULES_DIRNAME = "rules"
_RULE_FIELDS = ("id", "pattern", "decision", "justification", "match", "not_match")
_PREFIX_RULE_FIELDS = ("pattern", "decision", "justification", "match", "not_match")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")


def rules_dir(codex_home: Path) -> Path:
    """`CODEX_HOME/rules`, where rule files are discovered."""
    return codex_home / RULES_DIRNAME


def load_rules(codex_home: Path | None, extra_files: Sequence[Path] = ()) -> RuleSet:
    """Load `CODEX_HOME/rules/*.toml` and `*.rules` (sorted by name), then `extra_files`.

    A missing rules directory is not an error (no user rules). Any bad file raises
    RuleLoadError, whose message is `<file>:<line>: <problem>`.
    """
    files: list[Path] = []
    if codex_home is not None:
        directory = rules_dir(codex_home)
        if directory.is_dir():
            files.extend(sorted(p for p in directory.iterdir()
                                if p.suffix in (".toml", ".rules") and p.is_file()))
    files.extend(extra_files)
    ruleset = RuleSet()
    for path in files:
        ruleset = ruleset.merged(load_rule_file(path))
    return ruleset


def load_rule_file(path: Path) -> RuleSet:
    """Load one file: TOML when it ends in `.toml`, Codex Starlark otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleLoadError(path, None, "no such rule file") from None
    except UnicodeDecodeError as exc:
        raise RuleLoadError(path, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise RuleLoadError(path, None, f"cannot read: {exc.strerror}") from None
    if path.suffix == ".toml":
        rules = parse_toml_rules(text, path)
    else:
        rules = parse_starlark_rules(text, path)
    return RuleSet(tuple(rules), (path,))


# --- TOML -----------------------------------------------------------------------------------

def parse_toml_rules(text: str, path: Path) -> list[Rule]:
    """Rules from our TOML schema (see the module docstring)."""
    try:
        data = toml_loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        found = _TOML_LINE.search(str(exc))
        message = _TOML_LINE.sub("", str(exc)).strip()
        raise RuleLoadError(path, int(found.group(1)) if found else None,
                            f"invalid TOML: {message}") from None
    lines = text.splitlines()
    for key in data:
        if key != "rule":
            raise RuleLoadError(path, _key_line(lines, key, 0, len(lines)),
                                f"unknown key `{key}` (rules go in [[rule]] tables)")
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        header = next((n + 1 for n, line in enumerate(lines)
                       if re.match(r"^\s*\[\s*rule\s*\]", line)), None)
        raise RuleLoadError(path, header or _key_line(lines, "rule", 0, len(lines)),
                            "`rule` must be an array of tables: write [[rule]]")
    headers = [n for n, line in enumerate(lines) if _RULE_HEADER.match(line)]
    rules: list[Rule] = []
    for index, table in enumerate(tables):
        start = headers[index] if index < len(headers) else 0
        end = headers[index + 1] if index + 1 < len(headers) else len(lines)

        def line_of(key: str, start: int = start, end: int = end) -> int:
            return _key_line(lines, key, start, end) or start + 1

        name = f"rule[{index + 1}]"
        if isinstance(table.get("id"), str):
            name = table["id"]
        rules.append(_rule_from_fields(table, path, start + 1, name, line_of,
                                       default_decision=None))
    return rules


def _key_line(lines: list[str], key: str, start: int, end: int) -> int | None:
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*=")
    for number in range(start, end):
        if pattern.match(lines[number]):
            return number + 1
    return None


# --- Starlark (.rules) ----------------------------------------------------------------------

def parse_starlark_rules(text: str, path: Path) -> list[Rule]:
    """Rules from `prefix_rule(...)` calls; anything else is an error naming file:line."""
    try:
        module = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise RuleLoadError(path, exc.lineno, f"syntax error: {exc.msg}") from None
    except ValueError as exc:  # NUL bytes and the like
        raise RuleLoadError(path, None, f"cannot parse: {exc}") from None
    rules: list[Rule] = []
    for statement in module.body:
        line = statement.lineno
        call = statement.value if isinstance(statement, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise RuleLoadError(path, line, "only prefix_rule(...) calls are supported here")
        if call.func.id != "prefix_rule":
            raise RuleLoadError(path, line, f"unsupported call `{call.func.id}(...)`: only "
                                            "prefix_rule(...) is supported")
        if call.args:
            raise RuleLoadError(path, line, "prefix_rule takes keyword arguments only "
                                            "(pattern=[...], decision=...)")
        fields: dict[str, Any] = {}
        keyword_lines: dict[str, int] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise RuleLoadError(path, keyword.value.lineno, "`**` is not supported")
            if keyword.arg not in _PREFIX_RULE_FIELDS:
                raise RuleLoadError(path, keyword.value.lineno,
                                    f"unknown prefix_rule field `{keyword.arg}` (known: "
                                    + ", ".join(_PREFIX_RULE_FIELDS) + ")")
            if keyword.arg in fields:
                raise RuleLoadError(path, keyword.value.lineno,
                                    f"`{keyword.arg}` given twice")
            fields[keyword.arg] = _literal(keyword.value, path)
            keyword_lines[keyword.arg] = keyword.value.lineno

        def line_of(key: str, fallback: int = line,
                    known: dict[str, int] = keyword_lines) -> int:
            return known.get(key, fallback)

        rules.append(_rule_from_fields(fields, path, line, f"rule[{len(rules) + 1}]", line_of,
                                       default_decision=Decision.ALLOW))
    return rules


def _literal(node: ast.expr, path: Path) -> Any:
    """A string or a (nested) list of strings; anything else is refused, never evaluated."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(element, path) for element in node.elts]
    raise RuleLoadError(path, node.lineno,
                        "only string literals and lists of them are allowed here")


# --- shared field validation ----------------------------------------------------------------

def _rule_from_fields(fields: dict[str, Any], path: Path, line: int, name: str,
                      line_of: Any, *, default_decision: Decision | None) -> Rule:
    for key in fields:
        if key not in _RULE_FIELDS:
            raise RuleLoadError(path, line_of(key),
                                f"{name}: unknown field `{key}` (known: "
                                + ", ".join(_RULE_FIELDS) + ")")
    if "id" in fields and (not isinstance(fields["id"], str) or not fields["id"].strip()):
        raise RuleLoadError(path, line_of("id"), f"{name}: `id` must be a non-empty string")
    pattern = _pattern(fields.get("pattern"), path, line_of("pattern"), name)
    decision = _decision(fields, path, line_of("decision"), name, default_decision)
    justification = fields.get("justification", "")
    if not isinstance(justification, str):
        raise RuleLoadError(path, line_of("justification"),
                            f"{name}: `justification` must be a string")
    rule = Rule(pattern=pattern, decision=decision, justification=justification.strip(),
                source=path, line=line, name=name)
    matches = _examples(fields.get("match", []), path, line_of("match"), name, "match")
    not_matches = _examples(fields.get("not_match", []), path, line_of("not_match"), name,
                            "not_match")
    rule.check_examples(matches, not_matches)
    return rule


def _pattern(value: Any, path: Path, line: int, name: str) -> tuple[PatternToken, ...]:
    if value is None:
        raise RuleLoadError(path, line, f"{name}: missing `pattern` (a list of words, e.g. "
                                        "[\"git\", [\"push\", \"fetch\"]])")
    if not isinstance(value, list) or not value:
        raise RuleLoadError(path, line, f"{name}: `pattern` must be a non-empty list")
    tokens: list[PatternToken] = []
    for position, token in enumerate(value, start=1):
        if isinstance(token, str) and token:
            tokens.append(token)
        elif (isinstance(token, list) and token
              and all(isinstance(t, str) and t for t in token)):
            tokens.append(tuple(token))
        else:
            raise RuleLoadError(path, line,
                                f"{name}: `pattern` element {position} must be a non-empty "
                                "string or a non-empty list of non-empty strings")
    return tuple(tokens)


def _decision(fields: dict[str, Any], path: Path, line: int, name: str,
              default: Decision | None) -> Decision:
    if "decision" not in fields:
        if default is None:
            raise RuleLoadError(path, line, f"{name}: missing `decision` "
                                            "(allow, prompt or forbidden)")
        return default
    value = fields["decision"]
    try:
        return Decision(value)
    except ValueError:
        raise RuleLoadError(path, line, f"{name}: `decision` must be allow, prompt or "
                                        f"forbidden, not {value!r}") from None


def _examples(value: Any, path: Path, line: int, name: str, key: str) -> list[list[str]]:
    if not isinstance(value, list):
        raise RuleLoadError(path, line, f"{name}: `{key}` must be a list of commands")
    examples: list[list[str]] = []
    for example in value:
        if isinstance(example, str):
            try:
                words = shlex.split(example)
            except ValueError as exc:
                raise RuleLoadError(path, line,
                                    f"{name}: `{key}` example {example!r}: {exc}") from None
        elif isinstance(example, list) and all(isinstance(w, str) for w in example):
            words = list(example)
        else:
            raise RuleLoadError(path, line, f"{name}: each `{key}` example must be a string "
                                            "or a list of strings")
        if not words:
            raise RuleLoadError(path, line, f"{name}: empty `{key}` example")
        examples.append(words)
    return examples


def toml_loads(text: str) -> dict[str, Any]:
    """tomllib, imported on first use: most runs have no TOML rule file to read."""
    import tomllib

    return tomllib.loads(text)
