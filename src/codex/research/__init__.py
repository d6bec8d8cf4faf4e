"""Deep research: plan -> search -> fetch -> extract -> de-duplicate -> bias report -> cited report.

Public interface (used by `codex research`; importing a submodule may load httpx, trafilatura
or datasketch, so only the research command imports them):

    settings = ResearchSettings.from_config(config.research, codex_home, ...)   # run.py
    result = await run_research(question, settings, model=ModelAccess(...), progress=...)
        -> ResearchResult: plan, sources (fetched and cited), merged duplicates, bias report,
           the report text with numbered citations, unsupported claims.
    Errors are `ResearchError` (one line: what failed and how to fix it); the command maps
    them to exit 1. A run never invents a source: with no provider, or with every provider
    failing, it stops with the reasons instead of answering.

Every network request (search API call, robots.txt, page) goes through `fetch.FetchGuard`:
decide (scheme, address, robots) -> enforce (size cap, timeout, redirects re-checked, peer
address checked after connect) -> record (one audit entry per decision, `network`
operation). If the audit entry cannot be written, the request is not made (fail closed).
"""
