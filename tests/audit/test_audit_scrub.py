"""Scrubbing: home before user, credential environment values, recognisable key formats."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from audit_helpers import PYTHON, child_env

from codex.audit.scrub import Scrubber

HOME_SCRUBBER = Scrubber(homes=["/home/alice"], users=["alice"])


@pytest.mark.parametrize(("raw", "scrubbed"), [
    ("cat /home/alice/.bashrc", "cat [HOME]/.bashrc"),
    ("cd /home/alice", "cd [HOME]"),
    ("ls /home/alice2/x", "ls /home/alice2/x"),  # another directory, not the home
    ("ls /srv/home/alice/x", "ls /srv/home/[USER]/x"),  # not the home, but the name
    ("chown alice:staff f", "chown [USER]:staff f"),
    ("ssh alice@example.com", "ssh [USER]@example.com"),
    ("echo malice alice_x", "echo malice alice_x"),  # whole words only
    ("ls /home/bob/alice", "ls /home/bob/[USER]"),
    ("--dir=/home/alice/src", "--dir=[HOME]/src"),
])
def test_home_then_user(raw: str, scrubbed: str) -> None:
    assert HOME_SCRUBBER.scrub(raw) == scrubbed


SECRETS = [
    "sk-abcdefghijklmnopqrstuvwx1234",
    "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789",
    "sk-ant-api03-abcdefghijklmnopqrstuvwx",
    "ghp_" + "a1B2c3D4e5" * 4,
    "gho_" + "Z9y8X7w6V5" * 4,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "AKIAIOSFODNN7EXAMPLE",
    "xoxb-123456789012-abcdefghijkl",
    "xoxp-1234-5678-abcdefghij",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "glpat-abcdefghij0123456789",
    "hf_abcdefghijklmnopqrstuvwxyzABCDEF",
    "sk_live_abcdefghijklmnop1234",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLXBhcnQ",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_key_formats(secret: str) -> None:
    out = Scrubber().scrub(f"curl -d 'k={secret}' https://api.example.com")
    assert secret not in out
    assert "[REDACTED]" in out


@pytest.mark.parametrize(("raw", "scrubbed"), [
    ("curl -H 'Authorization: Bearer abc.def-ghi_jkl'",
     "curl -H 'Authorization: Bearer [REDACTED]'"),
    ("git clone https://bob:hunter2hunter2@example.com/r.git",
     "git clone https://bob:[REDACTED]@example.com/r.git"),
    ("mysql --password=correcthorse db", "mysql --password=[REDACTED] db"),
    ("deploy API_KEY=abcd1234efgh", "deploy API_KEY=[REDACTED]"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----"
     " tail", "[REDACTED] tail"),
    ("echo -----BEGIN RSA PRIVATE KEY-----\nMIIEcut", "echo [REDACTED]"),
])
def test_contextual_formats(raw: str, scrubbed: str) -> None:
    assert Scrubber().scrub(raw) == scrubbed


def test_environment_values_are_redacted() -> None:
    scrubber = Scrubber.from_environment({
        "MY_SERVICE_TOKEN": "tok-0123456789-abcdef",
        "DB_PASSWORD": "p4ssw0rd!!",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "STRIPE_API_KEY": "1",  # too short to scrub without mangling the log
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/carol",
        "USER": "carol",
    })
    out = scrubber.scrub(
        "run tok-0123456789-abcdef p4ssw0rd!! wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY "
        "1 /usr/bin /home/carol/x carol"
    )
    assert out == ("run [REDACTED] [REDACTED] [REDACTED] 1 /usr/bin [HOME]/x [USER]")


def test_secret_containing_the_user_name_is_redacted_whole() -> None:
    scrubber = Scrubber(secret_values=["xx-dave-secret-42"], users=["dave"])
    assert scrubber.scrub("use xx-dave-secret-42 as dave") == "use [REDACTED] as [USER]"


def test_cap_never_leaves_a_partial_secret() -> None:
    secret = "sk-" + "q" * 40
    text = "x" * 8180 + " " + secret
    out = Scrubber().scrub(text)
    assert "qqqq" not in out


def test_real_process_environment(tmp_path: Path) -> None:
    """A process's own scrubber picks up its environment, home and user."""
    home = tmp_path / "home" / "erin"
    home.mkdir(parents=True)
    code = ("from codex.audit import Scrubber;"
            f"print(Scrubber.from_environment().scrub('cat {home}/notes secretvalue123 erin'))")
    env = child_env(tmp_path, HOME=str(home), USER="erin", LOGNAME="erin",
                    SOME_SERVICE_SECRET="secretvalue123")
    out = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out == "cat [HOME]/notes [REDACTED] [USER]\n"


def test_secrets_only_keeps_identity_and_length() -> None:
    scrubber = Scrubber.secrets_only({"SERVICE_TOKEN": "tok-abcdef-123456", "HOME": "/home/x",
                                      "USER": "x"})
    text = "cat /home/x/notes for x: tok-abcdef-123456 sk-" + "a" * 30 + " " + "y" * 9000
    out = scrubber.scrub(text)
    assert out.startswith("cat /home/x/notes for x: [REDACTED] [REDACTED] ")
    assert out.endswith("y" * 9000)
