#!/usr/bin/env bash
# Install the MCP test servers (PyPI: mcp-server-time, mcp-server-git; npm: server-everything)
# into a directory outside the clone, keyed by the hash of their pins, so a fresh clone reuses
# them. Prints the directory: <dir>/py/bin/mcp-server-*, <dir>/node_modules/.bin/*.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
key="$(cat "$here/requirements.txt" "$here/package.json" | sha256sum | cut -c1-16)"
dir="${CODEX_MCP_TOOLS_DIR:-$HOME/.cache/codex-mcp-tools}/$key"
if [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$here/package.json" "$here/requirements.txt" "$dir/"
  python3 -m venv "$dir/py"
  "$dir/py/bin/python" -m pip install -q -r "$dir/requirements.txt" >&2
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$dir/.complete"
fi
echo "$dir"
