"""Our HTML extractor against trafilatura (the well-known extractor, a test-only oracle here):
on pages built like real ones (menus, cookie banners, share bars, sidebars, comments, footers,
with and without <article>), every sentence trafilatura keeps we keep, no boilerplate line
gets through, and title and date agree."""

from __future__ import annotations

import re

import pytest

from codex.research.extract import extract

ARTICLE = [
    "Solar panels on the school roof now cover most of its daytime electricity needs.",
    "The installation took three weeks and was paid for by a municipal green bond.",
    "Engineers expect the panels to lose about half a percent of output every year.",
    "Students will track the production figures as part of their physics course.",
]
BOILERPLATE = ["Home", "About us", "We use cookies to improve your experience",
               "Share on Twitter", "Related stories", "Leave a comment", "Copyright 2026",
               "Subscribe to our newsletter"]


def page(wrapper: str, date_meta: str) -> bytes:
    body = "".join(f"<p>{s} {s.split()[0]} details follow in the report.</p>" for s in ARTICLE)
    content = {"article": f"<article><h1>Roof solar for the school</h1>{body}</article>",
               "main": f"<main><h1>Roof solar for the school</h1>{body}</main>",
               "div": f'<div class="post-body"><h1>Roof solar for the school</h1>{body}</div>',
               }[wrapper]
    return (
        "<!DOCTYPE html><html><head><title>Roof solar for the school | Town News</title>"
        f"{date_meta}</head><body>"
        '<div class="cookie-banner">We use cookies to improve your experience</div>'
        '<header><a href="/">Home</a> <a href="/about">About us</a></header>'
        '<nav class="menu"><ul><li><a href="/a">Home</a></li><li><a href="/b">About us</a>'
        "</li></ul></nav>"
        f"{content}"
        '<div class="share-bar"><a href="#">Share on Twitter</a></div>'
        '<aside class="sidebar"><h3>Related stories</h3><ul><li><a href="/x">Other news'
        "</a></li></ul></aside>"
        '<section id="comments"><h3>Leave a comment</h3></section>'
        '<div class="newsletter">Subscribe to our newsletter</div>'
        "<footer><p>Copyright 2026</p></footer></body></html>").encode()


def sentences(text: str) -> set[str]:
    return {s.strip() for s in re.split(r"(?<=\.)\s+", text) if len(s.split()) > 4}


@pytest.mark.parametrize("wrapper", ["article", "main", "div"])
@pytest.mark.parametrize("date_meta", [
    '<meta property="article:published_time" content="2026-03-14T09:00:00Z">',
    '<meta name="date" content="2026-03-14">'])
def test_keeps_what_trafilatura_keeps_and_no_boilerplate(wrapper: str, date_meta: str) -> None:
    import trafilatura

    html = page(wrapper, date_meta)
    document = trafilatura.bare_extraction(html.decode(), with_metadata=True,
                                           favor_precision=True)
    assert document is not None
    oracle = document.as_dict()
    ours = extract(html, "text/html")
    assert ours is not None
    expected = sentences(str(oracle["text"]))
    assert len(expected) >= len(ARTICLE), oracle["text"]  # control: the oracle found the body
    assert expected <= sentences(ours.text), (expected - sentences(ours.text), ours.text)
    for line in BOILERPLATE:
        assert line not in ours.text, (line, ours.text)
    assert ours.date == oracle["date"] == "2026-03-14"
    assert ours.title == str(oracle["title"]) or ours.title.startswith(str(oracle["title"]))


def test_navigation_only_page_has_no_text() -> None:
    html = (b"<html><body><nav><a href='/'>Home</a></nav><div class='menu'><a href='/x'>"
            b"Products</a></div><footer>Copyright</footer></body></html>")
    assert extract(html, "text/html") is None


def test_link_lists_are_dropped_but_headings_kept() -> None:
    html = (b"<html><head><title>T</title></head><body><article><h2>Results</h2>"
            b"<p>The measured output was twelve kilowatt hours on a clear day.</p>"
            b"<p><a href='/1'>one</a> <a href='/2'>two</a> <a href='/3'>three</a></p>"
            b"</article></body></html>")
    result = extract(html, "text/html")
    assert result is not None
    assert result.text.splitlines() == [
        "Results", "The measured output was twelve kilowatt hours on a clear day."]
