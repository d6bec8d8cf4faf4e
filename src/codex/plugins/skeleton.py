"""`codex plugin new NAME --lang c|wat`: a plugin skeleton that builds and installs as is.

It writes the manifest, the source, and `build.py`, which compiles the source (C with
`ziglang` from PyPI, WAT with the `wasmtime` package) and writes the module's SHA-256 into the
manifest, so the author's loop is: edit, `python build.py`, `codex plugin install .`.
"""

from __future__ import annotations

import re
from pathlib import Path

from codex.plugins.manifest import ABI_V1

C_SOURCE = """\
/* {name}: an ABI v1 ({abi}) plugin tool.
 * The call's arguments arrive as JSON on stdin; print the result as JSON on stdout;
 * anything on stderr is a log line. argv[1] is the tool name.
 */
#include <stdio.h>

int main(int argc, char **argv) {{
    static char input[65536];
    size_t n = fread(input, 1, sizeof input - 1, stdin);
    input[n] = 0;
    fprintf(stderr, "%s called with %zu bytes\\n", argc > 1 ? argv[1] : "?", n);
    printf("{{\\"length\\":%zu}}", n);
    return 0;
}}
"""

WAT_SOURCE = """\
;; {name}: an ABI v1 ({abi}) plugin tool written in WAT.
;; Reads the arguments (JSON) from stdin and writes them back as the result.
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 65000))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 4) (i32.load (i32.const 8)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))))
"""

MANIFEST = """\
[plugin]
id = "{name}"
version = "0.1.0"
wasm = "{name}.wasm"
sha256 = "{sha}"  # written by build.py
abi = "{abi}"

[[tools]]
name = "{tool}"
description = "Describe what {tool} does for the model."
input_schema = {{ type = "object", properties = {{}} }}
annotations = {{ read_only = true }}

[capabilities]
# allowed_paths = {{ "ro:{{workspace}}" = "/workspace" }}
# allowed_hosts = ["api.example.com"]
# env = ["NAME"]

[limits]
memory_mb = 64
timeout_ms = 5000
"""

BUILD = """\
\"\"\"Build {name}.wasm from {source} and write its SHA-256 into plugin.toml.\"\"\"
import hashlib
import pathlib
import re
import subprocess
import sys

here = pathlib.Path(__file__).resolve().parent
wasm = here / "{name}.wasm"
{build}
digest = hashlib.sha256(wasm.read_bytes()).hexdigest()
manifest = here / "plugin.toml"
text = re.sub(r'^sha256 = "[^"]*"', f'sha256 = "{{digest}}"', manifest.read_text(), flags=re.M)
manifest.write_text(text)
print(f"built {{wasm.name}} sha256 {{digest}}")
"""

C_BUILD = ('subprocess.run([sys.executable, "-m", "ziglang", "cc", "--target=wasm32-wasi", '
           '"-Os", "-s", "-o", str(wasm), str(here / "{source}")], check=True)')
WAT_BUILD = ('import wasmtime\n'
             'wasm.write_bytes(wasmtime.wat2wasm((here / "{source}").read_text()))')


def write_skeleton(directory: Path, name: str, lang: str) -> list[Path]:
    """Write the skeleton into `directory` (which must not exist); returns the files written."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,47}", name):
        raise ValueError(f"{name!r} is not a valid plugin id (lowercase letters, digits, '-' "
                         "and '_')")
    if directory.exists():
        raise FileExistsError(f"{directory} already exists; pick another NAME or --dir")
    source = f"{name}.c" if lang == "c" else f"{name}.wat"
    template = C_SOURCE if lang == "c" else WAT_SOURCE
    build = (C_BUILD if lang == "c" else WAT_BUILD).format(source=source)
    directory.mkdir(parents=True)
    files = {
        directory / source: template.format(name=name, abi=ABI_V1),
        directory / "plugin.toml": MANIFEST.format(name=name, sha="0" * 64, abi=ABI_V1,
                                                   tool=name.replace("-", "_")),
        directory / "build.py": BUILD.format(name=name, source=source, build=build),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
