"""``llamachat export -o``: ``-`` is stdout; an existing file is replaced only with ``--force``;
a symbolic link is never followed; what it writes is readable by its owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from llamachat.store.db import Store


def run(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def chat() -> str:
    with Store.open_default() as store:
        conversation = store.create_conversation(title="Herons")
        store.add_message(conversation.id, "user", "Tell me about herons")
        return str(conversation.id)


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_dash_is_stdout_and_writes_no_file(
    chat: str, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    result = run("export", chat, "-o", "-", env=subprocess_env, cwd=tmp_path)
    assert result.returncode == 0 and "herons" in result.stdout
    assert not (tmp_path / "-").exists()


def test_an_existing_file_is_kept_unless_forced_and_then_made_private(
    chat: str, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    target = tmp_path / "notes.md"
    target.write_text("my own notes\n")
    target.chmod(0o644)
    refused = run("export", chat, "-o", str(target), env=subprocess_env)
    assert refused.returncode == 2 and str(target) in one_sentence(refused)
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text() == "my own notes\n"
    forced = run("export", chat, "-o", str(target), "--force", env=subprocess_env)
    assert forced.returncode == 0 and "herons" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # not the old 0644


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_symbolic_link_is_never_followed(
    force: list[str], chat: str, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    victim.chmod(0o644)
    link = tmp_path / "out.md"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    for path in (link, dangling):
        result = run("export", chat, "-o", str(path), *force, env=subprocess_env)
        assert result.returncode == 2 and "symbolic link" in one_sentence(result)
        assert str(path) in result.stderr and path.is_symlink()
    assert victim.read_text() == "keep me\n" and not (tmp_path / "nowhere.md").exists()
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


def test_a_new_file_is_private(chat: str, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    target = tmp_path / "new.json"
    result = run("export", chat, "-f", "json", "-o", str(target), env=subprocess_env)
    assert result.returncode == 0 and '"Herons"' in target.read_text()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


async def test_the_chat_windows_export_never_follows_a_link_either(
    chat: str, tmp_path: Path
) -> None:
    from llamachat.locations import unused_path
    from llamachat.tui.screens.export import write_chosen
    from tests.tui_helpers import SIZE, make_app, wait_for

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "chat.md"
    link.symlink_to(victim)
    dangling = tmp_path / "chat-2.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    assert unused_path(link) == tmp_path / "chat-3.md"  # a link to nothing is not offered
    replaced = tmp_path / "old.md"
    replaced.write_text("old\n")
    replaced.chmod(0o644)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.active_pane is not None, pilot)
        assert app.store is not None
        for path in (link, dangling):
            write_chosen(app, app.store, int(chat), "md", path)
        write_chosen(
            app, app.store, int(chat), "md", replaced
        )  # replacing a file the person confirmed
        await wait_for(lambda: len(app._notifications) >= 3, pilot)
        messages = [n.message for n in app._notifications]
    assert any(m.startswith(f"Could not write {link}") for m in messages), messages
    assert any(m.startswith(f"Could not write {dangling}") for m in messages), messages
    assert victim.read_text() == "keep me\n" and not (tmp_path / "nowhere.md").exists()
    assert link.is_symlink() and dangling.is_symlink()
    assert "herons" in replaced.read_text() and stat.S_IMODE(replaced.stat().st_mode) == 0o600
