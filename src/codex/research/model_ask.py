"""The pipeline's `Ask` backed by `codex.model.ModelClient`: one request, no tools, the
assistant's message text back (every provider and wire format codex supports). Each exchange
is appended to the run's rollout (the session record), question and answer."""

from __future__ import annotations

from contextlib import aclosing

from codex.agent.rollout import RolloutWriter
from codex.model import Completed, Message, MessageItem, ModelClient, ModelError, Prompt
from codex.research.errors import ResearchError


class ModelAsk:
    """Calls the model through one open client; `requests` counts what was sent."""

    def __init__(self, client: ModelClient, model: str, rollout: RolloutWriter) -> None:
        self.client = client
        self.model = model
        self.rollout = rollout
        self.requests = 0

    async def __call__(self, instructions: str, text: str) -> str:
        self.requests += 1
        prompt = Prompt(model=self.model, instructions=instructions,
                        input=[Message(role="user", text=text)], tools=(),
                        parallel_tool_calls=False)
        try:
            async with aclosing(self.client.stream(prompt)) as events:
                async for event in events:
                    if isinstance(event, Completed):
                        answer = "\n".join(item.text for item in event.items
                                           if isinstance(item, MessageItem))
                        self.rollout.append_items([Message(role="user", text=text),
                                                   Message(role="assistant", text=answer)])
                        return answer
        except ModelError as exc:
            raise ResearchError(f"the model request failed: {exc}") from exc
        raise ResearchError("the model stream ended without a completed response")
