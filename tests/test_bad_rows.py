"""A value in the store that no reader can use never takes a command down.

The bad values are written straight into a real store file with ``sqlite3`` (as an old
import, another tool or a damaged disk could leave them); then every command that reads
them runs as a person would run it.
"""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys

import pytest

from llamachat.store.db import Store
from llamachat.tui.conversation.message import badge
from tests.tui_helpers import SIZE, db_path, make_app, pane, views, wait_for

MESSAGE_DAMAGE = {
    "created_at": "soon",
    "completed_at": 1e300,
    "prompt_tokens": "many",
    "completion_tokens": -7,
    "cost_usd": "lots",
    "credits_usd": 1e300,
    "images": "not json [",
    "params": '{"unclosed": ',
    "raw": "[" * 5000 + "]" * 5000,
    "ttft": "fast",
    "tokens_per_second": -3.0,
    "reasoning_seconds": "long",
    "content": b"bytes \xff where text belongs",
}
CONVERSATION_DAMAGE = {
    "created_at": 1e300,
    "updated_at": "yesterday",
    "params": "garbage{",
    "title": b"a \xfe blob title",
    "active_leaf_id": "leaf",
}


def damaged_store() -> int:
    """A conversation with one good exchange whose every field is then overwritten badly."""
    with Store.open_default() as store:
        c = store.create_conversation(title="fine", params={"temperature": 0.2})
        user = store.add_message(c.id, "user", "a question about herons")
        store.add_message(
            c.id, "assistant", "herons wade", parent_id=user.id, provider="p", cost_usd=0.5
        )
    with sqlite3.connect(db_path()) as db:
        for name, value in MESSAGE_DAMAGE.items():
            db.execute(f"UPDATE messages SET {name} = ? WHERE conversation_id = ?", (value, c.id))
        for name, value in CONVERSATION_DAMAGE.items():
            db.execute(f"UPDATE conversations SET {name} = ? WHERE id = ?", (value, c.id))
    return c.id


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_store_reads_bad_values_as_unknown() -> None:
    cid = damaged_store()
    with Store.open_default() as store:
        view = store.load(cid)
        listed = store.list_conversations()
    c = view.conversation
    assert (c.created_at, c.updated_at, c.params) == (None, None, {})
    assert c.title.startswith("a ") and "blob title" in c.title
    assert len(view.path) == 2  # the bad active leaf falls back to the newest message
    reply = view.path[-1]
    assert reply.created_at is None and reply.completed_at is None
    assert (reply.prompt_tokens, reply.completion_tokens) == (None, None)
    assert (reply.cost_usd, reply.credits_usd) == (None, None)
    assert (reply.images, reply.params, reply.raw) == ((), None, None)
    assert (reply.ttft, reply.tokens_per_second, reply.reasoning_seconds) == (None, None, None)
    assert reply.content.startswith("bytes ")
    assert listed[0].updated_at is None


@pytest.mark.parametrize(
    "command",
    [
        ("history", "list"),
        ("history", "list", "--json"),
        ("history", "show", "{cid}"),
        ("history", "show", "--json", "{cid}"),
        ("history", "search", "herons"),
        ("export", "{cid}", "-f", "md"),
        ("export", "{cid}", "-f", "json"),
        ("export", "{cid}", "-f", "html"),
        ("export", "{cid}", "-f", "txt"),
    ],
)
def test_every_command_survives_bad_values(
    command: tuple[str, ...], subprocess_env: dict[str, str]
) -> None:
    cid = damaged_store()
    result = run(*(part.format(cid=cid) for part in command), env=subprocess_env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if command == ("history", "list"):
        assert "unknown" in result.stdout.splitlines()[1]
    if command[:1] == ("export",) and command[-1] in ("md", "txt"):
        assert "unknown" in result.stdout


async def test_the_app_starts_and_shows_a_conversation_with_bad_values() -> None:
    damaged_store()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None and len(views(app)) == 2, pilot)
        assert not pane(app).busy
        shown = [badge(v.message).plain for v in views(app)]
        assert shown[0] == "You · unknown", shown  # the reply's badge shows no time
        assert app.is_running


def test_the_store_refuses_bad_values_on_the_way_in() -> None:
    with Store.open_default() as store:
        with pytest.raises(ValueError):
            store.create_conversation(created_at=1e300)
        with pytest.raises(ValueError):
            store.create_conversation(params=["not", "a", "dict"])  # type: ignore[arg-type]
        c = store.create_conversation()
        with pytest.raises(ValueError):
            store.add_message(c.id, "user", "hi", created_at=math.nan)
        with pytest.raises(ValueError):
            store.add_message(c.id, "user", 123)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            store.add_message(c.id, "wizard", "hi")
        m = store.add_message(c.id, "assistant", "ok", cost_usd=math.nan, prompt_tokens=-1)
        assert (m.cost_usd, m.prompt_tokens) == (None, None)  # absurd numbers are not kept
        store.update_message(m.id, cost_usd=1e300, completion_tokens="12", ttft=math.inf)
        again = store.message(m.id)
        assert (again.cost_usd, again.completion_tokens, again.ttft) == (None, None, None)
        with sqlite3.connect(db_path()) as db:
            row = db.execute(
                "SELECT cost_usd, prompt_tokens, completion_tokens FROM messages WHERE id = ?",
                (m.id,),
            ).fetchone()
        assert row == (None, None, None)
