"""A plugin's granted hosts follow the sandbox's domain allow-list rules, checked against the
proxy's own verdicts for the same patterns (one rule set, not two)."""

from __future__ import annotations

import pytest

from codex.plugins.fetch import host_allowed
from codex.security.permissions import host_allowed as proxy_allows

GRANTED = ("api.test", "*.cdn.test", "**.deep.test", "127.0.0.1:8080")


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.test/x", True), ("http://API.test:9/x", True),
    ("https://a.cdn.test/", True), ("https://a.b.cdn.test/", False), ("https://cdn.test/", False),
    ("https://a.b.deep.test/", True), ("https://deep.test/", False),
    ("http://127.0.0.1:8080/", True), ("http://127.0.0.1:8081/", False),
    ("ftp://api.test/", False), ("file:///etc/passwd", False), ("https://other.test/", False),
])
def test_plugin_hosts_match_like_the_proxy(url: str, expected: bool) -> None:
    assert host_allowed(url, GRANTED) is expected
    if url.startswith("http"):
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        assert proxy_allows(str(parts.hostname), port, GRANTED, ())[0] is expected
