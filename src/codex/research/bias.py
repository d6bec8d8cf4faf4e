"""The source-bias report: sources per registered domain (public-suffix aware, from the
Public Suffix List snapshot in `codex.research.suffixes`, never fetched), the largest domain's
share with a warning over the configured limit, the share of sources from domains marked
low-trust in a user-editable list, and the spread of publication dates."""

from __future__ import annotations

import ipaddress
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from codex.research.errors import ResearchError
from codex.research.sources import Source
from codex.research.suffixes import registered_domain as domain_of


def registered_domain(url: str) -> str:
    """`news.example.co.uk` -> `example.co.uk`; an IP address stays itself; files -> `local`."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return "local"
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return domain_of(host) or host


@dataclass(frozen=True)
class TrustList:
    """Domains the user marked `low` or `high` in the trust file (TOML: `low = [...]`)."""

    low: frozenset[str] = frozenset()
    high: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path) -> TrustList:
        if not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ResearchError(f"{path}: cannot read the trust list ({exc}); it holds "
                                "`low = [\"domain\", ...]` and `high = [...]`") from exc
        lists: dict[str, frozenset[str]] = {}
        for key in ("low", "high"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
                raise ResearchError(f"{path}: key `{key}` must be a list of domain names")
            lists[key] = frozenset(d.lower() for d in value)
        return cls(lists["low"], lists["high"])


@dataclass(frozen=True)
class BiasReport:
    """See the module docstring; `warnings` are the lines printed with the report."""

    per_domain: dict[str, int]
    largest_domain: str | None
    largest_share: float
    low_trust_ratio: float
    high_trust_ratio: float
    earliest_date: str | None
    latest_date: str | None
    undated: int
    warnings: list[str] = field(default_factory=list)


def bias_report(sources: Sequence[Source], trust: TrustList, share_limit: float) -> BiasReport:
    counts = Counter(source.domain for source in sources)
    total = len(sources)
    largest, largest_count = counts.most_common(1)[0] if counts else (None, 0)
    share = largest_count / total if total else 0.0
    low = sum(1 for s in sources if s.domain in trust.low) / total if total else 0.0
    high = sum(1 for s in sources if s.domain in trust.high) / total if total else 0.0
    dates = sorted(s.date[:10] for s in sources if s.date)
    warnings: list[str] = []
    if total and share > share_limit:
        warnings.append(f"{largest} supplies {share:.0%} of the sources (over the "
                        f"{share_limit:.0%} limit): the report leans on one domain")
    if low > 0:
        warnings.append(f"{low:.0%} of the sources come from domains on the low-trust list")
    return BiasReport(dict(counts.most_common()), largest, round(share, 3), round(low, 3),
                      round(high, 3), dates[0] if dates else None,
                      dates[-1] if dates else None, total - len(dates), warnings)
