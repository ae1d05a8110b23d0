"""Small builders shared by the provider tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llamachat.config import NetworkSettings, ProviderSettings
from llamachat.providers.base import (
    ChatMessage,
    ChatRequest,
    GenerationParams,
    Provider,
    ProviderEvent,
    TextDelta,
)
from llamachat.providers.errors import ProviderError
from llamachat.providers.registry import build_provider
from llamachat.secrets import Secret

#: Raw bytes captured from a real llama.cpp server (copied from shared/wire-samples; see its README).
WIRE = Path(__file__).resolve().parent / "fixtures" / "llamacpp"

#: Tiny timeouts and backoff so fault tests run in milliseconds.
FAST = NetworkSettings(
    connect_timeout=2.0,
    read_timeout=2.0,
    reply_timeout=5.0,
    max_retries=3,
    backoff_base=0.01,
    backoff_cap=0.05,
)


def make_provider(
    kind: str,
    base_url: str,
    *,
    key: str | None = None,
    name: str | None = None,
    network: NetworkSettings = FAST,
    **settings: Any,
) -> Provider:
    """A provider of ``kind`` pointed at ``base_url``."""
    return build_provider(
        ProviderSettings(
            name=name or kind,
            kind=kind,
            base_url=base_url,
            api_key=Secret(key) if key else None,
            **settings,
        ),
        network,
    )


def request(
    text: str = "Say hello.", model: str = "test-model", *, stream: bool = True, **params: Any
) -> ChatRequest:
    """A one-message chat request."""
    return ChatRequest((ChatMessage("user", text),), model, GenerationParams(**params), stream)


async def collect(
    provider: Provider, req: ChatRequest
) -> tuple[list[ProviderEvent], ProviderError | None]:
    """Every event of ``req``, and the error that ended it (if any)."""
    events: list[ProviderEvent] = []
    try:
        async for event in provider.stream(req):
            events.append(event)
    except ProviderError as err:
        return events, err
    finally:
        await provider.aclose()
    return events, None


def text_of(events: Sequence[ProviderEvent]) -> str:
    """The reply text in ``events``."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def of_type(events: Sequence[ProviderEvent], cls: type) -> list[Any]:
    """The events of one type."""
    return [e for e in events if isinstance(e, cls)]


def read_until_closed(fd: int) -> bytes:
    """Everything written to a pty's other side, until the writer closes it."""
    import os

    output = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # the follower side is closed (Linux reports EIO)
            break
        if not data:
            break
        output += data
    return output


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``llamachat ARGS`` in a child process with ``env``, nothing on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
