"""``history search`` highlights its matches on a terminal and prints plain text into a pipe;
``models`` shows a server's model names escaped on a terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

from llamachat.store.db import Store
from tests.fakeserver import FakeServer, json_reply
from tests.helpers import read_until_closed

TITLE = "Herons \x1b]0;pwned\x07 notes"


def seed() -> None:
    with Store.open_default() as store:
        c = store.create_conversation(title=TITLE)
        store.add_message(c.id, "user", "Herons are wading birds of the marsh.")


def search(env: dict[str, str], *, terminal: bool) -> str:
    command = [sys.executable, "-m", "llamachat", "history", "search", "wading"]
    if not terminal:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120"},
    )
    os.close(follower)
    output = read_until_closed(leader)
    assert proc.wait(timeout=30) == 0
    os.close(leader)
    return output.decode()


def test_search_on_a_terminal_highlights_the_match(subprocess_env: dict[str, str]) -> None:
    seed()
    text = search(subprocess_env, terminal=True)
    assert "\x02" not in text and "\x03" not in text
    assert "\\x02" not in text and "\\x03" not in text  # the store's markers, never shown
    # The match is drawn in bold reverse video: an SGR sequence with 1 and 7 just before it.
    assert re.search(r"\x1b\[[0-9;]*\b1;7m\s*wading|\x1b\[[0-9;]*7;1m\s*wading", text), repr(text)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "Herons are wading birds of the marsh." in plain
    # The title is escaped: only Rich's own colour sequences reach the terminal.
    assert "\x1b]" not in text and "\x07" not in text
    assert "Herons \\x1b]0;pwned\\x07 notes" in plain


def test_search_into_a_pipe_is_plain_text(subprocess_env: dict[str, str]) -> None:
    seed()
    text = search(subprocess_env, terminal=False)
    assert "\x02" not in text and "\x03" not in text and "\\x02" not in text
    assert "\x1b[" not in text  # no styling into a pipe
    assert "Herons are **wading** birds of the marsh." in text


def test_models_on_a_terminal_shows_a_hostile_model_id_escaped(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    hostile = "llama\x1b]52;c;Y3VybCBldmlsfHNo\x07\u202e-8b"
    fake.on("GET", "/v1/models", json_reply({"data": [{"id": hostile}]}))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "models", "--base-url", f"{fake.url}/v1"],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    )
    os.close(follower)
    text = read_until_closed(leader).decode()
    assert proc.wait(timeout=30) == 0
    os.close(leader)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "llama\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\u202e-8b" in text
