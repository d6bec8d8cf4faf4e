"""The environment a confined command sees: an allow-list, never a deny-list.

Only a handful of harmless variables pass. Names that look like credentials never pass
unless the user named them explicitly (`codex sandbox --env NAME`), in any profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED_NAMES: frozenset[str] = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL"})
ALLOWED_PREFIXES: tuple[str, ...] = ("LC_",)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

_CREDENTIAL_WORDS = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|CERT|SIGNATURE",
    re.IGNORECASE)
_CREDENTIAL_PREFIXES: tuple[str, ...] = (
    "AWS_", "AZURE_", "ARM_", "GOOGLE_", "GCP_", "GCLOUD_", "CLOUDSDK_", "OPENAI_",
    "ANTHROPIC_", "GITHUB_", "GH_", "GITLAB_", "HF_", "HUGGING", "NPM_", "DOCKER_",
    "VAULT_", "KUBE", "CODEX_", "SSH_", "GPG_", "DIGITALOCEAN_", "HEROKU_", "STRIPE_",
    "SLACK_", "DATABASE_", "PG", "MYSQL_", "REDIS_", "SENTRY_", "TWILIO_",
)


def looks_like_credential(name: str) -> bool:
    """True for names that commonly carry secrets (provider, cloud, VCS, database...)."""
    upper = name.upper()
    return bool(_CREDENTIAL_WORDS.search(upper)) or upper.startswith(_CREDENTIAL_PREFIXES)


def is_allowed(name: str) -> bool:
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def scrub(environ: Mapping[str, str], explicit: Mapping[str, str] | None = None,
          extra_names: Iterable[str] = ()) -> dict[str, str]:
    """The command's environment.

    `environ`: the agent's environment. `extra_names`: names the configuration adds (still
    dropped when they look like credentials). `explicit`: values the user named for this run
    (always pass, they are the user's decision).
    """
    extra = frozenset(extra_names)
    env = {name: value for name, value in environ.items()
           if (is_allowed(name) or name in extra) and not looks_like_credential(name)}
    env.setdefault("PATH", DEFAULT_PATH)
    if explicit:
        env.update(explicit)
    return env
