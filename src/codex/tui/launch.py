"""Starting the interactive UI from an effective config (called by `codex.cli.tui_cmd`).

Builds the same `SessionSettings` `codex exec` builds, with the TUI's `ApprovalBroker` as the
approver, then runs the app until the user quits. Returns the process exit code; failures
before the session opens are one line on stderr.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import traceback

from codex.agent import LoadedRollout, SessionSettings
from codex.audit import AuditLog
from codex.config import EffectiveConfig
from codex.config.workdir import resolve_roots
from codex.tui.approval import ApprovalBroker
from codex.tui.controller import Controller
from codex.tui.history import PromptHistory


def launch(cfg: EffectiveConfig, *, prompt: str | None, resume: LoadedRollout | None,
           audit: AuditLog | None, images: tuple[str, ...] = ()) -> int:
    """Run the TUI for `cfg` (decisions recorded in `audit`; `images` go with the first
    prompt); see the module docstring."""
    from codex.model import MissingApiKeyError, ProviderConfigError, resolve_provider

    try:
        provider = resolve_provider(cfg.model_provider, cfg.model_providers)
    except MissingApiKeyError as exc:
        return _fail(str(exc), 1)
    except ProviderConfigError as exc:
        return _fail(str(exc), 2)
    broker = ApprovalBroker()
    # A resumed session keeps its model unless one was chosen for this run.
    chosen = str(resume.meta["model"]) if resume and resume.meta.get("model") and \
        cfg.sources.get("model", "default") == "default" else cfg.model
    settings = SessionSettings.from_config(
        cfg, provider=provider, provider_id=provider.id, approver=broker,
        audit=audit, model=chosen, max_turns=cfg.agent_max_turns)
    settings = dataclasses.replace(settings, originator="codex_tui")
    return asyncio.run(_main(cfg, settings, broker, prompt, resume, images))


async def _main(cfg: EffectiveConfig, settings: SessionSettings, broker: ApprovalBroker,
                prompt: str | None, resume: LoadedRollout | None,
                images: tuple[str, ...]) -> int:
    from prompt_toolkit.output.defaults import create_output

    from codex.tui.app import TuiApp
    from codex.tui.picker import pick_session
    from codex.tui.scrollback import Scrollback

    broker.loop = asyncio.get_running_loop()
    scrollback = Scrollback(create_output())
    history = PromptHistory(cfg.codex_home, persist=cfg.history.persistence == "save-all",
                            max_bytes=cfg.history.max_bytes)
    controller = Controller(
        settings, broker, scrollback, context_window=cfg.model_context_window,
        notifications=cfg.tui.notifications,
        extra_roots=resolve_roots(cfg.sandbox_workspace_write.writable_roots, cfg.cwd),
        history=history)
    controller.pick_session = pick_session
    controller.attachments = images
    app = TuiApp(controller, history)
    code = await app.run(prompt, resume)
    if app.crash is not None:
        traceback.print_exception(app.crash, file=sys.stderr)
        resume_hint = f"; continue with codex resume {history.session_id}" \
            if history.session_id else ""
        return _fail(f"the interactive UI stopped on an internal error ({type(app.crash).__name__}"
                     f": {app.crash}); the traceback above helps a bug report{resume_hint}", 1)
    if app.failure is not None:
        return _fail(app.failure, code)
    if history.session_id:
        sys.stdout.write(f"To continue this session, run codex resume {history.session_id}\n")
    return code


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"codex: {message}\n")
    return code
