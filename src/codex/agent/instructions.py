"""What the model is told before the conversation: who it is, the user's and the project's
AGENTS.md files, and the environment it works in.

Order (later text refines earlier text): the built-in base instructions, then
`CODEX_HOME/AGENTS.md` (the user's own rules), then the project docs from the repository root
(git toplevel, else the working directory) down to the working directory, then an
`<environment_context>` block. In each directory the first existing name of `AGENTS.md` and
`project_doc_fallback_filenames` is used; `project_doc_max_bytes` caps the project docs
together (the last one read is cut, later ones dropped; 0 turns project docs off). Secrets are
scrubbed from everything that is read, so a key pasted into an AGENTS.md never reaches the
model or the rollout.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex.audit import Scrubber

PROJECT_DOC_NAME = "AGENTS.md"

BASE_INSTRUCTIONS = """\
You are codex, a coding agent working in the user's terminal on the user's machine. You help \
with software tasks in the working directory: read code, run commands, edit files, and report \
clearly what you did.

How to work:
- Be precise and safe. Inspect before you change; keep edits small and focused on the task; \
match the existing style of the code.
- When a task has several steps, keep a plan with the update_plan tool (one step in_progress at \
a time) and mark steps completed as you go.
- Finish the task when you can. When you are done, answer with a short summary of what changed \
and how you checked it. Do not call tools after the task is done.

Tools:
- shell: runs a command given as an argv array, e.g. ["bash", "-lc", "ls -la"], in `workdir` \
(default: the working directory) with `timeout_ms`. You get the exit code and the output (long \
output is cut in the middle). Prefer fast search tools such as `rg`.
- apply_patch: the only way to create, change or delete files. A patch looks like:
    *** Begin Patch
    *** Add File: path/new.txt
    +first line
    *** Update File: path/existing.py
    @@ def some_function():
     context line
    -old line
    +new line
    *** Delete File: path/obsolete.txt
    *** End Patch
  Paths are relative to the working directory. An update can rename with `*** Move to: path` \
right after its header. Give about three lines of context around each change, with `@@ <line>` \
headers to locate a hunk in a long file; `*** End of File` marks a hunk that ends the file. \
A patch is applied all or nothing: if one file fails, no file changes, and the answer says why.
- update_plan: your checklist for the task (steps with status pending, in_progress or completed).

Sandbox and approvals:
- Commands run in a sandbox set by the security profile in the environment context. Under \
offline and net-read-only nothing can be written and the network is off or read-only; under \
workspace-write only the workspace (and a private temporary directory) is writable; \
workspace-net adds the network; trusted is not confined.
- Some commands are forbidden by policy and some need the user's approval, as the approval \
policy says. A refused command comes back with the reason: do not try to get around it with \
another command; choose a different approach or explain what the user needs to do.
- If a command needs more than the sandbox allows and it is essential, you may ask for it to \
run outside the sandbox with sandbox_permissions "require_escalated" and a one-sentence \
justification; the user decides.
- Never print, copy or send secrets (API keys, tokens, passwords) you come across."""


@dataclass(frozen=True)
class ProjectDoc:
    """One instructions file that was read, and how much of it was kept."""

    path: Path
    text: str
    truncated: bool = False


@dataclass(frozen=True)
class EnvironmentContext:
    """The facts about where the agent runs that the model should know."""

    cwd: Path
    security_profile: str
    approval_policy: str
    network_access: bool
    shell: str

    def render(self) -> str:
        network = "enabled" if self.network_access else "restricted"
        return "\n".join((
            "<environment_context>",
            f"  <cwd>{self.cwd}</cwd>",
            f"  <security_profile>{self.security_profile}</security_profile>",
            f"  <approval_policy>{self.approval_policy}</approval_policy>",
            f"  <network_access>{network}</network_access>",
            f"  <shell>{self.shell}</shell>",
            "</environment_context>",
        ))


def user_shell() -> str:
    """The user's login shell name (for the model: which syntax `bash -lc` scripts use)."""
    return os.path.basename(os.environ.get("SHELL", "") or "bash")


def git_root(cwd: Path) -> Path | None:
    """The git toplevel containing `cwd` (a `.git` directory or file), else None."""
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return None


def project_root(cwd: Path) -> Path:
    """Where project docs start: the git toplevel, else `cwd` itself."""
    return git_root(cwd) or cwd


def discover_project_docs(cwd: Path, *, fallback_names: Sequence[str] = (),
                          max_bytes: int = 32 * 1024) -> list[ProjectDoc]:
    """The project docs from the repository root down to `cwd`, within `max_bytes` total."""
    if max_bytes <= 0:
        return []
    root = project_root(cwd)
    chain = [cwd, *cwd.parents]
    directories = list(reversed(chain[: chain.index(root) + 1])) if root in chain else [cwd]
    names = [PROJECT_DOC_NAME, *(n for n in fallback_names if n != PROJECT_DOC_NAME)]
    docs: list[ProjectDoc] = []
    budget = max_bytes
    for directory in directories:
        path = next((directory / n for n in names if (directory / n).is_file()), None)
        if path is None:
            continue
        data = _read_prefix(path, budget + 1)
        if data is None or not data.strip():
            continue
        truncated = len(data) > budget
        data = data[:budget]
        budget -= len(data)
        docs.append(ProjectDoc(path, data.decode("utf-8", "ignore"), truncated))
        if budget <= 0:
            break
    return docs


def read_user_doc(codex_home: Path) -> ProjectDoc | None:
    """`CODEX_HOME/AGENTS.md`, the user's rules for every project (None when absent/empty)."""
    path = codex_home / PROJECT_DOC_NAME
    data = _read_prefix(path, 1024 * 1024) if path.is_file() else None
    if not data or not data.strip():
        return None
    return ProjectDoc(path, data.decode("utf-8", "replace"))


def _read_prefix(path: Path, limit: int) -> bytes | None:
    try:
        with path.open("rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def build_instructions(*, user_doc: ProjectDoc | None, project_docs: Sequence[ProjectDoc],
                       environment: EnvironmentContext, scrubber: Scrubber) -> str:
    """The full instructions text, secrets scrubbed."""
    sections = [BASE_INSTRUCTIONS]
    if user_doc is not None:
        sections.append(f"# Instructions from the user ({user_doc.path})\n\n"
                        f"{user_doc.text.strip()}")
    for doc in project_docs:
        note = " (cut: project_doc_max_bytes reached)" if doc.truncated else ""
        sections.append(f"# Project instructions from {doc.path}{note}\n\n{doc.text.strip()}")
    sections.append(environment.render())
    return scrubber.scrub("\n\n".join(sections))


def instructions_hash(text: str) -> str:
    """A short stable fingerprint of the instructions, recorded in the rollout."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
