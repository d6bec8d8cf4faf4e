"""Commands that run another command (`env`, `timeout`, `nice`, `xargs`, …) and shell `-c` calls.

The policy judges the program that really runs, so these wrappers are peeled off first:
`timeout 10 git push --force` is judged as `git push --force`. A wrapper used with an option we do
not understand is reported as a problem instead of being guessed at.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

SYSTEM_BIN_DIRS = frozenset({"/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin",
                             "/usr/local/sbin"})
SHELLS = frozenset({"bash", "sh", "zsh", "dash", "ksh"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]?$")


def program_name(word: str) -> str:
    """The program's base name: `/usr/bin/git` → `git`."""
    return os.path.basename(word) or word


def from_system_path(word: str) -> bool:
    """True for a bare name (looked up on PATH) or a path in a system bin directory.

    `./ls` or `tools/cat` is a program from the workspace, whatever its name: never known-safe.
    """
    if "/" not in word:
        return True
    return os.path.dirname(os.path.normpath(word)) in SYSTEM_BIN_DIRS


@dataclass(frozen=True)
class Peeled:
    """The command that really runs, the wrappers around it and why peeling stopped, if it did."""

    argv: tuple[str, ...]
    wrappers: tuple[str, ...] = ()
    problem: str | None = None


def peel(argv: tuple[str, ...]) -> Peeled:
    """Strip known wrappers from the front of `argv` (repeatedly: `env nice timeout 5 make`)."""
    wrappers: list[str] = []
    current = argv
    for _ in range(8):
        if not current:
            break
        name = program_name(current[0])
        handler = _WRAPPERS.get(name)
        if handler is None or not from_system_path(current[0]):
            break
        inner = handler(current[1:])
        if isinstance(inner, str):
            return Peeled(current, tuple(wrappers), f"`{name}` {inner}")
        if inner is None:  # the wrapper runs nothing else (`env` alone prints the environment)
            break
        wrappers.append(name)
        current = inner
    return Peeled(current, tuple(wrappers))


# Each handler takes the wrapper's arguments and returns the inner argv, None when the wrapper
# runs no other command, or a string describing why it cannot be peeled.
_Handler = Callable[[tuple[str, ...]], "tuple[str, ...] | str | None"]


def _env(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-i", "--ignore-environment", "-0", "--null", "-"):
            i += 1
        elif arg in ("-u", "--unset"):
            i += 2
        elif arg.startswith("--unset="):
            i += 1
        elif arg == "--":
            i += 1
            break
        elif arg.startswith("-"):
            return f"option {arg} is not understood"
        elif _ASSIGNMENT.match(arg):
            return "sets environment variables for the command"
        else:
            break
    rest = args[i:]
    return rest or None


def _nice(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    i = 0
    if i < len(args) and args[i] in ("-n", "--adjustment"):
        i += 2
    elif i < len(args) and (args[i].startswith("--adjustment=") or re.match(r"^-\d+$", args[i])):
        i += 1
    return args[i:] or None


def _simple(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    if args and args[0] == "--":
        args = args[1:]
    if args and args[0].startswith("-"):
        return f"option {args[0]} is not understood"
    return args or None


def _time(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    if args and args[0] == "-p":
        args = args[1:]
    return _simple(args)


def _command(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    if args and args[0] == "-p":
        args = args[1:]
    if args and args[0] in ("-v", "-V"):
        return ("which", *args[1:])  # `command -v x` only looks a name up
    return _simple(args)


def _timeout(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in ("--foreground", "--preserve-status", "-v", "--verbose"):
            i += 1
        elif arg in ("-k", "-s", "--kill-after", "--signal"):
            i += 2
        elif arg.startswith(("--kill-after=", "--signal=")):
            i += 1
        else:
            return f"option {arg} is not understood"
    if i >= len(args) or not _DURATION.match(args[i]):
        return "needs a duration before the command"
    return args[i + 1:] or None


_XARGS_WITH_VALUE = frozenset({"-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args",
                               "--max-procs", "--delimiter", "--max-lines", "--max-chars",
                               "--arg-file", "--replace", "--eof"})
_XARGS_FLAGS = frozenset({"-0", "-r", "-t", "-x", "--null", "--no-run-if-empty", "--verbose",
                          "--exit"})


def _xargs(args: tuple[str, ...]) -> tuple[str, ...] | str | None:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in _XARGS_FLAGS:
            i += 1
        elif arg in _XARGS_WITH_VALUE:
            i += 2
        elif _attached_value(arg):
            i += 1
        elif arg in ("-p", "--interactive", "-o", "--open-tty"):
            return f"option {arg} reads the terminal"
        else:
            return f"option {arg} is not understood"
    return args[i:] or ("echo",)  # bare xargs echoes its input


def _attached_value(arg: str) -> bool:
    """`--max-args=1` or `-n1` / `-I{}`: an option with its value in the same word."""
    if arg.startswith("--"):
        return "=" in arg and arg.split("=", 1)[0] in _XARGS_WITH_VALUE
    return len(arg) > 2 and arg[:2] in _XARGS_WITH_VALUE


_WRAPPERS: dict[str, _Handler] = {
    "env": _env, "nice": _nice, "nohup": _simple, "time": _time, "command": _command,
    "timeout": _timeout, "xargs": _xargs, "exec": _simple, "builtin": _simple,
}


def shell_script(argv: tuple[str, ...]) -> tuple[int, str] | None:
    """For `bash -lc SCRIPT` (sh, zsh, dash, ksh; -c with -l, -e, -u, -x, -o NAME, --login…)
    return (index of SCRIPT in argv, SCRIPT); None when `argv` is not such a call.
    """
    if not argv or program_name(argv[0]) not in SHELLS or not from_system_path(argv[0]):
        return None
    i = 1
    saw_c = False
    while i < len(argv):
        arg = argv[i]
        if arg in ("--login", "--noprofile", "--norc", "--posix"):
            i += 1
            continue
        if arg == "--":  # end of options: the script follows
            i += 1
            break
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            letters = arg[1:]
            if not set(letters) <= set("cleuxvo"):
                return None
            saw_c = saw_c or "c" in letters
            i += 1 + letters.count("o")
            continue
        break
    if saw_c and i < len(argv):
        return i, argv[i]
    return None
