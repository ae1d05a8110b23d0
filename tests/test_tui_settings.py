"""Settings: a config file that cannot be read is never written over; numbers are checked."""

from __future__ import annotations

from llamachat import locations
from llamachat.config import load_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.screens.settings import SettingsScreen
from tests.tui_helpers import SIZE, wait_for

BROKEN = (
    'default_provider = "deepinfra"\n[providers.deepinfra\napi_key = "di-kept-safe-0123456789"\n'
)


async def test_a_broken_config_is_never_written_over() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BROKEN)
    app = LlamaChatApp(store=Store.open_default(), discover_local=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: any("line 2" in n.message for n in app._notifications), pilot)
        assert app.config.path == path
        app.theme = "andes-day"  # remembering a theme does not replace the file
        await pilot.pause(0.1)
        assert path.read_text() == BROKEN

        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert path.read_text() == BROKEN  # refused: its providers and keys would be lost
        assert any("Settings not saved" in n.message for n in app._notifications)
        assert all("0123456789" not in n.message for n in app._notifications)

        await pilot.press("ctrl+s")  # opened while broken, the file fixed meanwhile, then saved:
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        path.write_text('theme = "andes-day"\n')
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert path.read_text() == 'theme = "andes-day"\n'  # not replaced by the defaults
        assert any("reads again" in n.message for n in app._notifications)

        await pilot.press("ctrl+s")  # opened again: settings work
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert load_config(path).theme == "andes-day"
        assert any(f"Settings saved to {path}" in n.message for n in app._notifications)


async def test_numbers_out_of_range_or_not_numbers_are_not_saved() -> None:
    from textual.widgets import Input

    from tests.tui_helpers import configure, make_app, pane

    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")  # a conversation, so its overrides are on screen
        await wait_for(lambda: pane(app).conversation_id is not None and not pane(app).busy, pilot)
        for field, value, words in (
            ("#conv--temperature", "50", "temperature must be between 0 and 2, not 50"),
            ("#conv--max_tokens", "-5", "max_tokens must be a whole number between 1"),
            ("#conv--top_p", "0", "top_p must be greater than 0 and at most 1, not 0"),
            ("#general--top_k", "1000", "top_k must be a whole number between 0 and 999"),
            ("#general--temperature", "warm", "temperature must be a number, not 'warm'"),
        ):
            await pilot.press("ctrl+s")
            await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
            app.screen.query_one(field, Input).value = value
            await pilot.press("ctrl+s")
            await pilot.pause(0.05)
            assert isinstance(app.screen, SettingsScreen)  # still open: nothing saved
            assert any(words in n.message for n in app._notifications), words
            await pilot.press("escape")
            await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert (
            pane(app).session.params.temperature is None
            and pane(app).session.params.max_tokens is None
        )


async def test_test_connection_lists_models_and_times_the_round_trip(fake) -> None:  # type: ignore[no-untyped-def]
    from textual.widget import Widget
    from textual.widgets import Button, Static

    from tests.fakeserver import json_reply
    from tests.tui_helpers import configure, make_app

    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "fake-model"}, {"id": "other"}]}))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#test--fake", Button).press()
        result = app.screen.query_one("#result--fake", Static)
        await wait_for(lambda: "models in" in str(result.render()), pilot)
        shown = str(result.render())
        assert "✓ 2 models in" in shown and "fake-model, other" in shown
        await pilot.pause(0.1)
        scroller = next(w for w in result.ancestors if getattr(w, "is_scrollable", False))
        assert isinstance(scroller, Widget)
        assert scroller.region.contains_region(result.region)  # scrolled into view

        tests = [b for b in app.screen.query(Button) if (b.id or "").startswith("test--")]
        last = tests[-1]  # far down the form
        last.press()
        far = app.screen.query_one(f"#result--{last.id.removeprefix('test--')}", Static)  # type: ignore[union-attr]
        await wait_for(lambda: str(far.render()).startswith(("✓", "✗")), pilot)
        await pilot.pause(0.1)
        assert scroller.region.contains_region(far.region)


async def test_a_login_in_a_base_url_is_never_shown_and_survives_a_save() -> None:
    from textual.widgets import Input

    from tests.tui_helpers import configure, make_app

    secret_url = "https://alice:pa55-w0rd-secret@llm.example/v1"
    configure(providers={"lan": {"kind": "openai", "base_url": secret_url}})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        field = app.screen.query_one("#opt--lan--base_url", Input)
        assert field.value == "https://llm.example/v1"
        assert all("pa55-w0rd" not in i.value for i in app.screen.query(Input))
        await pilot.press("ctrl+s")  # saved unchanged: the login the field hid is kept
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert load_config().provider("lan").base_url == secret_url

        await pilot.press("ctrl+s")  # a new URL typed in replaces it, login and all
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#opt--lan--base_url", Input).value = "https://other.example/v1"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert load_config().provider("lan").base_url == "https://other.example/v1"


async def test_a_conversations_settings_apply_though_the_broken_config_is_not_saved() -> None:
    """They live in the store: the file that cannot be written over does not cost them."""
    from textual.widgets import Input, TextArea

    from tests.tui_helpers import configure, pane

    configure()
    app = LlamaChatApp(store=Store.open_default(), discover_local=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: pane(app).conversation_id is not None and not pane(app).busy, pilot)
        path = locations.config_path()
        before = path.read_text()
        path.write_text(before + "[providers.half\n")  # broken meanwhile, by hand
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#conv--temperature", Input).value = "0.25"
        app.screen.query_one("#conv--system_prompt", TextArea).text = "Answer in French."
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert path.read_text() == before + "[providers.half\n"  # never written over
        session = pane(app).session
        assert session.params.temperature == 0.25
        assert session.system_prompt == "Answer in French."
        conversation_id = session.conversation_id
        assert conversation_id is not None and app.store is not None
        kept = app.store.conversation(conversation_id)
        assert kept.params["temperature"] == 0.25 and kept.system_prompt == "Answer in French."
