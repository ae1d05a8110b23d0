"""Snapshots of the main screens (``pytest --snapshot-update`` accepts a deliberate change)."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TextArea

from llamachat.config import load_config
from llamachat.config_write import write_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message import MessageView
from tests.tui_helpers import wait_for

# One fixed directory: keep these tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("snapshots")

SIZE = (120, 36)
FIXED = Path("/tmp/llamachat-snapshots")
BASE = 1_736_935_200.0  # 2025-01-15 10:00 UTC: old enough to show as a date, never "today"


@pytest.fixture
def fixed_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A config path that is the same on every machine (the settings screen shows it) and UTC.

    The directory is shared by every copy of the suite on the machine: a lock beside it
    keeps two runs at once from removing each other's files.
    """
    with open(f"{FIXED}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the lock file is closed
        yield from _fixed_env(monkeypatch)


def _fixed_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    shutil.rmtree(FIXED, ignore_errors=True)
    monkeypatch.setenv("LLAMACHAT_CONFIG", str(FIXED / "config.toml"))
    monkeypatch.setenv("LLAMACHAT_DATA_DIR", str(FIXED / "data"))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    write_config({"providers": {"local": {"base_url": "http://127.0.0.1:9/v1"}}})
    with Store.open_default() as store:
        c = store.create_conversation(
            title="Grey herons",
            provider="deepinfra",
            model="meta-llama/Meta-Llama-3.1-8B-Instruct",
            created_at=BASE,
        )
        u = store.add_message(c.id, "user", "Where do grey herons nest?", created_at=BASE + 5)
        store.add_message(
            c.id, "assistant",
            "Grey herons nest in **colonies** called *heronries*, high in trees:\n\n"
            "| month | what happens |\n|---|---|\n| Feb | nests repaired |\n| Mar | eggs laid |\n\n"
            "```python\nheronry = {'nests': 42, 'trees': 7}\nprint(heronry['nests'])\n```\n",
            parent_id=u.id, provider="deepinfra", model="meta-llama/Meta-Llama-3.1-8B-Instruct",
            created_at=BASE + 7, prompt_tokens=18, completion_tokens=64, cost_usd=0.0000045,
            ttft=0.28, tokens_per_second=131.0, finish_reason="stop",
        )  # fmt: skip
    yield
    shutil.rmtree(FIXED, ignore_errors=True)


def app() -> LlamaChatApp:
    return LlamaChatApp(config=load_config(), store=Store.open_default(), discover_local=False)


async def settle(pilot: Any) -> None:
    """Wait until the screen stops changing: its workers done and two frames 0.1 s apart the
    same (a loaded machine draws later, not differently)."""
    app = pilot.app
    if app.screen is app.screen_stack[0]:  # the main screen: the stored conversation shown
        await wait_for(lambda: len(app.screen.query(MessageView)) == 2, pilot)
    for area in app.query(TextArea):  # a blinking cursor is drawn or not by the clock
        area.cursor_blink = False
    previous = None
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)
        shot = pilot.app.export_screenshot()
        if shot == previous:
            return
        previous = shot
    raise AssertionError("the screen never stopped changing")


def test_main_screen(snap_compare: Any, fixed_env: None) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=settle)


def test_picker(snap_compare: Any, fixed_env: None) -> None:
    async def open_picker(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press(*"8B")
        await pilot.pause(0.2)

    assert snap_compare(app(), terminal_size=SIZE, run_before=open_picker)


def test_help(snap_compare: Any, fixed_env: None) -> None:
    async def open_help(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app(), terminal_size=SIZE, run_before=open_help)


def test_settings(snap_compare: Any, fixed_env: None) -> None:
    async def open_settings(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert os.environ["TZ"] == "UTC"
    assert snap_compare(app(), terminal_size=SIZE, run_before=open_settings)
