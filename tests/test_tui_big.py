"""Big things open at once: a long conversation is read a window at a time, a huge reply
is drawn a part at a time while the app keeps answering keys."""

from __future__ import annotations

import sqlite3
import time

from llamachat.store.db import Store
from llamachat.tui.widgets.chat_pane import LOAD
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for


def _long_conversation(count: int) -> None:
    """``count`` messages in one branch, written in one transaction (add_message is slower)."""
    with Store.open_default() as store:
        cid = store.create_conversation(provider="demo", model="llama-3.1-8b-demo").id
        path = store.path
    now = time.time()
    rows = [
        (i, cid, i - 1 or None, "user" if i % 2 else "assistant", f"message number {i - 1}", now)
        for i in range(1, count + 1)
    ]
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.execute("UPDATE id_high_water SET last = ? WHERE tbl = 'messages'", (count,))
    db.execute("UPDATE conversations SET active_leaf_id = ?", (count,))
    db.execute("COMMIT")
    db.close()


async def test_a_long_conversation_reads_a_window_and_earlier_ones_on_demand() -> None:
    configure()
    _long_conversation(5000)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(app)) > 0, pilot)
        chat = pane(app)
        assert len(chat._path) <= LOAD  # read from the store: the newest window, not 5,000
        assert len(views(app)) <= 40
        assert views(app)[-1].message.content == "message number 4999"
        # The path is counted in a thread; the row above says how many are left.
        await wait_for(lambda: "4,9" in str(chat.earlier.render()), pilot)
        mounted = len(views(app))
        assert f"{5000 - mounted:,} earlier" in str(chat.earlier.render())
        while len(views(app)) < LOAD + 30:  # past the window: read from the store
            chat.action_load_earlier()
            await pilot.pause()
        contents = [v.message.content for v in views(app)]
        first = 5000 - len(contents)
        assert contents == [f"message number {i}" for i in range(first, 5000)]
        assert len(chat._path) <= 2 * LOAD
        assert f"{first:,} earlier" in str(chat.earlier.render())
