"""Split a shell script into simple commands with tree-sitter-bash, and report what is not simple.

The exec policy can only vouch for a command when it knows every program that will run and every
file the shell itself will write. tree-sitter-bash (the grammar the Codex CLI parses `bash -lc`
scripts with; MIT, like the tree-sitter runtime) gives us a concrete syntax tree; this module
walks it and keeps two things: the simple commands (argv words after quote removal, their
redirects and pipeline position) and `problems`, one sentence per construct whose effect cannot
be known without running it (substitutions, subshells, functions, loops, background jobs,
complex expansions, parse failures). A problem forces at least `prompt`; the commands found inside
such constructs are still returned so the dangerous-command rules can see them.

tree-sitter recovers from syntax errors instead of failing, so any ERROR or MISSING node makes the
whole script a parse failure: half a tree must never be judged. Two quirks of the grammar are
undone here so the argv is what bash would run: words after a redirect target (`rm 2>/dev/null
-rf /`) are arguments of the command, and a redirect after a pipeline (`a | b > out`) belongs to
its last stage.

The native modules load on the first script that has to be parsed; a plain argv never pays.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

MAX_SCRIPT_CHARS = 64 * 1024
"""Longer scripts are not parsed at all (the tree walk is recursive)."""

_PLAIN_PARAMETER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]|[@*#?$!-])$")
_HARMLESS_WRITE_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "command_substitution",
                         "process_substitution", "arithmetic_expansion"})
_COMPOUND_KEYWORDS = frozenset({"if_statement", "for_statement", "c_style_for_statement",
                                "while_statement", "case_statement"})
_WORD_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_BLANK = re.compile(r"[ \t\n]")
_DOUBLE_QUOTE_ESCAPE = re.compile(r'\\([$`"\\\n])')


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
    try:
        source = script.encode("utf-8")
    except UnicodeEncodeError:
        return ParsedScript((), ("script is not valid UTF-8 text",))
    if _crashes_the_grammar(script):
        return ParsedScript((), ("a `{` followed by a character outside the Basic Multilingual "
                                 "Plane cannot be analysed safely",))
    root = _parser().parse(source).root_node
    if root.has_error:
        return ParsedScript((), (f"could not parse the script ({_first_error(root)})",))
    if (skipped := _misread_text(root, source)) is not None:
        return ParsedScript((), (f"could not parse the script ({skipped})",))
    walker = _Walker()
    try:
        walker.statements(root, parent=None)
    except RecursionError:
        return ParsedScript((), ("script nests too deeply to analyse",))
    except Exception as exc:  # a tree shape we did not foresee: fail closed
        return ParsedScript((), (f"could not analyse the script ({type(exc).__name__})",))
    return ParsedScript(
        tuple(walker.commands), tuple(dict.fromkeys(walker.problems)),
        tuple(dict.fromkeys(walker.recursive_functions)),
    )


def _crashes_the_grammar(script: str) -> bool:
    """tree-sitter-bash 0.25 reads out of bounds (SIGSEGV) on `{` then a 4-byte UTF-8 character.

    Upstream: tree-sitter/tree-sitter-bash#337, open; our fuzz tests found it too. Every 4-byte
    UTF-8 character is above U+FFFF, so such scripts are refused before they reach the parser.
    """
    brace = script.find("{")
    return brace >= 0 and any(ord(char) > 0xFFFF for char in script[brace:])


@functools.cache
def _parser() -> Parser:
    """The bash parser, built once (deferred, see the module docstring)."""
    import tree_sitter
    import tree_sitter_bash

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))


def _first_error(root: Node) -> str:
    """Name the first syntax error by line and column, for the justification."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            line, column = node.start_point
            what = f"missing `{node.type}`" if node.is_missing else "syntax error"
            return f"{what} at line {line + 1}, column {column + 1}"
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return "syntax error"


_METACHARACTERS = frozenset(b" \t\n|&;()<>")
_QUOTED = frozenset({"string", "translated_string", "heredoc_body"})
"""Text inside these is not split into words, so gaps between their children do not matter."""


def _misread_text(root: Node, source: bytes) -> str | None:
    """Where the grammar tokenizes differently from bash, say where; else None.

    Between the tokens the grammar produced, bash would see only blanks, and no unquoted word
    holds a blank. Cases found by differential fuzzing against bash's own grammar (bashlex):
    text the grammar skipped (`\\ rm` loses its escaped blank), a redirect target swallowing
    the next word (`<&[ [ls`), and a backslash-newline inside a word, which bash removes to
    join the halves (`r\\<newline>m` is `rm`) while the grammar splits them.
    """
    position = 0
    cursor = root.walk()
    gaps: list[tuple[int, int]] = []
    while True:
        node = cursor.node
        opaque = node is not None and node.type in _QUOTED
        if node is not None and (opaque or node.child_count == 0):
            if node.type == "word" and _BLANK.search(_WORD_ESCAPE.sub("", _text(node))):
                return f"a word with a blank in it at byte {node.start_byte}"
            if node.start_byte > position:
                gaps.append((position, node.start_byte))
            position = max(position, node.end_byte)
        if (not opaque and cursor.goto_first_child()) or cursor.goto_next_sibling():
            continue
        while cursor.goto_parent():
            if cursor.goto_next_sibling():
                break
        else:
            break
    gaps.append((position, len(source)))
    for start, end in gaps:
        gap = source[start:end]
        if gap.replace(b"\\\n", b"").strip(b" \t\r\n"):
            return f"unexpected text at byte {start}"
        at = gap.find(b"\\\n")
        while at >= 0:
            before = source[start + at - 1] if start + at > 0 else 0x20
            after = source[start + at + 2] if start + at + 2 < len(source) else 0x20
            if before not in _METACHARACTERS and after not in _METACHARACTERS:
                return f"a line continuation inside a word at byte {start + at}"
            at = gap.find(b"\\\n", at + 2)
    return None


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _unescape_word(text: str) -> str:
    """Quote removal for an unquoted word: `\\x` is `x`, a backslash-newline vanishes."""
    return _WORD_ESCAPE.sub(lambda m: "" if m[1] == "\n" else m[1], text)


def _unescape_double_quoted(text: str) -> str:
    """Inside "…", a backslash only escapes $ ` " \\ and newline."""
    return _DOUBLE_QUOTE_ESCAPE.sub(lambda m: "" if m[1] == "\n" else m[1], text)


@dataclass
class _Walker:
    """Collects simple commands and problems from tree-sitter-bash nodes."""

    commands: list[SimpleCommand] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    recursive_functions: list[str] = field(default_factory=list)
    _pipelines: int = 0

    # --- statements ---------------------------------------------------------------------------

    def statements(self, node: Node, *, parent: int | None,
                   redirects: tuple[Node, ...] = ()) -> None:
        """A sequence of statements (program, group, loop body …): `&` marks a background job.

        `redirects` written after an `a && b` list belong, as in bash, to its last command.
        """
        named = [c for c in node.children if c.is_named and c.type != "comment"]
        for child in node.children:
            if child.type == "&":
                self.problems.append("runs a job in the background (&)")
            elif child.is_named and child.type != "comment":
                self.visit(child, parent=parent,
                           redirects=redirects if child == named[-1] else ())

    def visit(self, node: Node, *, parent: int | None, pipeline: int | None = None,
              stage: int = 0, redirects: tuple[Node, ...] = ()) -> None:
        kind = node.type
        if kind == "command":
            self._command(node, parent=parent, pipeline=pipeline, stage=stage,
                          redirects=redirects)
            return
        if kind == "redirected_statement":
            self._redirected(node, parent=parent, pipeline=pipeline, stage=stage)
            return
        if kind == "pipeline":
            self._pipeline(node, parent=parent, redirects=redirects)
            return
        if kind in ("list", "negated_command"):
            self.statements(node, parent=parent, redirects=redirects)
            return
        if redirects:  # what remains is compound: the redirect applies to all of it
            self.problems.append("redirect on a compound command")
            self._bare_redirects(redirects, parent=parent, pipeline=pipeline, stage=stage)
        if kind in ("do_group", "else_clause", "elif_clause", "case_item"):
            self.statements(node, parent=parent)
        elif kind == "subshell":
            self.problems.append("subshell ( … )")
            self.statements(node, parent=parent)
        elif kind == "compound_statement":
            self.problems.append("command group { … }")
            self.statements(node, parent=parent)
        elif kind in _COMPOUND_KEYWORDS:
            self.problems.append(f"`{node.children[0].type}` statement")
            self._compound_parts(node, parent=parent)
        elif kind == "function_definition":
            self._function(node, parent=parent)
        elif kind == "test_command":
            self._test_command(node, parent=parent, pipeline=pipeline, stage=stage)
        elif kind in ("declaration_command", "unset_command"):
            self._declaration(node, parent=parent, pipeline=pipeline, stage=stage)
        elif kind == "variable_assignment" or kind == "variable_assignments":
            self._assignments_only(node, parent=parent)
        elif kind == "comment":
            return
        else:
            self.problems.append(f"unsupported shell construct ({kind})")
            self._compound_parts(node, parent=parent)

    def _compound_parts(self, node: Node, *, parent: int | None) -> None:
        """Inside a loop or condition: statements are visited, words searched for substitutions."""
        for child in node.children:
            if not child.is_named or child.type in ("variable_name", "comment"):
                continue
            if child.type in _STATEMENTS:
                self.visit(child, parent=parent)
            else:
                self._word(child, owner=parent)

    def _pipeline(self, node: Node, *, parent: int | None,
                  redirects: tuple[Node, ...] = ()) -> None:
        self._pipelines += 1
        pipeline = self._pipelines
        stages = [c for c in node.children if c.is_named and c.type != "comment"]
        stage = 0
        for child in node.children:
            if child.type in ("|", "|&"):
                if child.type == "|&":
                    self.problems.append("pipes stderr with |&")
                stage += 1
            elif child.is_named and child.type != "comment":
                last = child == stages[-1]
                self.visit(child, parent=parent, pipeline=pipeline, stage=stage,
                           redirects=redirects if last else ())

    def _redirected(self, node: Node, *, parent: int | None, pipeline: int | None,
                    stage: int) -> None:
        body = node.child_by_field_name("body")
        redirects = tuple(node.children_by_field_name("redirect"))
        if body is None:  # `> file` alone truncates the file
            self._bare_redirects(redirects, parent=parent, pipeline=pipeline, stage=stage)
        else:  # the grammar hangs `a | b > out` on the pipeline; bash binds it to b
            self.visit(body, parent=parent, pipeline=pipeline, stage=stage, redirects=redirects)

    def _bare_redirects(self, redirects: tuple[Node, ...], *, parent: int | None,
                        pipeline: int | None, stage: int) -> None:
        """Redirects with no command of their own, kept as a command with an empty argv."""
        index = self._reserve()
        extra: list[Node] = []
        found = tuple(self._redirect(r, owner=index, extra_words=extra) for r in redirects)
        if extra:
            self.problems.append("words after a redirect with no command")
        self._store(index, SimpleCommand((), redirects=found), parent=parent,
                    pipeline=pipeline, stage=stage)

    def _function(self, node: Node, *, parent: int | None) -> None:
        name_node = node.child_by_field_name("name")
        name = _text(name_node) if name_node is not None else ""
        self.problems.append(f"defines a shell function `{name}`")
        before = len(self.commands)
        body = node.child_by_field_name("body")
        if body is not None:
            self.visit(body, parent=parent)
        if any(cmd.argv and cmd.argv[0] == name for cmd in self.commands[before:]):
            self.recursive_functions.append(name)

    # --- simple commands ----------------------------------------------------------------------

    def _reserve(self) -> int:
        """Take a slot first so substitutions inside our words can name us as their parent."""
        self.commands.append(SimpleCommand(()))
        return len(self.commands) - 1

    def _store(self, index: int, command: SimpleCommand, *, parent: int | None,
               pipeline: int | None, stage: int) -> None:
        if pipeline is None:
            self._pipelines += 1
            pipeline = self._pipelines
        self.commands[index] = SimpleCommand(
            argv=command.argv, redirects=command.redirects, assignments=command.assignments,
            dynamic=command.dynamic, pipeline=pipeline, stage=stage, parent=parent)

    def _command(self, node: Node, *, parent: int | None, pipeline: int | None, stage: int,
                 redirects: tuple[Node, ...]) -> None:
        index = self._reserve()
        words: list[str] = []
        dynamic: set[int] = set()
        assignments: list[str] = []
        found: list[Redirect] = []
        extra: list[Node] = []
        for child in node.children:
            if not child.is_named or child.type == "comment":
                continue
            if child.type == "variable_assignment":
                assignments.append(self._assignment(child, owner=index)[0])
            elif child.type in _REDIRECTS:
                found.append(self._redirect(child, owner=index, extra_words=extra))
            else:
                word = child.named_children[0] if child.type == "command_name" else child
                self._append_word(word, words, dynamic, owner=index)
        for redirect in redirects:
            found.append(self._redirect(redirect, owner=index, extra_words=extra))
        for word_node in extra:
            self._append_word(word_node, words, dynamic, owner=index)
        if words and 0 in dynamic and not words[0].startswith("~"):
            self.problems.append(f"the program name `{words[0]}` is computed at run time")
        if assignments:
            self.problems.append("sets shell or environment variables ("
                                 + ", ".join(a.split("=", 1)[0] for a in assignments) + ")")
        self._store(index, SimpleCommand(tuple(words), tuple(found), tuple(assignments),
                                         frozenset(dynamic)),
                    parent=parent, pipeline=pipeline, stage=stage)

    def _append_word(self, node: Node, words: list[str], dynamic: set[int], *,
                     owner: int) -> None:
        value, is_dynamic = self._word(node, owner=owner)
        if is_dynamic:
            dynamic.add(len(words))
        words.append(value)

    def _test_command(self, node: Node, *, parent: int | None, pipeline: int | None,
                      stage: int) -> None:
        """`[ -d src ]` is the program `[` with its words; `[[ … ]]` keeps its brackets too."""
        index = self._reserve()
        words: list[str] = []
        dynamic: set[int] = set()
        if not _test_is_plain(node):
            self.problems.append("a `[` test the grammar reads differently from bash")

        def flatten(part: Node) -> None:
            if not part.is_named or part.type == "test_operator":
                words.append(_text(part))
            elif part.type in ("unary_expression", "binary_expression",
                               "parenthesized_expression", "negated_expression"):
                for child in part.children:
                    flatten(child)
            else:
                self._append_word(part, words, dynamic, owner=index)

        for child in node.children:
            flatten(child)
        self._store(index, SimpleCommand(tuple(words), dynamic=frozenset(dynamic)),
                    parent=parent, pipeline=pipeline, stage=stage)

    def _declaration(self, node: Node, *, parent: int | None, pipeline: int | None,
                     stage: int) -> None:
        """`export A=1 B`, `local x`, `unset y`: the keyword and its words, as bash runs them."""
        index = self._reserve()
        words: list[str] = []
        dynamic: set[int] = set()
        for child in node.children:
            if child.type == "variable_assignment":
                value, is_dynamic = self._assignment(child, owner=index)
                if is_dynamic:
                    dynamic.add(len(words))
                words.append(value)
            elif not child.is_named or child.type == "variable_name":
                words.append(_text(child))
            elif child.type != "comment":
                self._append_word(child, words, dynamic, owner=index)
        self._store(index, SimpleCommand(tuple(words), dynamic=frozenset(dynamic)),
                    parent=parent, pipeline=pipeline, stage=stage)

    def _assignments_only(self, node: Node, *, parent: int | None) -> None:
        """`A=1` alone sets a shell variable: a command with no argv but an assignment."""
        parts = node.named_children if node.type == "variable_assignments" else [node]
        index = self._reserve()
        assignments = tuple(self._assignment(p, owner=index)[0] for p in parts
                            if p.type == "variable_assignment")
        self.problems.append("sets shell or environment variables ("
                             + ", ".join(a.split("=", 1)[0] for a in assignments) + ")")
        self._store(index, SimpleCommand((), assignments=assignments), parent=parent,
                    pipeline=None, stage=0)

    def _assignment(self, node: Node, *, owner: int | None) -> tuple[str, bool]:
        """`NAME=value` (or `NAME+=value`) with the value's quotes removed."""
        value_node = node.child_by_field_name("value")
        if value_node is None:
            return _text(node), False
        prefix = _text(node)[: value_node.start_byte - node.start_byte]
        value, dynamic = self._word(value_node, owner=owner)
        return prefix + value, dynamic

    def _redirect(self, node: Node, *, owner: int, extra_words: list[Node]) -> Redirect:
        if node.type == "heredoc_redirect":
            op = next((c.type for c in node.children if c.type in ("<<", "<<-")), "<<")
            body = next((c for c in node.children if c.type == "heredoc_body"), None)
            if body is not None and _has_expansion(body):
                self.problems.append("here-document with expansions")
                self._word(body, owner=owner)
            return Redirect(op, None)
        if node.type == "herestring_redirect":
            word = node.named_children[-1] if node.named_children else None
            if word is None:
                return Redirect("<<<", None)
            value, dynamic = self._word(word, owner=owner)
            return Redirect("<<<", value, dynamic=dynamic)
        op = next((c.type for c in node.children if not c.is_named), "")
        destinations = node.children_by_field_name("destination")
        extra_words.extend(destinations[1:])  # `cmd 2>/dev/null -la`: -la is cmd's argument
        if op in (">&-", "<&-"):  # closes a descriptor
            return Redirect(op[:2], None)
        if not destinations:
            return Redirect(op, None)
        target = destinations[0]
        if target.start_point[0] != node.start_point[0]:  # bash: syntax error at the newline
            self.problems.append(f"redirect `{op}` without a target on its line")
        if op in (">&", "<&") and _text(target).isdigit():
            return Redirect(op, int(_text(target)))
        value, dynamic = self._word(target, owner=owner)
        redirect = Redirect(op, value, dynamic=dynamic)
        if value.startswith(("/dev/tcp/", "/dev/udp/")):
            self.problems.append(f"opens a network connection through `{value}`")
        if redirect.writes_file:
            self.problems.append(f"writes to `{value}` through a redirect")
        return redirect

    # --- words --------------------------------------------------------------------------------

    def _word(self, node: Node, *, owner: int | None) -> tuple[str, bool]:
        """A word's value after quote removal (expansions as written) and whether it is dynamic.

        Every expansion inside records its problem, and every substitution's commands are
        collected with `owner` as their parent.
        """
        kind = node.type
        if kind == "word":
            raw = _text(node)
            return _unescape_word(raw), raw.startswith("~")
        if kind == "raw_string":
            return _text(node)[1:-1], False
        if kind in ("string", "translated_string"):
            return self._double_quoted(node, owner=owner)
        if kind == "concatenation":
            parts = [self._word(c, owner=owner) for c in node.children]
            first = node.children[0] if node.children else None
            tilde = first is not None and first.type == "word" and _text(first).startswith("~")
            return "".join(p[0] for p in parts), tilde or any(p[1] for p in parts)
        if kind == "ansi_c_string":  # $'\x72m': decoded only by bash itself
            return _text(node), True
        if kind in _EXPANSIONS:
            self._expansion(node, owner=owner)
            return _text(node), True
        dynamic = False
        for child in node.named_children:
            dynamic = self._word(child, owner=owner)[1] or dynamic
        return _text(node), dynamic

    def _double_quoted(self, node: Node, *, owner: int | None) -> tuple[str, bool]:
        pieces: list[str] = []
        dynamic = False
        for child in node.children:
            if child.type == "string_content":
                pieces.append(_unescape_double_quoted(_text(child)))
            elif child.is_named:
                value, child_dynamic = self._word(child, owner=owner)
                pieces.append(value)
                dynamic = dynamic or child_dynamic
        return "".join(pieces), dynamic

    def _expansion(self, node: Node, *, owner: int | None) -> None:
        kind = node.type
        if kind in ("command_substitution", "process_substitution"):
            self.problems.append("command substitution $( … )" if kind == "command_substitution"
                                 else "process substitution <( … )")
            self.statements(node, parent=owner)
            return
        if kind == "expansion":
            inner = _text(node)[2:-1]
            if not _PLAIN_PARAMETER.match(inner):
                self.problems.append(f"parameter expansion ${{{inner}}}")
        elif kind == "arithmetic_expansion":
            self.problems.append("arithmetic expansion $(( … ))")
        for child in node.named_children:
            self._word(child, owner=owner)


_STATEMENTS = frozenset({
    "command", "redirected_statement", "pipeline", "list", "negated_command", "subshell",
    "compound_statement", "function_definition", "test_command", "declaration_command",
    "unset_command", "variable_assignment", "variable_assignments", "do_group", "else_clause",
    "elif_clause", "case_item", *_COMPOUND_KEYWORDS})


def _has_expansion(node: Node) -> bool:
    stack = list(node.named_children)
    while stack:
        child = stack.pop()
        if child.type in _EXPANSIONS:
            return True
        stack.extend(child.named_children)
    return False


_PLAIN_TEST_TOKENS = frozenset({"[", "]", "[[", "]]", "=", "==", "!=", "!"})


def _test_is_plain(node: Node) -> bool:
    """True when bash would split `[ … ]` into the same words the grammar saw.

    The grammar lexes `[echo` as `[` + `echo` and reads `&`, `|`, `<`, `(` inside `[ … ]` as
    test operators, where bash sees a separate word, a control operator or a redirect.
    """
    text = _text(node)
    opener = "[[" if text.startswith("[[") else "["
    if text[len(opener):len(opener) + 1] not in (" ", "\t") or text[-len(opener) - 1] not in " \t":
        return False
    if opener == "[[":
        return True
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if not child.is_named and child.type not in _PLAIN_TEST_TOKENS:
            return False
        if child.type in ("unary_expression", "binary_expression", "parenthesized_expression",
                          "negated_expression"):
            stack.extend(child.children)
    return True
