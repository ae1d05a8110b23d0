"""Other writes the TUI makes when the store refuses them (another program holds its lock,
as it would a full disk): each is one notification, and the app keeps running."""

from __future__ import annotations

import socket

from llamachat.config import load_config
from llamachat.store.db import Store
from llamachat.store.models import MessageStatus
from llamachat.tui.app import LlamaChatApp
from tests.test_tui_disk_full import locked
from tests.test_tui_sidebar import highlight
from tests.tui_helpers import SIZE, configure, db_path, pane, seed, wait_for

DEAD_OWNER = f"{socket.gethostname()}:999999999"


def quick_app() -> LlamaChatApp:
    """The app on the test's store, giving up on a held lock after a tenth of a second."""
    return LlamaChatApp(
        config=load_config(), store=Store(db_path(), busy_timeout=0.1), discover_local=False
    )


def told(app: LlamaChatApp, words: str) -> list[str]:
    return [n.message for n in app._notifications if words in n.message]


async def test_a_start_that_cannot_recover_a_reply_says_so_and_runs() -> None:
    configure()
    with Store.open_default() as store:
        c = store.create_conversation(title="left streaming")
        user = store.add_message(c.id, "user", "question")
        reply = store.add_message(
            c.id, "assistant", "half", parent_id=user.id, status=MessageStatus.STREAMING
        )
        store._read("UPDATE messages SET owner = ? WHERE id = ?", (DEAD_OWNER, reply.id))
    app = quick_app()
    with locked(db_path()):
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: told(app, "locked by another program"), pilot)
            assert len(told(app, "locked by another program")) == 1
            assert pane(app).conversation_id == c.id and app.is_running
    with Store.open_default() as store:  # the next start that can write recovers it
        assert store.message(reply.id).status is MessageStatus.INTERRUPTED


async def test_pinning_while_the_store_is_locked_says_so() -> None:
    configure()
    (alpha,) = seed("alpha")
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await highlight(app, pilot, alpha)
        with locked(db_path()):
            await pilot.press("p")
            await wait_for(lambda: told(app, "locked by another program"), pilot)
        assert app.is_running
        assert app.store is not None and not app.store.conversation(alpha).pinned


async def test_switching_model_while_the_store_is_locked_says_so() -> None:
    configure()
    (alpha,) = seed("alpha")
    app = quick_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: pane(app).conversation_id == alpha, pilot)
        with locked(db_path()):
            pane(app).switch_model("demo", "other-model")
            await wait_for(lambda: told(app, "locked by another program"), pilot)
        assert pane(app).session.model == "other-model" and app.is_running
