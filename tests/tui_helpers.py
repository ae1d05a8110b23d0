"""Building the app for Pilot tests: isolated config and store, providers on the fake server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llamachat.config import load_config
from llamachat.config_write import write_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from llamachat.tui.conversation.pane import ChatPane
from tests.fakeserver import FakeServer

SIZE = (120, 40)


def configure(fake: FakeServer | None = None, **extra: Any) -> None:
    """Write a config whose default provider is an OpenAI-compatible fake server."""
    raw: dict[str, Any] = {"network": {"max_retries": 0, "read_timeout": 5}}
    if fake is not None:
        raw["default_provider"] = "fake"
        raw["providers"] = {
            "fake": {
                "kind": "openai",
                "display_name": "Fake AI",
                "base_url": f"{fake.url}/v1",
                "models": ["fake-model"],
                "default_model": "fake-model",
            }
        }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    write_config(raw)


def configure_segmind(fake: FakeServer, poll_interval: float = 0.1, **settings: Any) -> None:
    """Write a config whose default provider is Segmind's job queue on the fake server."""
    configure(
        providers={
            "sg": {
                "kind": "segmind",
                "base_url": fake.url,
                "mode": "async",
                "poll_interval": poll_interval,
                "api_key": "SG_testkey1234567",
                **settings,
            }
        },
        default_provider="sg",
    )


def make_app(**kwargs: Any) -> LlamaChatApp:
    """The app with the test's config and a store in the test's data dir."""
    return LlamaChatApp(
        config=load_config(), store=Store.open_default(), discover_local=False, **kwargs
    )


def pane(app: LlamaChatApp) -> ChatPane:
    found = app.active_pane
    assert found is not None
    return found


def views(app: LlamaChatApp) -> list[MessageView]:
    return list(pane(app).query(MessageView))


async def wait_for(condition: Any, pilot: Any, limit: float = 30.0) -> None:
    """Pause the pilot until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)


def db_path() -> Path:
    from llamachat import locations

    return locations.database_path()


def seed(*titles: str) -> list[int]:
    """Stored conversations with one message each, the last title the newest."""
    ids = []
    with Store.open_default() as store:
        for title in titles:
            conversation = store.create_conversation(title=title)
            store.add_message(conversation.id, "user", f"about {title}")
            ids.append(conversation.id)
    return ids
