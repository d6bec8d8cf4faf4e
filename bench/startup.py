#!/usr/bin/env python3
"""Start-up benchmark of the delivered `codex`: medians and ratios measured in one run.

Measures `--version` of: the native Nuitka binary (vendor/<triple>/codex/codex), the same
binary started through the npm launcher (a real `npm install -g` of the packed tarballs into a
temporary prefix), `node -e 0` (the floor any Node launcher pays), and, unless --no-openai, the
OpenAI Codex CLI from the public registry (installed into its own cached prefix, since it has
the same package name) both natively and through its npm launcher. Also peak RSS (wait4's
rusage of the process tree) and the platform package's packed and unpacked size.

Targets: npm-launched <= 0.7x the Codex CLI's npm-launched start and native <= 25 ms and
<= 25 MiB (the delivery issue); packed platform package <= 40 MB (the roadmap's budget once
MCP, plugins and research share the one binary, which npm/scripts/test.js enforces; the
delivery issue's 25 MB predates them).

Usage: bench/startup.py [--runs N] [--no-openai] [--dist DIR] [--json] [--smoke]

$CODEX_BENCH_OPENAI_PREFIX names a directory where `npm install @openai/codex` already ran (dev/test
passes the cached install of dev/setup); without it the CLI is installed into the bench cache.
--smoke (CI): one warm-up and one timed run per row; the OpenAI Codex CLI only from
$CODEX_BENCH_OPENAI_PREFIX (never downloaded); any failure exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("CODEX_BENCH_CACHE") or Path.home() / ".cache" / "codex-bench")
OPENAI_PREFIX_ENV = "CODEX_BENCH_OPENAI_PREFIX"


@dataclass
class Measure:
    name: str
    median_ms: float
    p90_ms: float
    cpu_ms: float
    peak_rss_mib: float
    output: str


def host_triple() -> str:
    arch = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    libc = "gnu" if platform.libc_ver()[0] == "glibc" else "musl"
    return f"{arch}-unknown-linux-{libc}"


def measure(name: str, argv: list[str], runs: int, env: dict[str, str] | None = None,
            warmups: int = 3) -> Measure:
    """Run argv `runs` times (after `warmups` runs); wall time and peak RSS of the process
    tree."""
    times: list[float] = []
    cpu: list[float] = []
    peak = 0
    output = ""
    for i in range(runs + warmups):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{name}: {argv} exited {proc.returncode}: {out.decode()[:500]}")
        if i >= warmups:
            times.append(elapsed * 1000)
            cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
            peak = max(peak, usage.ru_maxrss)
        output = out.decode().strip()
    times.sort()
    return Measure(name, statistics.median(times), times[max(0, int(len(times) * 0.9) - 1)],
                   statistics.median(cpu), peak / 1024, output)


def npm_install(prefix: Path, specs: list[str], extra: list[str]) -> None:
    subprocess.run(["npm", "install", "-g", "--prefix", str(prefix), "--no-audit", "--no-fund",
                    "--loglevel=error", *extra, *specs], check=True, timeout=900,
                   stdout=subprocess.DEVNULL)


def ours_via_npm(dist: Path, workdir: Path) -> tuple[Path, dict[str, object]]:
    """Install our packed tarballs (platform + meta) into a throwaway prefix; return the shim."""
    manifest = json.loads((dist / "manifest.json").read_text())
    tarballs = [str(dist / p["file"]) for p in manifest["packages"]
                if p["kind"] in ("platform", "meta")]
    prefix = workdir / "ours"
    # The other platforms' optional packages are not in any registry we may use; npm skips
    # optional dependencies it cannot fetch, which is what --offline makes it do at once.
    npm_install(prefix, tarballs, ["--offline", "--cache", str(workdir / "npm-cache")])
    platform_pkg = next(p for p in manifest["packages"] if p["kind"] == "platform")
    return prefix / "bin" / "codex", platform_pkg


def openai_codex(installed: Path | None = None) -> tuple[Path, Path] | None:
    """The OpenAI Codex CLI: (npm shim, native binary), from `installed` (a directory where
    `npm install @openai/codex` ran) or else from its own cached global prefix."""
    if installed is not None:
        return _shim_and_native(installed / "node_modules" / ".bin" / "codex",
                                installed / "node_modules")
    prefix = CACHE / "openai-codex"
    shim = prefix / "bin" / "codex"
    if not shim.exists():
        print("bench: installing the OpenAI Codex CLI (@openai/codex from the public registry) "
              f"into {prefix}", file=sys.stderr)
        try:
            npm_install(prefix, ["@openai/codex@latest"],
                        ["--registry", "https://registry.npmjs.org/"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            print(f"bench: could not install the OpenAI Codex CLI: {err}", file=sys.stderr)
            return None
    return _shim_and_native(shim, prefix / "lib" / "node_modules")


def _shim_and_native(shim: Path, modules: Path) -> tuple[Path, Path] | None:
    natives = [p for p in modules.rglob("codex")
               if p.is_file() and "vendor" in p.parts and os.access(p, os.X_OK)]
    if not shim.exists() or not natives:
        return None
    # The shim's own platform package, not a copy nested under another package (the SDK
    # pins its own @openai/codex).
    return shim, min(natives, key=lambda p: (p.parts.count("node_modules"), str(p)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-openai", action="store_true", help="skip the OpenAI Codex CLI")
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "npm",
                        help="packed tarballs (npm run pack:all); packed here when missing")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--smoke", action="store_true",
                        help="CI check that every row runs: one warm-up, one timed run")
    args = parser.parse_args()
    warmups = 1 if args.smoke else 3
    if args.smoke:
        args.runs = 1
    installed = os.environ.get(OPENAI_PREFIX_ENV)

    native = REPO / "vendor" / host_triple() / "codex" / "codex"
    if not native.exists():
        raise SystemExit(f"{native} missing: run python3 npm/scripts/build_native.py first")
    with tempfile.TemporaryDirectory(prefix="codex-bench-") as tmp:
        work = Path(tmp)
        dist = args.dist
        if not (dist / "manifest.json").exists():
            dist = work / "dist"
            subprocess.run(["node", str(REPO / "npm/scripts/pack-all.js"), "--no-build",
                            "--out", str(dist)], check=True, stdout=subprocess.DEVNULL)
        shim, platform_pkg = ours_via_npm(dist, work)
        env = dict(os.environ, PATH=f"{shim.parent}:{os.environ['PATH']}")
        results = [
            measure("node -e 0", ["node", "-e", "0"], args.runs, warmups=warmups),
            measure("codex native --version", [str(native), "--version"], args.runs,
                    warmups=warmups),
            measure("codex npm --version", [str(shim), "--version"], args.runs, env,
                    warmups=warmups),
        ]
        skip_openai = args.no_openai or (args.smoke and not installed)
        theirs = None if skip_openai else openai_codex(Path(installed) if installed else None)
        if installed and not skip_openai and theirs is None:
            raise SystemExit(f"${OPENAI_PREFIX_ENV}={installed}: no @openai/codex there")
        if theirs:
            their_shim, their_native = theirs
            results += [
                measure("openai-codex native --version", [str(their_native), "--version"],
                        args.runs, warmups=warmups),
                measure("openai-codex npm --version", [str(their_shim), "--version"],
                        args.runs, warmups=warmups),
            ]
    by_name = {m.name: m for m in results}
    node = by_name["node -e 0"].median_ms
    ours_npm = by_name["codex npm --version"]
    ours_native = by_name["codex native --version"]
    packed_mb = float(platform_pkg["size"]) / 1e6  # type: ignore[arg-type]
    unpacked_mb = float(platform_pkg["unpackedSize"]) / 1e6  # type: ignore[arg-type]
    checks: list[tuple[str, bool | None, str]] = [
        ("native start <= 25 ms", ours_native.median_ms <= 25, f"{ours_native.median_ms:.1f} ms"),
        ("native peak RSS <= 25 MiB", ours_native.peak_rss_mib <= 25,
         f"{ours_native.peak_rss_mib:.1f} MiB"),
        ("packed platform package <= 40 MB", packed_mb <= 40, f"{packed_mb:.1f} MB"),
    ]
    their_npm = by_name.get("openai-codex npm --version")
    if their_npm:
        ratio = ours_npm.median_ms / their_npm.median_ms
        checks.append(("npm-launched <= 0.7x OpenAI Codex CLI npm-launched", ratio <= 0.7,
                       f"{ratio:.2f}x"))
    else:
        checks.append(("npm-launched <= 0.7x OpenAI Codex CLI npm-launched", None,
                       "OpenAI Codex CLI not measured"))
    if args.json:
        print(json.dumps({"results": [m.__dict__ for m in results],
                          "packed_mb": packed_mb, "unpacked_mb": unpacked_mb,
                          "checks": [{"target": t, "met": ok, "value": v}
                                     for t, ok, v in checks]}, indent=2))
        return 0
    print(f"runs per row: {args.runs} (after {warmups} warm-ups); ratios against `node -e 0` "
          f"({node:.1f} ms) measured in this run")
    print("wall = elapsed time; cpu = user+sys of the process tree (less sensitive to load: on a "
          "busy machine wall >> cpu)")
    print(f"{'command':32} {'wall med':>9} {'p90':>9} {'cpu med':>9} {'x node':>7} "
          f"{'peak RSS':>10}  output")
    for m in results:
        print(f"{m.name:32} {m.median_ms:7.1f}ms {m.p90_ms:7.1f}ms {m.cpu_ms:7.1f}ms "
              f"{m.median_ms / node:6.2f}x {m.peak_rss_mib:7.1f}MiB  "
              f"{m.output.splitlines()[0] if m.output else ''}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if their_npm:
        print(f"ours npm / theirs npm: {ours_npm.median_ms / their_npm.median_ms:.2f}x;  "
              f"launcher overhead over native: ours "
              f"{ours_npm.median_ms - ours_native.median_ms:.1f} ms, theirs "
              f"{their_npm.median_ms - by_name['openai-codex native --version'].median_ms:.1f} ms")
    print(f"platform package {platform_pkg['name']}: {packed_mb:.1f} MB packed, "
          f"{unpacked_mb:.1f} MB unpacked")
    for target, ok, value in checks:
        verdict = "n/a " if ok is None else ("MET " if ok else "MISS")
        print(f"[{verdict}] {target}: {value}")
    return 0


if __name__ == "__main__":
    shutil.which("node") or sys.exit("bench: node is required")
    sys.exit(main())
