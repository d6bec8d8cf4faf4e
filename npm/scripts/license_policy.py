#!/usr/bin/env python3
"""Check every component of one or more CycloneDX SBOMs against npm/license-policy.toml.

A component passes when its license (an SPDX expression, or names the policy maps to SPDX
identifiers) is satisfied by the allow list: `A OR B` needs one allowed side, `A AND B` both,
`A WITH exception` follows A. A denied identifier anywhere it would be needed, a license the
policy cannot read, or no license at all fails, unless the component is a reviewed exception.
File components (shared libraries, extension modules) are covered by the distribution or
runtime that brings them and are not judged on their own.

Usage: license_policy.py [--policy FILE] SBOM... ; exit 1 with one line per violation.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "license-policy.toml"
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


@dataclass(frozen=True)
class Policy:
    allow: frozenset[str]
    deny: frozenset[str]
    names: dict[str, str]
    exceptions: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Policy:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(frozenset(data.get("allow", [])), frozenset(data.get("deny", [])),
                   dict(data.get("names", {})), dict(data.get("exceptions", {})))


class _Unreadable(Exception):
    """The expression is not SPDX syntax we understand."""


def _satisfied(expression: str, policy: Policy) -> tuple[bool, str]:
    """(allowed, the identifier that decided a refusal) for one SPDX expression."""
    tokens = _TOKEN.findall(expression)
    position = 0
    refused = ""

    def term() -> bool:
        nonlocal position, refused
        if position >= len(tokens):
            raise _Unreadable(expression)
        token = tokens[position]
        position += 1
        if token == "(":
            value = disjunction()
            if position >= len(tokens) or tokens[position] != ")":
                raise _Unreadable(expression)
            position += 1
            return value
        identifier = token.removesuffix("+")
        if position < len(tokens) and tokens[position] == "WITH":
            position += 2  # the exception only ever widens what the base license allows
        ok = identifier in policy.allow and identifier not in policy.deny
        if not ok and not refused:
            refused = identifier
        return ok

    def chain(operator: str, operand: Callable[[], bool]) -> bool:
        """`x OP y OP z`: every operand is evaluated, so each refusal is seen."""
        nonlocal position
        values = [operand()]
        while position < len(tokens) and tokens[position] == operator:
            position += 1
            values.append(operand())
        return all(values) if operator == "AND" else any(values)

    def disjunction() -> bool:
        return chain("OR", lambda: chain("AND", term))

    result = disjunction()
    if position != len(tokens):
        raise _Unreadable(expression)
    return result, refused


def violations(sbom: dict[str, Any], policy: Policy) -> list[str]:
    """One sentence per component the policy does not allow."""
    found: list[str] = []
    for component in sbom.get("components", []):
        if component.get("type") == "file":
            continue
        label = f"{component.get('name')} {component.get('version', '')}".strip()
        if component.get("name") in policy.exceptions:
            continue
        expressions: list[str] = []
        for entry in component.get("licenses", []):
            if "expression" in entry:
                expressions.append(entry["expression"])
                continue
            license_ = entry.get("license", {})
            if "id" in license_:
                expressions.append(license_["id"])
            elif license_.get("name") in policy.names:
                expressions.append(policy.names[license_["name"]])
            else:
                found.append(f"{label}: unknown license {license_.get('name')!r} (map it in "
                             "[names] of the policy, or review the component)")
        if not component.get("licenses"):
            found.append(f"{label}: declares no license")
        for expression in expressions:
            try:
                ok, refused = _satisfied(expression, policy)
            except _Unreadable:
                found.append(f"{label}: unreadable license expression {expression!r}")
                continue
            if not ok:
                why = "denied" if refused in policy.deny else "not in the allow list"
                found.append(f"{label}: {expression} ({refused} is {why})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY)
    parser.add_argument("sboms", nargs="+", type=Path)
    args = parser.parse_args(argv)
    policy = Policy.load(args.policy)
    failed = False
    for path in args.sboms:
        problems = violations(json.loads(path.read_text(encoding="utf-8")), policy)
        for problem in problems:
            print(f"{path.name}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        if not problems:
            print(f"{path.name}: every shipped component is allowed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
