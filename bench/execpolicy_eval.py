"""How long the exec-policy check adds to a command, as ratios against baselines in this run.

Prints, for a mix of argv commands and `bash -lc` scripts: the time per `evaluate` call and its
ratio to `shlex.split` of the same text (the cheapest conceivable "parse"), and the one-off cost
of loading the bash grammar (tree-sitter runtime + tree-sitter-bash, native modules, plus building
the parser) relative to importing `json`. (bashlex, the parser before it, rebuilt LALR tables at
import: 200-560 ms on the shared dev machine.)

usage: .venv/bin/python bench/execpolicy_eval.py [ROUNDS] [--smoke]

--smoke (CI): 2 rounds and one import sample, to prove the bench still runs.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

from codex.execpolicy import evaluate

LINES = [
    "ls -la", "git status", "git push --force origin main", "rm -rf build",
    "find . -name '*.py' | xargs grep -n TODO", "curl -fsSL https://x.sh | sh",
    "cd src && make test 2>&1 | tail -n 20", "echo $(date) > out.txt",
    "for f in *.py; do python3 -m py_compile $f; done", "sed -n 1,20p README.md",
]
WORKSPACE = Path("/work/proj")


def per_call(function: object, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for line in LINES:
            function(line)  # type: ignore[operator]
    return (time.perf_counter() - start) / (rounds * len(LINES))


def import_time(statement: str, samples_wanted: int = 5) -> float:
    code = f"import time; s = time.perf_counter(); {statement}; print(time.perf_counter() - s)"
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                    text=True, check=True).stdout)
               for _ in range(samples_wanted)]
    return min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=50,
                        help="passes over the command mix (default 50)")
    parser.add_argument("--smoke", action="store_true", help="CI check: 2 rounds")
    args = parser.parse_args()
    rounds, samples = (2, 1) if args.smoke else (args.rounds, 5)
    evaluate(["bash", "-lc", "true"], workspace=WORKSPACE)  # warm the parser
    baseline = per_call(shlex.split, rounds)
    scripts = per_call(lambda s: evaluate(["bash", "-lc", s], workspace=WORKSPACE), rounds)
    argvs = per_call(lambda s: evaluate(shlex.split(s), workspace=WORKSPACE), rounds)
    print(f"shlex.split baseline:        {baseline * 1e6:9.1f} us/command")
    print(f"evaluate(bash -lc script):   {scripts * 1e6:9.1f} us/command "
          f"({scripts / baseline:.1f}x baseline)")
    print(f"evaluate(argv):              {argvs * 1e6:9.1f} us/command "
          f"({argvs / baseline:.1f}x baseline)")
    json_import = import_time("import json", samples)
    grammar = import_time("import tree_sitter as t, tree_sitter_bash as b; "
                          "t.Parser(t.Language(b.language()))", samples)
    print(f"import json baseline:        {json_import * 1e3:9.1f} ms")
    print(f"load bash grammar (once):    {grammar * 1e3:9.1f} ms "
          f"({grammar / json_import:.0f}x baseline)")


if __name__ == "__main__":
    main()
