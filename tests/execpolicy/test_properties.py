"""Property tests: the parser, the evaluator and the rule loaders never crash on any input.

CODEX_FUZZ_EXAMPLES=5000 runs a longer campaign than the default 300 examples per property.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex.execpolicy import Decision, RuleLoadError, evaluate
from codex.execpolicy.loading import parse_starlark_rules, parse_toml_rules
from codex.execpolicy.parse import parse_script
from codex.execpolicy.wrappers import shell_script

WORKSPACE = Path("/work/proj")
HOME = Path("/home/alice")
SETTINGS = settings(max_examples=int(os.environ.get("CODEX_FUZZ_EXAMPLES", "300")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])



@contextmanager
def time_limit(seconds: int = 5) -> Iterator[None]:
    """Fail fast on a parser hang: the previous parser (bashlex) once looped forever."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"one example took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


SHELL_ALPHABET = st.sampled_from([*"abcrm -/.~$(){}[]<>|&;'\"`\\*?!#=\n\t:0123456789",
                                  "sudo ", "rm -rf ", "curl x | sh", "$(", "<<EOF\n", "2>&1",
                                  "bash -c ", "&&", "||", "${x:-", "cd /;", "EOF\n", "&-",
                                  ">&", "{a,b}", "function ", "2>", "<&"])
SHELLISH = st.lists(SHELL_ALPHABET, max_size=40).map("".join)


@SETTINGS
@given(st.text(max_size=200))
def test_parse_script_never_raises_on_any_text(script: str) -> None:
    with time_limit():
        parsed = parse_script(script)
    assert all(isinstance(p, str) for p in parsed.problems)


@SETTINGS
@given(st.one_of(st.text(max_size=200), SHELLISH))
def test_evaluate_never_raises_on_any_script(script: str) -> None:
    with time_limit():
        result = evaluate(["bash", "-lc", script], workspace=WORKSPACE, home=HOME)
    assert isinstance(result.decision, Decision)
    assert result.justification or result.decision is Decision.ALLOW
    result.to_json()


@SETTINGS
@given(st.lists(st.text(max_size=30), max_size=8))
def test_evaluate_never_raises_on_any_argv(argv: list[str]) -> None:
    with time_limit():
        result = evaluate(argv, workspace=WORKSPACE, home=HOME)
    assert isinstance(result.decision, Decision)


@SETTINGS
@given(SHELLISH)
def test_a_script_prefixed_with_sudo_is_always_forbidden(script: str) -> None:
    with time_limit():
        result = evaluate(["sudo", "bash", "-lc", script], workspace=WORKSPACE, home=HOME)
    assert result.decision is Decision.FORBIDDEN


_UNPARSED = ("could not parse", "could not analyse", "nests too deeply")


@SETTINGS
@given(SHELLISH)
def test_appending_a_forbidden_command_never_loosens(script: str) -> None:
    combined = script + "\nrm -rf /"
    argv = ("bash", "-lc", combined)
    with time_limit():
        result = evaluate(list(argv), workspace=WORKSPACE, home=HOME)
        parsed = parse_script(combined)
    if shell_script(argv) is None:
        # A "script" that starts with `-` is an option to bash (which refuses it as invalid
        # and runs nothing); codex does not read it as a script and asks.
        assert combined.startswith("-") and result.decision is Decision.PROMPT, result
    elif any(p.startswith(_UNPARSED) for p in parsed.problems):
        # Unreadable: codex cannot see the rm, so it must ask (never allow).
        assert result.decision is Decision.PROMPT, result
    elif any(cmd.argv[:3] == ("rm", "-rf", "/") for cmd in parsed.commands):
        assert result.decision is Decision.FORBIDDEN, (combined, result)
    else:
        # The script swallowed the line (a heredoc body, a quoted word, an escaped newline,
        # a comment continued): it is no command of its own there; still never allow.
        assert result.decision is not Decision.ALLOW, (combined, result)


@SETTINGS
@given(st.text(max_size=300))
def test_toml_loader_only_raises_rule_load_errors(text: str) -> None:
    try:
        parse_toml_rules(text, Path("fuzz.toml"))
    except RuleLoadError as err:
        assert str(err).startswith("fuzz.toml")


@SETTINGS
@given(st.one_of(st.text(max_size=300), st.lists(st.sampled_from(
    ["prefix_rule(", "pattern=", "[", "]", '"a"', ",", ")", "decision=", '"allow"', "\n",
     "match=", "not_match=", "x", "(", "'b'", "justification=", "**", "f'{x}'"]),
    max_size=30).map("".join)))
def test_starlark_loader_only_raises_rule_load_errors(text: str) -> None:
    try:
        parse_starlark_rules(text, Path("fuzz.rules"))
    except RuleLoadError as err:
        assert str(err).startswith("fuzz.rules")


@pytest.mark.parametrize("depth", [50, 400])
def test_deep_nesting_is_prompt_not_crash(depth: int) -> None:
    script = "(" * depth + "ls" + ")" * depth
    assert evaluate(["bash", "-lc", script], workspace=WORKSPACE,
                    home=HOME).decision is Decision.PROMPT
    nested = "$(" * depth + "ls" + ")" * depth
    assert evaluate(["bash", "-lc", "echo " + nested], workspace=WORKSPACE,
                    home=HOME).decision is Decision.PROMPT


@pytest.mark.timeout(30)
@pytest.mark.parametrize("script", ["a'b${x:-'", "3r]6'0!${x:-'", "x'${'", "'$'${"])
def test_inputs_that_once_hung_the_parser(script: str) -> None:
    # bashlex 0.18, the previous parser, looped forever on an unclosed `${` after a quote.
    assert evaluate(["bash", "-lc", script], workspace=WORKSPACE,
                    home=HOME).decision is Decision.PROMPT


ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF)


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(["{", "}", "{a,", "${", "echo ", " ", "\n"]), ASTRAL),
                max_size=12).map("".join))
def test_braces_before_astral_characters_do_not_crash_the_process(script: str) -> None:
    # tree-sitter-bash#337: `{` then a 4-byte UTF-8 character reads out of bounds (SIGSEGV,
    # which no try/except can catch); such scripts must be refused before the grammar runs.
    with time_limit():
        result = evaluate(["bash", "-lc", script], workspace=WORKSPACE, home=HOME)
    assert isinstance(result.decision, Decision)


@pytest.mark.parametrize("script", ["{\U000edbf5", "{\U000aa90b", "echo {a,b} \U0001f600"])
def test_the_known_grammar_crashers_are_prompt(script: str) -> None:
    result = evaluate(["bash", "-lc", script], workspace=WORKSPACE, home=HOME)
    assert result.decision is Decision.PROMPT
    assert "Basic Multilingual Plane" in result.justification


def test_huge_script_is_prompt() -> None:
    result = evaluate(["bash", "-lc", "ls;" * 30000], workspace=WORKSPACE, home=HOME)
    assert result.decision is Decision.PROMPT
    assert "longer than" in result.justification
