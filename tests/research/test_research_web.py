"""`codex research` against loopback providers and pages: citations resolve to fetched pages,
near-duplicates are merged and listed, the bias warning fires, failures degrade or stop the
run with the reason, and a second run is served from the cache (no server sees a request)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from research_helpers import RunResearch, research_argv, research_env
from web_world import WebWorld

from support.model_server import ModelServer, responses_text

pytestmark = pytest.mark.timeout(180)

PLAN = json.dumps({"sub_questions": ["how do solar panels work"]})
REPORT = ("## Findings\n\nSolar panels turn sunlight into electricity with silicon cells [1]. "
          "Rooftop systems shift the demand curve across markets [2][99]. "
          "Some people say panels are always the cheapest option for everybody.\n")
ALL = ("brave", "tavily", "searxng")


def _run(run_research: RunResearch, model_server: ModelServer, web: WebWorld,
         *providers: str, extra: tuple[str, ...] = ()) -> dict:
    model_server.enqueue(responses_text(PLAN), responses_text(REPORT))
    result = run_research("--json", "--breadth", "1", "how do solar panels work?",
                          config=web.provider_config(*providers) + extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_report_cites_only_fetched_pages_merges_duplicates_and_warns(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld,
        codex_home: Path) -> None:
    out = _run(run_research, model_server, web, *ALL)
    served = {f"http://{host}{path}" for host, path in web.page_requests()}
    assert out["citations"], out
    for cite in out["citations"]:
        assert cite["url"] in served  # the server really sent it
        assert cite["quote"] and cite["title"]
    assert {c["number"] for c in out["citations"]} == {1, 2}
    assert out["invalid_citations_removed"] == [99]
    assert any("cheapest option" in s for s in out["unsupported"])
    # Mirror and syndicated copy of the original are merged into it, and listed.
    dropped = {m["dropped"] for m in out["merged_pages"]}
    assert {web.url("127.0.0.4", "/mirror"), web.url("127.0.0.5", "/syndicated")} <= dropped
    source_urls = {s["url"] for s in out["sources"]}
    assert web.url("127.0.0.3", "/original") in source_urls
    assert not dropped & source_urls
    # The paragraph repeated across .2 and .6 is offered once.
    assert any(m["dropped"] == web.url("127.0.0.6", "/distinct")
               or m["kept"] == web.url("127.0.0.6", "/distinct")
               for m in out["merged_passages"])
    # robots.txt keeps the private page out and never fetched.
    secret = web.url("127.0.0.6", "/private/secret")
    assert secret in {s["url"] for s in out["skipped"]}
    assert ("{}:{}".format(*web.sites["127.0.0.6"].server.server_address[:2]),
            "/private/secret") not in web.requests
    bias = out["bias"]
    assert bias["largest_domain"] == "127.0.0.2" and bias["largest_share"] > 0.3
    assert any("127.0.0.2 supplies" in w for w in bias["warnings"])
    assert bias["earliest_date"] == "2023-05-01"
    [rollout] = (codex_home / "sessions").rglob("rollout-*.jsonl")
    session_id = json.loads(rollout.read_text().splitlines()[0])["payload"]["id"]
    audit = "".join(p.read_text() for p in (codex_home / "audit").rglob("*.jsonl"))
    assert session_id in audit  # fetch decisions are recorded under the run's session
    assert '"operation":"network"' in audit.replace(" ", "")
    assert "robots.txt disallows" in audit


def test_second_run_is_served_from_the_cache(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld) -> None:
    first = _run(run_research, model_server, web, *ALL)
    assert not any(s["from_cache"] for s in first["sources"])
    seen = len(web.requests)
    second = _run(run_research, model_server, web, *ALL)
    assert len(web.requests) == seen  # neither a provider nor a page server was asked
    assert second["sources"] and all(s["from_cache"] for s in second["sources"])
    assert [s["url"] for s in second["sources"]] == [s["url"] for s in first["sources"]]
    model_server.enqueue(responses_text(PLAN), responses_text(REPORT))
    uncached = run_research("--json", "--no-cache", "--breadth", "1", "solar?",
                            config=web.provider_config(*ALL))
    assert uncached.returncode == 0, uncached.stderr
    assert len(web.page_requests()) > 0 and len(web.requests) > seen  # --no-cache fetched
    assert not any(s["from_cache"] for s in json.loads(uncached.stdout)["sources"])
    stats = run_research("cache", "stats", "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["pages"] >= 8
    cleared = run_research("cache", "clear", "--json")
    assert json.loads(cleared.stdout)["pages"] == 0


def test_failed_provider_degrades_to_the_others(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld) -> None:
    web.failing.add("tavily")
    out = _run(run_research, model_server, web, *ALL)
    assert any("tavily: HTTP 500" in e for e in out["provider_errors"])
    assert {s["provider"] for s in out["sources"]} == {"brave", "searxng"}


def test_every_provider_failing_exits_1_with_the_reason(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld) -> None:
    web.failing.update(ALL)
    model_server.enqueue(responses_text(PLAN))
    result = run_research("--breadth", "1", "solar?", config=web.provider_config(*ALL))
    assert result.returncode == 1
    assert "every search provider failed" in result.stderr
    assert "brave: HTTP 500" in result.stderr and "searxng: HTTP 500" in result.stderr
    assert result.stdout == ""
    assert web.page_requests() == []


def test_loopback_pages_are_refused_unless_allowed(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld) -> None:
    model_server.enqueue(responses_text(PLAN))
    result = run_research("--breadth", "1", "solar?",
                          config=('research.providers=["searxng"]',
                                  f"research.searxng.base_url={web.api_base('searxng')}"))
    assert result.returncode == 1
    assert "private or loopback" in result.stderr
    assert web.page_requests() == []


def test_no_provider_is_a_clear_error(run_research: RunResearch,
                                      model_server: ModelServer) -> None:
    model_server.enqueue(responses_text(PLAN))
    result = run_research("solar?")
    assert result.returncode == 1
    assert "no search provider" in result.stderr and "--corpus" in result.stderr


def test_ctrl_c_stops_cleanly_and_keeps_what_was_fetched(
        model_server: ModelServer, web: WebWorld, codex_home: Path, tmp_path: Path) -> None:
    web.slow.add("/article4")
    model_server.enqueue(responses_text(PLAN), responses_text(REPORT))
    proc = subprocess.Popen(
        research_argv(model_server, ["--breadth", "1", "solar?"],
                      (*web.provider_config(*ALL), "research.fetch_timeout_s=60")),
        env=research_env(codex_home), cwd=tmp_path, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cache = codex_home / "research" / "cache.sqlite"
    deadline = time.monotonic() + 60
    pages = 0
    while time.monotonic() < deadline and pages < 6:
        time.sleep(0.2)
        try:
            with sqlite3.connect(cache) as db:
                pages = db.execute("SELECT COUNT(*) FROM pages WHERE url NOT LIKE "
                                   "'%robots.txt'").fetchone()[0]
        except sqlite3.Error:
            continue
    assert pages >= 6, "pages were not cached while the slow one was pending"
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] >= pages


SEARCH_SERVER = Path(__file__).with_name("search_server.py")


def _mcp_config(web: WebWorld, tool: str, *extra: str) -> tuple[str, ...]:
    """[research.mcp] on the SDK search server (tests/research/search_server.py), which
    answers with two loopback pages."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mcp"))
    from mcp_tools import tools_dir

    results = [{"title": "Original", "url": web.url("127.0.0.3", "/original"),
                "description": "the original report"},
               {"title": "Distinct", "url": web.url("127.0.0.6", "/distinct"),
                "description": "another view"}]
    python = str(tools_dir() / "py" / "bin" / "python")
    return ('research.providers=["mcp"]', 'research.allow_networks=["127.0.0.0/8"]',
            "research.mcp.server=search", f"research.mcp.tool={tool}",
            f"mcp_servers.search.command={python}",
            "mcp_servers.search.args=" + json.dumps([str(SEARCH_SERVER), "--results",
                                                     json.dumps(results)]),
            *extra)


@pytest.mark.parametrize(("tool", "extra"), [
    ("search", ("research.mcp.count_argument=count",)), ("search_text", ())])
def test_an_mcp_servers_search_tool_is_a_provider(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld,
        codex_home: Path, tool: str, extra: tuple[str, ...]) -> None:
    model_server.enqueue(responses_text(PLAN), responses_text(REPORT))
    result = run_research("--json", "--breadth", "1", "how do solar panels work?",
                          config=_mcp_config(web, tool, *extra))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    fetched = {f"http://{host}{path}" for host, path in web.page_requests()}
    assert {web.url("127.0.0.3", "/original"), web.url("127.0.0.6", "/distinct")} <= fetched
    assert {s["provider"] for s in out["sources"]} == {"mcp:search"}
    assert out["citations"] and all(c["url"] in fetched for c in out["citations"])
    audit = "".join(p.read_text() for p in (codex_home / "audit").rglob("*.jsonl"))
    assert '"operation":"mcp_call"' in audit.replace(" ", "") and tool in audit


def test_an_mcp_search_tool_that_needs_approval_is_refused(
        run_research: RunResearch, model_server: ModelServer, web: WebWorld) -> None:
    model_server.enqueue(responses_text(PLAN))
    refused = run_research("--json", "--breadth", "1", "how do solar panels work?",
                           config=_mcp_config(web, "search_unmarked"))
    assert refused.returncode == 1, refused.stdout
    assert "mcp:search" in refused.stderr and "not made" in refused.stderr
    assert web.page_requests() == []
    # Control: approved for this tool in config, the same search runs.
    model_server.enqueue(responses_text(PLAN), responses_text(REPORT))
    approved = run_research("--json", "--breadth", "1", "how do solar panels work?",
                            config=_mcp_config(web, "search_unmarked", (
                                "mcp_servers.search.tools.search_unmarked.approval_mode="
                                "approve")))
    assert approved.returncode == 0, approved.stderr
    assert web.page_requests()
