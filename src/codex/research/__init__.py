"""Deep research: plan -> search -> fetch -> extract -> de-duplicate -> bias report -> cited report.

Public interface (used by `codex research`; importing a submodule may load httpx, so only
the research command imports them):

    result = await research(config, RunOptions(question, corpus=..., breadth=..., depth=...,
                            plan_only=..., use_cache=..., model=..., review_plan=...), progress)
        (run.py: wires providers, the fetch guard, the cache, the model and the rollout from
        the effective config) -> the plan (plan_only) or a `pipeline.ResearchResult`: plan,
        sub-questions searched, sources, merged pages and passages, bias report, the checked
        report (citations, unsupported sentences); `to_markdown()` / `to_dict()`.
    pipeline.run_research(question, ask=..., providers=..., guard=..., ...) is the same run
        with the pieces passed in (tests, the bench).
    Errors are `ResearchError` (one line: what failed and how to fix it); the command maps
    them to exit 1. A run never invents a source: with no provider, or with every provider
    failing, it stops with the reasons instead of answering.

Every network request (search API call, robots.txt, page) goes through `fetch.FetchGuard`:
decide (scheme, address, robots) -> enforce (size cap, timeout, redirects re-checked, peer
address checked after connect) -> record (one audit entry per decision, `network`
operation). If the audit entry cannot be written, the request is not made (fail closed).
"""
