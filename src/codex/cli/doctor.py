"""`codex doctor [--json]`: is this machine able to run codex safely, and if not, why.

Reports version, platform and target triple, install method, config validity, the kernel's
sandbox features and, per security profile, which layers are active or missing. Exits 1 when
the config is invalid or the profile in effect cannot be enforced here.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from codex import __version__
from codex.cli.common import global_options
from codex.config import ConfigError, load_config
from codex.config.environment import install_info, target_triple
from codex.config.home import codex_home
from codex.security.profiles import SecurityProfile, resolve_policy


def register(app: typer.Typer) -> None:
    """Add the `doctor` command."""
    app.command("doctor")(doctor)


def _config_report(ctx: typer.Context) -> dict[str, Any]:
    path = codex_home() / "config.toml"
    try:
        config = load_config(global_options(ctx))
    except ConfigError as err:
        if err.where.startswith("-"):
            # A bad flag is a usage error, not something to diagnose.
            typer.echo(f"codex: error: {err}", err=True)
            raise typer.Exit(2) from None
        return {"path": str(path), "exists": path.exists(), "valid": False, "error": str(err),
                "warnings": [], "security_profile": None, "security_profile_source": None,
                "cwd": str(Path.cwd())}
    return {
        "path": str(config.config_path),
        "exists": config.config_loaded,
        "valid": True,
        "error": None,
        "warnings": config.warnings,
        "config_profile": config.config_profile,
        "security_profile": config.security_profile.value,
        "security_profile_source": config.sources.get("security_profile"),
        "cwd": str(config.cwd),
    }


def _sandbox_report(workspace: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Kernel features and per-profile layers, from the sandbox room's probe."""
    from codex.sandbox import layers_for

    kernel: dict[str, Any] | None = None
    if sys.platform == "linux":
        from codex.sandbox.linux.probe import probe

        kernel = probe().as_dict()
    rows = []
    for profile in SecurityProfile:
        active, missing = layers_for(resolve_policy(profile, workspace))
        rows.append({
            "name": profile.value,
            "enforceable": not any(layer.required for layer in missing),
            "active_layers": list(active),
            "missing_layers": [
                {"name": layer.name, "reason": layer.reason, "required": layer.required}
                for layer in missing
            ],
        })
    return kernel, rows


def collect(ctx: typer.Context) -> dict[str, Any]:
    """Everything doctor knows, as one JSON-ready document (with `ok` and `problems`)."""
    config = _config_report(ctx)
    install = install_info()
    kernel, profiles = _sandbox_report(Path(config["cwd"]))
    problems: list[str] = []
    if not config["valid"]:
        problems.append(f"config: {config['error']}")
    current = config["security_profile"]
    for row in profiles:
        row["current"] = row["name"] == current
        if row["current"] and not row["enforceable"]:
            problems.append(
                f"security profile {current} cannot be enforced here: missing "
                f"{_describe_missing(row['missing_layers'], required_only=True)}"
            )
    plugins = _plugin_runtime_report()
    if not plugins["ok"]:
        problems.append(f"plugin runtime: {plugins['detail']}")
    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": {"system": platform.system(), "release": platform.release(),
                     "machine": platform.machine()},
        "target_triple": target_triple(),
        "install": {"method": install.method, "package_root": install.package_root,
                    "executable": install.executable, "compiled": install.compiled},
        "config": config,
        "kernel": kernel,
        "profiles": profiles,
        "plugin_runtime": plugins,
        "ok": not problems,
        "problems": problems,
    }


def _plugin_runtime_report() -> dict[str, Any]:
    """Run the embedded WASM module: a build without wasmtime's native library fails here."""
    from codex.plugins.selftest import run_self_test

    result = run_self_test()
    return {"ok": result.ok, "runtime": result.runtime, "detail": result.detail}


def doctor(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for machines.")
    ] = False,
) -> None:
    """Check the installation, the config and which security profiles this kernel can enforce.

    Exit status: 0 when everything in effect works, 1 when the config is invalid or the
    security profile in effect cannot be enforced on this machine.
    """
    report = collect(ctx)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_human(report)
    raise typer.Exit(0 if report["ok"] else 1)


def _print_human(report: dict[str, Any]) -> None:
    config = report["config"]
    install = report["install"]
    lines = [
        f"codex {report['version']} (Python {report['python']})",
        f"platform      {report['platform']['system']} {report['platform']['release']} "
        f"{report['platform']['machine']}",
        f"target        {report['target_triple'] or 'unsupported'}",
        f"installed by  {install['method']}"
        + (f" at {install['package_root']}" if install["package_root"] else "")
        + f" ({install['executable']})",
        f"config        {config['path']} "
        + ("(valid)" if config["valid"] and config["exists"] else
           "(not found: defaults)" if config["valid"] else "(INVALID)"),
    ]
    if config["error"]:
        lines.append(f"              {config['error']}")
    lines.extend(f"              warning: {warning}" for warning in config["warnings"])
    if config["security_profile"]:
        lines.append(f"profile       {config['security_profile']} "
                     f"(from {config['security_profile_source']})")
    kernel = report["kernel"]
    if kernel is not None:
        lines.append(
            f"kernel        landlock ABI {kernel['landlock_abi'] or 'unavailable'}"
            f"{' (' + kernel['landlock_error'] + ')' if kernel['landlock_error'] else ''}, "
            f"seccomp {'yes' if kernel['seccomp'] else 'no'}, "
            f"user namespaces {_tristate(kernel['userns'])}"
        )
        for name, value in sorted(kernel["sysctls"].items()):
            lines.append(f"  {name} = {value}")
    lines.append("profiles:")
    for row in report["profiles"]:
        mark = "*" if row["current"] else " "
        verdict = "enforceable" if row["enforceable"] else "NOT enforceable"
        lines.append(f" {mark} {row['name']:<16}{verdict}")
        if row["active_layers"]:
            lines.append(f"    {'':<16}active: {', '.join(row['active_layers'])}")
        if row["missing_layers"]:
            lines.append(f"    {'':<16}missing: {_describe_missing(row['missing_layers'])}")
    plugins = report["plugin_runtime"]
    lines.append(f"plugins       {plugins['runtime']}: self-test "
                 f"{'ok' if plugins['ok'] else 'FAILED'} ({plugins['detail']})")
    lines.extend(f"problem: {problem}" for problem in report["problems"])
    typer.echo("\n".join(lines))


def _describe_missing(missing: list[dict[str, Any]], *, required_only: bool = False) -> str:
    return ", ".join(
        f"{layer['name']} ({layer['reason']}{'' if layer['required'] else ', optional'})"
        for layer in missing
        if layer["required"] or not required_only
    )


def _tristate(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")
