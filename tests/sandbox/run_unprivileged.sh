#!/usr/bin/env bash
# Run the escape suite again as an unprivileged uid (default 65534), as the issue requires.
# Needs root (to switch uid). The checkout must be readable by that uid. When the venv's base
# interpreter lives under a directory the uid cannot traverse (pyenv in a 0700 /root), the run
# happens in a private mount namespace where only that interpreter tree is exposed: a 0755
# tmpfs over the blocking directory with the interpreter bind-mounted back in. Nothing else
# under it becomes visible, and the host's mounts are untouched. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
UNPRIV_UID="${CODEX_UNPRIV_UID:-65534}"

if [ "$(id -u)" -ne 0 ]; then
  echo "unprivileged escape run: already running as uid $(id -u); the main run covered it"
  exit 0
fi
command -v setpriv >/dev/null || { echo "unprivileged escape run needs setpriv (util-linux)" >&2; exit 1; }

PY="$(pwd)/.venv/bin/python"
base="$("$PY" -c 'import os, sys; print(os.path.realpath(sys.base_prefix))')"
as_user() { setpriv --reuid "$UNPRIV_UID" --regid "$UNPRIV_UID" --clear-groups "$@"; }

blocked=""
dir=""
IFS=/ read -ra parts <<< "${base#/}"
for part in "${parts[@]}"; do
  dir="$dir/$part"
  if ! as_user test -x "$dir"; then blocked="$dir"; break; fi
done

wrap=()
if [ -n "$blocked" ]; then
  echo "unprivileged escape run: uid $UNPRIV_UID cannot traverse $blocked; exposing only $base"
  expose='stage="$(mktemp -d)"; mount --bind "$1" "$stage";
          mount -t tmpfs -o mode=0755,size=1m codex-unpriv "$2"; mkdir -p "$1";
          mount --bind "$stage" "$1"; umount -l "$stage"; shift 2; exec "$@"'
  wrap=(unshare -m --propagation private sh -c "$expose" sh "$base" "$blocked")
fi

scratch="$(mktemp -d /tmp/codex-unpriv.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
chown "$UNPRIV_UID:$UNPRIV_UID" "$scratch"
chmod 700 "$scratch"

run_as_user() {
  "${wrap[@]}" env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$scratch" TMPDIR="$scratch" \
    LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    ${CODEX_TEST_BINARY:+CODEX_TEST_BINARY="$CODEX_TEST_BINARY"} \
    setpriv --reuid "$UNPRIV_UID" --regid "$UNPRIV_UID" --clear-groups "$@"
}

check='import os, sys, codex, pytest
assert os.path.realpath(sys.base_prefix) == sys.argv[1], sys.base_prefix
open("tests/sandbox/actor.py").close()'
if ! run_as_user "$PY" -c "$check" "$base"; then
  echo "unprivileged escape run: uid $UNPRIV_UID cannot use $(pwd), its venv or $base." >&2
  echo "Fix: put the checkout where every parent is world-traversable (chmod o+x) and files" >&2
  echo "are world-readable (o+r)." >&2
  exit 1
fi
run_as_user "$PY" -m pytest -q -p no:cacheprovider --basetemp="$scratch/pytest" tests/sandbox "$@"
