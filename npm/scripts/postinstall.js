#!/usr/bin/env node
// Post-install check: find the binary with the launcher's own resolver, repair its mode when
// needed (the resolver does), run `--version` and compare it with the package version. Prints
// one short line of success or a precise warning. It never fails the install and never touches
// the network: pnpm 10+ and Yarn 4 do not run install scripts at all, so nothing depends on it;
// the launcher repeats every check at run time.
"use strict";

const path = require("path");
const fs = require("fs");

function main() {
  const version = JSON.parse(
    fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version;
  let launcher;
  try {
    launcher = require("../bin/codex.js");
  } catch (err) {
    return warn(`the launcher could not be loaded: ${err.message}`);
  }
  let resolved;
  try {
    resolved = launcher.resolveBinary();
  } catch (err) {
    return warn(err.message.replace(/^codex: /, ""));
  }
  const { spawnSync } = require("child_process");
  const run = spawnSync(resolved.binary, ["--version"], { encoding: "utf8", timeout: 60000 });
  if (run.error) {
    return warn(launcher.spawnFailure(run.error, resolved).message.replace(/^codex: /, ""));
  }
  const got = (run.stdout || "").trim();
  if (run.status !== 0 || got !== `codex ${version}`) {
    return warn(`${resolved.binary} --version printed ${JSON.stringify(got)} (exit ` +
      `${run.status === null ? run.signal : run.status}), expected "codex ${version}".`);
  }
  process.stdout.write(`codex ${version} installed (${resolved.source}).\n`);
}

function warn(message) {
  process.stderr.write(`codex postinstall warning: ${message}\n` +
    `The install itself succeeded; \`codex\` will report the same problem when run.\n`);
}

try {
  main();
} catch (err) {
  warn(`unexpected error: ${err && err.message}`);
}
process.exitCode = 0;
