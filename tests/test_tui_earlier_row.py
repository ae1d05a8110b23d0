"""The "N earlier messages" row at the top of a long conversation loads the next batch when
clicked, or focused and given Enter, as scrolling up does: when the view has room for all
that is mounted (the terminal grew), there is no scrolling up to do, so the row is the way."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.message_list import BATCH
from tests.test_tui_big import _long_conversation
from tests.tui_helpers import configure, make_app, pane, views, wait_for


async def _stable_count(app: LlamaChatApp, pilot: Pilot[Any]) -> int:
    """The number of message views once it stops changing (loads land a frame at a time)."""
    count = -1
    while count != len(views(app)):
        count = len(views(app))
        await pilot.pause(0.3)
    return count


async def _grown(app: LlamaChatApp, pilot: Pilot[Any]) -> int:
    """A long conversation in a small terminal, scrolled to its top with the row showing,
    and scrolling itself kept from loading more, as when the view holds all that is mounted
    and cannot scroll (a tall terminal): only the row can load the next batch then. (Making
    the terminal tall reached that state only when the layouts landed in one order.)"""
    messages = pane(app).messages
    await wait_for(lambda: pane(app).earlier.display and messages.scroll_y > 0, pilot)
    await _stable_count(app, pilot)
    pane(app).messages.filling = True  # the pane's own guard: a scroll near the top loads nothing
    messages.scroll_home(animate=False)
    await wait_for(lambda: messages.scroll_y == 0, pilot)
    count = await _stable_count(app, pilot)
    assert pane(app).earlier.display  # earlier messages remain
    return count


async def test_clicking_the_earlier_row_loads_a_batch() -> None:
    configure()
    _long_conversation(300)
    app = make_app()
    async with app.run_test(size=(120, 16)) as pilot:
        mounted = await _grown(app, pilot)
        row = pane(app).earlier
        assert row.region.height == 1 and app.screen.region.contains_region(row.region)
        await pilot.click(row)
        await wait_for(lambda: len(views(app)) == mounted + BATCH, pilot)
        first = 300 - len(views(app))
        assert views(app)[0].message.content == f"message number {first}"
        assert f"{first:,} earlier" in str(row.render())


async def test_enter_on_the_focused_earlier_row_loads_a_batch() -> None:
    configure()
    _long_conversation(300)
    app = make_app()
    async with app.run_test(size=(120, 16)) as pilot:
        mounted = await _grown(app, pilot)
        views(app)[0].focus()
        await pilot.press("shift+tab")  # from the first message shown, up to the row
        assert app.focused is pane(app).earlier
        await pilot.press("enter")
        await wait_for(lambda: len(views(app)) == mounted + BATCH, pilot)
        assert app.focused is pane(app).earlier  # again: another batch
        await pilot.press("enter")
        await wait_for(lambda: len(views(app)) == mounted + 2 * BATCH, pilot)
