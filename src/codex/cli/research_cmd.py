"""`codex research QUESTION`: plan, search, read, de-duplicate and write a cited report.

    codex research --corpus ./docs "how does the cache expire entries?"   # no network at all
    codex research "state of WASI preview 2" -o report.md                  # [research] providers
    codex research --plan-only --breadth 5 "..."                           # just the plan
    codex research cache stats | codex research cache clear

Exit codes: 0 report written, 1 the run failed (no provider answered, nothing readable, the
model failed; the reason is printed), 2 usage or configuration error, 130 interrupted (what
was fetched stays in the cache).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from codex.cli.common import load_effective_config
from codex.fsutil import write_atomic

if TYPE_CHECKING:
    from codex.config import EffectiveConfig

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = (
    "Examples: codex research --corpus ./notes \"what did we decide about X?\" | "
    "codex research --json -o out.json \"...\" | codex research cache stats. Providers, keys "
    "(env var names), network rules and de-dup thresholds live in [research] of config.toml.")


def register(app: typer.Typer) -> None:
    """Add the `research` command."""
    app.command("research", epilog=EPILOG)(research_command)


def research_command(
    ctx: typer.Context,
    args: Annotated[list[str], typer.Argument(
        metavar="QUESTION | cache (stats|clear)",
        help="The research question, or `cache stats` / `cache clear`.")],
    corpus: Annotated[Path | None, typer.Option(
        "--corpus", metavar="DIR", help="Search the .md/.txt/.html files under DIR (SQLite "
        "FTS5, BM25) instead of the web; no network.")] = None,
    breadth: Annotated[int, typer.Option("--breadth", min=1, max=20,
                                         help="Sub-questions per round.")] = 3,
    depth: Annotated[int, typer.Option("--depth", min=1, max=5,
                                       help="Rounds: each further round asks the model for "
                                            "follow-up questions from what was found.")] = 1,
    plan_only: Annotated[bool, typer.Option("--plan-only",
                                            help="Print the plan (sub-questions) and stop.")
                         ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")
                           ] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", metavar="FILE",
                                                help="Also write the report to FILE "
                                                     "(atomically).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the "
                                           "research cache.")] = False,
    model: Annotated[str | None, typer.Option("-m", "--model", metavar="MODEL",
                                              help="The model to use.")] = None,
) -> None:
    """Research a question (web search or --corpus DIR) into a report with checked citations.

    Plans sub-questions, searches, reads, de-duplicates, and writes a report whose every
    citation resolves to a page that was actually fetched.
    """
    cfg = load_effective_config(ctx)
    if args[0] == "cache":
        raise typer.Exit(_cache_command(cfg, args[1:], json_output))
    question = " ".join(args).strip()
    if not question:
        typer.echo("codex research: error: the question is empty", err=True)
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(_run(cfg, question, corpus=corpus, breadth=breadth, depth=depth,
                          plan_only=plan_only, json_output=json_output, output=output,
                          no_cache=no_cache, model=model))


def _cache_command(cfg: EffectiveConfig, args: list[str], json_output: bool) -> int:
    from dataclasses import asdict

    from codex.research.cache import ResearchCache, cache_path

    if args not in (["stats"], ["clear"]):
        typer.echo("codex research: error: use `codex research cache stats` or "
                   "`codex research cache clear`", err=True)
        return EXIT_USAGE
    cache = ResearchCache(cache_path(cfg.codex_home), cfg.research.cache_ttl_s)
    try:
        if args == ["clear"]:
            cache.clear()
        stats = cache.stats()
    finally:
        cache.close()
    if json_output:
        typer.echo(json.dumps(asdict(stats)))
    else:
        typer.echo(f"{stats.path}: {stats.pages} pages ({stats.bytes} bytes), "
                   f"{stats.searches} searches")
    return 0


def _review_plan(plan: list[str]) -> list[str]:
    """Show the plan on the terminal; run it, edit it in $EDITOR (one sub-question a line),
    or stop."""
    typer.echo("Plan:\n" + "\n".join(f"  {n}. {q}" for n, q in enumerate(plan, start=1)))
    answer = typer.prompt("Run it? [y]es / [e]dit / [n]o", default="y").strip().lower()
    if answer.startswith("n"):
        return []
    if answer.startswith("e"):
        import click  # typer's vendored click has no editor helper

        edited = click.edit("\n".join(plan) + "\n", extension=".txt")
        if edited is not None:
            plan = [line.strip() for line in edited.splitlines() if line.strip()]
    return plan


def _run(cfg: EffectiveConfig, question: str, *, corpus: Path | None, breadth: int,
         depth: int, plan_only: bool, json_output: bool, output: Path | None,
         no_cache: bool, model: str | None) -> int:
    import asyncio

    from codex.agent.rollout import RolloutError
    from codex.research.errors import ResearchError
    from codex.research.run import RunOptions, research

    interactive = sys.stdin.isatty() and sys.stdout.isatty() and not json_output
    options = RunOptions(question=question, corpus=corpus, breadth=breadth, depth=depth,
                         plan_only=plan_only, use_cache=not no_cache, model=model,
                         review_plan=_review_plan if interactive else None)

    def progress(line: str) -> None:
        if sys.stderr.isatty():
            typer.echo(f"· {line}", err=True)

    try:
        outcome = asyncio.run(research(cfg, options, progress))
    except ResearchError as exc:
        typer.echo(f"codex research: {exc}", err=True)
        return EXIT_FAILED if not exc.usage else EXIT_USAGE
    except RolloutError as exc:
        typer.echo(f"codex research: {exc}", err=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        typer.echo("codex research: interrupted (pages fetched so far stay cached)", err=True)
        return EXIT_INTERRUPTED
    if isinstance(outcome, list):  # the plan only
        text = json.dumps({"plan": outcome}) if json_output else "\n".join(
            f"{n}. {q}" for n, q in enumerate(outcome, start=1))
    else:
        text = json.dumps(outcome.to_dict(), indent=2) if json_output else \
            outcome.to_markdown()
    typer.echo(text.rstrip("\n"))
    if output is not None:
        write_atomic(output, text.rstrip("\n") + "\n", mode=0o644)
    return 0
