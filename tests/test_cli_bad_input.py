"""Bad input on the command line: one sentence and an exit code, never a traceback or a loss.

Issue 10 sections 4.1, 5 (``--send-key``) and 6: ``history delete`` with no terminal,
an EOF at its question, ids SQLite cannot hold, malformed ``--base-url`` values, a
provider's key and a ``--base-url`` on another host, Ctrl+C while ``ask -`` reads
stdin, and bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from llamachat.config_write import write_config
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events

CHAT = "/v1/chat/completions"
KEY = "di-secret-key-0123456789abcdef"


def run(*args: str, env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


def seed_conversation() -> int:
    with Store.open_default() as store:
        conversation = store.create_conversation(title="Herons")
        store.add_message(conversation.id, "user", "Tell me about herons")
        return conversation.id


def conversation_ids() -> list[int]:
    with Store.open_default() as store:
        return [c.id for c in store.list_conversations()]


def test_delete_with_no_terminal_refuses_without_yes(subprocess_env: dict[str, str]) -> None:
    cid = seed_conversation()
    result = run("history", "delete", str(cid), env=subprocess_env, stdin=b"n\n")
    assert result.returncode == 2
    assert "add --yes" in one_sentence(result)
    assert conversation_ids() == [cid]  # `echo n | llamachat history delete 6` deleted it
    assert run("history", "delete", str(cid), "--yes", env=subprocess_env).returncode == 0
    assert conversation_ids() == []


def ask_on_a_terminal(env: dict[str, str], cid: int, keys: bytes) -> tuple[int, str]:
    """``history delete`` with a terminal on stdin, answering with ``keys``."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "history", "delete", str(cid)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(follower)
    output = b""
    while b"[y/N]" not in output:  # wait for the question, not for a clock
        data = os.read(leader, 4096)
        assert data, output
        output += data
    os.write(leader, keys)
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
    code = proc.wait(timeout=30)
    os.close(leader)
    return code, output.decode(errors="replace")


@pytest.mark.parametrize("keys", [b"\x04", b"n\r", b"\r"], ids=["ctrl-d", "no", "enter"])
def test_anything_but_yes_at_the_question_keeps_it(
    subprocess_env: dict[str, str], keys: bytes
) -> None:
    cid = seed_conversation()
    code, output = ask_on_a_terminal(subprocess_env, cid, keys)
    assert code == 0 and "Nothing deleted." in output, output
    assert "Traceback" not in output
    assert conversation_ids() == [cid]


def test_yes_at_the_question_deletes(subprocess_env: dict[str, str]) -> None:
    cid = seed_conversation()
    code, output = ask_on_a_terminal(subprocess_env, cid, b"y\r")
    assert code == 0 and f"Deleted conversation {cid}" in output
    assert conversation_ids() == []


HUGE = "99999999999999999999"  # past SQLite's 2**63 - 1


@pytest.mark.parametrize(
    "args",
    [
        ("history", "show", HUGE),
        ("history", "delete", HUGE, "--yes"),
        ("export", HUGE),
        ("ask", "--continue", HUGE, "hello"),
        ("history", "show", "0"),
        ("history", "show", "-5"),
    ],
    ids=["show", "delete", "export", "continue", "zero", "negative"],
)
def test_ids_sqlite_cannot_hold_are_one_sentence(
    subprocess_env: dict[str, str], args: tuple[str, ...]
) -> None:
    seed_conversation()
    result = run(*args, env=subprocess_env)
    assert result.returncode == 2
    assert "no conversation has the id" in one_sentence(result)
    assert len(conversation_ids()) == 1


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://[::1", "IPv6 address goes in [brackets]"),
        ("http://127.0.0.1:99999/v1", "port outside 1 to 65535"),
        ("http://127.0.0.1:0/v1", "port outside 1 to 65535"),
        ("http://127.0.0.1:port/v1", "port is not a number"),
        ("http://127.0.0.1\x01:8/v1", "control character"),
        ("ftp://127.0.0.1/v1", "must start with http:// or https://"),
        ("http:///v1", "has no host name"),
    ],
)
@pytest.mark.parametrize("command", ["ask", "models"])
def test_malformed_base_url_is_one_sentence(
    subprocess_env: dict[str, str], url: str, phrase: str, command: str
) -> None:
    extra = ["-m", "m", "hello"] if command == "ask" else []
    result = run(command, "--base-url", url, *extra, env=subprocess_env)
    assert result.returncode == 2, result.stderr
    stderr = one_sentence(result)
    assert phrase in stderr and stderr.count("\n") == 1, stderr
    assert "\x01" not in stderr
    assert conversation_ids() == []


@pytest.fixture
def keyed_env(fake: FakeServer, subprocess_env: dict[str, str]) -> dict[str, str]:
    """A config whose `deepinfra` provider has a key and lives on the `fake` server."""
    write_config(
        {"providers": {"deepinfra": {"base_url": f"{fake.url}/v1/openai", "api_key": KEY}}}
    )
    return subprocess_env


def test_key_is_not_sent_to_a_base_url_on_another_host(
    keyed_env: dict[str, str], fake: FakeServer, other: FakeServer
) -> None:
    other.on("POST", CHAT, sse_reply(stream_events(["Hi."])))
    args = ("ask", "-p", "deepinfra", "--base-url", f"{other.url}/v1", "-m", "m", "hello")
    refused = run(*args, env=keyed_env)
    assert refused.returncode == 2
    assert "add --send-key" in one_sentence(refused) and KEY not in refused.stderr
    assert other.received() == []  # nothing sent at all
    sent = run(*args[:-1], "--send-key", "-q", "hello", env=keyed_env)
    assert sent.returncode == 0 and sent.stdout == "Hi.\n", sent.stderr
    assert other.received()[0].headers["authorization"] == f"Bearer {KEY}"


def test_another_path_on_the_providers_own_host_keeps_its_key(
    keyed_env: dict[str, str], fake: FakeServer
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Hi."])))
    args = ("ask", "-p", "deepinfra", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "hello")
    result = run(*args, env=keyed_env)
    assert result.returncode == 0, result.stderr
    assert fake.received()[0].headers["authorization"] == f"Bearer {KEY}"


def test_models_withholds_the_key_from_another_host_too(
    keyed_env: dict[str, str], other: FakeServer
) -> None:
    result = run("models", "-p", "deepinfra", "--base-url", f"{other.url}/v1", env=keyed_env)
    assert result.returncode == 2 and "add --send-key" in one_sentence(result)
    assert other.received() == []


def test_ctrl_c_while_ask_reads_stdin_exits_130(subprocess_env: dict[str, str]) -> None:
    reader, writer = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "ask", "-"],
        stdin=reader,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    )
    os.close(reader)
    os.write(writer, b"half a prom")  # the prompt is still being piped in
    # Wait until ask is blocked reading its stdin (fd 0), not for a clock.
    deadline = time.monotonic() + 30
    while not _reading_stdin(proc.pid):
        assert time.monotonic() < deadline, "ask never started reading stdin"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    os.close(writer)
    assert proc.returncode == 130
    text = stderr.decode()
    assert "Traceback" not in text and "nothing was sent" in text


def _reading_stdin(pid: int) -> bool:
    """Whether ``pid`` sits in read(0, ...): syscall 0 on x86-64, 63 on arm64."""
    with open(f"/proc/{pid}/syscall") as syscall:
        fields = syscall.read().split()
    return len(fields) > 1 and fields[0] in ("0", "63") and fields[1] == "0x0"


def test_bytes_that_are_not_utf8_become_replacement_characters(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Ok."])))
    base = ["ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q"]
    piped = run(*base, "-", env=subprocess_env, stdin=b"caf\xe9 \xff\xfe")
    assert piped.returncode == 0 and "Traceback" not in piped.stderr, piped.stderr
    command = [sys.executable, "-m", "llamachat", *base, "-s", "sys", "hi"]
    raw = [os.fsencode(word) for word in command]
    raw[-2] = b"sys \xff"  # an argument holding a byte that is not UTF-8
    argument = subprocess.run(raw, capture_output=True, env=subprocess_env, timeout=60)
    assert argument.returncode == 0, argument.stderr
    with Store.open_default() as store:
        texts = [m.content for c in store.list_conversations() for m in store.messages(c.id)]
    assert "caf\ufffd \ufffd\ufffd" in texts
    sent = json.loads(fake.received()[-1].body)
    assert sent["messages"][0] == {"role": "system", "content": "sys \ufffd"}
