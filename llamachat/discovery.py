"""Finding an OpenAI-compatible server already running on this machine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

#: Where the usual local servers listen: llama.cpp, Ollama, vLLM, LM Studio.
KNOWN_PORTS: dict[int, str] = {
    8080: "llama.cpp",
    11434: "Ollama",
    8000: "vLLM",
    1234: "LM Studio",
}

if TYPE_CHECKING:
    from llamachat.config import ProviderSettings


@dataclass(frozen=True)
class LocalServer:
    """A server that answered ``GET /v1/models``."""

    port: int
    label: str
    base_url: str
    models: tuple[str, ...]


async def _probe(client: httpx.AsyncClient, host: str, port: int, label: str) -> LocalServer | None:
    base_url = f"http://{host}:{port}/v1"
    try:
        response = await client.get(f"{base_url}/models")
        data = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    if response.status_code != 200 or not isinstance(data, dict):
        return None
    entries = data.get("data")
    if not isinstance(entries, list):
        return None
    models = tuple(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)
    return LocalServer(port, label, base_url, models)


async def discover(
    ports: dict[int, str] | None = None, host: str = "127.0.0.1", wait: float = 0.5
) -> list[LocalServer]:
    """Every known local server that answers, probed at once (about half a second at most)."""
    ports = KNOWN_PORTS if ports is None else ports
    async with httpx.AsyncClient(timeout=wait, trust_env=False) as client:
        found = await asyncio.gather(
            *(_probe(client, host, p, label) for p, label in ports.items())
        )
    return [server for server in found if server is not None]


def offered_settings(server: LocalServer) -> ProviderSettings:
    """The provider settings a found server is offered under (``local`` for llama.cpp's port)."""
    from llamachat.config import ProviderSettings

    name = "local" if server.port == 8080 else server.label.lower().replace(" ", "-")
    return ProviderSettings(
        name=name,
        kind="openai",
        display_name=f"{server.label} (local)",
        base_url=server.base_url,
        models=server.models,
        default_model=server.models[0] if server.models else None,
    )
