#!/usr/bin/env bash
# Install the e2e tools (verdaccio and pinned pnpm/yarn) into a directory outside the clone,
# keyed by the hash of package.json, so a fresh clone reuses them. Prints the directory.
# verdaccio 6.1.0 installs on Node 20 only with node-fetch pinned to 2.7.0 (overrides).
# With a directory argument, installs that directory's package.json the same way (tests/sdk/tools).
set -euo pipefail
here="$(cd "${1:-$(dirname "$0")}" && pwd)"
key="$(sha256sum "$here/package.json" | cut -c1-16)"
dir="${CODEX_TOOLS_DIR:-$HOME/.cache/codex-e2e-tools}/$key"
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$here/package.json" "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$dir/.complete"
fi
echo "$dir"
