"""Registered domains from our Public Suffix List lookup against tldextract (the well-known
implementation over the same list, a test-only oracle): normal, wildcard, exception, private
and IDN rules, and unknown top-level domains."""

from __future__ import annotations

import pytest

from codex.research.bias import registered_domain as url_domain
from codex.research.suffixes import public_suffix, registered_domain

HOSTS = [
    "news.example.co.uk", "example.co.uk", "co.uk", "a.b.c.example.com", "example.com",
    "www.city.kawasaki.jp",  # exception rule !city.kawasaki.jp
    "a.b.kawasaki.jp", "b.kawasaki.jp",  # wildcard *.kawasaki.jp
    "user.github.io", "deep.user.github.io", "github.io",  # private section
    "bucket.s3.amazonaws.com", "x.blogspot.com", "foo.appspot.com",
    "www.xn--85x722f.xn--55qx5d.cn",  # IDN labels, compared in Unicode
    "shop.example.xn--p1ai", "a.b.pvt.k12.ma.us",
    "EXAMPLE.COM.", "sub.example.gov.uk", "host.compute.amazonaws.com",
]


@pytest.mark.parametrize("host", HOSTS)
def test_same_registered_domain_as_tldextract(host: str) -> None:
    import tldextract

    oracle = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                   include_psl_private_domains=True)(host.lower().rstrip("."))
    assert public_suffix(host) == oracle.suffix
    assert registered_domain(host) == (oracle.top_domain_under_public_suffix or None)


def test_an_unknown_top_level_domain_follows_the_lists_default_rule() -> None:
    """The list's algorithm: no rule matches, so the rule is `*` (the top label). tldextract
    returns no suffix here instead; we follow the list, so sub-domains still group."""
    assert public_suffix("a.b.example.unknowntld") == "unknowntld"
    assert registered_domain("a.b.example.unknowntld") == "example.unknowntld"
    assert registered_domain("localhost") is None


def test_urls_map_to_their_domain_and_ips_and_files_stay() -> None:
    assert url_domain("https://news.example.co.uk/a?b") == "example.co.uk"
    assert url_domain("http://127.0.0.2:8080/x") == "127.0.0.2"
    assert url_domain("http://[::1]/x") == "::1"
    assert url_domain("file:///tmp/notes.md") == "local"
    assert url_domain("https://co.uk/") == "co.uk"  # a suffix itself: the host
