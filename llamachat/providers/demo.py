"""The demo provider: offline, keyless, clearly labelled, for first runs and screenshots.

It streams a canned Markdown reply at a realistic rate, reports usage, a cost
and a falling balance, and its ``-queued`` model walks through a simulated job
queue the way Segmind's does. Nothing here touches the network.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncGenerator
from typing import ClassVar

from llamachat.config import NetworkSettings, ProviderSettings
from llamachat.providers.base import (
    Capabilities,
    ChatRequest,
    Credits,
    Finished,
    JobQueued,
    JobStatus,
    ModelInfo,
    OptionKind,
    OptionSpec,
    ProviderEvent,
    TextDelta,
    Usage,
)
from llamachat.providers.presets import (
    DEMO_PRICE,
    DEMO_QUEUED_MODEL,
    DEMO_STREAM_MODEL,
    LABELS,
    PRESET_MODELS,
    provider_label,
)

STREAM_MODEL = DEMO_STREAM_MODEL
QUEUED_MODEL = DEMO_QUEUED_MODEL
_PRICE = DEMO_PRICE
_TOKEN = re.compile(r"\s*\S+|\s+")

_REPLY = """\
This is the **demo provider**: it runs offline and needs no key, so you can try \
llamachat before you set up a real one. You said:

> {prompt}

Here is what a real reply can hold:

1. *Markdown* with lists, tables and `inline code`;
2. fenced code blocks with syntax highlighting;
3. usage, cost and credits, shown in the status bar.

```python
def fibonacci(n: int) -> list[int]:
    \"\"\"The first n Fibonacci numbers.\"\"\"
    numbers = [0, 1]
    while len(numbers) < n:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers[:n]
```

| provider | streams | queue | credits |
|----------|---------|-------|---------|
| DeepInfra | yes | no | cost per reply |
| E2E Networks TIR | yes | no | no |
| Segmind | no | yes | yes |

To talk to Llama 3.1 for real, set `DEEPINFRA_API_KEY`, `E2E_TIR_ACCESS_TOKEN` or \
`SEGMIND_API_KEY`, or point llamachat at a local server.
"""


def _quote(prompt: str) -> str:
    text = " ".join(prompt.split()) or "(nothing)"
    return text if len(text) <= 200 else text[:199] + "…"


class DemoProvider:
    """An offline stand-in for a real provider."""

    kind: ClassVar[str] = "demo"
    label: ClassVar[str] = LABELS["demo"]
    preset_models: ClassVar[tuple[ModelInfo, ...]] = PRESET_MODELS["demo"]
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "tokens_per_second",
            "Tokens per second",
            OptionKind.FLOAT,
            "How fast the canned reply streams.",
            default=120.0,
        ),
    )

    def __init__(self, settings: ProviderSettings, network: NetworkSettings | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self.display_name = provider_label(settings.name, settings.kind, settings.display_name)
        self.capabilities = Capabilities(
            streams=True, queued=True, reports_credits=True, reports_cost=True, needs_key=False
        )
        self.rate = settings.tokens_per_second or 120.0
        self.poll_interval = settings.poll_interval or 1.0
        self.balance = 5.0
        self.has_key = True
        self.key_source: str | None = None
        self.key_env: tuple[str, ...] = ()
        self.base_url = ""

    def known_models(self) -> list[ModelInfo]:
        """The two demo models."""
        return list(self.preset_models)

    def model_info(self, model: str) -> ModelInfo | None:
        """What is known about ``model``."""
        return next((m for m in self.preset_models if m.id == model), None)

    def default_model(self) -> str:
        """The streaming demo model."""
        return self.settings.default_model or STREAM_MODEL

    async def list_models(self) -> list[ModelInfo]:
        """The two demo models."""
        return self.known_models()

    async def fetch_credits(self) -> Credits:
        """The simulated balance."""
        return Credits(round(self.balance, 6))

    async def aclose(self) -> None:
        """Nothing to release."""

    def reply_for(self, request: ChatRequest) -> str:
        """The canned reply to ``request``."""
        last_user = next((m for m in reversed(request.messages) if m.role == "user"), None)
        return _REPLY.format(prompt=_quote(last_user.text if last_user else ""))

    async def stream(self, request: ChatRequest) -> AsyncGenerator[ProviderEvent, None]:
        """Stream (or, for the queued model, queue and then deliver) the canned reply."""
        reply = self.reply_for(request)
        tokens = _TOKEN.findall(reply)
        if request.params.max_tokens is not None:
            tokens = tokens[: request.params.max_tokens]
        finish = "length" if len(tokens) < len(_TOKEN.findall(reply)) else "stop"
        prompt_tokens = sum(len(_TOKEN.findall(m.text)) for m in request.messages)
        if request.model == QUEUED_MODEL:
            async for event in self._queue():
                yield event
            yield TextDelta("".join(tokens))
        else:
            started = time.monotonic()
            for index, token in enumerate(tokens, 1):
                # Sleep to the schedule, not per token, so the rate holds at any speed.
                delay = started + index / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                yield TextDelta(token)
        usage = Usage(prompt_tokens, len(tokens))
        cost = (usage.prompt_tokens or 0) * _PRICE / 1e6 + len(tokens) * _PRICE / 1e6
        self.balance = max(0.0, self.balance - cost)
        yield Usage(prompt_tokens, len(tokens), cost)
        yield Credits(round(self.balance, 6))
        yield Finished(finish, {"demo": True})

    async def _queue(self) -> AsyncGenerator[ProviderEvent, None]:
        job_id = f"demo-{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        yield JobQueued(job_id)
        for status in ("QUEUED", "PROCESSING", "COMPLETED"):
            yield JobStatus(
                job_id,
                status,
                time.monotonic() - started,
                None if status == "COMPLETED" else self.poll_interval,
            )
            if status != "COMPLETED":
                await asyncio.sleep(self.poll_interval * 2)

    def resume(
        self, job_id: str, model: str, waited: float = 0.0
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Demo jobs live only in memory; resuming one replays a fresh reply."""
        return self.stream(ChatRequest((), model))
