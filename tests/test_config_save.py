"""Saving settings or a theme changes only what changed: comments, order, hand edits are kept."""

from __future__ import annotations

from textual.widgets import Input

from llamachat import locations
from llamachat.config import load_config
from llamachat.tui.screens.settings import SettingsScreen
from tests.tui_helpers import SIZE, make_app, wait_for

ORIGINAL = """\
# My llamachat settings -- written by hand, please keep this comment.
theme   =   "llama-night"      # dark, for the evening
default_provider = 'demo'

[network]   # slow office network
connect_timeout = 7    # seconds
read_timeout   =  30   # the gap between chunks
max_retries=1

# A provider of my own.
[providers.mine]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
models = [ "a-model",   "b-model" ]   # two models
"""

HAND_ADDED = """
# Added by hand while the app was running.
[providers.handmade]
kind = "openai"
base_url = "http://127.0.0.1:10/v1"   # another local server
"""


def _in_order(lines: list[str], text: str) -> bool:
    """Whether every line of ``lines`` is a line of ``text``, in the same order."""
    remaining = iter(text.splitlines())
    return all(any(line == other for other in remaining) for line in lines)


async def test_saving_keeps_comments_order_and_what_was_added_by_hand() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ORIGINAL)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None, pilot)
        # While the app runs, the person edits the file: a key in [network], a whole provider.
        edited = path.read_text().replace("max_retries=1\n", "max_retries=1\nbackoff_cap = 9\n")
        path.write_text(edited + HAND_ADDED)

        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#general--read_timeout", Input).value = "45"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        app.theme = "andes-day"
        await wait_for(lambda: load_config(path).theme == "andes-day", pilot)

        text = path.read_text()
        changed = {
            'theme   =   "llama-night"      # dark, for the evening',
            "read_timeout   =  30   # the gap between chunks",
        }
        kept = [line for line in ORIGINAL.splitlines() if line not in changed]
        assert _in_order(kept, text), text
        assert 'theme   =   "andes-day"      # dark, for the evening' in text.splitlines(), text
        assert any(
            line.startswith("read_timeout") and line.endswith("# the gap between chunks")
            for line in text.splitlines()
        ), text
        assert "backoff_cap = 9" in text.splitlines()
        assert _in_order(HAND_ADDED.strip().splitlines(), text), text

        config = load_config(path)
        assert config.network.read_timeout == 45 and config.network.backoff_cap == 9
        assert config.network.connect_timeout == 7 and config.network.max_retries == 1
        assert config.providers["handmade"].base_url == "http://127.0.0.1:10/v1"
        assert config.providers["mine"].models == ("a-model", "b-model")
        assert app.config.providers["handmade"].base_url == "http://127.0.0.1:10/v1"


async def test_a_file_made_invalid_meanwhile_is_never_overwritten() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ORIGINAL)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None, pilot)
        broken = ORIGINAL + "[providers.half\nkind = 'openai'\n"
        path.write_text(broken)

        app.theme = "andes-day"
        await wait_for(lambda: any("not saved" in n.message for n in app._notifications), pilot)
        assert path.read_text() == broken
        first = [n.message for n in app._notifications if "no longer valid TOML" in n.message]

        app.clear_notifications()
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#general--read_timeout", Input).value = "45"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert path.read_text() == broken
        refusals = [n.message for n in app._notifications if "no longer valid TOML" in n.message]
        refusals += first
        assert len(refusals) == 2, [n.message for n in app._notifications]
        assert all(str(path) in m and "line 15" in m for m in refusals), refusals


async def save_read_timeout_45(original: str) -> str:
    """Write ``original`` as the config file, change only the read timeout in Settings to
    45 and save; the file as it is afterwards."""
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(original)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None, pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#general--read_timeout", Input).value = "45"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        await wait_for(lambda: load_config(path).network.read_timeout == 45, pilot)
    return path.read_text()


async def test_saving_unchanged_settings_writes_no_built_in_provider_into_the_file() -> None:
    """The built-in providers (the local llama.cpp server, the demo, the hosted ones) are not
    copied into the file as they are: only what the person changed on screen is written."""
    written = await save_read_timeout_45(ORIGINAL)
    assert "[providers.local]" not in written and "127.0.0.1:8080" not in written, written
    assert "[providers.mine]" in written  # the person's own provider stays as it was
    assert set(load_config(locations.config_path()).raw.get("providers", {})) == {"mine"}


async def test_saving_settings_does_not_copy_the_theme_in_use_into_the_file() -> None:
    """A file without a theme keeps none when other settings are saved: the theme in use
    is the built-in default, not a choice."""
    written = await save_read_timeout_45("# mine\n[network]\nread_timeout = 30\n")
    assert "theme" not in written and written.startswith("# mine\n"), written
