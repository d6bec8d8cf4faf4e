"""The research run: plan -> search -> fetch/read -> extract -> de-duplicate -> bias -> report.

Search and fetch run concurrently (per-host limits live in the fetch guard). Failures are
collected, never papered over: a provider that fails is skipped while another answers, and a
run where every provider failed, or where no page could be read, stops with the reasons.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from codex.research.bias import BiasReport, TrustList, bias_report, registered_domain
from codex.research.dedup import near_duplicate_pages, repeated_passages, words
from codex.research.errors import ResearchError
from codex.research.extract import extract, local_content_type
from codex.research.fetch import FetchGuard, Refused
from codex.research.plan import REPORT_INSTRUCTIONS, Ask, follow_up, make_plan
from codex.research.providers import ProviderFailed, SearchProvider
from codex.research.report import CheckedReport, Passage, check_citations
from codex.research.sources import SearchHit, Source

Progress = Callable[[str], None]
MIN_PASSAGE_CHARS = 40
PASSAGES_PER_SOURCE = 4


@dataclass(frozen=True)
class DedupSettings:
    simhash_max_distance: int
    passage_threshold: float
    num_perm: int


@dataclass
class ResearchResult:
    """Everything a run produced (rendered by `to_markdown` / `to_dict`)."""

    question: str
    plan: list[str]
    searched: list[str]
    sources: list[Source]
    passages: dict[int, Passage]
    report: CheckedReport
    bias: BiasReport
    merged_pages: list[dict[str, Any]] = field(default_factory=list)
    merged_passages: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    provider_errors: list[str] = field(default_factory=list)

    def citations(self) -> list[dict[str, Any]]:
        out = []
        for number in self.report.cited:
            passage = self.passages[number]
            source = self.sources[passage.source_index]
            out.append({"number": number, "url": source.url, "title": source.title,
                        "date": source.date, "quote": passage.text})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "plan": self.plan, "searched": self.searched,
            "report": self.report.body,
            "citations": self.citations(), "unsupported": self.report.unsupported,
            "invalid_citations_removed": self.report.invalid,
            "sources": [{"url": s.url, "title": s.title, "date": s.date, "domain": s.domain,
                         "provider": s.provider, "from_cache": s.from_cache}
                        for s in self.sources],
            "merged_pages": self.merged_pages, "merged_passages": self.merged_passages,
            "bias": asdict(self.bias), "skipped": self.skipped,
            "provider_errors": self.provider_errors,
        }

    def to_markdown(self) -> str:
        lines = [f"# {self.question}", "", self.report.body, "", "## Sources", ""]
        for cite in self.citations():
            date = f", {cite['date']}" if cite["date"] else ""
            quote = cite["quote"].replace("\n", " ")
            lines.append(f"{cite['number']}. [{cite['title'] or cite['url']}]({cite['url']})"
                         f"{date}\n   > {quote}")
        lines += ["", "## Unsupported", ""]
        lines += [f"- {s}" for s in self.report.unsupported] or ["(none)"]
        if self.report.invalid:
            lines.append(f"- removed citations to passages that do not exist: "
                         f"{', '.join(map(str, self.report.invalid))}")
        lines += ["", "## Duplicates merged", ""]
        merged = [f"- {m['dropped']} = {m['kept']} (SimHash distance {m['distance']})"
                  for m in self.merged_pages]
        merged += [f"- a passage of {m['dropped']} repeats {m['kept']} "
                   f"(MinHash Jaccard {m['similarity']})" for m in self.merged_passages]
        lines += merged or ["(none)"]
        bias = self.bias
        lines += ["", "## Source bias", ""]
        lines += [f"- {domain}: {count}" for domain, count in bias.per_domain.items()]
        lines.append(f"- largest domain share: {bias.largest_share:.0%} ({bias.largest_domain})")
        lines.append(f"- low-trust ratio: {bias.low_trust_ratio:.0%}")
        lines.append(f"- dates: {bias.earliest_date or '?'} .. {bias.latest_date or '?'} "
                     f"({bias.undated} undated)")
        lines += [f"- WARNING: {w}" for w in bias.warnings]
        return "\n".join(lines) + "\n"


async def _search_all(providers: Sequence[SearchProvider], queries: Sequence[str], count: int,
                      errors: list[str], progress: Progress) -> list[SearchHit]:
    async def one(provider: SearchProvider, query: str) -> list[SearchHit]:
        try:
            hits = await provider.search(query, count)
        except ProviderFailed as exc:
            errors.append(str(exc))
            progress(f"search failed: {exc}")
            return []
        progress(f"searched {provider.name}: {query!r} -> {len(hits)} results")
        return hits

    batches = await asyncio.gather(*(one(p, q) for q in queries for p in providers))
    failed_everywhere = len(errors) >= len(queries) * len(providers)
    if failed_everywhere:
        raise ResearchError("every search provider failed: " + "; ".join(dict.fromkeys(errors))
                            + " (check [research] providers, base URLs and API keys)")
    return [hit for batch in batches for hit in batch]


async def _read(hit: SearchHit, guard: FetchGuard | None) -> Source:
    if urlsplit(hit.url).scheme == "file":
        path = Path(unquote(urlsplit(hit.url).path))
        body, content_type, cached = path.read_bytes(), local_content_type(path.suffix), False
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    else:
        if guard is None:
            raise Refused(f"{hit.url}: no network provider is configured to fetch it")
        fetched = await guard.fetch_page(hit.url)
        if fetched.status != 200:
            raise Refused(f"{hit.url}: HTTP {fetched.status}")
        body, content_type, cached = fetched.body, fetched.content_type, fetched.from_cache
        mtime = None
    extracted = extract(body, content_type)
    if extracted is None:
        raise Refused(f"{hit.url}: no main text found")
    return Source(url=hit.url, title=extracted.title or hit.title,
                  date=extracted.date or hit.published or mtime, text=extracted.text,
                  domain=registered_domain(hit.url), provider=hit.provider, from_cache=cached)


def _passages(sources: Sequence[Source], question: str) -> list[tuple[int, str]]:
    """The most relevant paragraphs of each source (by words shared with the question)."""
    topic = set(words(question))
    chosen: list[tuple[int, str]] = []
    for index, source in enumerate(sources):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", source.text)
                      if len(p.strip()) >= MIN_PASSAGE_CHARS]
        ranked = sorted(range(len(paragraphs)),
                        key=lambda i: -len(topic & set(words(paragraphs[i]))))
        chosen += [(index, paragraphs[i]) for i in sorted(ranked[:PASSAGES_PER_SOURCE])]
    return chosen


async def run_research(question: str, *, ask: Ask, providers: Sequence[SearchProvider],
                       guard: FetchGuard | None, breadth: int, depth: int,
                       results_per_query: int, max_pages: int, dedup: DedupSettings,
                       trust: TrustList, share_limit: float, progress: Progress,
                       plan: list[str] | None = None) -> ResearchResult:
    """One full run (see the module docstring)."""
    if not providers:
        raise ResearchError("no search provider: pass --corpus DIR, or set [research] "
                            "providers = [\"brave\" | \"tavily\" | \"searxng\"] in config.toml")
    questions = plan if plan is not None else await make_plan(ask, question, breadth)
    asked: list[str] = []
    errors: list[str] = []
    skipped: list[dict[str, str]] = []
    sources: list[Source] = []
    seen: set[str] = set()
    round_questions = questions
    for level in range(depth):
        if not round_questions:
            break
        asked += round_questions
        hits = await _search_all(providers, round_questions, results_per_query, errors,
                                 progress)
        fresh = [h for h in dict((h.url, h) for h in hits).values() if h.url not in seen]
        fresh = fresh[:max(0, max_pages - len(seen))]
        seen.update(h.url for h in fresh)
        results = await asyncio.gather(*(_read(h, guard) for h in fresh),
                                       return_exceptions=True)
        for hit, outcome in zip(fresh, results, strict=True):
            if isinstance(outcome, Source):
                sources.append(outcome)
                progress(f"{'cached' if outcome.from_cache else 'read'}: {hit.url}")
            elif isinstance(outcome, (Refused, httpx.HTTPError, OSError)):
                skipped.append({"url": hit.url, "reason": str(outcome) or type(outcome).__name__})
                progress(f"skipped: {hit.url} ({outcome})")
            elif isinstance(outcome, BaseException):
                raise outcome
        if level + 1 < depth:
            findings = [f"{s.title}: {s.text[:200]}" for s in sources]
            round_questions = await follow_up(ask, question, asked, findings, breadth)
    if not sources:
        reasons = "; ".join(s["reason"] for s in skipped[:5]) or "the searches found nothing"
        raise ResearchError(f"no source could be read ({reasons})")
    page_merges = near_duplicate_pages([s.text for s in sources], dedup.simhash_max_distance)
    dropped = {m.dropped for m in page_merges}
    merged_pages = [{"kept": sources[m.kept].url, "dropped": sources[m.dropped].url,
                     "distance": m.distance} for m in page_merges]
    kept = [s for i, s in enumerate(sources) if i not in dropped]
    candidates = _passages(kept, " ".join([question, *asked]))
    passage_merges = repeated_passages([text for _, text in candidates],
                                       dedup.passage_threshold, dedup.num_perm)
    repeated = {m.dropped for m in passage_merges}
    merged_passages = [{"kept": kept[candidates[m.kept][0]].url,
                        "dropped": kept[candidates[m.dropped][0]].url,
                        "similarity": m.distance} for m in passage_merges]
    passages = {number: Passage(number, index, text) for number, (index, text) in enumerate(
        (c for i, c in enumerate(candidates) if i not in repeated), start=1)}
    numbered = "\n\n".join(f"[{p.number}] ({kept[p.source_index].title}) {p.text}"
                           for p in passages.values())
    progress(f"writing the report from {len(passages)} passages of {len(kept)} sources")
    body = await ask(REPORT_INSTRUCTIONS, f"Question: {question}\n\nPassages:\n\n{numbered}")
    return ResearchResult(
        question=question, plan=questions, searched=asked, sources=kept, passages=passages,
        report=check_citations(body, passages),
        bias=bias_report(kept, trust, share_limit), merged_pages=merged_pages,
        merged_passages=merged_passages, skipped=skipped, provider_errors=errors)

