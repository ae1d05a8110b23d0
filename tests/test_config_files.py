"""The config file as people keep it: symlinked by a dotfile manager, saved with a byte order
mark, or hostile (nested thousands deep). Real files in the test's tmp dir, the real command.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from llamachat import locations
from llamachat.config import load_config
from llamachat.config_errors import ConfigError
from llamachat.config_write import save_changes, write_config
from llamachat.store.db import Store
from llamachat.tui.app import LlamaChatApp
from llamachat.tui.screens.settings import SettingsScreen
from tests.tui_helpers import SIZE, make_app, wait_for

DEEP = "a = " + "[" * 5000 + "]" * 5000 + "\n"
BOM = "\ufeff"


def linked_config(tmp_path: Path, text: str, mode: int = 0o600) -> tuple[Path, Path]:
    """``config.toml`` as a symlink to a file in a dotfiles folder: (link, target)."""
    target = tmp_path / "dotfiles" / "llamachat.toml"
    target.parent.mkdir()
    target.write_text(text)
    target.chmod(mode)
    link = locations.config_path()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link, target


async def test_saving_a_theme_and_settings_writes_through_a_symlinked_config(
    tmp_path: Path,
) -> None:
    link, target = linked_config(tmp_path, '# mine\ntheme = "llama-night"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None, pilot)
        app.theme = "andes-day"
        await wait_for(lambda: 'theme = "andes-day"' in target.read_text(), pilot)
        assert link.is_symlink()
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#general--read_timeout", Input).value = "45"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
    assert link.is_symlink() and link.readlink() == target  # the link is kept
    assert (
        target.read_text().startswith("# mine\n") and load_config(link).network.read_timeout == 45
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["llamachat.toml"]  # no temp left
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]


@pytest.mark.parametrize(("before", "after"), [(0o400, 0o400), (0o700, 0o700), (0o644, 0o600)])
def test_a_private_target_keeps_its_mode_any_other_becomes_0600(
    tmp_path: Path, before: int, after: int
) -> None:
    link, target = linked_config(tmp_path, 'theme = "llama-night"\n', before)
    save_changes({"theme": "llama-night"}, {"theme": "andes-day"}, link)
    assert link.is_symlink() and load_config(link).theme == "andes-day"
    assert stat.S_IMODE(target.stat().st_mode) == after


def test_a_link_whose_target_was_removed_makes_the_target_again(tmp_path: Path) -> None:
    link, target = linked_config(tmp_path, "")
    target.unlink()
    save_changes({}, {"theme": "andes-day"}, link)
    assert link.is_symlink() and 'theme = "andes-day"' in target.read_text()


def test_a_loop_of_links_is_one_sentence_and_nothing_is_written(tmp_path: Path) -> None:
    link = locations.config_path()
    link.parent.mkdir(parents=True)
    other = tmp_path / "other.toml"
    link.symlink_to(other)
    other.symlink_to(link)
    with pytest.raises(ConfigError, match="symbolic link that leads round in a loop"):
        write_config({"theme": "andes-day"}, link)  # a whole-file write, which reads nothing
    with pytest.raises(ConfigError, match="could not be read again"):
        save_changes({}, {"theme": "andes-day"}, link)
    assert link.is_symlink() and other.is_symlink()


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("command", [["providers"], ["ask", "-q", "hi"], ["history", "resume"]])
def test_a_config_nested_thousands_deep_is_one_sentence(
    command: list[str], subprocess_env: dict[str, str]
) -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(DEEP)
    result = run(*command, env=subprocess_env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert str(path) in result.stderr and "nested" in result.stderr and "too deep" in result.stderr


async def test_the_chat_window_starts_on_the_defaults_beside_a_config_nested_too_deep() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(DEEP)
    app = LlamaChatApp(store=Store.open_default(), discover_local=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: any("too deep" in n.message for n in app._notifications), pilot)
        assert app.active_pane is not None and app.config.path == path
        app.theme = "andes-day"  # never written over while it cannot be read
        await pilot.pause(0.1)
    assert path.read_text() == DEEP
    with pytest.raises(ConfigError, match="too deep"):
        save_changes({}, {"theme": "x"}, path)  # nor by a save that re-reads it


def test_a_byte_order_mark_is_read_past_and_kept_on_save(subprocess_env: dict[str, str]) -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(f'{BOM}default_provider = "demo"\n[defaults]\ntemperature = 0.5\n')
    config = load_config()
    assert config.default_provider == "demo" and config.defaults.params.temperature == 0.5
    result = run("ask", "-q", "hi", env=subprocess_env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    save_changes(dict(config.raw), {**config.raw, "theme": "andes-day"}, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(BOM + 'default_provider = "demo"') and text.count(BOM) == 1
    assert load_config().theme == "andes-day"
    assert os.path.isfile(path)


def test_theme_files_with_a_bom_load_and_deep_ones_are_one_sentence(tmp_path: Path) -> None:
    from llamachat.tui.themes import load_themes

    (tmp_path / "bom.toml").write_text('\ufeffname = "bom-theme"\nprimary = "#123456"\n')
    (tmp_path / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    themes, problems = load_themes([tmp_path])
    assert [t.name for t in themes] == ["bom-theme"]  # it said "Invalid statement"
    assert problems == ["deep.toml is nested too deeply to be read"]  # a RecursionError
