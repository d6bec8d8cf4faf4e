#!/usr/bin/env node
// Launcher for the native codex binary. Plain CommonJS, no dependencies, synchronous checks:
// it maps the platform to a target triple, finds the binary shipped by the matching platform
// package (or an override, or the single-package vendor/ fallback), checks it, and runs it with
// inherited stdio, mirroring its exit code or signal. Each failure mode prints what went wrong
// and the command that fixes it. Required as a module it only exports the resolver (used by
// scripts/postinstall.js and scripts/test.js).
"use strict";

const fs = require("fs");
const path = require("path");

const PACKAGE_ROOT = path.join(__dirname, "..");
const META = "@openai/codex";

// process.platform/arch (+ libc on Linux) -> triple and platform package name.
const TARGETS = {
  "linux-x64-gnu": ["x86_64-unknown-linux-gnu", "@openai/codex-linux-x64"],
  "linux-arm64-gnu": ["aarch64-unknown-linux-gnu", "@openai/codex-linux-arm64"],
  "linux-x64-musl": ["x86_64-unknown-linux-musl", "@openai/codex-linux-x64-musl"],
  "linux-arm64-musl": ["aarch64-unknown-linux-musl", "@openai/codex-linux-arm64-musl"],
  "darwin-x64": ["x86_64-apple-darwin", "@openai/codex-darwin-x64"],
  "darwin-arm64": ["aarch64-apple-darwin", "@openai/codex-darwin-arm64"],
  "win32-x64": ["x86_64-pc-windows-msvc", "@openai/codex-win32-x64"],
  "win32-arm64": ["aarch64-pc-windows-msvc", "@openai/codex-win32-arm64"],
};

class LauncherError extends Error {
  constructor(message, exitCode) {
    super(message);
    this.exitCode = exitCode;
  }
}

let cachedLibc;
/** "glibc" or "musl", read from Node's own diagnostic report (no child process). */
function detectLibc() {
  if (cachedLibc === undefined) {
    let glibc;
    try {
      if ("excludeNetwork" in process.report) process.report.excludeNetwork = true;
      glibc = process.report.getReport().header.glibcVersionRuntime;
    } catch (_err) {
      glibc = undefined;
    }
    cachedLibc = glibc ? "glibc" : "musl";
  }
  return cachedLibc;
}

function ownVersion() {
  return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")).version;
}

/** Which package manager installed us: decides the env marker and the reinstall hint. */
function packageManager() {
  const agent = process.env.npm_config_user_agent || "";
  for (const name of ["pnpm", "yarn", "bun", "npm"]) {
    if (agent.startsWith(name + "/")) return name;
  }
  const where = realpath(PACKAGE_ROOT).split(path.sep).join("/");
  // pnpm: its virtual store (.pnpm/) or, for pnpm 11+ global installs, its global virtual
  // store (<store>/v11/links/<name>/<version>/<hash>/node_modules/...).
  if (where.includes("/.pnpm/") || /\/v\d+\/links\/@openai\/codex\//.test(where) ||
    (process.env.PNPM_HOME && where.startsWith(
    realpath(process.env.PNPM_HOME).split(path.sep).join("/")))) return "pnpm";
  if (process.versions.pnp || where.includes("/.yarn/")) return "yarn";
  if (where.includes("/.bun/")) return "bun";
  return "npm";
}

function reinstallCommand(manager, version) {
  const spec = `${META}@${version}`;
  const global = isGlobalInstall();
  switch (manager) {
    case "pnpm":
      return global ? `pnpm add -g ${spec}` : `pnpm add ${spec}`;
    case "yarn":
      return `yarn add ${spec}`;
    case "bun":
      return global ? `bun add -g ${spec}` : `bun add ${spec}`;
    default:
      return global ? `npm install -g ${spec} --include=optional`
        : `npm install ${spec} --include=optional`;
  }
}

function isGlobalInstall() {
  const where = realpath(PACKAGE_ROOT);
  const prefix = process.env.npm_config_prefix;
  if (prefix && where.startsWith(realpath(prefix))) return true;
  return /[\\/](lib[\\/])?node_modules[\\/]@openai[\\/]codex$/.test(where) &&
    !fs.existsSync(path.join(where, "..", "..", "..", "package.json"));
}

function realpath(p) {
  try {
    return fs.realpathSync(p);
  } catch (_err) {
    return p;
  }
}

function exeName() {
  return process.platform === "win32" ? "codex.exe" : "codex";
}

/** The directory of an installed package, resolved the way Node (and Yarn PnP) resolve it. */
function packageDir(name) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [PACKAGE_ROOT] }));
  } catch (_err) {
    return null;
  }
}

/**
 * Find the native binary. Returns {binary, source, triple, pkg, warning}; throws LauncherError
 * with the message and fix when none is usable. `trace` receives every candidate tried.
 */
function resolveBinary(trace = () => {}) {
  const override = process.env.CODEX_BINARY_PATH;
  if (override) {
    trace(`CODEX_BINARY_PATH=${override}`);
    checkFile(override, "CODEX_BINARY_PATH", null);
    return { binary: path.resolve(override), source: "CODEX_BINARY_PATH", triple: null };
  }
  const { platform, arch } = process;
  const candidates = [];
  if (platform === "linux") {
    // Prefer whichever libc package the package manager installed; ask the report only when
    // it has to break a tie or explain a miss.
    const gnu = TARGETS[`linux-${arch}-gnu`];
    const musl = TARGETS[`linux-${arch}-musl`];
    if (!gnu) throw unsupported();
    const order = detectLibcIfAmbiguous(gnu[1], musl[1]) === "musl" ? [musl, gnu] : [gnu, musl];
    candidates.push({ target: order[0] }, { target: order[1], libcMismatch: true });
  } else {
    const native = TARGETS[`${platform}-${arch}`];
    if (!native) throw unsupported();
    candidates.push({ target: native });
    if (arch === "arm64" && (platform === "darwin" || platform === "win32")) {
      candidates.push({ target: TARGETS[`${platform}-x64`], emulated: true });
    }
  }
  const version = ownVersion();
  for (const candidate of candidates) {
    const [triple, pkg] = candidate.target;
    const dir = packageDir(pkg);
    trace(`${pkg}: ${dir ? dir : "not installed"}`);
    if (dir) {
      if (candidate.libcMismatch && detectLibc() !== libcOf(triple)) {
        trace(`${pkg}: skipped, built for ${libcOf(triple)} but this system uses ${detectLibc()}`);
        continue;
      }
      const pkgVersion = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
        .version;
      if (pkgVersion !== version) {
        throw new LauncherError(
          `${pkg}@${pkgVersion} does not match ${META}@${version}; a partial upgrade left ` +
          `them out of step.\nFix: ${reinstallCommand(packageManager(), version)}`, 1);
      }
      const binary = path.join(dir, "vendor", triple, "codex", exeName());
      trace(`  ${binary}`);
      checkFile(binary, pkg, version);
      return { binary, source: pkg, triple, pkg, warning: emulationWarning(candidate) };
    }
    const vendored = path.join(PACKAGE_ROOT, "vendor", triple, "codex", exeName());
    trace(`vendor fallback: ${vendored}`);
    if (fs.existsSync(vendored) &&
      !(candidate.libcMismatch && detectLibc() !== libcOf(triple))) {
      checkFile(vendored, `${META} (vendor/${triple})`, version);
      return { binary: vendored, source: "vendor", triple, warning: emulationWarning(candidate) };
    }
  }
  const [triple, pkg] = candidates[0].target;
  const manager = packageManager();
  throw new LauncherError(
    `codex: the native binary for ${triple} is missing: the optional dependency ${pkg} is not ` +
    `installed (installs with --omit=optional, --no-optional or a lockfile made on another ` +
    `platform skip it).\nFix: ${reinstallCommand(manager, version)}`, 127);
}

function detectLibcIfAmbiguous(gnuPkg, muslPkg) {
  const hasGnu = packageDir(gnuPkg) !== null;
  const hasMusl = packageDir(muslPkg) !== null;
  if (hasGnu !== hasMusl) return hasGnu ? "glibc" : "musl";
  return detectLibc();
}

function libcOf(triple) {
  return triple.endsWith("-musl") ? "musl" : "glibc";
}

function emulationWarning(candidate) {
  if (!candidate.emulated) return null;
  const how = process.platform === "darwin" ? "Rosetta 2" : "x64 emulation";
  return `codex: warning: running the x64 build under ${how}; install the native ` +
    `${TARGETS[`${process.platform}-arm64`][1]} for full speed.`;
}

function unsupported() {
  const libc = process.platform === "linux" ? ` (${detectLibc()})` : "";
  return new LauncherError(
    `codex: no build for ${process.platform}-${process.arch}${libc}. Supported: ` +
    `linux x64/arm64 (glibc and musl), macOS x64/arm64, Windows x64/arm64.\n` +
    `Fix: run codex on a supported platform, or build it from source and point ` +
    `CODEX_BINARY_PATH at the executable.`, 1);
}

/** The binary must be a regular file we can execute; repair the mode when we own it. */
function checkFile(binary, origin, version) {
  let stat;
  try {
    stat = fs.statSync(binary);
  } catch (_err) {
    const fix = origin === "CODEX_BINARY_PATH"
      ? "point CODEX_BINARY_PATH at the codex executable, or unset it"
      : reinstallCommand(packageManager(), version);
    throw new LauncherError(`codex: ${binary} (from ${origin}) does not exist.\nFix: ${fix}`, 127);
  }
  if (!stat.isFile()) {
    throw new LauncherError(`codex: ${binary} (from ${origin}) is not a file.\nFix: ` +
      (origin === "CODEX_BINARY_PATH" ? "point CODEX_BINARY_PATH at the codex executable"
        : reinstallCommand(packageManager(), version)), 126);
  }
  checkFormat(binary, origin, version);
  if (process.platform === "win32") return;
  try {
    fs.accessSync(binary, fs.constants.X_OK);
    return;
  } catch (_err) {
    // fall through: try to repair the mode
  }
  try {
    fs.chmodSync(binary, stat.mode | 0o755);
    fs.accessSync(binary, fs.constants.X_OK);
  } catch (_err) {
    throw new LauncherError(
      `codex: ${binary} is not executable and its mode cannot be changed by this user.\n` +
      `Fix: chmod +x '${binary}' (as its owner). If it already is executable, the file ` +
      `system is mounted noexec (common for /tmp and some home directories): reinstall to ` +
      `a prefix on an exec-allowed mount, e.g. npm config set prefix ~/.npm-global.`, 126);
  }
}

// ELF e_machine values for the architectures we ship.
const ELF_MACHINE = { x64: 62, arm64: 183 };

/**
 * Read the first bytes and refuse a file this machine cannot execute, before exec: when
 * execve fails with ENOEXEC, libuv's execvp falls back to running the file with /bin/sh,
 * which turns a wrong-architecture or corrupt binary into a baffling shell error.
 */
function checkFormat(binary, origin, version) {
  const head = Buffer.alloc(20);
  let fd;
  try {
    fd = fs.openSync(binary, "r");
    fs.readSync(fd, head, 0, 20, 0);
  } catch (_err) {
    return; // unreadable: the permission checks that follow explain it
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (head[0] === 0x23 && head[1] === 0x21) return; // "#!": a script (CODEX_BINARY_PATH)
  let problem = null;
  if (process.platform === "linux") {
    if (head.readUInt32BE(0) !== 0x7f454c46) {
      problem = "is not an ELF executable";
    } else if (ELF_MACHINE[process.arch] !== undefined &&
      head.readUInt16LE(18) !== ELF_MACHINE[process.arch]) {
      const found = Object.keys(ELF_MACHINE).find((a) => ELF_MACHINE[a] === head.readUInt16LE(18));
      problem = `is built for ${found || "another architecture"} (machine ` +
        `${head.readUInt16LE(18)}), not ${process.arch}`;
    }
  } else if (process.platform === "darwin") {
    const magic = head.readUInt32BE(0);
    if (![0xcffaedfe, 0xcefaedfe, 0xcafebabe, 0xfeedfacf].includes(magic)) {
      problem = "is not a Mach-O executable";
    }
  } else if (process.platform === "win32" && !(head[0] === 0x4d && head[1] === 0x5a)) {
    problem = "is not a Windows executable";
  }
  if (problem) {
    const fix = origin === "CODEX_BINARY_PATH"
      ? "point CODEX_BINARY_PATH at a codex executable built for this machine"
      : reinstallCommand(packageManager(), version);
    throw new LauncherError(`codex: ${binary} (from ${origin}) ${problem}: exec format ` +
      `error.\nFix: ${fix}`, 126);
  }
}

/** Explain a failed spawn: which error, why it happens, and the fix. */
function spawnFailure(err, resolved) {
  const { binary } = resolved;
  if (err.code === "ENOEXEC" || err.code === "EBADARCH" || err.code === "UNKNOWN") {
    return new LauncherError(
      `codex: ${binary} is not an executable for this machine (${err.code}: exec format ` +
      `error); it was built for ${resolved.triple || "another platform"}.\n` +
      `Fix: ${reinstallCommand(packageManager(), ownVersion())}`, 126);
  }
  if (err.code === "ENOENT") {
    // The file exists (checked), so the ELF interpreter is missing: a glibc build on a musl
    // system or the reverse.
    const libc = process.platform === "linux" ? detectLibc() : null;
    const expected = resolved.triple ? libcOf(resolved.triple) : null;
    if (libc && expected && libc !== expected) {
      return new LauncherError(
        `codex: ${binary} is built for ${expected} but this system uses ${libc}; its dynamic ` +
        `loader is missing.\nFix: install the ${libc} package: ` +
        `npm install -g ${META}@${ownVersion()} --libc=${libc}`, 126);
    }
    return new LauncherError(
      `codex: ${binary} could not start: its dynamic loader or a shared library is missing ` +
      `(ENOENT).\nFix: ${reinstallCommand(packageManager(), ownVersion())}`, 126);
  }
  if (err.code === "EACCES" || err.code === "EPERM") {
    return new LauncherError(
      `codex: permission denied running ${binary} (${err.code}).\nFix: chmod +x '${binary}'; ` +
      `if the mode is already right, its file system is mounted noexec: reinstall to a prefix ` +
      `on an exec-allowed mount.`, 126);
  }
  return new LauncherError(`codex: could not run ${binary}: ${err.message}`, 126);
}

/**
 * Write a line to stderr without creating process.stderr: Node's stdio streams switch pipes to
 * non-blocking mode, and the child shares those file descriptions (a child reading a
 * non-blocking stdin gets EAGAIN). The launcher never touches process.stdin/stdout/stderr.
 */
function say(line) {
  try {
    fs.writeSync(2, line + "\n");
  } catch (_err) {
    // stderr closed: nothing to tell
  }
}

const WASMTIME_LIBRARIES = ["_libwasmtime.so", "_libwasmtime.dylib", "_wasmtime.dll"];

/**
 * wasmtime's native library for WASM plugins (kept out of the platform package for its size):
 * from the optional `<platform package>-plugin-runtime`, else the single-package layout's
 * vendor/<triple>/plugin-runtime; null when neither is installed (plugins then say so).
 */
function pluginRuntime(resolved) {
  if (!resolved.triple) return null;
  const target = Object.values(TARGETS).find(([triple]) => triple === resolved.triple);
  const roots = [target && packageDir(`${target[1]}-plugin-runtime`),
    path.join(PACKAGE_ROOT, "vendor", resolved.triple, "plugin-runtime")];
  for (const root of roots) {
    if (!root) continue;
    let dirs;
    try {
      dirs = fs.readdirSync(path.join(root, "wasmtime"));
    } catch (_err) {
      continue;
    }
    for (const dir of dirs) {
      for (const name of WASMTIME_LIBRARIES) {
        const library = path.join(root, "wasmtime", dir, name);
        if (fs.existsSync(library)) return library;
      }
    }
  }
  return null;
}

function childEnv(resolved) {
  const env = { ...process.env };
  const manager = packageManager().toUpperCase();
  env[`CODEX_MANAGED_BY_${manager}`] = "1";
  env.CODEX_MANAGED_PACKAGE_ROOT = realpath(PACKAGE_ROOT);
  if (resolved.pkg) env.CODEX_MANAGED_PLATFORM_PACKAGE = resolved.pkg;
  if (!env.CODEX_PLUGIN_RUNTIME) {
    const library = pluginRuntime(resolved);
    if (library) env.CODEX_PLUGIN_RUNTIME = library;
  }
  return env;
}

function main() {
  const debug = process.env.CODEX_LAUNCHER_DEBUG === "1";
  const trace = debug ? (line) => say(`codex-launcher: ${line}`) : () => {};
  let resolved;
  try {
    resolved = resolveBinary(trace);
  } catch (err) {
    if (!(err instanceof LauncherError)) throw err;
    say(err.message);
    process.exit(err.exitCode);
  }
  if (resolved.warning) say(resolved.warning);
  trace(`running ${resolved.binary}`);

  const { spawn } = require("child_process");
  const child = spawn(resolved.binary, process.argv.slice(2), {
    stdio: "inherit",
    env: childEnv(resolved),
    windowsHide: false,
  });

  // On a terminal, Ctrl-C (and Ctrl-\) already reach the child through the foreground process
  // group: forwarding would deliver them twice. Elsewhere the signal came to us alone.
  const tty = require("tty");
  const onTerminal = tty.isatty(0) || tty.isatty(1) || tty.isatty(2);
  const handlers = {};
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]) {
    const forward = !(onTerminal && (sig === "SIGINT" || sig === "SIGQUIT"));
    handlers[sig] = () => {
      if (forward && child.exitCode === null && child.signalCode === null) {
        try {
          child.kill(sig);
        } catch (_err) {
          // the child is already gone; its exit event follows
        }
      }
    };
    try {
      process.on(sig, handlers[sig]);
    } catch (_err) {
      // signal not supported on this platform (Windows lacks some)
    }
  }

  child.on("error", (err) => {
    const failure = spawnFailure(err, resolved);
    say(failure.message);
    process.exit(failure.exitCode);
  });

  child.on("exit", (code, signal) => {
    if (signal) {
      for (const [sig, handler] of Object.entries(handlers)) process.removeListener(sig, handler);
      try {
        process.kill(process.pid, signal);
      } catch (_err) {
        // fall through to the numeric convention
      }
      const number = require("os").constants.signals[signal] || 0;
      setTimeout(() => process.exit(128 + number), 200);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

if (require.main === module) {
  main();
} else {
  module.exports = { resolveBinary, detectLibc, packageManager, reinstallCommand, TARGETS,
    LauncherError, spawnFailure, pluginRuntime };
}
