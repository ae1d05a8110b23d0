"""``ask`` and ``history show`` draw Markdown on a terminal while the reply streams; a pipe
and ``--raw`` get the text itself. Escape sequences and Rich markup in a reply are shown as
typed either way."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time

import pytest
from rich.syntax import Syntax

from llamachat.cli_render import MarkdownPrinter, terminal_console
from llamachat.safe_markdown import markdown
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.helpers import read_until_closed

CHAT = "/v1/chat/completions"
HOSTILE = "\x1b]52;c;cHduZWQ=\x07\x1b[2J"
FIRST = "# Herons\n\nHerons wade in *shallow* water.\n\n"
REST = (
    "| bird | legs |\n| --- | --- |\n| heron | 2 |\n\n"
    "- one\n- two\n\n"
    "```python\ndef wade(depth):\n    return depth < 3\n```\n\n"
    f"Done [bold]here[/] {HOSTILE} now.\n"
)
REPLY = FIRST + REST
#: What Rich and the renderer write on their own: colours, line erasing, cursor up.
OWN = re.compile(r"\x1b\[[0-9;]*[mKA]|\r")


def pieces(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def spawn_on_a_terminal(
    env: dict[str, str], *args: str, stderr: int | None = None, term: str = "xterm-256color"
) -> tuple[subprocess.Popen[bytes], int]:
    """``llamachat ARGS`` with stdout (and stderr unless given) on a new terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower if stderr is None else stderr,
        env={**env, "TERM": term, "COLUMNS": "80", "LINES": "40"},
    )
    os.close(follower)
    return proc, leader


def read_until(fd: int, wanted: re.Pattern[str], timeout: float = 30) -> bytes:
    """What the terminal shows until ``wanted`` matches it (styling removed)."""
    output, deadline = b"", time.monotonic() + timeout
    while not wanted.search(OWN.sub("", output.decode(errors="replace"))):
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {wanted.pattern!r} in {output!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            output += os.read(fd, 4096)
    return output


def assert_inert(raw: str) -> None:
    """Only the renderer's own sequences reach the terminal; the reply's are shown escaped."""
    rest = OWN.sub("", raw)
    assert "\x1b" not in rest and "\x07" not in rest, repr(rest)
    assert "\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J" in rest


def test_ask_on_a_terminal_draws_each_block_while_the_reply_streams(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    rest = threading.Event()
    first = pieces(FIRST)
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events([*first, *pieces(REST)]), hold=rest, hold_at=len(first) + 1),
    )
    proc, leader = spawn_on_a_terminal(
        subprocess_env, "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "hi"
    )
    try:
        # The reply is held after its first paragraph: the heading and the paragraph are
        # already drawn as Markdown (emphasis in italics, no `#` or `*` left).
        early = read_until(leader, re.compile(r"Herons wade in shallow water")).decode()
        assert "\x1b[3mshallow" in early and "*shallow*" not in early
        assert "# Herons" not in OWN.sub("", early)
        rest.set()
        output = early + read_until_closed(leader).decode()
        assert proc.wait(timeout=30) == 0
    finally:
        rest.set()
        os.close(leader)
    plain = OWN.sub("", output)
    assert "```" not in plain and "| --- |" not in plain  # fences and table rows drawn
    assert "─" in plain and re.search(r"bird\s+legs", plain)  # the table's rule and header
    assert "• one" in plain
    assert re.search(r"\x1b\[[0-9;]*m\s*def\x1b\[0m", output)  # the code is highlighted
    assert "[bold]here[/]" in plain  # Rich markup in a reply is text
    assert_inert(output)
    assert "\r\x1b[2K" in output  # the open block was erased and drawn again in place


def test_ask_into_a_pipe_or_with_raw_prints_the_text(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(pieces(REPLY))))
    base = [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-m", "m"]
    piped = subprocess.run([*base, "-q", "hi"], capture_output=True, env=subprocess_env, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == REPLY.encode()  # byte for byte
    proc, leader = spawn_on_a_terminal(
        subprocess_env, "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "-q", "--raw", "hi"
    )
    output = read_until_closed(leader).decode()
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    assert "```python\r\ndef wade(depth):" in output  # the text, escaped but not drawn
    assert "\x1b" not in output.replace("\\x1b", "")


def seed_conversation() -> int:
    with Store.open_default() as store:
        conversation = store.create_conversation(title="Herons \x1b]0;PWNED\x07")
        user = store.add_message(conversation.id, "user", "Tell me about **herons**.")
        store.add_message(
            conversation.id, "assistant", REPLY, parent_id=user.id, provider="p", model="m"
        )
        return conversation.id


def test_history_show_draws_markdown_on_a_terminal_and_text_into_a_pipe(
    subprocess_env: dict[str, str],
) -> None:
    conversation_id = str(seed_conversation())
    proc, leader = spawn_on_a_terminal(subprocess_env, "history", "show", conversation_id)
    output = read_until_closed(leader).decode()
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    plain = OWN.sub("", output)
    assert "Assistant (p / m)" in plain and "You," in plain
    assert "```" not in plain and "─" in plain and "**herons**" not in plain
    assert "\x1b[1mherons" in output  # the prompt's Markdown is drawn too
    assert "Herons \\x1b]0;PWNED\\x07" in plain  # the title escaped
    assert_inert(output)
    piped = subprocess.run(
        [sys.executable, "-m", "llamachat", "history", "show", conversation_id],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert "```python\ndef wade(depth):" in piped.stdout and "\x1b[1m" not in piped.stdout
    proc, leader = spawn_on_a_terminal(subprocess_env, "history", "show", "--raw", conversation_id)
    raw = read_until_closed(leader).decode()
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    assert "```python\r\ndef wade(depth):" in raw
    # A terminal that cannot move its cursor gets the text, as with --raw.
    proc, leader = spawn_on_a_terminal(
        subprocess_env, "history", "show", conversation_id, term="dumb"
    )
    dumb = read_until_closed(leader).decode()
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    assert "```python\r\ndef wade(depth):" in dumb and "\x1b[" not in dumb.replace("\\x1b[", "")


def rendered(text: str, size: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many characters the printer hands to Rich to draw ``text`` fed ``size`` characters
    at a time, every piece drawn (no frame to wait for): the work, which the bytes written
    do not show (a tail taller than the screen is cut to it)."""
    from llamachat import cli_render

    work = [0]

    def counted_markdown(markup: str, code_theme: str) -> object:
        work[0] += len(markup)
        return markdown(markup, code_theme)

    def counted_syntax(code: str, *args: object, **kwargs: object) -> object:
        work[0] += len(code)
        return Syntax(code, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_render, "markdown", counted_markdown)
    monkeypatch.setattr(cli_render, "Syntax", counted_syntax)
    out = io.StringIO()
    console = terminal_console(out)
    console.size = (80, 40)
    printer = MarkdownPrinter(out, frame=0, console=console)
    for start in range(0, len(text), size):
        printer.feed(text[start : start + size])
    printer.finish()
    assert out.getvalue().endswith("Paragraph 99 says a few words about herons.\n")
    return work[0]


def test_drawing_work_grows_linearly_with_the_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the open block is drawn again, never what is finished: twice the reply is about
    twice the work (rendering everything so far on each piece: four times)."""
    code = "```python\n" + "".join(f"x{i} = {i} * 2  # line {i}\n" for i in range(400))
    prose = "".join(f"Paragraph {i} says a few words about herons.\n\n" for i in range(100))
    one = rendered(code + "```\n\n" + prose, 8, monkeypatch)
    two = rendered(code * 2 + "```\n\n" + prose * 2, 8, monkeypatch)
    assert 1.7 < two / one < 2.4, (one, two)


def test_status_lines_wait_below_the_drawn_reply() -> None:
    """A status line met mid-reply (usage, cost) is written once the reply is drawn whole,
    not above its last paragraph; a terminal shared by stdout and stderr."""
    from llamachat.ask_output import Console

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    shared = Tty()
    console = Console(shared, shared, quiet=False, json_mode=False, render=True)
    console.text("First paragraph.\n\nLast ")
    console.status("usage: 1 prompt + 2 completion tokens")
    console.text("paragraph.")
    console.finish_text()
    plain = OWN.sub("", shared.getvalue())
    assert plain.index("Last paragraph.") < plain.index("llamachat: usage")
    assert plain.endswith("llamachat: usage: 1 prompt + 2 completion tokens\n")
