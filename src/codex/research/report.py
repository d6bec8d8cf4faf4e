"""The cited report: check the model's citations against the passages it was shown, list
claim sentences without one, and render Markdown or JSON. A citation number that names no
passage is removed and its sentence counts as unsupported; nothing is ever made up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Passage:
    """A numbered quote the model may cite, and where it came from."""

    number: int
    source_index: int
    text: str


@dataclass(frozen=True)
class CheckedReport:
    """The report body after checking, the passage numbers it cites, the sentences with no
    citation and the invalid citation numbers that were removed."""

    body: str
    cited: list[int]
    unsupported: list[str]
    invalid: list[int]


def _claim_lines(body: str) -> list[str]:
    """Prose lines (headings and blank lines are not claims); list markers stripped."""
    lines = []
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "|", "```", "---")):
            continue
        lines.append(re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", stripped))
    return lines


def check_citations(body: str, passages: Mapping[int, Passage]) -> CheckedReport:
    invalid: list[int] = []

    def keep_valid(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        valid = [n for n in numbers if n in passages]
        invalid.extend(n for n in numbers if n not in passages)
        return "".join(f"[{n}]" for n in valid)

    checked = _CITATION.sub(keep_valid, body)
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", checked)})
    unsupported = []
    for line in _claim_lines(checked):
        for sentence in _SENTENCE_END.split(line):
            words = re.findall(r"[A-Za-z]{2,}", sentence)
            if len(words) >= 4 and not re.search(r"\[\d+\]", sentence):
                unsupported.append(sentence.strip())
    return CheckedReport(checked.strip(), cited, unsupported, sorted(set(invalid)))
