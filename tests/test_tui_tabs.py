"""The tab strip: a click on a title shows that conversation, Ctrl+PgUp/PgDn cycle, closing
the active tab shows its neighbour, and a narrow strip keeps the active title in view."""

from __future__ import annotations

from llamachat.tui.app import LlamaChatApp
from tests.tui_helpers import SIZE, configure, make_app, seed, wait_for


def strip_text(app: LlamaChatApp) -> str:
    return app.tabs.strip.render_line(0).text


def shown(app: LlamaChatApp) -> int | None:
    pane = app.active_pane
    return pane.conversation_id if pane is not None else None


async def test_click_cycle_and_close_tabs() -> None:
    configure()
    alpha, beta, gamma = seed("alpha", "beta", "gamma")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: shown(app) == gamma, pilot)  # the last one opens at start
        app.open_conversation(alpha)
        app.open_conversation(beta)
        await wait_for(lambda: shown(app) == beta and len(app.panes()) == 3, pilot)
        assert [p.conversation_id for p in app.panes()] == [gamma, alpha, beta]
        assert [p.display for p in app.panes()] == [False, False, True]
        await wait_for(lambda: "gamma" in strip_text(app) and "beta" in strip_text(app), pilot)

        # A click on a title shows that tab, and only it.
        x = strip_text(app).index("alpha")
        await pilot.click("#tab-strip", offset=(x + 1, 0))
        await wait_for(lambda: shown(app) == alpha, pilot)
        assert [p.display for p in app.panes()] == [False, True, False]
        await wait_for(lambda: app.focused is app.tabs.active_chat.prompt, pilot)  # type: ignore[union-attr]

        await pilot.press("ctrl+pagedown")
        await wait_for(lambda: shown(app) == beta, pilot)
        await pilot.press("ctrl+pagedown")  # wraps around
        await wait_for(lambda: shown(app) == gamma, pilot)
        await pilot.press("ctrl+pageup")
        await wait_for(lambda: shown(app) == beta, pilot)

        # Closing the active tab (the last) shows the one before it; its title leaves the strip.
        await pilot.press("alt+w")
        await wait_for(lambda: len(app.panes()) == 2 and shown(app) == alpha, pilot)
        await wait_for(lambda: "beta" not in strip_text(app), pilot)
        assert app.active_pane is not None and app.active_pane.display


async def test_a_narrow_strip_keeps_the_active_title_in_view() -> None:
    configure()
    ids = seed(*(f"conversation number {i}" for i in range(8)))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for conversation_id in ids[:-1]:
            app.open_conversation(conversation_id)
        await wait_for(lambda: shown(app) == ids[-2] and len(app.panes()) == 8, pilot)
        await wait_for(lambda: "conversation number 6" in strip_text(app), pilot)
        assert strip_text(app).startswith("… ")  # earlier titles give way
