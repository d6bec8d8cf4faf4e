"""`codex plugin install | list | show | grant | revoke | remove | run | new`: WASM plugins.

Rendering and argument parsing only; consent, grants and calls live in `codex.plugins`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from codex.cli.audit_cmd import open_audit_log
from codex.cli.common import load_effective_config
from codex.config import EffectiveConfig

HELP = """Install, grant, inspect and run WebAssembly plugins.

A plugin is a plugin.toml manifest and a WASI module (ABI v1 wasi-command-json: the tool's
arguments as JSON on stdin, its result as JSON on stdout). It gets nothing but what you grant:
read-only paths when you install it, write paths, hosts and env names only with
`codex plugin grant`. Grants live in config.toml [plugins.<id>] and are void when the module
or the manifest changes. Every call is recorded in the audit log.

Examples: codex plugin new hello --lang wat | codex plugin install ./hello |
codex plugin run hello hello --json '{"x": 1}' | codex plugin grant files --path '{workspace}/out'
"""

PathOpt = Annotated[list[str] | None, typer.Option(
    "--path", metavar="PATH", help="A path the manifest requests, as written there "
    "(e.g. '{workspace}/out', or 'ro:{workspace}/out' to grant it read-only). Repeatable.")]
HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", metavar="HOST", help="A host the manifest requests. Repeatable.")]
EnvOpt = Annotated[list[str] | None, typer.Option(
    "--env", metavar="NAME", help="An environment variable name the manifest requests. "
    "Repeatable.")]
YesOpt = Annotated[bool, typer.Option(
    "--yes", "-y", help="Approve without asking (you have reviewed what it requests).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"codex: error: {message}", err=True)
    return typer.Exit(code)


def _consent(config: EffectiveConfig, assume_yes: bool) -> Any:
    from codex.approvals import default_approver
    from codex.plugins.trust import Consent

    return Consent(default_approver(interactive=not assume_yes), open_audit_log(config),
                   session_id="plugin-cli", cwd=config.cwd, assume_yes=assume_yes)


def _row(codex_home: Path, plugin_id: str) -> dict[str, Any]:
    """What `list` and `show` report for one installed plugin."""
    from codex.plugins.grants import GrantError, grant_problem, read_grants
    from codex.plugins.manifest import ManifestError
    from codex.plugins.store import TamperedError, load_installed
    from codex.plugins.trust import request_summary

    try:
        plugin = load_installed(codex_home, plugin_id)
    except (ManifestError, TamperedError) as exc:
        return {"id": plugin_id, "status": "refused", "problem": str(exc)}
    manifest = plugin.manifest
    try:
        grant = read_grants(codex_home).get(plugin_id)
        problem = grant_problem(manifest, plugin.wasm_sha256, grant)
    except GrantError as exc:
        grant, problem = None, str(exc)
    caps = manifest.capabilities
    return {
        "id": manifest.id, "version": manifest.version,
        "status": "granted" if problem is None else "not granted",
        "problem": problem, "summary": request_summary(manifest),
        "wasm_sha256": plugin.wasm_sha256, "manifest_sha256": manifest.manifest_sha256,
        "tools": [{"name": t.name, "description": t.description,
                   "annotations": vars(t.annotations), "input_schema": t.input_schema}
                  for t in manifest.tools],
        "requested": {"allowed_paths": {p.key: p.guest for p in caps.paths},
                      "allowed_hosts": list(caps.hosts), "env": list(caps.env)},
        "granted": None if grant is None else {
            "allowed_paths": list(grant.allowed_paths),
            "allowed_hosts": list(grant.allowed_hosts), "env": list(grant.env)},
        "limits": vars(manifest.limits),
    }


def register(app: typer.Typer) -> None:
    """Add `codex plugin` and its subcommands."""
    plugin_app = typer.Typer(name="plugin", help=HELP, no_args_is_help=True)

    @plugin_app.command("install")
    def install_cmd(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(
            metavar="PATH", help="A plugin directory, its plugin.toml, or a file:// URL.")],
        yes: YesOpt = False,
    ) -> None:
        """Check a plugin's module against its manifest, ask, copy it in, grant its read-only
        paths."""
        from codex.plugins.grants import GrantError
        from codex.plugins.manifest import ManifestError
        from codex.plugins.store import TamperedError
        from codex.plugins.trust import ConsentDenied, install_plugin

        config = load_effective_config(ctx)
        try:
            installed, grant = install_plugin(config.codex_home, source, _consent(config, yes))
        except (ManifestError, GrantError) as exc:
            raise _fail(str(exc), 2) from None
        except (TamperedError, ConsentDenied) as exc:
            raise _fail(str(exc)) from None
        manifest = installed.manifest
        typer.echo(f"installed {manifest.id} {manifest.version} "
                   f"({len(manifest.tools)} tools); granted paths: "
                   f"{', '.join(grant.allowed_paths) or 'none'}")
        if manifest.capabilities.needs_approval:
            typer.echo(f"it also requests write paths, hosts or env names: review with "
                       f"codex plugin show {manifest.id}, allow with codex plugin grant")

    @plugin_app.command("list")
    def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
        """List installed plugins and whether each may run."""
        from codex.plugins.store import installed_ids

        config = load_effective_config(ctx)
        rows = [_row(config.codex_home, pid) for pid in installed_ids(config.codex_home)]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            typer.echo("no plugins installed (codex plugin install PATH)")
        for row in rows:
            tools = ", ".join(t["name"] for t in row.get("tools", []))
            typer.echo(f"{row['id']:<20} {row.get('version', '?'):<10} {row['status']:<12} "
                       f"{tools}")

    @plugin_app.command("show")
    def show_cmd(ctx: typer.Context,
                 plugin_id: Annotated[str, typer.Argument(metavar="ID")],
                 as_json: JsonOpt = False) -> None:
        """Show what a plugin requests, what it was granted and its limits."""
        from codex.plugins.store import installed_ids

        config = load_effective_config(ctx)
        if plugin_id not in installed_ids(config.codex_home):
            raise _fail(f"no plugin {plugin_id!r} is installed (codex plugin list)")
        row = _row(config.codex_home, plugin_id)
        if as_json:
            typer.echo(json.dumps(row, indent=2))
            return
        for key, value in row.items():
            if value is not None:
                typer.echo(f"{key:<16}{value if isinstance(value, str) else json.dumps(value)}")

    @plugin_app.command("grant")
    def grant_cmd(ctx: typer.Context,
                  plugin_id: Annotated[str, typer.Argument(metavar="ID")],
                  path: PathOpt = None, host: HostOpt = None, env: EnvOpt = None,
                  yes: YesOpt = False) -> None:
        """Grant requested paths, hosts or env names (asks first; bound to the current hashes).

        With no option it re-approves the existing grant after the module or manifest changed.
        """
        from codex.plugins.grants import GrantError
        from codex.plugins.manifest import ManifestError
        from codex.plugins.store import NotInstalledError, TamperedError
        from codex.plugins.trust import ConsentDenied, grant_plugin

        config = load_effective_config(ctx)
        try:
            grant = grant_plugin(config.codex_home, plugin_id, _consent(config, yes),
                                 paths=path or (), hosts=host or (), env=env or ())
        except (GrantError, ManifestError) as exc:
            raise _fail(str(exc), 2) from None
        except (NotInstalledError, TamperedError, ConsentDenied) as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"granted {plugin_id}: {grant.describe()}")

    @plugin_app.command("revoke")
    def revoke_cmd(ctx: typer.Context,
                   plugin_id: Annotated[str, typer.Argument(metavar="ID")],
                   path: PathOpt = None, host: HostOpt = None, env: EnvOpt = None) -> None:
        """Take back named items, or the whole grant (the plugin stops running)."""
        from codex.plugins.grants import GrantError
        from codex.plugins.trust import revoke_plugin

        config = load_effective_config(ctx)
        try:
            grant = revoke_plugin(config.codex_home, plugin_id, _consent(config, True),
                                  paths=path or (), hosts=host or (), env=env or ())
        except GrantError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"revoked the grant of {plugin_id}" if grant is None
                   else f"grant of {plugin_id} now: {grant.describe()}")

    @plugin_app.command("remove")
    def remove_cmd(ctx: typer.Context,
                   plugin_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
        """Uninstall a plugin and drop its grant."""
        from codex.plugins.trust import remove_plugin

        config = load_effective_config(ctx)
        if not remove_plugin(config.codex_home, plugin_id, _consent(config, True)):
            raise _fail(f"no plugin {plugin_id!r} is installed or granted")
        typer.echo(f"removed {plugin_id}")

    @plugin_app.command("run")
    def run_cmd(ctx: typer.Context,
                plugin_id: Annotated[str, typer.Argument(metavar="ID")],
                tool: Annotated[str, typer.Argument(metavar="TOOL")],
                arguments: Annotated[str, typer.Option(
                    "--json", metavar="JSON", help="The tool's arguments as a JSON object.")]
                = "{}",
                ) -> None:
        """Call one tool by hand, exactly as the agent would (grant, limits, audit).

        Prints the result JSON on stdout and the plugin's logs on stderr; exit 1 when the call
        was refused or failed, with the reason."""
        from codex.plugins.host import PluginHost

        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError as exc:
            raise _fail(f"--json is not valid JSON: {exc}", 2) from None
        if not isinstance(parsed, dict):
            raise _fail("--json must be a JSON object such as '{\"a\": 1}'", 2)
        config = load_effective_config(ctx)
        host = PluginHost(config.codex_home, config.cwd, audit=open_audit_log(config),
                          session_id="plugin-cli", actor="user")
        outcome = host.call(plugin_id, tool, parsed)
        if outcome.logs:
            sys.stderr.write(outcome.logs if outcome.logs.endswith("\n") else outcome.logs + "\n")
        if not outcome.ok:
            raise _fail(outcome.error)
        typer.echo(outcome.text())

    @plugin_app.command("new")
    def new_cmd(name: Annotated[str, typer.Argument(metavar="NAME")],
                lang: Annotated[str, typer.Option(
                    "--lang", metavar="c|wat", help="Source language of the skeleton.")] = "c",
                directory: Annotated[Path | None, typer.Option(
                    "--dir", help="Where to write it (default ./NAME).")] = None) -> None:
        """Write a plugin skeleton: plugin.toml, the source, and build.py (build + hash)."""
        from codex.plugins.skeleton import write_skeleton

        if lang not in ("c", "wat"):
            raise _fail(f"--lang must be c or wat, not {lang!r}", 2)
        target = directory or Path(name)
        try:
            files = write_skeleton(target, name, lang)
        except (ValueError, FileExistsError) as exc:
            raise _fail(str(exc), 2) from None
        for path in files:
            typer.echo(f"wrote {path}")
        typer.echo(f"next: python {target / 'build.py'} && codex plugin install {target}")

    app.add_typer(plugin_app)
