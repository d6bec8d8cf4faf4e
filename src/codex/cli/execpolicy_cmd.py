"""`codex execpolicy check [--rules FILE]... [--json] -- CMD...`: preview the exec-policy decision.

The decision is data, so the exit code is 0 whatever it is; 2 means the command line or a rule
file is wrong (the message names file:line). CMD is taken literally, as the agent would run it:
to check a shell script pass it through a shell, `-- bash -lc 'curl … | sh'`.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer

from codex.cli.common import global_options
from codex.config.home import codex_home
from codex.execpolicy import PolicyDecision, RuleLoadError, evaluate, load_rules

HELP = """Check what the exec policy decides for a command, without running it.

The decision is allow (runs without asking), prompt (needs approval) or forbidden (never runs).
Built-in rules, the rule files in $CODEX_HOME/rules (*.toml and Codex *.rules) and every --rules
FILE are applied; the strictest decision wins. Paths are judged relative to the working
directory (-C DIR to change it).

CMD is one argv, not a shell line: check a script with `-- bash -lc 'SCRIPT'`.

A rule file ($CODEX_HOME/rules/NAME.toml) holds [[rule]] tables; examples in match/not_match are
checked when the file loads:

\b
  [[rule]]
  id = "remote"
  pattern = ["git", ["push", "fetch"]]   # a list is a set of alternatives
  decision = "prompt"                    # allow | prompt | forbidden
  justification = "talks to the remote"
  match = ["git push origin main"]
  not_match = ["git pull"]

Codex CLI files ($CODEX_HOME/rules/NAME.rules) with prefix_rule(...) calls are read too.

\b
Examples:
  codex execpolicy check -- git push --force origin main
  codex execpolicy check -- bash -lc 'curl -fsSL https://x.sh | sh'
  codex execpolicy check --rules ./team.rules --json -- rm -rf build
"""


def _render_human(decision: PolicyDecision) -> None:
    typer.echo(f"decision: {decision.decision.value}")
    typer.echo(f"justification: {_printable(decision.justification)}")
    if decision.matched:
        typer.echo("matched rules:")
        for match in decision.matched:
            typer.echo(f"  {match.decision.value:<9} {_printable(match.describe())}"
                       f"  [{_printable(shlex.join(match.command))}]"
                       f"  {_printable(match.justification)}")
    else:
        typer.echo("matched rules: none")
    if decision.problems:
        typer.echo("not provably simple:")
        for problem in decision.problems:
            typer.echo(f"  {_printable(problem)}")
    if len(decision.commands) > 1:
        typer.echo("commands:")
        for command in decision.commands:
            typer.echo(f"  {command.decision.value:<9} {_printable(shlex.join(command.argv))}")


def _printable(text: str) -> str:
    # Commands and rule texts are untrusted; never let them drive the terminal.
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def register(app: typer.Typer) -> None:
    """Add `codex execpolicy check` to the app."""
    execpolicy_app = typer.Typer(name="execpolicy", no_args_is_help=True,
                                 help="Inspect the exec policy (which commands may run).")

    @execpolicy_app.command("check", help=HELP, context_settings={
        "allow_interspersed_args": False})
    def check(
        ctx: typer.Context,
        command: Annotated[list[str] | None, typer.Argument(
            metavar="-- CMD...", show_default=False,
            help="The command to check, after `--`.")] = None,
        rules: Annotated[list[Path] | None, typer.Option(
            "--rules", "-r", metavar="FILE",
            help="Also apply this rule file (.toml, or Codex .rules). Repeatable.")] = None,
        no_home_rules: Annotated[bool, typer.Option(
            "--no-home-rules", help="Do not load $CODEX_HOME/rules (only built-ins and "
                                    "--rules).")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print the decision as one JSON object.")] = False,
    ) -> None:
        argv = list(command or [])
        if not argv:
            typer.echo("codex: error: no command to check; pass it after `--`, e.g. "
                       "`codex execpolicy check -- git status`", err=True)
            raise typer.Exit(2)
        try:
            ruleset = load_rules(None if no_home_rules else codex_home(), tuple(rules or ()))
        except RuleLoadError as err:
            typer.echo(f"codex: error: {err}", err=True)
            raise typer.Exit(2) from None
        workspace = (global_options(ctx).cd or Path.cwd()).resolve()
        if len(argv) == 1 and any(ch.isspace() for ch in argv[0]) and not as_json:
            typer.echo(f"codex: note: {argv[0]!r} is checked as one program name; to check a "
                       f"shell line use `-- bash -lc {shlex.quote(argv[0])}`", err=True)
        decision = evaluate(argv, workspace=workspace, rules=ruleset)
        if as_json:
            payload = decision.to_json()
            payload["workspace"] = str(workspace)
            payload["rule_files"] = [str(p) for p in ruleset.files]
            typer.echo(json.dumps(payload, ensure_ascii=False))
        else:
            _render_human(decision)

    app.add_typer(execpolicy_app)


__all__ = ["register"]
