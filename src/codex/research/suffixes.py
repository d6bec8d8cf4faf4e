"""Registered domains by the Public Suffix List (publicsuffix.org), offline.

`src/codex_data/public_suffix_list.dat` is the list itself, unmodified, under its own license
(MPL-2.0, see its header). It sits outside the `codex` package because the native build's
executable is named `codex`, so no data folder of that name can sit beside it. The build
copies the list to `codex_data/` next to the executable, which is the same path relative to
this module. It holds ICANN and private suffixes, and is never fetched.
Matching follows the list's published algorithm:
- normal, wildcard (`*.`) and exception (`!`) rules;
- an exception beats every other rule;
- otherwise the rule with the most labels prevails;
- no match means the top label (`*`).
IDN labels are compared in Unicode.

Our own lookup rather than `tldextract`: tldextract imports requests, urllib3 and
charset_normalizer to refresh the list online. Compiled into the native build they took the
platform package past its 40 MB budget (41.3 MB packed), and we never fetch the list anyway.
tldextract stays a test-only oracle.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LIST_FILE = Path(__file__).resolve().parents[2] / "codex_data" / "public_suffix_list.dat"


@cache
def _rules() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(normal rules, wildcard parents, exceptions), each a set of dotted suffixes."""
    normal: set[str] = set()
    wildcard: set[str] = set()
    exception: set[str] = set()
    for raw in LIST_FILE.read_text(encoding="utf-8").splitlines():
        rule = raw.strip().split(" ", 1)[0].lower()
        if not rule or rule.startswith("//"):
            continue
        if rule.startswith("!"):
            exception.add(rule[1:])
        elif rule.startswith("*."):
            wildcard.add(rule[2:])
        else:
            normal.add(rule)
    return frozenset(normal), frozenset(wildcard), frozenset(exception)


def _unicode(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label.encode("ascii").decode("idna")
        except UnicodeError:
            return label
    return label


def public_suffix(host: str) -> str:
    """The public suffix of `host` (lower case, no trailing dot)."""
    labels = [_unicode(label) for label in host.lower().rstrip(".").split(".") if label]
    if not labels:
        return ""
    normal, wildcard, exception = _rules()
    best = 1  # no rule matches: the top label is the suffix
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        length = len(labels) - start
        if candidate in exception:
            best = length - 1  # an exception rule: the suffix is the rule minus its first label
            break
        if candidate in normal:
            best = max(best, length)
        if start > 0 and candidate in wildcard:
            best = max(best, length + 1)
    return ".".join(host.lower().rstrip(".").split(".")[-best:])


def registered_domain(host: str) -> str | None:
    """The public suffix plus one label (`news.example.co.uk` -> `example.co.uk`); None when
    `host` is itself a public suffix."""
    clean = host.lower().rstrip(".")
    suffix = public_suffix(clean)
    if not suffix or clean == suffix:
        return None
    head = clean[:-len(suffix) - 1]
    return f"{head.rsplit('.', 1)[-1]}.{suffix}"
