"""The built-in rules: which commands are known to be read-only, and which are dangerous.

Known-safe (allow) applies only to programs found on PATH or in system bin directories and only
when no option that writes files or runs other programs is present. Dangerous rules match the
program's base name wherever it lives. Paths are resolved against the command's working
directory (the workspace, updated by literal `cd`) so `rm -rf ../..` is judged by where it lands.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codex.execpolicy.types import BUILTIN_SOURCE, Decision, RuleMatch
from codex.execpolicy.wrappers import from_system_path, program_name


@dataclass(frozen=True)
class Context:
    """Where a command runs: the workspace, the user's home and the current directory.

    `cwd` is None when a script changed directory in a way we cannot follow (`cd "$X"`).
    """

    workspace: str
    home: str
    cwd: str | None


def builtin_match(name: str, decision: Decision, justification: str,
                  argv: Sequence[str]) -> RuleMatch:
    """A RuleMatch for the built-in rule `builtin:<name>`."""
    return RuleMatch(BUILTIN_SOURCE, f"builtin:{name}", decision, justification, tuple(argv))


# --- known safe -------------------------------------------------------------------------------

_ALWAYS_SAFE = frozenset({
    "cat", "ls", "pwd", "echo", "printf", "true", "false", "wc", "head", "tail", "nl", "cut",
    "tr", "stat", "which", "whoami", "id", "uname", "basename", "dirname", "realpath",
    "readlink", "du", "df", "seq", "cmp", "diff", "md5sum", "sha1sum", "sha224sum", "sha256sum",
    "sha384sum", "sha512sum", "b2sum", "cksum", "column", "expand", "unexpand", "fold", "paste",
    "rev", "strings", "od", "hexdump", "grep", "egrep", "fgrep", "test", "[", "printenv", "env",
    "tac", "comm", "join", "locale", "nproc", "arch", "groups", "cd", "jq", "sleep", "ps",
    "free", "uptime", "type", "zcat", "zgrep", "lsof", "getconf", "tty", "cal", "numfmt", "fmt",
})
_SED_PRINT = re.compile(r"^(\d+|\$)(,(\d+|\$))?p$")


def _no_option(*banned: str) -> Callable[[Sequence[str]], bool]:
    """Safe unless an argument is one of `banned` (or `banned=…`, or a short cluster with it)."""
    long_banned = tuple(b for b in banned if b.startswith("--"))
    short_banned = {b[1] for b in banned if len(b) == 2 and b[0] == "-" and b[1] != "-"}

    def check(args: Sequence[str]) -> bool:
        for arg in args:
            if arg == "--":
                return True
            if arg in banned or arg.startswith(tuple(f"{b}=" for b in long_banned)):
                return False
            if (arg.startswith("-") and not arg.startswith("--")
                    and short_banned & set(arg[1:])):
                return False
        return True

    return check


def _positional_at_most(limit: int) -> Callable[[Sequence[str]], bool]:
    def check(args: Sequence[str]) -> bool:
        return sum(1 for a in args if not a.startswith("-") or a == "-") <= limit
    return check


def _find_safe(args: Sequence[str]) -> bool:
    unsafe = {"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0",
              "-fprintf"}
    return not any(a in unsafe for a in args)


def _rg_safe(args: Sequence[str]) -> bool:
    for arg in args:
        if arg == "--":
            return True
        if arg.split("=", 1)[0] in ("--pre", "--pre-glob", "--search-zip", "--hostname-bin"):
            return False
        if arg.startswith("-") and not arg.startswith("--") and "z" in arg[1:]:
            return False
    return True


def _sed_safe(args: Sequence[str]) -> bool:
    # Only `sed -n N[,M]p [FILE…]`: a print command cannot write or execute.
    return len(args) >= 2 and args[0] == "-n" and bool(_SED_PRINT.match(args[1])) and all(
        not a.startswith("-") for a in args[2:])


def _date_safe(args: Sequence[str]) -> bool:
    return not any(a in ("-s", "--set") or a.startswith(("--set=", "-s")) for a in args)


_SAFE_WITH_CHECK: dict[str, Callable[[Sequence[str]], bool]] = {
    "find": _find_safe,
    "rg": _rg_safe,
    "sed": _sed_safe,
    "sort": _no_option("-o", "--output", "--compress-program"),
    "uniq": _positional_at_most(1),
    "xxd": _positional_at_most(1),
    "tree": _no_option("-o", "--output"),
    "file": _no_option("-C", "--compile"),
    "date": _date_safe,
    "hostname": lambda args: not args,
    "fd": _no_option("-x", "--exec", "-X", "--exec-batch"),
}

_GIT_READ_ONLY = frozenset({"status", "log", "diff", "show", "rev-parse", "ls-files", "blame",
                            "describe", "shortlog", "show-ref", "merge-base", "ls-tree",
                            "cat-file", "rev-list", "whatchanged", "reflog", "grep", "remote",
                            "branch", "config", "tag", "stash"})
_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "--git-dir", "--work-tree", "--namespace"})
_GIT_GLOBAL_FLAGS = frozenset({"--no-pager", "-P", "--no-optional-locks", "--literal-pathspecs",
                               "--no-replace-objects", "--bare"})
_GIT_OUTPUT_OPTIONS = ("--output", "--ext-diff", "--open-files-in-pager", "-O")
_GIT_BRANCH_WRITES = frozenset({"-d", "-D", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy",
                                "-f", "--force", "-u", "--set-upstream-to", "--unset-upstream",
                                "--edit-description", "-t", "--track", "--no-track",
                                "--create-reflog", "--recurse-submodules"})
_GIT_BRANCH_VALUE_OPTIONS = frozenset({"--contains", "--no-contains", "--merged", "--no-merged",
                                       "--points-at", "--sort", "--format"})


def git_subcommand(args: Sequence[str]) -> tuple[str | None, tuple[str, ...], bool]:
    """(subcommand, its arguments, whether global options were all understood) for `git ARGS`."""
    i = 0
    understood = True
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if arg in _GIT_GLOBAL_WITH_VALUE:
            i += 2
        elif arg.split("=", 1)[0] in _GIT_GLOBAL_WITH_VALUE or arg in _GIT_GLOBAL_FLAGS:
            i += 1
        else:  # -c key=value, --exec-path, --config-env … can run arbitrary programs
            understood = False
            i += 2 if arg in ("-c", "--config-env") else 1
    if i >= len(args):
        return None, (), understood
    return args[i], tuple(args[i + 1:]), understood


def _git_safe(args: Sequence[str]) -> bool:
    sub, rest, understood = git_subcommand(args)
    if not understood or sub not in _GIT_READ_ONLY:
        return False
    if any(a.split("=", 1)[0] in _GIT_OUTPUT_OPTIONS or (sub == "grep" and a.startswith("-O"))
           for a in rest):
        return False
    if sub == "branch":
        return _git_branch_lists(rest)
    if sub == "remote":
        return all(a in ("-v", "--verbose") for a in rest) or rest[0] == "get-url"
    if sub == "config":
        return bool(rest) and rest[0] in ("--get", "--get-all", "--list", "-l", "--get-regexp")
    if sub == "tag":
        return not rest or rest[0] in ("-l", "--list")
    if sub == "stash":
        return bool(rest) and rest[0] in ("list", "show")
    if sub == "reflog":
        return not rest or rest[0] == "show" or rest[0].startswith("-")
    if sub == "cat-file":
        return bool(rest) and rest[0] in ("-p", "-t", "-s", "-e")
    return True


def _git_branch_lists(args: Sequence[str]) -> bool:
    listing = any(a in ("-l", "--list") for a in args)
    expect_value = False
    for arg in args:
        if expect_value:
            expect_value = False
            continue
        name = arg.split("=", 1)[0]
        if name in _GIT_BRANCH_WRITES or name.startswith("--set-upstream"):
            return False
        if arg in _GIT_BRANCH_VALUE_OPTIONS:
            expect_value = True
            continue
        if not arg.startswith("-") and not listing:
            return False  # `git branch NAME` creates a branch
    return True


def known_safe(argv: Sequence[str]) -> RuleMatch | None:
    """The allow match when `argv` is a known read-only command, else None."""
    if not argv or not from_system_path(argv[0]):
        return None
    name = program_name(argv[0])
    args = argv[1:]
    if name in _ALWAYS_SAFE:
        safe = True
    elif name == "git":
        safe = _git_safe(args)
    elif name in _SAFE_WITH_CHECK:
        safe = _SAFE_WITH_CHECK[name](args)
    else:
        return None
    if not safe:
        return None
    return builtin_match("read-only", Decision.ALLOW,
                         f"`{name}` only reads (known-safe command)", argv)


# --- dangerous ------------------------------------------------------------------------------

_PRIVILEGE = frozenset({"sudo", "su", "doas", "pkexec", "run0", "sudoedit"})
_FORMATTERS = frozenset({"mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "cfdisk", "parted",
                         "sgdisk", "gdisk"})
_POWER = frozenset({"shutdown", "reboot", "halt", "poweroff"})
SYSTEM_TOP_DIRS = frozenset({"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64",
                             "/libx32", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys",
                             "/usr", "/var", "/snap", "/mnt", "/media", "/nix"})
SHELL_RC_NAMES = frozenset({".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
                            ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout", ".kshrc",
                            ".cshrc", ".tcshrc", ".login", ".xprofile", ".xinitrc",
                            ".inputrc"})
_HARMLESS_DEVICES = re.compile(r"^/dev/(null|zero|full|random|urandom|stdout|stderr|stdin|tty"
                               r"|fd/\d+|pts/\d+)$")
_GLOB = re.compile(r"[*?\[]")


def resolve_path(word: str, ctx: Context) -> str | None:
    """The absolute, normalised path a word names, or None when it cannot be known statically.

    `~`, `~/x`, `$HOME` and `${HOME}` expand to the home directory; other expansions are unknown.
    A glob keeps its fixed directory part: `/etc/*` → `/etc/*` (the caller decides).
    """
    if word == "~" or word.startswith("~/"):
        word = ctx.home + word[1:]
    elif word.startswith(("$HOME", "${HOME}")):
        rest = word[5:] if word.startswith("$HOME") else word[7:]
        if rest and not rest.startswith("/"):
            return None
        word = ctx.home + rest
    if "$" in word or "`" in word or word.startswith("~"):
        return None
    if not word.startswith("/"):
        if ctx.cwd is None:
            return None
        word = os.path.join(ctx.cwd, word)
    return os.path.normpath(word).replace("//", "/")


_BRACE = re.compile(r"\{([^{}]*)\}")
MAX_BRACE_WORDS = 64


def brace_expand(word: str) -> list[str]:
    """Bash brace expansion of `{a,b}` and `{1..3}` alternatives, as the shell does before `rm`
    sees its arguments. An approximation (nested braces may yield extra words, never fewer
    paths) capped at MAX_BRACE_WORDS words."""
    words = [word]
    for _ in range(MAX_BRACE_WORDS):
        expanded: list[str] = []
        changed = False
        for current in words:
            match = next((m for m in _BRACE.finditer(current)
                          if "," in m.group(1) or ".." in m.group(1)), None)
            if match is None:
                expanded.append(current)
                continue
            changed = True
            body = match.group(1)
            if "," in body:
                options = body.split(",")
            else:
                start, _, end = body.partition("..")
                if not (start.lstrip("-").isdigit() and end.lstrip("-").isdigit()):
                    expanded.append(current)  # `{a..b}` letters: left as written
                    continue
                first, last = int(start), int(end)
                step = 1 if last >= first else -1
                options = [str(n) for n in range(first, last + step, step)[:MAX_BRACE_WORDS]]
            expanded.extend(current[:match.start()] + option + current[match.end():]
                            for option in options)
        words = expanded[:MAX_BRACE_WORDS]
        if not changed:
            break
    return words


def _glob_base(path: str) -> str:
    """The directory a glob enumerates: `/etc/*.conf` → `/etc`, `/*` → `/`."""
    match = _GLOB.search(path)
    if match is None:
        return path
    return os.path.dirname(path[:match.start()]) or "/"


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def is_critical_path(path: str, ctx: Context) -> bool:
    """`/`, a top-level system directory (or a direct child of one), the home directory, or an
    ancestor of the workspace: losing it destroys the system or the user's work."""
    if path == "/" or path in SYSTEM_TOP_DIRS or path == ctx.home:
        return True
    if os.path.dirname(path) in SYSTEM_TOP_DIRS and os.path.dirname(path) not in ("/home",
                                                                                  "/mnt", "/srv",
                                                                                  "/opt"):
        return True
    return _is_within(ctx.workspace, path) and path != ctx.workspace


def is_shell_rc(path: str, ctx: Context) -> bool:
    """A shell start-up file: writing it plants code into every future shell."""
    name = os.path.basename(path)
    parent = os.path.dirname(path)
    if name in SHELL_RC_NAMES and (parent == ctx.home or parent.startswith("/etc")
                                   or parent == "/root"):
        return True
    if path.endswith("/.config/fish/config.fish") or _is_within(path, "/etc/profile.d"):
        return True
    return path in ("/etc/profile", "/etc/bash.bashrc", "/etc/zshrc", "/etc/zsh/zshrc",
                    "/etc/environment")


def is_device(path: str) -> bool:
    """A device node other than the harmless ones (/dev/null, ttys …)."""
    return path.startswith("/dev/") and not _HARMLESS_DEVICES.match(path)


def write_target_danger(word: str, ctx: Context, argv: Sequence[str]) -> RuleMatch | None:
    """The forbidden match when a file the command writes is a shell rc file or a device."""
    expansions = brace_expand(word)
    if len(expansions) > 1:
        return next((m for w in expansions if (m := write_target_danger(w, ctx, argv))), None)
    path = resolve_path(word, ctx)
    if path is None:
        return None
    if is_shell_rc(path, ctx):
        return builtin_match("shell-rc-write", Decision.FORBIDDEN,
                             f"writes to the shell start-up file {word}; edit it yourself if "
                             "you really want this", argv)
    if is_device(path):
        return builtin_match("device-write", Decision.FORBIDDEN,
                             f"writes raw data to the device {word}", argv)
    return None


def _split_options(args: Sequence[str]) -> tuple[list[str], list[str]]:
    options: list[str] = []
    operands: list[str] = []
    end = False
    for arg in args:
        if end or not arg.startswith("-") or arg == "-":
            operands.append(arg)
        elif arg == "--":
            end = True
        else:
            options.append(arg)
    return options, operands


def _has_short(options: Sequence[str], letters: str, *long_names: str) -> bool:
    for opt in options:
        if opt in long_names:
            return True
        if not opt.startswith("--") and set(letters) & set(opt[1:]):
            return True
    return False


def _rm(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    options, targets = _split_options(argv[1:])
    if "--no-preserve-root" in options:
        return [builtin_match("rm-no-preserve-root", Decision.FORBIDDEN,
                              "rm --no-preserve-root can delete the whole system", argv)]
    recursive = _has_short(options, "rR", "--recursive")
    found: list[RuleMatch] = []
    for target in (word for t in targets for word in brace_expand(t)):
        path = resolve_path(target, ctx)
        if path is None:
            if recursive:
                found.append(builtin_match(
                    "rm-unknown-target", Decision.PROMPT,
                    f"cannot tell statically what `rm -r {target}` deletes", argv))
            continue
        base = _glob_base(path)
        if recursive and (is_critical_path(path, ctx) or
                          (base != path and (is_critical_path(base, ctx) or base == "/"))):
            found.append(builtin_match(
                "rm-critical", Decision.FORBIDDEN,
                f"`rm -r {target}` would delete {base if base != path else path}, which holds "
                "the system, your home directory or the workspace itself", argv))
        elif not _is_within(base if base != path else path, ctx.workspace):
            found.append(builtin_match(
                "rm-outside-workspace", Decision.PROMPT,
                f"deletes {path} outside the workspace {ctx.workspace}", argv))
        elif recursive and path in (ctx.workspace, ctx.workspace.rstrip("/") + "/*"):
            found.append(builtin_match("rm-workspace", Decision.PROMPT,
                                       "deletes the whole workspace", argv))
    return found


def _chmod_chown(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    options, operands = _split_options(argv[1:])
    name = program_name(argv[0])
    found: list[RuleMatch] = []
    if name == "chmod" and operands and re.search(r"[ug]?\+[rwx]*s|^[0-7]?[4-7][0-7]{3}$",
                                                  operands[0]):
        found.append(builtin_match("chmod-setuid", Decision.PROMPT,
                                   "sets a setuid/setgid bit", argv))
    if not _has_short(options, "R", "--recursive"):
        return found
    for target in (word for t in operands[1:] for word in brace_expand(t)):
        path = resolve_path(target, ctx)
        if path is not None and (is_critical_path(_glob_base(path), ctx)
                                 or is_critical_path(path, ctx)):
            found.append(builtin_match(
                f"{name}-recursive-system", Decision.FORBIDDEN,
                f"`{name} -R` on {target} changes ownership or permissions of system or home "
                "files", argv))
    return found


def _dd(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    found = []
    for arg in argv[1:]:
        if arg.startswith("of="):
            path = resolve_path(arg[3:], ctx)
            if path is not None and is_device(path):
                found.append(builtin_match("dd-device", Decision.FORBIDDEN,
                                           f"dd writes raw data to the device {arg[3:]}", argv))
            elif danger := write_target_danger(arg[3:], ctx, argv):
                found.append(danger)
    return found


def _git(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    sub, rest, _ = git_subcommand(argv[1:])
    options, operands = _split_options(rest)
    if sub == "push":
        if _has_short(options, "f", "--force", "--force-with-lease", "--force-if-includes",
                      "--mirror", "--delete", "--prune") or any(
                o.startswith(("--force-with-lease=", "--force-if-includes=")) for o in options
        ) or any(op.startswith("+") for op in operands[1:]):
            return [builtin_match("git-push-force", Decision.PROMPT,
                                  "force-pushing rewrites or deletes history on the remote",
                                  argv)]
        if "-d" in options or any(op.startswith(":") for op in operands[1:]):
            return [builtin_match("git-push-force", Decision.PROMPT,
                                  "deletes a branch on the remote", argv)]
    elif sub == "reset" and "--hard" in options:
        return [builtin_match("git-reset-hard", Decision.PROMPT,
                              "git reset --hard discards uncommitted changes", argv)]
    elif sub == "clean" and _has_short(options, "f", "--force") and _has_short(options, "dxX"):
        return [builtin_match("git-clean-force", Decision.PROMPT,
                              "git clean -f with -d/-x deletes untracked and ignored files",
                              argv)]
    elif sub in ("filter-branch", "filter-repo"):
        return [builtin_match("git-rewrite-history", Decision.PROMPT,
                              f"git {sub} rewrites the whole history", argv)]
    elif sub in ("checkout", "restore") and (_has_short(options, "f", "--force") or "." in
                                             operands):
        return [builtin_match("git-discard", Decision.PROMPT,
                              f"git {sub} can discard uncommitted changes", argv)]
    return []


def _file_writers(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    """Programs whose operands name files they write: tee, cp/mv/install/ln, sed -i, touch."""
    name = program_name(argv[0])
    options, operands = _split_options(argv[1:])
    if name in ("tee", "truncate", "touch"):
        written = operands
    elif name in ("cp", "mv", "install", "ln", "rsync"):
        written = operands[-1:] if len(operands) >= 2 else []
    elif name == "sed" and _has_short(options, "i", "--in-place"):
        written = operands[1:]
    elif name in ("curl", "wget"):
        written = _option_values(argv[1:], ("-o", "--output") if name == "curl"
                                 else ("-O", "--output-document"))
    else:
        return []
    return [m for w in written if (m := write_target_danger(w, ctx, argv)) is not None]


def _option_values(args: Sequence[str], names: tuple[str, ...]) -> list[str]:
    """Values of an option given as `-o VALUE`, `--output VALUE` or `--output=VALUE`."""
    values = []
    for index, arg in enumerate(args):
        if arg in names and index + 1 < len(args):
            values.append(args[index + 1])
        elif arg.startswith("--") and arg.split("=", 1)[0] in names and "=" in arg:
            values.append(arg.split("=", 1)[1])
    return values


def _find(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    """Judge the commands `find -exec/-execdir/-ok` would run like any other command."""
    found: list[RuleMatch] = []
    args = list(argv[1:])
    for index, arg in enumerate(args):
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            payload: list[str] = []
            for word in args[index + 1:]:
                if word in (";", "+"):
                    break
                payload.append(word)
            found.extend(dangerous(payload, ctx))
    return found


def _kill(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    _, operands = _split_options(argv[1:])
    raw = [a for a in argv[1:] if a.lstrip("-").isdigit()]
    if "-1" in operands or "1" in operands or (raw and raw[-1] == "-1"):
        return [builtin_match("kill-all", Decision.FORBIDDEN,
                              "signals every process (or init)", argv)]
    return []


def _always(name: str, decision: Decision, why: str) -> Callable[[Sequence[str], Context],
                                                                 list[RuleMatch]]:
    def rule(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
        return [builtin_match(name, decision, why.format(prog=program_name(argv[0])), argv)]
    return rule


_DANGEROUS: dict[str, Callable[[Sequence[str], Context], list[RuleMatch]]] = {
    "rm": _rm, "chmod": _chmod_chown, "chown": _chmod_chown, "chgrp": _chmod_chown,
    "dd": _dd, "git": _git, "kill": _kill, "find": _find,
    "crontab": _always("crontab", Decision.PROMPT,
                       "crontab schedules commands that run outside codex"),
}
for _name in _PRIVILEGE:
    _DANGEROUS[_name] = _always("privilege-escalation", Decision.FORBIDDEN,
                                "`{prog}` runs commands as another user; codex never escalates "
                                "privileges (run it yourself outside codex)")
for _name in _FORMATTERS:
    _DANGEROUS[_name] = _always("disk-format", Decision.FORBIDDEN,
                                "`{prog}` formats or repartitions disks")
for _name in _POWER:
    _DANGEROUS[_name] = _always("power", Decision.FORBIDDEN,
                                "`{prog}` shuts the machine down")


def dangerous(argv: Sequence[str], ctx: Context) -> list[RuleMatch]:
    """Every built-in prompt/forbidden rule that matches `argv` (empty when none)."""
    if not argv:
        return []
    name = program_name(argv[0])
    found: list[RuleMatch] = []
    if name.startswith("mkfs"):
        found.append(builtin_match("disk-format", Decision.FORBIDDEN,
                                   f"`{name}` formats a filesystem", argv))
    rule = _DANGEROUS.get(name)
    if rule is not None:
        found.extend(rule(argv, ctx))
    found.extend(_file_writers(argv, ctx))
    return found


DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c", "http", "https", "xh"})
INTERPRETERS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3",
                          "perl", "ruby", "node", "php", "source", ".", "eval", "sudo"})


def is_interpreter(word: str) -> bool:
    """A shell or scripting language that would run its input as code."""
    name = program_name(word)
    return name in INTERPRETERS or bool(re.match(r"^python\d(\.\d+)?$", name))


def downloader(word: str) -> bool:
    """A program that fetches data from the network."""
    return program_name(word) in DOWNLOADERS
