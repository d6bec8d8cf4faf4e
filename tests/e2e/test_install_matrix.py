"""Install @openai/codex BY NAME from a local registry with every supported package manager,
then run the installed package's own smoke test (scripts/test.js) against what was installed."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from e2e_helpers import (
    META_VERSION,
    PLATFORM_PACKAGES,
    Registry,
    Sandbox,
    platform_package,
    run_smoke,
    which,
)

pytestmark = pytest.mark.timeout(900)
SPEC = "@openai/codex"


def assert_version(box: Sandbox, argv: list[str], cwd: Path | None = None) -> None:
    proc = box.run(argv, cwd=cwd)
    assert proc.stdout == f"codex {META_VERSION}\n", proc.stdout + proc.stderr


def with_runtime(package: str) -> set[str]:
    """A platform package and its plugin runtime package (both optional dependencies)."""
    return {package, package + "-plugin-runtime"}


def installed_platform_packages(node_modules: Path) -> set[str]:
    scope = node_modules / "@openai"
    return {f"@openai/{p.name}" for p in scope.iterdir()} - {SPEC} if scope.exists() else set()


def npm_global_root(box: Sandbox) -> Path:
    return Path(box.run(["npm", "root", "-g"]).stdout.strip())


def test_npm_global(sandbox: Sandbox) -> None:
    proc = sandbox.run(["npm", "install", "-g", SPEC])
    root = npm_global_root(sandbox)
    assert installed_platform_packages(root / SPEC / "node_modules") | \
        installed_platform_packages(root) == with_runtime(platform_package())
    assert which("codex", sandbox.env) == str(sandbox.root / "prefix/bin/codex")
    assert_version(sandbox, ["codex", "--version"])
    run_smoke(sandbox, root / SPEC / "scripts/test.js")
    run_smoke(sandbox, root / SPEC / "scripts/test.js", command="codex")
    # npm 11 runs the postinstall of a globally installed package; it reports success.
    foreground = sandbox.run(["npm", "rebuild", "-g", SPEC, "--foreground-scripts"])
    assert f"codex {META_VERSION} installed ({platform_package()})" in foreground.stdout, \
        foreground.stdout + foreground.stderr + proc.stderr


def test_npm_global_ignore_scripts(sandbox: Sandbox) -> None:
    sandbox.run(["npm", "install", "-g", "--ignore-scripts", SPEC])
    assert_version(sandbox, ["codex", "--version"])
    run_smoke(sandbox, npm_global_root(sandbox) / SPEC / "scripts/test.js", command="codex")


def test_npx_scoped_package(sandbox: Sandbox) -> None:
    assert_version(sandbox, ["npx", "--yes", SPEC, "--version"])


def test_npx_codex_after_global_install(sandbox: Sandbox) -> None:
    sandbox.run(["npm", "install", "-g", SPEC])
    # With no uplink, fetching the unrelated registry package `codex` would fail: success
    # proves npx used our globally installed bin.
    assert_version(sandbox, ["npx", "--no-install", "codex", "--version"])


@pytest.mark.parametrize("major", ["9", "10", "12"])
def test_pnpm_global(sandbox: Sandbox, tools: Path, major: str) -> None:
    pnpm_home = sandbox.root / "pnpm-home"
    pnpm_bin = pnpm_home / "bin" if major == "12" else pnpm_home
    env = sandbox.env
    env["PNPM_HOME"] = str(pnpm_home)
    env["PATH"] = f"{pnpm_bin}:{env['PATH']}"
    env["XDG_DATA_HOME"] = str(sandbox.root / "xdg-data")
    env["XDG_CACHE_HOME"] = str(sandbox.root / "xdg-cache")
    env["XDG_CONFIG_HOME"] = str(sandbox.root / "xdg-config")
    pkg = tools / "node_modules" / f"pnpm{major}"
    pnpm = [str(pkg / "pnpm")] if major == "12" else ["node", str(pkg / "bin/pnpm.cjs")]
    sandbox.run([*pnpm, "--version"])
    sandbox.run([*pnpm, "add", "-g", SPEC, f"--registry={env['npm_config_registry']}",
                 f"--store-dir={sandbox.root / 'store'}", "--config.minimum-release-age=0"])
    assert which("codex", env) is not None and str(pnpm_bin) in str(which("codex", env))
    assert_version(sandbox, ["codex", "--version"])
    # pnpm 9/10 link global packages under `pnpm root -g`; pnpm 12 keeps them in its global
    # virtual store, so look for the installed package anywhere in this case's directory.
    found = sorted(p for p in sandbox.root.rglob("scripts/test.js")
                   if p.parent.parent.name == "codex" and p.parent.parent.parent.name == "@openai")
    assert found, f"no @openai/codex under {sandbox.root}"
    run_smoke(sandbox, found[0], command="codex")
    # The launcher tells the binary it was installed by pnpm (node stands in as the binary).
    env["CODEX_BINARY_PATH"] = shutil.which("node") or "node"
    seen = sandbox.run(["codex", "-e", "console.log(Object.keys(process.env).filter("
                        "k => k.startsWith('CODEX_MANAGED_BY')).join(), "
                        "process.env.CODEX_MANAGED_PACKAGE_ROOT)"])
    assert seen.stdout.split()[0] == "CODEX_MANAGED_BY_PNPM", seen.stdout


def test_yarn4_pnp_project(sandbox: Sandbox, tools: Path, registry: Registry) -> None:
    project = sandbox.root / "project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "p", "private": True}))
    (project / ".yarnrc.yml").write_text(
        f"npmRegistryServer: \"{registry.url}\"\n"
        "unsafeHttpWhitelist: [\"127.0.0.1\"]\n"
        "nodeLinker: pnp\n"
        "enableTelemetry: false\n"
        "enableGlobalCache: false\n"
    )
    env = sandbox.env
    env["YARN_NPM_MINIMAL_AGE_GATE"] = "0"
    env["YARN_ENABLE_IMMUTABLE_INSTALLS"] = "false"
    env["YARN_CACHE_FOLDER"] = str(sandbox.root / "yarn-cache")
    yarn = ["node", str(tools / "node_modules/yarn4/bin/yarn.js")]
    sandbox.run([*yarn, "add", SPEC], cwd=project)
    assert (project / ".pnp.cjs").exists()
    unplugged = sorted(p.name.split("-npm-")[0] for p in
                       (project / ".yarn/unplugged").glob("@openai-codex-linux-*"))
    # preferUnplugged: the binary and the plugin runtime's library are real files
    assert unplugged == sorted(name.replace("/", "-") for name in
                               with_runtime(platform_package())), unplugged
    assert_version(sandbox, [*yarn, "codex", "--version"], cwd=project)
    test_js = sandbox.run([*yarn, "node", "-p", "require.resolve('@openai/codex/scripts/test.js')"],
                          cwd=project).stdout.strip()
    proc = sandbox.run([*yarn, "node", test_js], cwd=project, check=False)
    assert proc.returncode == 0 and " 0 failed" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libc selection is Linux-only")
def test_npm_libc_musl_selects_musl_package(sandbox: Sandbox) -> None:
    """Metadata only: the musl package here holds no binary (see conftest), so this checks the
    selection npm makes from os/cpu/libc and runs nothing."""
    project = sandbox.root / "project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "p", "private": True}))
    sandbox.run(["npm", "install", "--libc=musl", SPEC], cwd=project)
    chosen = installed_platform_packages(project / "node_modules")
    assert chosen == with_runtime(platform_package() + "-musl"), chosen
    sandbox.run(["npm", "install", "--libc=glibc", SPEC], cwd=project)
    assert installed_platform_packages(project / "node_modules") == \
        with_runtime(platform_package())


def test_omit_optional_gives_the_fix(sandbox: Sandbox) -> None:
    project = sandbox.root / "project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "p", "private": True}))
    sandbox.run(["npm", "install", "--omit=optional", SPEC], cwd=project)
    assert installed_platform_packages(project / "node_modules") == set()
    proc = sandbox.run(["node_modules/.bin/codex", "--version"], cwd=project, check=False)
    assert proc.returncode == 127, proc.stderr
    fix = f"npm install {SPEC}@{META_VERSION} --include=optional"
    assert f"optional dependency {platform_package()} is not installed" in proc.stderr
    assert f"Fix: {fix}" in proc.stderr, proc.stderr
    sandbox.run(fix.split(), cwd=project)  # the printed fix works
    assert_version(sandbox, ["node_modules/.bin/codex", "--version"], cwd=project)
    run_smoke(sandbox, project / "node_modules" / SPEC / "scripts/test.js")


def test_single_package_fallback(sandbox: Sandbox, packed: dict[str, object]) -> None:
    packages = packed["packages"]
    assert isinstance(packages, list)
    single = next(p for p in packages if p["kind"] == "single")
    sandbox.run(["npm", "install", "-g", str(Path(str(packed["dir"])) / single["file"])])
    assert_version(sandbox, ["codex", "--version"])
    traced = Sandbox(sandbox.root, dict(sandbox.env, CODEX_LAUNCHER_DEBUG="1")).run(
        ["codex", "--version"])
    assert "vendor fallback" in traced.stderr, traced.stderr


def test_other_platform_packages_never_installed(sandbox: Sandbox) -> None:
    sandbox.run(["npm", "install", "-g", SPEC])
    root = npm_global_root(sandbox)
    present = installed_platform_packages(root / SPEC / "node_modules") | \
        installed_platform_packages(root)
    others = {name for s in PLATFORM_PACKAGES for name in with_runtime(f"@openai/codex-{s}")
              } - with_runtime(platform_package())
    assert present & others == set()


def test_packed_tarballs_audit(packed: dict[str, object], sandbox: Sandbox) -> None:
    proc = sandbox.run(["node", str(Path(__file__).parents[2] / "npm/scripts/test.js"),
                        "--audit", str(packed["dir"])], check=False)
    assert proc.returncode == 0 and " 0 failed" in proc.stdout, proc.stdout + proc.stderr
