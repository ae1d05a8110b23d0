"""Big things open at once: a long conversation is read a window at a time, a huge reply
is drawn a part at a time while the app keeps answering keys."""

from __future__ import annotations

import sqlite3
import time

from llamachat.store.db import Store
from llamachat.tui.conversation.message_list import LOAD
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
        assert len(chat.session.path) <= LOAD  # read from the store: the newest window, not 5,000
        assert len(views(app)) <= 40
        assert views(app)[-1].message.content == "message number 4999"
        # The path is counted in a thread; the row above says how many are left.
        await wait_for(lambda: "4,9" in str(chat.earlier.render()), pilot)
        mounted = len(views(app))
        assert f"{5000 - mounted:,} earlier" in str(chat.earlier.render())
        while len(views(app)) < LOAD + 30:  # past the window: read from the store
            chat.messages.action_load_earlier()
            await pilot.pause()
        contents = [v.message.content for v in views(app)]
        first = 5000 - len(contents)
        assert contents == [f"message number {i}" for i in range(first, 5000)]
        assert len(chat.session.path) <= 2 * LOAD
        assert f"{first:,} earlier" in str(chat.earlier.render())


def _big_reply(size: int) -> str:
    """``size`` characters of Markdown: paragraphs, a list, a long code block; a last line."""
    paragraph = "The reply goes on and on, " * 20 + "until it ends.\n\n"
    code = "```python\n" + "".join(f"def step_{i}(x):\n    return x * {i}\n" for i in range(3000))
    body = paragraph * (size // 3 // len(paragraph)) + code + "```\n\n"
    body += "- an item\n- another item\n\n" + paragraph * (size // 2 // len(paragraph))
    return body + "The very last line of the big reply."


async def test_a_10_mb_reply_opens_at_its_end_and_keys_are_handled_while_it_is_drawn() -> None:
    configure()
    text = _big_reply(10 * 1024 * 1024)
    with Store.open_default() as store:
        cid = store.create_conversation(provider="demo", model="llama-3.1-8b-demo").id
        prompt = store.add_message(cid, "user", "Write a lot.")
        store.add_message(cid, "assistant", text, parent_id=prompt.id, provider="demo")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h", "i")  # typed while the reply is being prepared
        await wait_for(lambda: pane(app).prompt.text == "hi", pilot)
        await wait_for(lambda: len(views(app)) == 2, pilot)
        reply = views(app)[-1]
        assert reply.text == text  # copy takes all of it

        def shown(line: str) -> bool:
            return any(line in strip.text for strip in app.screen._compositor.render_strips())

        await wait_for(lambda: shown("The very last line of the big reply."), pilot, limit=60)
        # Drawn a part at a time: most of the 10 MB is not laid out, and says so.
        assert reply.window is not None
        await wait_for(lambda: reply.window.ready and not reply._growing, pilot)
        hidden = reply.hidden
        assert 0 < len(text) - hidden <= 256 * 1024
        reply.focus()
        await pilot.press("m")
        await wait_for(lambda: reply.hidden < hidden and not reply._growing, pilot)
        assert hidden - reply.hidden >= 200 * 1024
        pane(app).messages.scroll_end(animate=False)
        await wait_for(lambda: shown("The very last line of the big reply."), pilot)
