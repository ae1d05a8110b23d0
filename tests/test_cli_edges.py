"""Edges of the command line an adversarial round found: absurd numbers, closed standard
streams, endless stdin, and Ctrl+C during a large import. The real command in a subprocess,
against a real SQLite file in the test's data dir.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from llamachat import locations
from llamachat.ask_output import MAX_STDIN_BYTES
from llamachat.store.db import Store

LLAMACHAT = [sys.executable, "-m", "llamachat"]


def run(
    *args: str, env: dict[str, str], stdin: bytes = b"", closed: str = ""
) -> subprocess.CompletedProcess[str]:
    """``llamachat ARGS``; ``closed`` is a shell redirection such as ``>&-`` (fd 1 closed)."""
    result = subprocess.run(
        ["sh", "-c", f'exec "$@" {closed}', "sh", *LLAMACHAT, *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def conversations() -> int:
    if not locations.database_path().exists():
        return 0
    with sqlite3.connect(locations.database_path()) as db:
        return int(db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])


def seed() -> None:
    with Store.open_default() as store:
        conversation = store.create_conversation(title="Herons")
        store.add_message(conversation.id, "user", "Tell me about herons")


@pytest.mark.parametrize(
    "args",
    [
        ["history", "list", "--limit", "9223372036854775808"],
        ["history", "search", "herons", "--limit", "9223372036854775808"],
        ["history", "list", "--limit", "1000001"],
        ["history", "list", "--limit", "9" * 400],
    ],
)
def test_a_limit_beyond_a_million_is_one_sentence(
    args: list[str], subprocess_env: dict[str, str]
) -> None:
    seed()
    result = run(*args, env=subprocess_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "--limit: must be at most 1,000,000" in result.stderr
    assert len(result.stderr.splitlines()[-1]) < 200  # a 400-digit number is not written out
    assert run("history", "list", "--limit", "1000000", env=subprocess_env).returncode == 0


@pytest.mark.parametrize("size", ["0", "-1", "--max-size=-5"])
def test_import_max_size_must_be_at_least_one(
    size: str, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    path = tmp_path / "chat.json"
    path.write_text(json.dumps([{"role": "user", "content": "hello"}]))
    flags = [size] if size.startswith("--") else ["--max-size", size]
    result = run("import", str(path), *flags, env=subprocess_env)
    assert result.returncode == 2 and "--max-size: must be at least 1" in result.stderr
    assert conversations() == 0
    assert run("import", str(path), "--max-size", "1", env=subprocess_env).returncode == 0


@pytest.mark.parametrize("args", [["ask", "-p", "demo", "hi"], ["history", "list"]])
def test_with_stdout_closed_it_says_so_and_does_nothing(
    args: list[str], subprocess_env: dict[str, str]
) -> None:
    seed()
    result = run(*args, env=subprocess_env, closed=">&-")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "standard output is closed" in result.stderr
    assert conversations() == 1  # ask stored nothing


def test_with_stderr_or_stdin_closed_the_command_still_works(
    subprocess_env: dict[str, str],
) -> None:
    seed()
    no_stderr = run("ask", "-p", "demo", "hi", env=subprocess_env, closed="2>&-")
    assert no_stderr.returncode == 0 and "demo provider" in no_stderr.stdout
    listing = run("history", "list", env=subprocess_env, closed="2>&-")
    assert listing.returncode == 0 and "Herons" in listing.stdout
    no_stdin = run("ask", "-", env=subprocess_env, closed="<&-")
    assert no_stdin.returncode == 2 and "no prompt" in no_stdin.stderr
    assert "Traceback" not in no_stdin.stderr


def test_stdin_beyond_the_cap_is_refused_and_nothing_is_sent(
    subprocess_env: dict[str, str],
) -> None:
    result = run(
        "ask", "-q", "-p", "demo", "-", env=subprocess_env, stdin=b"a" * (MAX_STDIN_BYTES + 1)
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "larger than 8 MB" in result.stderr
    assert result.stdout == "" and conversations() == 0
    fits = run("ask", "-q", "-p", "demo", "-", env=subprocess_env, stdin=b"a" * MAX_STDIN_BYTES)
    assert fits.returncode == 0 and conversations() == 1


@pytest.mark.parametrize("ignored", [True, False], ids=["started-ignoring-sigint", "default"])
def test_ctrl_c_during_a_large_import_rolls_it_back_and_exits_130(
    ignored: bool, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    messages = [
        {"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}"}
        for n in range(100_000)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(messages))
    # A shell starts a background job (``llamachat import big.json &``) with SIGINT ignored.
    trap = 'trap "" INT; ' if ignored else ""
    proc = subprocess.Popen(
        ["sh", "-c", f'{trap}exec "$@"', "sh", *LLAMACHAT, "import", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline().decode()  # written after the first batch, in the transaction
    assert first.startswith("Importing: 10,000 of 100,000"), first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert out == b"" and err.decode().splitlines()[-1] == (
        "llamachat: Import interrupted: nothing was imported."
    )
    assert "Traceback" not in err.decode() and conversations() == 0
    with sqlite3.connect(locations.database_path()) as db:
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
