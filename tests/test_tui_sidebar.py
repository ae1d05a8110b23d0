"""The sidebar driven by Pilot: open, rename, pin, archive and restore, delete, footer keys."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from llamachat.tui.app import LlamaChatApp
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.screens.dialogs import ConfirmScreen, InputScreen
from llamachat.tui.widgets.footer import KeyFooter
from tests.tui_helpers import SIZE, configure, make_app, pane, seed, wait_for


def listed(app: LlamaChatApp) -> list[str]:
    """The ids of the options the sidebar shows, in order (headings have none)."""
    items = app.sidebar.items
    return [
        option.id
        for option in (items.get_option_at_index(i) for i in range(items.option_count))
        if option.id
    ]


async def highlight(app: LlamaChatApp, pilot: object, conversation_id: int) -> None:
    app.sidebar.items.focus()
    await wait_for(lambda: app.sidebar.items.has_focus, pilot)
    app.sidebar.items.highlighted = app.sidebar.items.get_option_index(f"c{conversation_id}")


def footer_keys(app: LlamaChatApp) -> set[str]:
    return {key.description for key in app.query_one(KeyFooter).query("FooterKey")}  # type: ignore[attr-defined]


async def test_enter_opens_a_conversation_with_its_prompt_focused() -> None:
    configure()
    alpha, _beta = seed("alpha", "beta")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await highlight(app, pilot, alpha)
        await pilot.press("enter")
        await wait_for(lambda: pane(app).conversation_id == alpha, pilot)
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        assert app.focused is pane(app).prompt
        assert len(app.panes()) == 2

        await pilot.press("alt+w", "alt+w")  # closing the last tab leaves a new chat
        await wait_for(lambda: len(app.panes()) == 1 and pane(app).conversation_id is None, pilot)
        await wait_for(lambda: app.focused is pane(app).prompt, pilot)


async def test_rename_pin_archive_restore_and_delete() -> None:
    configure()
    alpha, beta, gamma = seed("alpha", "beta", "gamma")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.store
        assert store is not None
        assert listed(app)[:3] == [f"c{gamma}", f"c{beta}", f"c{alpha}"]

        await highlight(app, pilot, alpha)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"Renamed", "enter")
        await wait_for(lambda: store.conversation(alpha).title == "Renamed", pilot)
        await wait_for(lambda: app.sidebar.items.has_focus, pilot)

        await pilot.press("p")  # the renamed conversation is still the highlighted one
        await wait_for(lambda: listed(app)[0] == f"c{alpha}", pilot)
        assert store.conversation(alpha).pinned

        await highlight(app, pilot, beta)
        await pilot.press("a")
        await wait_for(lambda: f"c{beta}" not in listed(app), pilot)
        assert store.conversation(beta).archived
        assert any("Archived “beta”" in n.message for n in app._notifications)

        await pilot.press("v")  # the archived list
        await wait_for(lambda: listed(app) == [f"c{beta}"], pilot)
        await pilot.press("a")  # restores the first archived one, highlighted already
        await wait_for(lambda: not store.conversation(beta).archived, pilot)
        await wait_for(lambda: listed(app) == [], pilot)
        await pilot.press("v")
        await wait_for(lambda: f"c{beta}" in listed(app), pilot)

        await highlight(app, pilot, gamma)  # gamma is open in the tab: deleting closes it
        assert pane(app).conversation_id == gamma
        await pilot.press("delete")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("enter")  # Cancel has the focus: nothing is deleted
        await wait_for(lambda: not isinstance(app.screen, ConfirmScreen), pilot)
        assert store.conversation(gamma).title == "gamma"
        await pilot.press("delete")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.click("#yes")
        await wait_for(lambda: f"c{gamma}" not in listed(app), pilot)
        with pytest.raises(KeyError):
            store.conversation(gamma)
        await wait_for(lambda: pane(app).conversation_id != gamma, pilot)


async def test_footer_shows_the_keys_of_what_has_focus() -> None:
    configure()
    seed("alpha")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: "Stop" in footer_keys(app), pilot)
        assert "Rename" not in footer_keys(app)
        app.sidebar.items.focus()
        await wait_for(lambda: "Rename" in footer_keys(app), pilot)
        assert "Stop" not in footer_keys(app)
        pane(app).prompt.focus()
        await wait_for(
            lambda: "Stop" in footer_keys(app) and "Rename" not in footer_keys(app), pilot
        )


def test_search_snippets_keep_the_spaces_around_a_match() -> None:
    from llamachat.store.models import MATCH_END, MATCH_START
    from llamachat.tui.widgets.sidebar import highlighted

    text = highlighted(f"a long story about {MATCH_START}cats{MATCH_END} and dogs")
    assert text.plain == "a long story about cats and dogs"
    assert [text.plain[span.start : span.end] for span in text.spans] == ["cats"]
    both = highlighted(f"a {MATCH_START}fake{MATCH_END} {MATCH_START}reply{MATCH_END}.")
    assert both.plain == "a fake reply."


async def test_a_narrow_terminal_hides_the_sidebar_until_asked() -> None:
    configure()
    seed("alpha")
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause(0.1)
        assert not app.sidebar.display
        assert pane(app).messages.size.width > 50  # the conversation has the room
        await pilot.press("ctrl+b")
        await wait_for(lambda: app.sidebar.display and app.sidebar.size.width > 0, pilot)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert app.sidebar.display and app.sidebar.size.width > 0
        await pilot.resize_terminal(70, 30)
        await wait_for(lambda: not app.sidebar.display, pilot)
        app.sidebar.display = True  # shown by hand, then the terminal shrinks hard
        for width, height in ((40, 12), (20, 8), (120, 40)):
            await pilot.resize_terminal(width, height)  # a zero-width prompt used to crash
            await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        await wait_for(lambda: type(app.screen).__name__ == "SettingsScreen", pilot)


async def test_a_flood_of_keys_in_the_search_box_searches_once() -> None:
    from textual import events

    configure()
    seed("alpha about otters")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.store
        assert store is not None
        queries: list[str] = []
        real_search = store.search

        def counting_search(text: str, limit: int = 20):  # type: ignore[no-untyped-def]
            queries.append(text)
            return real_search(text, limit)

        store.search = counting_search  # type: ignore[method-assign]
        await pilot.press("ctrl+f")
        await wait_for(lambda: app.sidebar.search_box.has_focus, pilot)
        typed = "tok1" * 300 + " otters"
        for character in typed:  # as a terminal without bracketed paste delivers a paste
            app.post_message(events.Key(character, character))
        await wait_for(lambda: app.sidebar.search_box.value == typed, pilot)
        await wait_for(lambda: app.sidebar.searching, pilot)
        assert len(queries) <= 3 and queries[-1] == typed


async def test_rename_accepted_unchanged_keeps_the_title_not_its_escaped_form() -> None:
    configure()
    hostile = "Notes \x1b]0;pwned\x07 and\u202eevil"
    (cid,) = seed(hostile)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        store = app.store
        assert store is not None
        await highlight(app, pilot, cid)
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
        shown = app.screen.query_one(Input).value
        assert "\\x1b" in shown and "\x1b" not in shown  # shown escaped
        await pilot.press("enter")  # accepted as it is
        await wait_for(lambda: not isinstance(app.screen, InputScreen), pilot)
        await pilot.pause()
        assert store.conversation(cid).title == hostile  # not rewritten as "\\x1b]0;..."


async def test_the_same_list_is_kept_and_a_changed_one_rebuilt() -> None:
    """Refreshed with the rows it shows (three times at start), the list keeps its options and
    is not drawn again; it still scrolls to the top and then to the highlighted row, as a
    rebuild did; a changed row rebuilds it."""
    configure()
    ids = seed(*(f"talk {i}" for i in range(40)))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(listed(app)) == 40, pilot)
        items = app.sidebar.items
        app.open_conversation(ids[-11])  # the 11th row: in view from the top
        await wait_for(lambda: items.highlighted == 10, pilot)
        first = items.get_option_at_index(0)
        items.scroll_end(animate=False, immediate=True)
        await wait_for(lambda: items.scroll_y > 0, pilot)
        app.refresh_sidebar()
        assert items.get_option_at_index(0) is first  # kept, not rebuilt
        assert items.highlighted == 10
        await wait_for(lambda: items.scroll_y == 0, pilot)
        store = app.store
        assert store is not None
        store.rename(ids[0], "renamed")
        app.refresh_sidebar()
        assert items.get_option_at_index(0) is not first
        await wait_for(lambda: "renamed" in str(items.get_option(f"c{ids[0]}").prompt), pilot)
