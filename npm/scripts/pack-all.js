#!/usr/bin/env node
// Stage and `npm pack` every platform package whose binary exists under vendor/, plus the meta
// package, into dist/npm/. Builds the host binary first when none exists (unless --no-build).
//
// npm keeps the executable bit but silently drops symlinks, so staging dereferences them and
// the packed file list is compared with the staged one. dist/npm/manifest.json lists what was
// packed (the e2e tests and the release workflow read it).
//
// Usage: node scripts/pack-all.js [--no-build] [--single] [--out DIR]
//   --single  also pack the fallback single-package layout (meta package with the host's
//             vendor/<triple>/codex inside), for local installs without a registry.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { TARGETS } = require("../bin/codex.js");

const NPM_DIR = path.join(__dirname, "..");
const REPO = path.join(NPM_DIR, "..");
const META = JSON.parse(fs.readFileSync(path.join(NPM_DIR, "package.json"), "utf8"));
const SBOM = "sbom.cdx.json";

// triple -> the platform package's os/cpu/libc, derived from the launcher's own table.
function platformFields(key) {
  const [os, cpu, libc] = key.split("-");
  const fields = { os: [os], cpu: [cpu] };
  if (os === "linux") fields.libc = [libc === "musl" ? "musl" : "glibc"];
  return fields;
}

function fail(message) {
  process.stderr.write(`pack-all: ${message}\n`);
  process.exit(1);
}

function pythonVersion() {
  const init = fs.readFileSync(path.join(REPO, "src", "codex", "__init__.py"), "utf8");
  const match = init.match(/__version__\s*=\s*["']([^"']+)["']/);
  return match ? match[1] : null;
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, base));
    else out.push(path.relative(base, full).split(path.sep).join("/"));
  }
  return out.sort();
}

function npmPack(dir, outDir) {
  const raw = execFileSync("npm", ["pack", "--json", "--pack-destination", outDir], {
    cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
    shell: process.platform === "win32",
  });
  return JSON.parse(raw)[0];
}

function checkPacked(result, stageDir, label) {
  const packed = result.files.map((f) => f.path).sort();
  const staged = listFiles(stageDir);
  const missing = staged.filter((f) => !packed.includes(f));
  if (missing.length) fail(`${label}: npm pack left out ${missing.join(", ")}`);
}

// A new, empty staging folder for package `pkgName` (a previous pack's leftovers removed).
function emptyStage(stageRoot, pkgName) {
  const stage = path.join(stageRoot, pkgName.replace("@openai/", ""));
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  return stage;
}

// Symlinks resolved and timestamps kept (packs of one build must be byte-identical).
function copyTree(source, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(source, dest, { recursive: true, dereference: true, preserveTimestamps: true });
}

// package.json and a README whose body is `about`, for a package nobody installs directly.
function writeManifestAndReadme(stage, manifest, about) {
  fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
  fs.writeFileSync(path.join(stage, "README.md"), `# ${manifest.name}\n\n${about}\n`);
}

function stagePlatform(key, triple, pkgName, stageRoot) {
  const exe = key.startsWith("win32") ? "codex.exe" : "codex";
  const source = path.join(REPO, "vendor", triple, "codex");
  const stage = emptyStage(stageRoot, pkgName);
  const dest = path.join(stage, "vendor", triple, "codex");
  copyTree(source, dest);
  const binary = path.join(dest, exe);
  if (process.platform !== "win32" && (fs.statSync(binary).mode & 0o111) === 0) {
    fail(`${binary} lost its executable bit while staging`);
  }
  const manifest = {
    name: pkgName,
    version: META.version,
    description: `The ${triple} binary of ${META.name}; install ${META.name}, not this.`,
    license: META.license,
    // npm refuses `publish --provenance` unless `repository` names the repository the
    // workflow ran in; the platform packages are built from the same one.
    repository: META.repository,
    ...platformFields(key),
    files: ["vendor", SBOM],
    preferUnplugged: true,
  };
  writeManifestAndReadme(stage, manifest,
    `The native \`codex\` for ${triple}. It is an optional dependency of ` +
    `\`${META.name}\`, which picks the right one at install time: install that instead.`);
  fs.copyFileSync(path.join(NPM_DIR, "LICENSE"), path.join(stage, "LICENSE"));
  // What is inside the binary, from the build's Nuitka and pip reports (scripts/sbom.py).
  execFileSync(sbomPython(triple), [path.join(__dirname, "sbom.py"),
    path.join(REPO, "vendor", triple), pkgName, META.version, path.join(stage, SBOM)],
  { stdio: ["ignore", "ignore", "inherit"] });
  return stage;
}

// wasmtime's native library for WASM plugins, in its own optional package (it would take the
// platform package past its 40 MB budget): staged from vendor/<triple>/plugin-runtime, which
// scripts/build_native.py fills from the build venv's wasmtime wheel. null when absent.
function stagePluginRuntime(key, triple, pkgName, stageRoot) {
  const source = path.join(REPO, "vendor", triple, "plugin-runtime");
  if (!fs.existsSync(path.join(source, "wasmtime"))) return null;
  const name = `${pkgName}-plugin-runtime`;
  const stage = emptyStage(stageRoot, name);
  copyTree(path.join(source, "wasmtime"), path.join(stage, "wasmtime"));
  fs.copyFileSync(path.join(source, "LICENSE-wasmtime"), path.join(stage, "LICENSE"));
  const manifest = {
    name,
    version: META.version,
    description: `The WebAssembly runtime (wasmtime) for ${META.name}'s plugins on ${triple}; ` +
      `install ${META.name}, not this.`,
    license: "Apache-2.0 WITH LLVM-exception",
    repository: META.repository,
    ...platformFields(key),
    files: ["wasmtime"],
    preferUnplugged: true,
  };
  writeManifestAndReadme(stage, manifest,
    `The wasmtime library that \`codex\` loads when it runs a WASM plugin on ` +
    `${triple}. It is an optional dependency of \`${META.name}\`: install that instead.`);
  return { name, stage };
}

// sbom.py needs only the standard library: $PYTHON, else the interpreter that built this
// binary (Nuitka's report names it; it exists wherever the build ran), else python3.
function sbomPython(triple) {
  if (process.env.PYTHON) return process.env.PYTHON;
  const report = path.join(REPO, "vendor", triple, "nuitka-report.xml");
  const match = fs.existsSync(report) &&
    fs.readFileSync(report, "utf8").match(/<python\b[^>]*\bpython_exe="([^"]+)"/);
  if (match && fs.existsSync(match[1])) return match[1];
  return process.platform === "win32" ? "python" : "python3";
}

// sha256 of every file a user downloads, in `sha256sum -c` format.
function writeChecksums(outDir) {
  const files = fs.readdirSync(outDir).filter((f) => f.endsWith(".tgz") || f.endsWith(".cdx.json"))
    .sort();
  const lines = files.map((f) => {
    const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(outDir, f)));
    return `${sha.digest("hex")}  ${f}\n`;
  });
  fs.writeFileSync(path.join(outDir, "SHA256SUMS"), lines.join(""));
}

function main() {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf("--out");
  const outDir = path.resolve(outIdx >= 0 ? args[outIdx + 1] : path.join(REPO, "dist", "npm"));
  const pyVersion = pythonVersion();
  if (pyVersion !== META.version) {
    fail(`npm/package.json version ${META.version} differs from codex.__version__ ` +
      `${pyVersion}; bump them together`);
  }
  for (const [name, spec] of Object.entries(META.optionalDependencies)) {
    if (spec !== META.version) fail(`optionalDependencies ${name} is ${spec}, not ${META.version}`);
  }
  const available = () => Object.entries(TARGETS).filter(([key, [triple]]) => fs.existsSync(
    path.join(REPO, "vendor", triple, "codex", key.startsWith("win32") ? "codex.exe" : "codex")));
  if (available().length === 0 && !args.includes("--no-build")) {
    execFileSync("python3", [path.join(__dirname, "build_native.py")], { stdio: "inherit" });
  }
  const targets = available();
  if (targets.length === 0) fail("no binary under vendor/; run npm run build:native first");

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const stageRoot = path.join(outDir, "stage");
  const packed = [];
  for (const [key, [triple, pkgName]] of targets) {
    const stage = stagePlatform(key, triple, pkgName, stageRoot);
    const result = npmPack(stage, outDir);
    checkPacked(result, stage, pkgName);
    fs.copyFileSync(path.join(stage, SBOM),
      path.join(outDir, result.filename.replace(/\.tgz$/, ".cdx.json")));
    packed.push({ kind: "platform", name: pkgName, triple, file: result.filename,
      size: result.size, unpackedSize: result.unpackedSize, entryCount: result.entryCount,
      integrity: result.integrity });
    const runtime = stagePluginRuntime(key, triple, pkgName, stageRoot);
    if (runtime) {
      const packedRuntime = npmPack(runtime.stage, outDir);
      checkPacked(packedRuntime, runtime.stage, runtime.name);
      packed.push({ kind: "plugin-runtime", name: runtime.name, triple,
        file: packedRuntime.filename, size: packedRuntime.size,
        unpackedSize: packedRuntime.unpackedSize, entryCount: packedRuntime.entryCount,
        integrity: packedRuntime.integrity });
    }
  }
  const meta = npmPack(NPM_DIR, outDir);
  const metaFiles = meta.files.map((f) => f.path);
  for (const wanted of META.files) {
    if (!metaFiles.includes(wanted)) fail(`meta package is missing ${wanted}`);
  }
  if (metaFiles.some((f) => f.startsWith("vendor/"))) fail("meta package must not ship vendor/");
  packed.push({ kind: "meta", name: META.name, file: meta.filename, size: meta.size,
    unpackedSize: meta.unpackedSize, entryCount: meta.entryCount, integrity: meta.integrity });

  if (args.includes("--single")) {
    const [key, [triple]] = targets[0];
    const stage = emptyStage(stageRoot, "single");
    for (const f of META.files) {
      fs.mkdirSync(path.dirname(path.join(stage, f)), { recursive: true });
      fs.copyFileSync(path.join(NPM_DIR, f), path.join(stage, f));
    }
    const single = { ...META, files: [...META.files, "vendor"] };
    delete single.optionalDependencies;
    fs.writeFileSync(path.join(stage, "package.json"), JSON.stringify(single, null, 2) + "\n");
    copyTree(path.join(REPO, "vendor", triple), path.join(stage, "vendor", triple));
    const result = npmPack(stage, stageRoot);
    checkPacked(result, stage, "single");
    const file = `openai-codex-${META.version}-single-${key}.tgz`;
    fs.renameSync(path.join(stageRoot, result.filename), path.join(outDir, file));
    packed.push({ kind: "single", name: META.name, triple, file, size: result.size,
      unpackedSize: result.unpackedSize, entryCount: result.entryCount });
  }
  fs.rmSync(stageRoot, { recursive: true, force: true });
  const manifest = { version: META.version, packages: packed };
  fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  writeChecksums(outDir);
  for (const p of packed) {
    process.stdout.write(`pack-all: ${p.file}  ${(p.size / 1e6).toFixed(1)} MB packed, ` +
      `${(p.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${p.entryCount} files\n`);
  }
}

main();
