"""Fixtures for the model client suite: the loopback model server and a way to run one turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from support.model_client import TurnResult, stream_turn
from support.model_server import ModelServer, model_server  # noqa: F401  (re-exported fixture)


@pytest.fixture
def run_turn(model_server: ModelServer) -> Callable[..., TurnResult]:  # noqa: F811
    """`stream_turn` bound to this test's loopback server."""

    def run(prompt: Any = None, **options: Any) -> TurnResult:
        return stream_turn(model_server, prompt, **options)

    return run
