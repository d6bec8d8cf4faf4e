"""One `codex research` invocation wired from the effective config: providers, the fetch
guard (with the audit log and the cache), the model, then `pipeline.run_research`."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from codex.config import EffectiveConfig
from codex.research.bias import TrustList
from codex.research.cache import ResearchCache, cache_path
from codex.research.corpus import CorpusProvider
from codex.research.errors import ResearchError
from codex.research.fetch import USER_AGENT, FetchGuard, IpNetwork, NetworkRules
from codex.research.pipeline import DedupSettings, Progress, ResearchResult, run_research
from codex.research.plan import make_plan
from codex.research.providers import SearchProvider, build_web_providers


@dataclass(frozen=True)
class RunOptions:
    """The command line of one run."""

    question: str
    corpus: Path | None
    breadth: int
    depth: int
    plan_only: bool
    use_cache: bool
    model: str | None
    # On a terminal: shown the plan, returns the plan to run (edited, or [] to stop).
    review_plan: Callable[[list[str]], list[str]] | None = None


def _networks(values: list[str]) -> tuple[IpNetwork, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ResearchError(f"[research] allow_networks: {value!r} is not a network "
                                "(write CIDR, e.g. \"127.0.0.0/8\")", usage=True) from exc
    return tuple(networks)


def _rules(cfg: EffectiveConfig) -> NetworkRules:
    r = cfg.research
    return NetworkRules(allow_networks=_networks(r.allow_networks),
                        respect_robots=r.respect_robots, max_bytes=r.max_page_bytes,
                        timeout_s=r.fetch_timeout_s, max_redirects=r.max_redirects,
                        per_host_concurrency=r.per_host_concurrency)


async def research(cfg: EffectiveConfig, options: RunOptions,
                   progress: Progress) -> ResearchResult | list[str]:
    """The plan (with `plan_only`) or the full result."""
    from codex import __version__
    from codex.agent.rollout import RolloutWriter, new_session_id
    from codex.cli.audit_cmd import open_audit_log
    from codex.model import MissingApiKeyError, ModelClient, ProviderConfigError, resolve_provider
    from codex.research.model_ask import ModelAsk

    r = cfg.research
    try:
        provider = resolve_provider(cfg.model_provider, cfg.model_providers)
    except MissingApiKeyError as exc:
        raise ResearchError(str(exc)) from exc
    except ProviderConfigError as exc:
        raise ResearchError(str(exc), usage=True) from exc
    rules = _rules(cfg)
    trust = TrustList.load(r.trust_file or cfg.codex_home / "research" / "trust.toml")
    model = options.model or cfg.model
    session_id = new_session_id()
    async with AsyncExitStack() as stack:
        rollout = RolloutWriter.create(cfg.codex_home, session_id, {
            "kind": "research", "cwd": str(cfg.cwd), "model": model, "provider": provider.id,
            "question": options.question, "cli_version": __version__})
        stack.callback(rollout.close)
        client = await stack.enter_async_context(ModelClient(provider))
        ask = ModelAsk(client, model, rollout)
        plan = await make_plan(ask, options.question, options.breadth)
        progress("plan: " + " | ".join(plan))
        if options.plan_only:
            return plan
        if options.review_plan is not None:
            plan = options.review_plan(plan)
            if not plan:
                raise ResearchError("stopped at the plan: no sub-question left to research")
        cache = ResearchCache(cache_path(cfg.codex_home), r.cache_ttl_s) \
            if options.use_cache else None
        if cache is not None:
            stack.callback(cache.close)
        providers: list[SearchProvider] = []
        guard: FetchGuard | None = None
        if options.corpus is not None:
            providers.append(CorpusProvider(options.corpus))
        else:
            http = await stack.enter_async_context(httpx.AsyncClient(
                timeout=rules.timeout_s, follow_redirects=False, trust_env=False,
                headers={"User-Agent": USER_AGENT}))
            guard = FetchGuard(rules, client=http, audit=open_audit_log(cfg),
                               session_id=session_id, cache=cache)
            tables = {name: (getattr(r, name).base_url, getattr(r, name).api_key_env)
                      for name in ("brave", "tavily", "searxng")}
            providers += build_web_providers([p for p in r.providers if p != "mcp"], tables,
                                             guard, cache)
            if "mcp" in r.providers:
                providers.append(await _mcp_provider(cfg, stack, session_id, guard, cache))
        try:
            result = await run_research(
                options.question, ask=ask, providers=providers, guard=guard,
                breadth=options.breadth, depth=options.depth,
                results_per_query=r.results_per_query, max_pages=r.max_pages,
                dedup=DedupSettings(r.simhash_max_distance, r.passage_jaccard_threshold,
                                    r.minhash_num_perm),
                trust=trust, share_limit=r.dominant_share_warning, progress=progress,
                plan=plan)
        except ResearchError as exc:
            rollout.append("turn_end", {"status": "failed", "message": str(exc)})
            raise
        rollout.append("turn_end", {"status": "completed", "sources": len(result.sources),
                                    "citations": len(result.report.cited)})
        if guard is not None:
            c = guard.counters
            progress(f"network: {c.requests} requests, {c.cached} cached, "
                     f"{c.revalidated} revalidated, {c.refused} refused")
        return result


async def _mcp_provider(cfg: EffectiveConfig, stack: AsyncExitStack, session_id: str,
                        guard: FetchGuard, cache: ResearchCache | None) -> SearchProvider:
    """`[research.mcp]`: start its one server (as a session would) and search through it."""
    import asyncio

    from codex.mcp.toolset import McpStartupError, McpTools
    from codex.research.mcp_search import McpSearchProvider
    from codex.tools.base import ToolContext

    settings = cfg.research.mcp
    if not settings.server or settings.server not in cfg.mcp_servers:
        raise ResearchError(f"[research.mcp] server = {settings.server!r} names no "
                            "[mcp_servers] table (add one, e.g. with `codex mcp add`)",
                            usage=True)
    policy = cfg.sandbox_policy()
    try:
        tools = await asyncio.to_thread(
            McpTools.start, {settings.server: cfg.mcp_servers[settings.server]}, cwd=cfg.cwd,
            policy=policy, codex_home=cfg.codex_home)
    except McpStartupError as exc:
        raise ResearchError(str(exc)) from exc
    stack.callback(tools.close)
    context = ToolContext(workspace=cfg.cwd, sandbox_policy=policy,
                          approval_policy=cfg.approval_policy, session_id=session_id,
                          audit=guard.audit, actor="research")
    return McpSearchProvider(tools, settings.server, settings.tool, settings.query_argument,
                             settings.count_argument, context, cache)
