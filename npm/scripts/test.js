#!/usr/bin/env node
// Smoke test of an installed @openai/codex, and an audit of packed tarballs.
//
//   node scripts/test.js                 test the launcher next to this script
//   node scripts/test.js --command codex test the `codex` command found on PATH (the shim)
//   node scripts/test.js --audit DIR     audit dist/npm-style tarballs (DIR/manifest.json)
//
// The native binary answers --version, --help, a bad flag and an unknown command (whose error
// echoes the argument); the launcher's plumbing (arguments, stdin, exit codes, signals, the
// environment it sets) is checked with a probe child: CODEX_BINARY_PATH pointed at this Node
// executable running a small script, so every byte and signal is observed on the other side.
// Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { spawnSync, spawn } = require("child_process");

const PACKAGE_ROOT = path.join(__dirname, "..");
const VERSION = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"))
  .version;
const POSIX = process.platform !== "win32";
const results = { passed: 0, failed: 0, skipped: 0 };

function report(name, ok, detail) {
  if (ok === null) {
    results.skipped += 1;
    process.stdout.write(`SKIP ${name}: ${detail}\n`);
  } else if (ok) {
    results.passed += 1;
    process.stdout.write(`ok   ${name}\n`);
  } else {
    results.failed += 1;
    process.stdout.write(`FAIL ${name}: ${detail}\n`);
  }
}

function check(name, fn) {
  try {
    const outcome = fn();
    if (outcome && outcome.skip) report(name, null, outcome.skip);
    else report(name, true);
  } catch (err) {
    report(name, false, err.message);
  }
}

function expectEqual(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// ---- how to start the launcher ------------------------------------------------------------
function launcherArgv(commandName) {
  if (commandName) return [commandName];
  return [process.execPath, path.join(PACKAGE_ROOT, "bin", "codex.js")];
}

function runLauncher(base, args, options = {}) {
  const [cmd, ...pre] = base;
  const result = spawnSync(cmd, [...pre, ...args], {
    encoding: options.encoding === undefined ? "utf8" : options.encoding,
    input: options.input,
    env: { ...process.env, ...(options.env || {}) },
    timeout: 120000,
    shell: process.platform === "win32" && base.length === 1,
  });
  return crlf(result);
}

/** Text-mode output on Windows ends lines with CRLF; compare lines, not line endings. */
function crlf(result) {
  if (process.platform === "win32" && typeof result.stdout === "string") {
    result.stdout = result.stdout.replace(/\r\n/g, "\n");
    result.stderr = result.stderr.replace(/\r\n/g, "\n");
  }
  return result;
}

// The probe: a child that reports what it received. Modes: argv, stdin, env, exit N, signal S,
// count-signals FILE (counts SIGINT/SIGTERM for a while and writes the counts to FILE).
const PROBE = String.raw`
const fs = require("fs");
const [mode, ...rest] = process.argv.slice(1);
if (mode === "argv") process.stdout.write(JSON.stringify(rest));
else if (mode === "stdin") { const d = fs.readFileSync(0); process.stdout.write(d.length + ":" + require("crypto").createHash("sha256").update(d).digest("hex")); }
else if (mode === "env") process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("CODEX_MANAGED")))));
else if (mode === "exit") process.exit(Number(rest[0]));
else if (mode === "signal") process.kill(process.pid, rest[0]);
else if (mode === "count-signals") {
  const counts = { SIGINT: 0, SIGTERM: 0 };
  for (const s of Object.keys(counts)) process.on(s, () => { counts[s] += 1; });
  fs.writeFileSync(rest[0] + ".ready", String(process.pid));
  setTimeout(() => { fs.writeFileSync(rest[0], JSON.stringify(counts)); process.exit(counts.SIGINT ? 130 : 0); }, Number(rest[1] || 1500));
}
`;

function probeEnv() {
  return { CODEX_BINARY_PATH: process.execPath };
}

function probeArgs(mode, ...rest) {
  return ["-e", PROBE, mode, ...rest];
}

// ---- checks of the installed package -----------------------------------------------------
function smoke(commandName) {
  const base = launcherArgv(commandName);
  const launcher = require(path.join(PACKAGE_ROOT, "bin", "codex.js"));
  const savedOverride = process.env.CODEX_BINARY_PATH;
  delete process.env.CODEX_BINARY_PATH;
  let native = null;
  try {
    native = launcher.resolveBinary().binary;
  } catch (err) {
    report("resolve the native binary", false, err.message);
  }
  if (savedOverride !== undefined) process.env.CODEX_BINARY_PATH = savedOverride;
  const plain = { CODEX_BINARY_PATH: "" };

  check("--version prints the package version", () => {
    const r = runLauncher(base, ["--version"], { env: plain });
    expectEqual([r.status, r.stdout], [0, `codex ${VERSION}\n`], "exit and stdout");
  });
  check("--help exits 0 and teaches usage", () => {
    const r = runLauncher(base, ["--help"], { env: plain });
    expectEqual(r.status, 0, "exit code");
    if (!/Usage/.test(r.stdout)) throw new Error(`no usage text in ${JSON.stringify(r.stdout)}`);
  });
  check("a bad flag exits 2, exactly as the native binary", () => {
    const r = runLauncher(base, ["--no-such-flag"], { env: plain });
    expectEqual(r.status, 2, "exit code");
    if (native) {
      const d = crlf(spawnSync(native, ["--no-such-flag"], { encoding: "utf8" }));
      expectEqual([r.stdout, r.stderr], [d.stdout, d.stderr], "output vs native");
    }
  });
  const tricky = `sp ace 'single' "double" $HOME * \\back ünï 日本`;
  check("an awkward argument reaches the native binary verbatim", () => {
    // `codex PROMPT` opens the interactive UI, so the awkward word goes where an unknown
    // subcommand is reported back verbatim.
    const r = runLauncher(base, ["config", tricky], { env: plain });
    expectEqual(r.status, 2, "exit code of an unknown command");
    for (const part of ["sp ace", "$HOME", "*", "ünï 日本"]) {
      if (!r.stderr.includes(part)) throw new Error(`${part} missing from ${r.stderr}`);
    }
    if (native) {
      const d = crlf(spawnSync(native, ["config", tricky], { encoding: "utf8" }));
      expectEqual(r.stderr, d.stderr, "stderr vs native");
    }
  });
  check("arguments arrive verbatim (probe)", () => {
    const args = [tricky, "", "--flag=a b", "-", "%PATH%", "\"", "'", "a\nb"];
    const r = runLauncher(base, probeArgs("argv", ...args), { env: probeEnv() });
    expectEqual([r.status, JSON.parse(r.stdout)], [0, args], "argv seen by the child");
  });
  check("stdin is passed through byte for byte", () => {
    const data = Buffer.concat([Buffer.from("line1\r\n\u00fc\0"), Buffer.alloc(300000, 7)]);
    const r = runLauncher(base, probeArgs("stdin"), { env: probeEnv(), input: data });
    const digest = require("crypto").createHash("sha256").update(data).digest("hex");
    expectEqual(r.stdout, `${data.length}:${digest}`, "bytes seen by the child");
  });
  check("exit codes are mirrored", () => {
    for (const code of [0, 1, 3, 42, 255]) {
      const r = runLauncher(base, probeArgs("exit", String(code)), { env: probeEnv() });
      expectEqual(r.status, code, `exit ${code}`);
    }
  });
  check("the child gets CODEX_MANAGED_BY_* and CODEX_MANAGED_PACKAGE_ROOT", () => {
    const r = runLauncher(base, probeArgs("env"), { env: probeEnv() });
    const env = JSON.parse(r.stdout);
    if (!Object.keys(env).some((k) => /^CODEX_MANAGED_BY_(NPM|PNPM|YARN|BUN)$/.test(k))) {
      throw new Error(`no CODEX_MANAGED_BY_* in ${r.stdout}`);
    }
    if (!env.CODEX_MANAGED_PACKAGE_ROOT) throw new Error(`no package root in ${r.stdout}`);
  });
  check("WASM plugins run: the launcher finds the plugin runtime package", () => {
    const r = runLauncher(base, ["doctor", "--json"], { env: plain });
    const runtime = JSON.parse(r.stdout).plugin_runtime;
    if (!runtime || !runtime.ok) throw new Error(`doctor: ${JSON.stringify(runtime)}`);
  });
  if (!POSIX) {
    report("signal checks", null, "POSIX signals only");
    return;
  }
  check("a signal death is mirrored (SIGTERM, SIGKILL)", () => {
    for (const sig of ["SIGTERM", "SIGKILL"]) {
      const r = runLauncher(base, probeArgs("signal", sig), { env: probeEnv() });
      expectEqual(r.signal, sig, `launcher death after the child's ${sig}`);
    }
  });
  check("SIGTERM to the launcher alone reaches the child once", () => {
    const counts = signalRun(base, (launcherPid) => process.kill(launcherPid, "SIGTERM"));
    expectEqual(counts.SIGTERM, 1, "SIGTERM count");
  });
  check("Ctrl-C on a terminal reaches the child exactly once", () => {
    if (process.platform !== "linux" || spawnSync("script", ["--version"]).status !== 0) {
      return { skip: "needs util-linux script(1) to provide a terminal" };
    }
    const counts = ctrlCRun(base);
    expectEqual(counts.SIGINT, 1, "SIGINT count");
    return undefined;
  });
}

function tmpFile(tag) {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "codex-test-")), tag);
}

function waitFor(file, ms) {
  const end = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${file}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/** Start the launcher with a counting probe, act on it, return what the child counted. */
function signalRun(base, act) {
  const out = tmpFile("counts.json");
  const [cmd, ...pre] = base;
  const child = spawn(cmd, [...pre, ...probeArgs("count-signals", out, "1500")], {
    env: { ...process.env, ...probeEnv() }, stdio: "ignore",
  });
  waitFor(out + ".ready", 30000);
  act(child.pid);
  waitFor(out, 30000);
  return JSON.parse(fs.readFileSync(out, "utf8"));
}

/** Run the launcher on a pseudo-terminal (script(1)) and type Ctrl-C into it. */
function ctrlCRun(base) {
  const out = tmpFile("counts.json");
  const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  const line = [...base, ...probeArgs("count-signals", out, "1500")].map(quote).join(" ");
  const script = spawn("script", ["-qefc", line, "/dev/null"], {
    env: { ...process.env, ...probeEnv() }, stdio: ["pipe", "ignore", "ignore"],
  });
  waitFor(out + ".ready", 30000);
  script.stdin.write("\x03");
  waitFor(out, 30000);
  script.stdin.end();
  return JSON.parse(fs.readFileSync(out, "utf8"));
}

// ---- audit of packed tarballs --------------------------------------------------------------
function readTar(file) {
  const data = zlib.gunzipSync(fs.readFileSync(file));
  const entries = [];
  let offset = 0;
  let longName = null;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString("utf8")
      .replace(/\0.*$/s, "");
    let name = field(0, 100);
    const prefix = field(345, 155);
    if (prefix) name = `${prefix}/${name}`;
    const mode = parseInt(field(100, 8), 8);
    const size = parseInt(field(124, 12), 8) || 0;
    const type = field(156, 1) || "0";
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = body.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    if (type === "x" || type === "g") continue;
    entries.push({ name: longName || name, mode, size, type, body });
    longName = null;
  }
  return entries;
}

function audit(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
  const { TARGETS } = require(path.join(PACKAGE_ROOT, "bin", "codex.js"));
  for (const pkg of manifest.packages) {
    check(`audit ${pkg.file}`, () => {
      const entries = readTar(path.join(dir, pkg.file));
      const json = JSON.parse(entries.find((e) => e.name === "package/package.json").body);
      expectEqual(json.version, manifest.version, "version");
      const repository = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"),
        "utf8")).repository;
      if (!repository || !/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/.test(repository.url)) {
        throw new Error("npm/package.json needs repository.url (npm publish --provenance)");
      }
      expectEqual(json.repository, repository, "repository (provenance links to it)");
      const bad = entries.filter((e) => e.type !== "0");
      if (bad.length) throw new Error(`non-regular entries: ${bad.map((e) => e.name)}`);
      if (pkg.kind === "platform") {
        const key = Object.keys(TARGETS).find((k) => TARGETS[k][1] === json.name);
        if (!key) throw new Error(`${json.name} is not a known platform package`);
        const [osName, cpu, libc] = key.split("-");
        expectEqual([json.os, json.cpu], [[osName], [cpu]], "os/cpu");
        if (osName === "linux") expectEqual(json.libc, [libc === "musl" ? "musl" : "glibc"], "libc");
        expectEqual([json.preferUnplugged, json.files, json.scripts, json.bin],
          [true, ["vendor", "sbom.cdx.json"], undefined, undefined],
          "preferUnplugged/files/scripts/bin");
        const exe = `package/vendor/${TARGETS[key][0]}/codex/${osName === "win32" ? "codex.exe" : "codex"}`;
        const binary = entries.find((e) => e.name === exe);
        if (!binary) throw new Error(`${exe} missing`);
        if (osName !== "win32" && (binary.mode & 0o111) !== 0o111) {
          throw new Error(`${exe} mode ${binary.mode.toString(8)} is not executable`);
        }
        const sbom = entries.find((e) => e.name === "package/sbom.cdx.json");
        if (!sbom) throw new Error("sbom.cdx.json missing");
        expectEqual(JSON.parse(sbom.body).metadata.component.name, json.name, "SBOM subject");
        const stray = entries.filter((e) => !e.name.startsWith("package/vendor/") &&
          !["package/package.json", "package/README.md", "package/LICENSE",
            "package/sbom.cdx.json"].includes(e.name));
        if (stray.length) throw new Error(`unexpected files: ${stray.map((e) => e.name)}`);
        // The platform package budget the roadmap sets (MCP, plugins and research all live in
        // the one binary): 40 MB packed.
        if (pkg.size > 40 * 1000 * 1000) throw new Error(`packed size ${pkg.size} > 40 MB`);
      } else if (pkg.kind === "plugin-runtime") {
        const platform = Object.keys(TARGETS).find((k) => `${TARGETS[k][1]}-plugin-runtime` ===
          json.name);
        if (!platform) throw new Error(`${json.name} is not a known plugin runtime package`);
        const [osName, cpu] = platform.split("-");
        expectEqual([json.os, json.cpu, json.files, json.scripts, json.bin],
          [[osName], [cpu], ["wasmtime"], undefined, undefined], "os/cpu/files/scripts/bin");
        const libraries = entries.filter((e) =>
          /^package\/wasmtime\/[^/]+\/(_libwasmtime\.(so|dylib)|_wasmtime\.dll)$/.test(e.name));
        expectEqual(libraries.length, 1, "one wasmtime library");
        if (!entries.some((e) => e.name === "package/LICENSE")) throw new Error("LICENSE missing");
        if (pkg.size > 15 * 1000 * 1000) throw new Error(`packed size ${pkg.size} > 15 MB`);
      } else if (pkg.kind === "meta") {
        const names = entries.map((e) => e.name).sort();
        expectEqual(names, ["package/LICENSE", "package/README.md", "package/bin/codex.js",
          "package/package.json", "package/scripts/postinstall.js", "package/scripts/test.js"],
        "meta file list");
        for (const [dep, spec] of Object.entries(json.optionalDependencies || {})) {
          expectEqual(spec, json.version, `${dep} pinned to the exact version`);
        }
        expectEqual(Object.keys(json.optionalDependencies || {}).sort(), Object.values(TARGETS)
          .flatMap(([, name]) => [name, `${name}-plugin-runtime`]).sort(),
        "a binary and a plugin runtime package per platform");
        if (json.dependencies) throw new Error("the meta package must have no dependencies");
      }
      process.stdout.write(`     ${pkg.file}: ${entries.length} files, ` +
        `${(pkg.size / 1e6).toFixed(1)} MB packed, ${(pkg.unpackedSize / 1e6).toFixed(1)} MB ` +
        `unpacked\n`);
    });
  }
}

function main() {
  const args = process.argv.slice(2);
  const auditIdx = args.indexOf("--audit");
  if (auditIdx >= 0) {
    audit(path.resolve(args[auditIdx + 1] || "dist/npm"));
  } else {
    const cmdIdx = args.indexOf("--command");
    smoke(cmdIdx >= 0 ? args[cmdIdx + 1] : null);
  }
  const skipped = results.skipped ? `, ${results.skipped} skipped` : "";
  process.stdout.write(`${results.passed} passed, ${results.failed} failed${skipped}\n`);
  process.exitCode = results.failed ? 1 : 0;
}

main();
