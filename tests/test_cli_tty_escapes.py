"""Names from a config or an imported file reach a terminal escaped: ``history list``'s
provider column, ``providers``' table and the sentences on stderr (an OSC 0 in an imported
provider name renamed the terminal window)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from llamachat import locations
from llamachat.store.db import Store
from tests.helpers import read_until_closed

OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"
OSC0 = "\x1b]0;PWNED\x07"


def on_a_terminal(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run ``llamachat ARGS`` with stdout and stderr on one terminal; its code and output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "200"},
    )
    os.close(follower)
    output = read_until_closed(leader).decode()
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, output


def inert(text: str) -> None:
    assert "\x1b]" not in text and "\x07" not in text, repr(text)


def test_history_list_shows_an_imported_provider_name_escaped(
    subprocess_env: dict[str, str],
) -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation(title="prov")
        user = store.add_message(conversation.id, "user", "q")
        store.add_message(
            conversation.id, "assistant", "a", parent_id=user.id, provider="p" + OSC52
        )
    code, text = on_a_terminal(subprocess_env, "history", "list")
    assert code == 0
    inert(text)
    assert "p\\x1b]52" in text
    piped = subprocess.run(
        [sys.executable, "-m", "llamachat", "history", "list", "--json"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert OSC52 in piped.stdout.encode().decode("unicode_escape")  # JSON stays lossless


def test_providers_and_config_sentences_are_escaped_on_a_terminal(
    subprocess_env: dict[str, str],
) -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    name = '"evil\\u001b]0;PWNED\\u0007"'
    path.write_text(
        f'default_provider = "nothere\\u001b]0;PWNED\\u0007"\n'
        f'[providers.{name}]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        f'default_model = "m\\u001b]52;c;Y3VybA==\\u0007"\n'
    )
    code, text = on_a_terminal(subprocess_env, "providers")
    inert(text)
    assert "evil\\x1b]0;PWNED\\x07" in text
    code, text = on_a_terminal(subprocess_env, "models", "-p", "missing" + OSC0)
    assert code == 2 and "There is no provider named" in text  # names the known ones too
    inert(text)
    code, text = on_a_terminal(subprocess_env, "models", "-p", "evil" + OSC0)
    assert code == 1  # its server is not there: a sentence naming it
    inert(text)
