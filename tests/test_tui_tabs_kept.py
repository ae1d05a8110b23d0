"""The open tabs, their order and the active one come back after a restart (deleted
conversations left out), opened after the first paint."""

from __future__ import annotations

from llamachat import ui_state
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from tests.tui_helpers import SIZE, configure, make_app, wait_for


def _conversations(*titles: str) -> list[int]:
    ids = []
    with Store.open_default() as store:
        for title in titles:
            conversation = store.create_conversation(title=title, provider="demo")
            store.add_message(conversation.id, "user", f"about {title}")
            ids.append(conversation.id)
    return ids


def _settled_on(app: LlamaChatApp, conversation_id: int) -> bool:
    """The tab of ``conversation_id`` is open, active and its prompt focused."""
    active = app.active_pane
    return (
        active is not None and active.conversation_id == conversation_id and active.prompt.has_focus
    )


def _tab_titles(app: LlamaChatApp) -> list[str]:
    """The tabs' labels, in the order shown."""
    return [app.tabs.title_of(pane) for pane in app.tabs.chats()]


async def test_tabs_and_the_active_one_come_back_after_a_restart() -> None:
    configure()
    alpaca, llama, vicuna, guanaco = _conversations("Alpaca", "Llama", "Vicuna", "Guanaco")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert _tab_titles(app) == ["Guanaco"]  # nothing kept yet: the newest one
        for conversation_id in (llama, vicuna, alpaca):
            app.open_conversation(conversation_id)
            await wait_for(lambda c=conversation_id: _settled_on(app, c), pilot)
        await pilot.press("ctrl+pageup")  # Vicuna is the active tab at the end
        await wait_for(
            lambda: app.active_pane is not None and app.active_pane.title == "Vicuna", pilot
        )
        await app.action_quit()
    assert ui_state.load().tabs == (guanaco, llama, vicuna, alpaca)

    with Store.open_default() as store:
        store.delete_conversation(llama)  # deleted between the runs: not reopened
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(app.tabs.chats()) == 3, pilot)
        assert _tab_titles(app) == ["Guanaco", "Vicuna", "Alpaca"]
        assert app.active_pane is not None and app.active_pane.title == "Vicuna"
        assert app.active_pane.prompt.has_focus
        panes = app.tabs.chats()
        await wait_for(lambda: all(p.messages.views for p in panes), pilot)
        assert panes[2].messages.views  # a reopened tab shows its conversation
        await pilot.press("alt+w")  # closing a tab is kept at once, not only at quit
        await wait_for(lambda: len(app.tabs.chats()) == 2, pilot)
    assert ui_state.load().tabs == (guanaco, alpaca)


async def test_a_kept_active_tab_deleted_since_opens_the_newest_with_the_others() -> None:
    configure()
    first, second = _conversations("First", "Second")
    ui_state.save(ui_state.UiState(tabs=(first, 999), active=999))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(app.tabs.chats()) == 2, pilot)
        assert _tab_titles(app) == ["First", "Second"]
        assert app.active_pane is not None and app.active_pane.title == "Second"


def test_an_unreadable_state_file_is_an_empty_state() -> None:
    path = ui_state.state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"tabs": [3, "x", true, 3, -1, 5], "active": "2", "export_dir": 7}')
    assert ui_state.load() == ui_state.UiState(tabs=(3, 5))
    path.write_text("not json {")
    assert ui_state.load() == ui_state.UiState()
    assert ui_state.save(ui_state.UiState(tabs=(1,), export_dir="/tmp"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert ui_state.update(active=1) == ui_state.UiState(tabs=(1,), active=1, export_dir="/tmp")
