"""Fixtures for the interactive UI: the loopback model server and the headless harness."""

from __future__ import annotations

from support.model_server import model_server  # noqa: F401  (re-exported fixture)
