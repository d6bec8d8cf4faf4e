"""The host side of `codex.fetch`: an HTTP GET for a plugin, only to the hosts it was granted.

Host rules are the sandbox's domain allow-list rules (`codex.security.permissions`): an entry
`example.com` matches that host on any port, `*.example.com` one level of subdomains,
`**.example.com` any depth (not the apex), `127.0.0.1:8080` that host and port only. Only http
and https. Redirects are not followed (a redirect could leave the allow-list). Error codes the
guest sees: -1 host not granted, -2 request failed, -3 body larger than the guest's buffer,
-4 bad pointers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from codex.security.permissions import host_allowed as domain_allowed

DENIED = -1
FAILED = -2
MAX_BODY = 4 * 1024 * 1024


def host_allowed(url: str, granted: Sequence[str]) -> bool:
    """Whether `url` is http(s) to a granted host (the sandbox's matching rules)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return domain_allowed(parts.hostname, port, tuple(granted), ())[0]


def make_fetch(granted: Sequence[str], timeout_s: float,
               on_request: Callable[[str, bool], None]) -> Callable[[str], bytes | int]:
    """The callback the runtime links as `codex.fetch`; `on_request(url, allowed)` audits."""

    def fetch(url: str) -> bytes | int:
        allowed = host_allowed(url, granted)
        on_request(url, allowed)
        if not allowed:
            return DENIED
        import httpx

        try:
            with httpx.Client(timeout=timeout_s, follow_redirects=False, trust_env=False) as c:
                response = c.get(url)
        except httpx.HTTPError:
            return FAILED
        return response.content if len(response.content) <= MAX_BODY else -3

    return fetch
