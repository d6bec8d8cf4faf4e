"""The license policy (npm/license-policy.toml via npm/scripts/license_policy.py) as the release
runs it: a command over SBOM files, exit 1 and one line per violation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "npm" / "scripts" / "license_policy.py"


def component(package: str, **license_: str) -> dict[str, Any]:
    entry = ({"expression": license_["expression"]} if "expression" in license_
             else {"license": license_})
    return {"type": "library", "bom-ref": f"pkg:pypi/{package}@1.0", "name": package,
            "version": "1.0", "licenses": [entry]}


ALLOWED = [component("httpx", name="BSD License"), component("rich", expression="MIT"),
           component("sniffio", expression="MIT OR Apache-2.0"),
           component("certifi", name="Mozilla Public License 2.0 (MPL 2.0)"),
           {"type": "file", "bom-ref": "file:libz.so.1", "name": "libz.so.1"}]


def check(tmp_path: Path, components: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6",
                                "components": components}))
    return subprocess.run([sys.executable, str(CHECK), str(sbom)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_allowed_components_pass(tmp_path: Path) -> None:
    done = check(tmp_path, ALLOWED)
    assert done.returncode == 0, done.stderr
    assert "every shipped component is allowed" in done.stdout


@pytest.mark.parametrize("injected", [
    component("bashlex", name="GNU General Public License v3 or later (GPLv3+)"),
    component("bashlex", expression="GPL-3.0-or-later"),
    component("bashlex", id="GPL-3.0-only"),
    component("bashlex", expression="MIT AND GPL-3.0-or-later"),
    component("bashlex", expression="(GPL-3.0-only WITH Classpath-exception-2.0)"),
])
def test_an_injected_gpl_3_package_fails(tmp_path: Path, injected: dict[str, Any]) -> None:
    done = check(tmp_path, [*ALLOWED, injected])
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sbom.cdx.json: bashlex 1.0:"), done.stderr
    assert "GPL-3.0" in lines[0]
    assert "denied" in lines[0]


def test_a_choice_with_an_allowed_side_passes(tmp_path: Path) -> None:
    assert check(tmp_path, [component("x", expression="GPL-3.0-only OR MIT")]).returncode == 0


@pytest.mark.parametrize(("bad", "message"), [
    (component("y", name="Some Custom License"), "unknown license 'Some Custom License'"),
    (component("y", expression="LGPL-2.1-only"), "not in the allow list"),
    (component("y", expression="MIT AND (Apache-2.0"), "unreadable license expression"),
    ({"type": "library", "bom-ref": "y", "name": "y", "version": "1.0"}, "declares no license"),
])
def test_unknown_or_unlisted_licenses_fail(tmp_path: Path, bad: dict[str, Any],
                                           message: str) -> None:
    done = check(tmp_path, [*ALLOWED, bad])
    assert done.returncode == 1
    assert message in done.stderr


def test_the_built_binarys_sbom_passes_and_names_every_license(tmp_path: Path) -> None:
    """The SBOM of the real native build (sbom.py over vendor/<triple>'s reports): every Python
    distribution in it declares a license and the policy accepts them all; a GPL-3.0 component
    added to that same SBOM fails it (control)."""
    sys.path.insert(0, str(REPO / "tests"))
    from e2e.e2e_helpers import host_triple

    vendor = REPO / "vendor" / host_triple()
    if not (vendor / "nuitka-report.xml").exists():
        pytest.fail(f"{vendor} has no build: run `python3 npm/scripts/build_native.py` "
                    "(dev/test does this before the test suites)")
    sbom = tmp_path / "sbom.cdx.json"
    subprocess.run([sys.executable, str(REPO / "npm" / "scripts" / "sbom.py"), str(vendor),
                    "@openai/codex-test", "0.1.0", str(sbom)], check=True, timeout=120)
    document = json.loads(sbom.read_text())
    libraries = [c for c in document["components"] if c["type"] == "library"]
    assert {c["name"] for c in libraries} >= {"codex", "pydantic", "httpx", "wasmtime"}
    assert [c["name"] for c in libraries if not c.get("licenses")] == []
    passed = subprocess.run([sys.executable, str(CHECK), str(sbom)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    document["components"].append(component("gplthing", expression="GPL-3.0-only"))
    sbom.write_text(json.dumps(document))
    failed = subprocess.run([sys.executable, str(CHECK), str(sbom)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert failed.returncode == 1 and "gplthing" in failed.stdout + failed.stderr
