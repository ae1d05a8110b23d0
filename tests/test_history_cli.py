"""``history``, ``export``, ``import`` and ``ask --continue/--no-save`` as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llamachat.config_write import write_config
from tests.fakeserver import FakeServer, sse_reply, stream_events

CHAT = "/v1/chat/completions"


def run(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.fixture
def chats(fake: FakeServer, subprocess_env: dict[str, str]) -> dict[str, str]:
    """Two stored conversations made through `ask`, one continued."""
    fake.on("POST", CHAT, sse_reply(stream_events(["Herons ", "are ", "wading ", "birds."])))
    base = ["ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q"]
    assert run(*base, "Tell me about herons", env=subprocess_env).returncode == 0
    assert run(*base, "--continue", "And egrets?", env=subprocess_env).returncode == 0
    fake.on("POST", CHAT, sse_reply(stream_events(["Sourdough ", "needs ", "time."])))
    assert run(*base, "How do I bake bread?", env=subprocess_env).returncode == 0
    return subprocess_env


def test_continue_sends_the_history(fake: FakeServer, chats: dict[str, str]) -> None:
    continued = fake.received("POST", CHAT)[1].json["messages"]
    assert [m["content"] for m in continued] == [
        "Tell me about herons",
        "Herons are wading birds.",
        "And egrets?",
    ]


def test_history_list(chats: dict[str, str]) -> None:
    result = run("history", "list", env=chats)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "How do I bake bread?" in lines[1] and "Tell me about herons" in lines[2]
    data = json.loads(run("history", "list", "--json", "--limit", "1", env=chats).stdout)
    assert len(data) == 1 and data[0]["messages"] == 2 and data[0]["providers"] == ["openai"]


def test_history_show(chats: dict[str, str]) -> None:
    result = run("history", "show", "1", env=chats)
    assert result.returncode == 0
    assert result.stdout.count("You, ") == 2 and "And egrets?" in result.stdout
    data = json.loads(run("history", "show", "1", "--json", env=chats).stdout)
    assert len(data["messages"]) == 4
    missing = run("history", "show", "99", env=chats)
    assert missing.returncode == 2 and "no conversation 99" in missing.stderr


def test_history_search(chats: dict[str, str]) -> None:
    result = run("history", "search", "wading", env=chats)
    assert result.returncode == 0
    assert "**wading**" in result.stdout and "#1 Tell me about herons" in result.stdout
    data = json.loads(run("history", "search", "sourdough", "--json", env=chats).stdout)
    assert data[0]["conversation_id"] == 2 and data[0]["role"] == "assistant"
    assert "Nothing matches" in run("history", "search", "zebra", env=chats).stdout


def test_history_delete_without_a_terminal_needs_yes(chats: dict[str, str]) -> None:
    refused = run("history", "delete", "2", env=chats)
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert "bake" in run("history", "list", env=chats).stdout
    result = run("history", "delete", "2", "--yes", env=chats)
    assert result.returncode == 0 and "Deleted conversation 2" in result.stdout
    assert run("history", "delete", "2", "--yes", env=chats).returncode == 2
    assert "bake" not in run("history", "list", env=chats).stdout


@pytest.mark.parametrize("fmt", ["md", "json", "html", "txt"])
def test_export_to_stdout_and_file(chats: dict[str, str], fmt: str, tmp_path: Path) -> None:
    out = run("export", "1", "--format", fmt, env=chats)
    assert out.returncode == 0 and "herons" in out.stdout
    target = tmp_path / f"chat.{fmt}"
    to_file = run("export", "1", "-f", fmt, "-o", str(target), env=chats)
    assert to_file.returncode == 0 and str(target) in to_file.stderr
    assert target.read_text() == out.stdout or fmt == "html"  # html stamps the export time


def test_import_round_trip_and_errors(chats: dict[str, str], tmp_path: Path) -> None:
    exported = tmp_path / "c1.json"
    assert run("export", "1", "-f", "json", "-o", str(exported), env=chats).returncode == 0
    result = run("import", str(exported), env=chats)
    assert result.returncode == 0 and "Imported as conversation 3" in result.stdout
    again = json.loads(run("export", "3", "-f", "json", env=chats).stdout)
    assert again == json.loads(exported.read_text())
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    bad = run("import", str(broken), env=chats)
    assert bad.returncode == 2 and "not JSON (line 1" in bad.stderr
    assert run("import", str(tmp_path / "nope.json"), env=chats).returncode == 2


def test_no_save_leaves_no_trace(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["secret plans"])))
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "--no-save", "private", env=subprocess_env
    )
    assert result.returncode == 0 and result.stdout == "secret plans\n"
    assert "No conversations yet" in run("history", "list", env=subprocess_env).stdout


def test_continue_with_nothing_to_continue(subprocess_env: dict[str, str]) -> None:
    write_config({"providers": {"demo": {"tokens_per_second": 50000}}})
    result = run("ask", "-c", "hello", env=subprocess_env)
    assert result.returncode == 2 and "no conversation to continue" in result.stderr
    assert run("ask", "-c", "7", "hello", env=subprocess_env).returncode == 2


def test_broken_database_is_one_line_exit_2(subprocess_env: dict[str, str]) -> None:
    path = Path(subprocess_env["LLAMACHAT_DATA_DIR"]) / "llamachat.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    result = run("history", "list", env=subprocess_env)
    assert (
        result.returncode == 2
        and "is damaged" in result.stderr
        and "Traceback" not in result.stderr
    )
    asked = run("ask", "-p", "demo", "hi", env=subprocess_env)  # answered, not saved
    assert asked.returncode == 0 and "is damaged" in asked.stderr and asked.stdout
    assert "will not be saved" in asked.stderr
    continued = run("ask", "-p", "demo", "-c", "hi", env=subprocess_env)
    assert continued.returncode == 2 and "is damaged" in continued.stderr
