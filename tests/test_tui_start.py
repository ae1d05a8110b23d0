"""Starting the TUI: focus and welcome, themes, local servers found, help, settings and palette, keys documented."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.css.stylesheet import Stylesheet
from textual.filter import ANSIToTruecolor

from llamachat import locations
from llamachat.tui.conversation.prompt import PromptInput
from llamachat.tui.screens.help import HelpScreen
from tests.fakeserver import FakeServer, json_reply
from tests.tui_helpers import SIZE, configure, make_app, pane, wait_for


async def test_starts_focused_with_welcome_when_no_key() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        assert pane(app).session.provider_name == "demo"
        await wait_for(lambda: pane(app).notice.display, pilot)
        assert "DEEPINFRA_API_KEY" in str(pane(app).notice.render())


async def test_broken_theme_file_is_one_notification() -> None:
    configure()
    themes = locations.user_themes_dir()
    themes.mkdir(parents=True, exist_ok=True)
    (themes / "broken.toml").write_text("name = 'x'\nprimary = 'not-a-colour'\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("broken.toml" in m for m in messages)
        assert app.theme == "llama-night"
        assert {"llama-night", "andes-day", "alpaca-terminal"} <= set(app.available_themes)


def test_a_theme_files_code_theme_is_checked_without_loading_it(tmp_path: Path) -> None:
    """A built-in Pygments style is accepted by name (its module loads with the first code
    block, not at start); an unknown one is still refused with a reason."""
    import sys

    from llamachat.tui.themes import load_theme

    path = tmp_path / "t.toml"
    path.write_text("name = 't'\nprimary = '#123456'\ncode_theme = 'xcode'\n")
    sys.modules.pop("pygments.styles.xcode", None)
    assert load_theme(path).variables["code-theme"] == "xcode"
    assert "pygments.styles.xcode" not in sys.modules
    path.write_text("name = 't'\nprimary = '#123456'\ncode_theme = 'no-such-style'\n")
    with pytest.raises(ValueError, match="unknown code_theme 'no-such-style'"):
        load_theme(path)


def test_the_code_styles_known_without_pygments_are_pygments_own() -> None:
    """The names accepted at start without asking Pygments are all Pygments' styles (fails
    loudly if an upgrade drops one, which a theme would then name in vain)."""
    from pygments.styles import STYLE_MAP

    from llamachat.tui.themes import KNOWN_CODE_STYLES

    assert not KNOWN_CODE_STYLES - set(STYLE_MAP)


def test_building_the_app_keeps_what_start_up_built_out_of_the_collectors_passes() -> None:
    """The app freezes what is imported and built once it is constructed, however it is
    started (a full collection over it during start took 20-30 ms of the first paint)."""
    import gc

    frozen = gc.get_freeze_count()
    app = make_app()
    assert gc.get_freeze_count() > frozen
    assert app.store is not None
    app.store.close()


async def test_the_main_screen_is_built_with_its_breakpoint_class() -> None:
    """The main screen has the class its first resize gives (so that resize restyles
    nothing, about 9 ms at start), and a resize later still moves it."""
    from llamachat.tui.screens.breakpoints import BreakpointScreen
    from llamachat.tui.screens.main import MainScreen

    class Tall(BreakpointScreen[None]):
        VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]  # noqa: RUF012

    assert not {"-narrow", "-wide"} & MainScreen().classes  # built with no app: left to resize
    for size, horizontal, vertical in (((60, 20), "-narrow", "-short"), (SIZE, "-wide", "-tall")):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            assert horizontal in MainScreen().classes
            assert vertical in Tall().classes
            assert horizontal in app.screen.classes
            await pilot.resize_terminal(150 - size[0], 40)  # across the 90-column breakpoint
            await wait_for(lambda s=app.screen, c=horizontal: c not in s.classes, pilot)


async def test_the_theme_at_start_is_as_textuals_own_switch_leaves_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The configured theme is set before the CSS is first parsed, past Textual's watcher (set
    on mount, the watcher parsed all the CSS twice more): the app's classes, ANSI filter, CSS
    variables and every widget's colours must be what Textual's own theme switch gives."""
    reparses: list[Stylesheet] = []
    reparse = Stylesheet.reparse

    def counted(self: Stylesheet) -> None:
        reparses.append(self)
        reparse(self)

    monkeypatch.setattr(Stylesheet, "reparse", counted)
    configure(theme="andes-day")  # light: the classes and the ANSI filter differ from the default

    def state(app: Any) -> tuple[set[str], object, object, object]:
        ansi = [f._terminal_theme for f in app._filters if isinstance(f, ANSIToTruecolor)]
        colours = [(w, w.styles.color, w.styles.background) for w in app.screen.walk_children()]
        return set(app.classes), ansi, dict(app.stylesheet._variables), colours

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.focused, PromptInput), pilot)
        await pilot.pause()
        assert reparses == []  # the CSS was parsed once, with the theme's colours
        at_start = state(app)
        assert app.theme == "andes-day" and {"-theme-andes-day", "-light-mode"} <= at_start[0]
        app.theme = "llama-night"
        await pilot.pause()
        assert state(app) != at_start and reparses  # the comparison can tell themes apart
        app.theme = "andes-day"
        await pilot.pause()
        assert state(app) == at_start


async def test_theme_choice_is_remembered() -> None:
    configure()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.theme = "andes-day"
        await pilot.pause()
    assert 'theme = "andes-day"' in locations.config_path().read_text()
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app2.theme == "andes-day"


async def test_local_server_discovery(fake: FakeServer) -> None:
    from llamachat.discovery import discover

    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "llama3.1:8b"}]}))
    found = await discover({fake.port: "Ollama", 9: "nothing here"})
    assert len(found) == 1 and found[0].models == ("llama3.1:8b",) and found[0].label == "Ollama"


async def test_help_settings_and_palette_open(fake: FakeServer) -> None:
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_for(lambda: type(app.screen).__name__ == "CommandPalette", pilot)
        await pilot.press("escape")


async def test_settings_saves_key_masked_and_private(fake: FakeServer) -> None:
    from llamachat.tui.screens.settings import SettingsScreen

    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        screen = app.screen
        key_input = screen.query_one("#opt--deepinfra--api_key")
        key_input.value = "di-brand-new-key-0123456789"  # type: ignore[attr-defined]
        assert key_input.password  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        path = locations.config_path()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert 'api_key = "di-brand-new-key-0123456789"' in path.read_text()
        assert app.workspace.provider("deepinfra").has_key
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        placeholder = app.screen.query_one("#opt--deepinfra--api_key").placeholder  # type: ignore[attr-defined]
        assert "****6789" in placeholder and "0123456789" not in placeholder
        await pilot.press("escape")


def test_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for _, keys in HelpScreen.keys_by_group():
        for key, what, binding_id in keys:
            shown_id = f"`{binding_id}`" if binding_id else ""
            assert f"| {key} | {what} | {shown_id} |" in readme


async def test_the_collector_started_off_by_the_launcher_is_on_again_once_painted() -> None:
    """The launcher keeps the collector off while the app starts; the app turns it back on
    after its first screen (a session with the collector off would grow without bound)."""
    import gc

    from tests.tui_helpers import make_app, pane

    gc.disable()
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.focused is pane(app).prompt, pilot)
            await wait_for(gc.isenabled, pilot)
    finally:
        gc.enable()
