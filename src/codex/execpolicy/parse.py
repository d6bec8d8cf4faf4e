"""Split a shell script into simple commands with bashlex, and report what is not simple.

The exec policy can only vouch for a command when it knows every program that will run and every
file the shell itself will write. bashlex (a port of bash's own grammar) gives us the syntax tree;
this module walks it and keeps two things: the simple commands (argv words after quote removal,
their redirects and pipeline position) and `problems`, one sentence per construct whose effect
cannot be known without running it (substitutions, subshells, functions, loops, background jobs,
complex expansions, parse failures). A problem forces at least `prompt`; the commands found inside
such constructs are still returned so the dangerous-command rules can see them.

bashlex builds its LALR tables when first imported (a few hundred milliseconds), so it is imported
only when a script actually has to be parsed; a plain argv never pays for it. bashlex 0.18 loops
forever (growing memory) on a word with an unclosed `${` such as `a'b${x:-'`; `_bashlex()` guards
the one function involved so that case becomes a parse error (found by the fuzz tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

MAX_SCRIPT_CHARS = 64 * 1024
"""Longer scripts are not parsed at all (bashlex is recursive and slow on huge inputs)."""

_PLAIN_PARAMETER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]|[@*#?$!-])$")
_HARMLESS_WRITE_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})


@dataclass(frozen=True)
class Redirect:
    """A redirect the shell performs; `target` is a file word, or an fd number for `2>&1`."""

    op: str
    target: str | int | None
    dynamic: bool = False

    @property
    def writes_file(self) -> bool:
        """True when the shell opens a file (other than /dev/null & co.) for writing."""
        if self.op not in _WRITE_REDIRECTS or not isinstance(self.target, str):
            return False
        return self.target not in _HARMLESS_WRITE_TARGETS


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command: argv words (quotes removed, expansions left as written).

    `dynamic` holds the indexes of words that contain expansions (`$X`, `~`, substitutions), whose
    runtime value is unknown. `pipeline`/`stage` place the command in its pipeline (stage 0 is the
    first; a command alone is a one-stage pipeline). `parent` is the index of the command whose
    word contained the substitution this command came from (`sh -c "$(curl …)"`), else None.
    """

    argv: tuple[str, ...]
    redirects: tuple[Redirect, ...] = ()
    assignments: tuple[str, ...] = ()
    dynamic: frozenset[int] = frozenset()
    pipeline: int = 0
    stage: int = 0
    parent: int | None = None


@dataclass(frozen=True)
class ParsedScript:
    """Every simple command of a script plus the constructs that are not provably simple."""

    commands: tuple[SimpleCommand, ...]
    problems: tuple[str, ...] = ()
    recursive_functions: tuple[str, ...] = ()


def parse_script(script: str) -> ParsedScript:
    """Parse `script` as bash; never raises (a parse failure becomes a problem)."""
    if len(script) > MAX_SCRIPT_CHARS:
        return ParsedScript((), (f"script longer than {MAX_SCRIPT_CHARS} characters",))
    if "\x00" in script:
        return ParsedScript((), ("script contains a NUL byte",))
    if all(not line.strip() or line.lstrip().startswith("#") for line in script.splitlines()):
        return ParsedScript(())  # blank or comments only: nothing runs
    bashlex = _bashlex()
    try:
        trees = bashlex.parse(script)
    except (bashlex.errors.ParsingError, NotImplementedError) as exc:
        return ParsedScript((), (f"could not parse the script ({_one_line(exc)})",))
    except RecursionError:
        return ParsedScript((), ("script nests too deeply to analyse",))
    except Exception as exc:  # bashlex raises assorted internal errors on odd input
        return ParsedScript((), (f"could not parse the script ({type(exc).__name__})",))
    walker = _Walker(script)
    try:
        for tree in trees:
            walker.visit(tree, parent=None)
    except RecursionError:
        return ParsedScript((), ("script nests too deeply to analyse",))
    except Exception as exc:  # a syntax tree shape we did not foresee: fail closed
        return ParsedScript((), (f"could not analyse the script ({type(exc).__name__})",))
    return ParsedScript(
        tuple(walker.commands), tuple(dict.fromkeys(walker.problems)),
        tuple(dict.fromkeys(walker.recursive_functions)),
    )


def _bashlex() -> ModuleType:
    """Import bashlex (deferred, see the module docstring) with the `${` loop guarded."""
    import bashlex
    import bashlex.errors
    import bashlex.subst

    original = bashlex.subst._paramexpand
    if not getattr(original, "codex_guarded", False):
        def guarded(parser: Any, string: str, start: int) -> tuple[Any, int]:
            node, end = original(parser, string, start)
            if end <= start:  # no progress: the caller would loop forever
                raise bashlex.errors.ParsingError("bad substitution", string, start)
            return node, end

        guarded.codex_guarded = True  # type: ignore[attr-defined]
        bashlex.subst._paramexpand = guarded
    module: ModuleType = bashlex
    return module


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:120] or type(exc).__name__


@dataclass
class _Walker:
    """Collects simple commands and problems from bashlex nodes."""

    source: str
    commands: list[SimpleCommand] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    recursive_functions: list[str] = field(default_factory=list)
    _pipelines: int = 0

    def visit(self, node: Any, *, parent: int | None, pipeline: int | None = None,
              stage: int = 0) -> None:
        kind = getattr(node, "kind", None)
        if kind == "command":
            self._command(node, parent=parent, pipeline=pipeline, stage=stage)
        elif kind == "pipeline":
            self._pipeline(node, parent=parent)
        elif kind == "list":
            for part in node.parts:
                if getattr(part, "kind", None) == "operator":
                    if part.op == "&":
                        self.problems.append("runs a job in the background (&)")
                    continue
                self.visit(part, parent=parent)
        elif kind == "compound":
            self._compound(node, parent=parent)
        elif kind in ("if", "for", "while", "until"):
            self.problems.append(f"`{kind}` statement")
            self._children(node, parent=parent)
        elif kind == "function":
            self._function(node, parent=parent)
        elif kind == "word":
            self._word_parts(node, owner=parent)
        elif kind in ("reservedword", "operator", "pipe"):
            return
        else:
            self.problems.append(f"unsupported shell construct ({kind})")
            self._children(node, parent=parent)

    def _children(self, node: Any, *, parent: int | None) -> None:
        for child in getattr(node, "parts", None) or getattr(node, "list", None) or ():
            self.visit(child, parent=parent)

    def _pipeline(self, node: Any, *, parent: int | None) -> None:
        self._pipelines += 1
        pipeline = self._pipelines
        stage = 0
        for part in node.parts:
            part_kind = getattr(part, "kind", None)
            if part_kind == "pipe":
                if part.pipe == "|&":
                    self.problems.append("pipes stderr with |&")
                stage += 1
            elif part_kind == "reservedword":
                continue
            else:
                self.visit(part, parent=parent, pipeline=pipeline, stage=stage)

    def _compound(self, node: Any, *, parent: int | None) -> None:
        opener = next((p.word for p in node.list if getattr(p, "kind", None) == "reservedword"),
                      "")
        self.problems.append("subshell ( … )" if opener == "(" else "command group { … }")
        for part in node.list:
            self.visit(part, parent=parent)
        for redirect in getattr(node, "redirects", None) or ():
            self.problems.append("redirect on a compound command")
            self._word_parts(redirect, owner=parent)

    def _function(self, node: Any, *, parent: int | None) -> None:
        # `f() { …; }` starts with the name; `function f { …; }` with the reserved word.
        name_node = next((p for p in node.parts if getattr(p, "kind", None) == "word"), None)
        name = getattr(name_node, "word", "")
        self.problems.append(f"defines a shell function `{name}`")
        before = len(self.commands)
        for part in node.parts:
            if part is not name_node:
                self.visit(part, parent=parent)
        if any(cmd.argv and cmd.argv[0] == name for cmd in self.commands[before:]):
            self.recursive_functions.append(name)

    def _command(self, node: Any, *, parent: int | None, pipeline: int | None,
                 stage: int) -> None:
        words: list[str] = []
        dynamic: set[int] = set()
        redirects: list[Redirect] = []
        assignments: list[str] = []
        index = len(self.commands)
        # Reserve our slot first so substitutions inside our words can name us as their parent.
        self.commands.append(SimpleCommand(()))
        for part in node.parts:
            part_kind = getattr(part, "kind", None)
            if part_kind == "word":
                if self._word_parts(part, owner=index):
                    dynamic.add(len(words))
                words.append(part.word)
            elif part_kind == "assignment":
                assignments.append(part.word)
                self._word_parts(part, owner=index)
            elif part_kind == "redirect":
                redirects.append(self._redirect(part, owner=index))
            else:
                self.visit(part, parent=index)
        if pipeline is None:
            self._pipelines += 1
            pipeline = self._pipelines
        if words and 0 in dynamic and not words[0].startswith("~"):
            self.problems.append(f"the program name `{words[0]}` is computed at run time")
        if assignments:
            self.problems.append("sets shell or environment variables ("
                                 + ", ".join(a.split("=", 1)[0] for a in assignments) + ")")
        self.commands[index] = SimpleCommand(
            argv=tuple(words), redirects=tuple(redirects), assignments=tuple(assignments),
            dynamic=frozenset(dynamic), pipeline=pipeline, stage=stage, parent=parent,
        )

    def _redirect(self, node: Any, *, owner: int) -> Redirect:
        op = node.type
        output = node.output
        if op in ("<<", "<<-"):
            body = getattr(getattr(node, "heredoc", None), "value", "") or ""
            if "$" in body or "`" in body:
                self.problems.append("here-document with expansions")
            return Redirect(op, None)
        if isinstance(output, int):
            return Redirect(op, output)
        if output is None or isinstance(output, str):  # `2>&-` closes a descriptor
            return Redirect(op, None)
        dynamic = self._word_parts(output, owner=owner)
        redirect = Redirect(op, output.word, dynamic=dynamic)
        if output.word.startswith(("/dev/tcp/", "/dev/udp/")):
            self.problems.append(f"opens a network connection through `{output.word}`")
        if redirect.writes_file:
            self.problems.append(f"writes to `{output.word}` through a redirect")
        return redirect

    def _word_parts(self, node: Any, *, owner: int | None) -> bool:
        """Record problems for the expansions inside a word; True when the word is dynamic."""
        dynamic = False
        for part in getattr(node, "parts", None) or ():
            part_kind = getattr(part, "kind", None)
            dynamic = True
            if part_kind == "parameter":
                if not _PLAIN_PARAMETER.match(part.value):
                    self.problems.append(f"parameter expansion ${{{part.value}}}")
            elif part_kind == "commandsubstitution":
                self.problems.append("command substitution $( … )")
                self.visit(part.command, parent=owner)
            elif part_kind == "processsubstitution":
                self.problems.append("process substitution <( … )")
                self.visit(part.command, parent=owner)
            elif part_kind == "tilde":
                continue
            else:
                self.problems.append(f"unsupported expansion ({part_kind})")
        return dynamic
