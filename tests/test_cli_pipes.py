"""Where the command line writes: a reader that leaves early, a terminal shared with stderr."""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile

from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.helpers import read_until_closed

CHAT = "/v1/chat/completions"


def piped(args: list[str], env: dict[str, str], reader: str = "head -c 10") -> tuple[int, str]:
    """Run ``llamachat ARGS | READER`` in bash; the exit status of llamachat, and its stderr."""
    command = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "llamachat", *args])
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} 2>err.txt | {reader} >/dev/null; "
         "echo ${PIPESTATUS[0]}; cat err.txt"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tempfile.mkdtemp(),
    )  # fmt: skip
    code, _, err = result.stdout.partition("\n")
    return int(code), err


def test_ask_streaming_into_a_closed_pipe(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    words = [f"tok{i} " for i in range(3000)]
    fake.on("POST", CHAT, sse_reply(stream_events(words), delay=0.001))
    code, err = piped(
        ["ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "hi"], subprocess_env
    )
    assert code == 141 and err == ""


def test_history_list_into_a_closed_pipe(subprocess_env: dict[str, str]) -> None:
    from llamachat.store.db import Store

    with Store.open_default() as store:
        for i in range(3000):
            store.create_conversation(title=f"conversation {i}")
    code, err = piped(["history", "list", "--limit", "3000"], subprocess_env, reader="head -1")
    assert code == 141 and err == ""


def test_on_a_terminal_status_lines_start_on_their_own_line(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    import os
    import pty

    usage = {"prompt_tokens": 10, "completion_tokens": 2}
    fake.on("POST", CHAT, sse_reply(stream_events(["no newline at the end"], usage=usage)))
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hi"],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=subprocess_env,
    )
    os.close(follower)
    output = read_until_closed(leader)
    proc.wait(timeout=20)
    os.close(leader)
    text = output.decode()
    assert "no newline at the end\r\nllamachat: usage" in text
    assert not text.endswith("\r\n\r\n")  # no blank line left after the status lines
