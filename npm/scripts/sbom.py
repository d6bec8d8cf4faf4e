#!/usr/bin/env python3
"""Write the CycloneDX 1.6 SBOM of one built platform package (what is inside the binary).

Why from these inputs: Nuitka's `--report` XML is the only record of what was compiled in (the
distributions whose modules it followed, every extension module and shared library it copied,
the Python it embedded); pip's install report of the build venv gives each of those
distributions' wheel sha256 and license metadata. Both sit beside the build
(vendor/<triple>/nuitka-report.xml, pip-install-report.json; see build_native.py). Standard
library only, so it runs on every build runner right after the build.

The document is reproducible: no timestamp, a serial number derived from its content.
Licenses are recorded as the distribution declares them: an SPDX expression (core metadata
`License-Expression`) as `expression`, else the license classifiers as `name`s; the license
policy (license_policy.py) decides what they mean.

Usage: sbom.py VENDOR_TRIPLE_DIR PACKAGE_NAME VERSION OUT
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

SPEC_VERSION = "1.6"
NUITKA_REPORT = "nuitka-report.xml"
INSTALL_REPORT = "pip-install-report.json"
_LICENSE_CLASSIFIER = "License :: "


def canonical(name: str) -> str:
    """PEP 503 name normalization (the pypi purl uses it too)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheel_sha256(item: dict[str, Any]) -> str | None:
    archive = (item.get("download_info") or {}).get("archive_info") or {}
    hashes = archive.get("hashes") or {}
    if "sha256" in hashes:
        return str(hashes["sha256"])
    legacy = str(archive.get("hash", ""))
    return legacy.split("=", 1)[1] if legacy.startswith("sha256=") else None


def _licenses(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    expression = metadata.get("license_expression")
    if expression:
        return [{"expression": str(expression)}]
    names = [c.split(" :: ")[-1] for c in metadata.get("classifier", [])
             if c.startswith(_LICENSE_CLASSIFIER)]
    if not names and metadata.get("license"):
        names = [str(metadata["license"]).strip().splitlines()[0][:200]]
    return [{"license": {"name": name}} for name in names]


def own_license() -> str:
    """This project's SPDX license (pyproject.toml): codex itself is compiled from the source
    tree, not installed from a wheel, so no install report describes it."""
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^license\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SystemExit("sbom: pyproject.toml has no license = \"SPDX\" line")
    return match.group(1)


def python_component(name: str, version: str, item: dict[str, Any] | None) -> dict[str, Any]:
    purl = f"pkg:pypi/{canonical(name)}@{version}"
    component: dict[str, Any] = {"type": "library", "bom-ref": purl, "name": canonical(name),
                                 "version": version, "purl": purl}
    if canonical(name) == "codex":
        component["licenses"] = [{"expression": own_license()}]
    if item is not None:
        if sha := _wheel_sha256(item):
            component["hashes"] = [{"alg": "SHA-256", "content": sha}]
        licenses = _licenses(item.get("metadata") or {})
        if licenses:
            component["licenses"] = licenses
    return component


def build_sbom(vendor_dir: Path, package: str, version: str) -> dict[str, Any]:
    """The SBOM of vendor_dir/codex as packed into the npm package `package`@`version`."""
    report = ET.parse(vendor_dir / NUITKA_REPORT).getroot()
    installed = json.loads((vendor_dir / INSTALL_REPORT).read_text(encoding="utf-8"))
    by_name = {canonical(i["metadata"]["name"]): i for i in installed.get("install", [])}
    components: list[dict[str, Any]] = []
    for dist in report.iter("distribution"):
        name = dist.get("name", "")
        components.append(python_component(name, dist.get("version", ""),
                                           by_name.get(canonical(name))))
    python = report.find("python")
    if python is not None:
        py_version = python.get("python_version", "")
        components.append({
            "type": "platform", "bom-ref": f"pkg:generic/cpython@{py_version}",
            "name": "cpython", "version": py_version,
            "purl": f"pkg:generic/cpython@{py_version}",
            "licenses": [{"expression": "PSF-2.0"}],
            "description": f"{python.get('python_flavor', 'CPython')} runtime embedded by Nuitka",
        })
    for kind in ("included_dll", "included_extension"):
        for entry in report.iter(kind):
            dest = entry.get("dest_path", "")
            shipped = vendor_dir / "codex" / dest
            if not shipped.is_file():
                raise SystemExit(f"sbom: {shipped} is in the Nuitka report but not in the build")
            file_component: dict[str, Any] = {
                "type": "file", "bom-ref": f"file:{dest}", "name": dest.replace("\\", "/"),
                "hashes": [{"alg": "SHA-256", "content": sha256_file(shipped)}],
                "properties": [{"name": "codex:kind", "value": kind[len("included_"):]}],
            }
            if entry.get("package"):
                file_component["properties"].append(
                    {"name": "codex:python-package", "value": entry.get("package", "")})
            components.append(file_component)
    components.sort(key=lambda c: (c["type"], c["bom-ref"]))
    root = f"pkg:npm/{package.replace('@', '%40', 1)}@{version}"
    body: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "codex sbom.py"}]},
            "component": {"type": "application", "bom-ref": root, "name": package,
                          "version": version, "purl": root,
                          "licenses": [{"expression": "Apache-2.0"}]},
        },
        "components": components,
        "dependencies": [{"ref": root, "dependsOn": [c["bom-ref"] for c in components]}],
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()
    return {**body, "serialNumber": f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}"}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    vendor_dir, package, version, out = Path(argv[0]), argv[1], argv[2], Path(argv[3])
    sbom = build_sbom(vendor_dir, package, version)
    out.write_text(json.dumps(sbom, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"sbom: {out}: {len(sbom['components'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
