"""What the supervisor is asked to run: one `AgentSpec` per agent, and the `Limits` of a run.

Stdlib dataclasses (the engine's own bookkeeping, never rendered directly; front ends see
`codex.protocol.AgentStateChanged`). A spec names only what differs from the base session
(the parent's, or `codex fanout`'s configuration); a child never gets a wider security
profile than its parent (`narrower_profile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from codex.policies import ApprovalPolicy
from codex.security.profiles import SecurityProfile, parse_profile

WorkspaceMode = Literal["shared", "worktree"]
WORKSPACE_MODES: tuple[WorkspaceMode, ...] = ("shared", "worktree")


@dataclass(frozen=True)
class AgentSpec:
    """One agent's task.

    `instructions`: role instructions given before the prompt. `profile`: a security profile
    name (narrowed to the parent's). `timeout_s`: running time allowed (default: the run's
    `job_max_runtime_s`). `max_turns`: model requests per task. `score_command`: argv run in
    the agent's sandbox after it finished (highest-score); `score_field`: a field of the
    agent's JSON answer to read the score from instead.
    """

    prompt: str
    name: str | None = None
    instructions: str | None = None
    model: str | None = None
    provider: str | None = None
    profile: str | None = None
    approval_policy: ApprovalPolicy | None = None
    workspace: WorkspaceMode = "shared"
    timeout_s: float | None = None
    max_turns: int | None = None
    score_command: tuple[str, ...] | None = None
    score_field: str | None = None

    def user_text(self) -> str:
        """The first message the agent's session gets."""
        if not self.instructions:
            return self.prompt
        return f"{self.instructions.strip()}\n\n{self.prompt}"


@dataclass(frozen=True)
class Limits:
    """Bounds of one supervisor run (`[agents]` in config.toml, `codex fanout` options).

    `max_parallel`: agents running at once (the others wait, queued). `max_threads`: live
    sub-agents a session may have (a spawn beyond it is refused). `max_depth`: how deep
    sub-agents may nest (1: children, no grandchildren). `max_agents`: agents in one run, all
    depths. `job_max_runtime_s`: an agent's default timeout. `deadline_s`: the whole run.
    `mailbox_size`: messages waiting for one agent; `send_wait_s`: how long a sender waits
    for room before a full mailbox is its error.
    """

    max_parallel: int = 4
    max_threads: int = 6
    max_depth: int = 1
    max_agents: int = 64
    job_max_runtime_s: float = 1800.0
    deadline_s: float | None = None
    mailbox_size: int = 16
    send_wait_s: float = 0.0


class SpecError(ValueError):
    """A spec or limit that cannot be run; the message names the field and the fix."""


def narrower_profile(requested: str | None, parent: str) -> str:
    """The profile a child runs with: `requested` when it is no wider than `parent` (no
    network the parent lacks, no writes the parent lacks, unconfined only under trusted)."""
    parent_profile = parse_profile(parent)
    if requested is None:
        return parent_profile.value
    child = parse_profile(requested)
    wider = (
        (child.network and not parent_profile.network)
        or (child.writes_workspace and not parent_profile.writes_workspace)
        or (child is SecurityProfile.TRUSTED and parent_profile is not SecurityProfile.TRUSTED)
    )
    if wider:
        raise SpecError(f"profile {child.value!r} is wider than the parent's "
                        f"{parent_profile.value!r}; a sub-agent may only narrow it")
    return child.value
