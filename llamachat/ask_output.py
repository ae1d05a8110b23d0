"""What ``llamachat ask`` reads and writes: the prompt in, the reply and status lines out,
and the one JSON object of ``--json``.

On a terminal the reply is drawn as Markdown while it streams (:mod:`llamachat.cli_render`;
``--raw`` prints the text instead); untrusted text is escaped there either way (an OSC 52
sequence could write the clipboard). Into a pipe or file it passes through unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from llamachat.cli_render import MarkdownPrinter


@dataclass
class AskOutcome:
    """What arrived, kept outside the event loop so an interrupt cannot lose it."""

    provider: str = ""
    model: str = ""
    parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    cost: float | None = None
    credits: float | None = None
    job_id: str | None = None
    error: str | None = None
    conversation_id: int | None = None
    #: How full the context window is after the reply: window, used, estimated.
    context: dict[str, Any] | None = None

    @property
    def content(self) -> str:
        """The reply text so far."""
        return "".join(self.parts)

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object."""
        data: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "content": self.content,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
            "cost": self.cost,
            "credits": self.credits,
            "job_id": self.job_id,
            "conversation_id": self.conversation_id,
            "context": self.context,
        }
        if self.reasoning_parts:
            data["reasoning"] = "".join(self.reasoning_parts)
        if self.error:
            data["error"] = self.error
        return data


class OutputClosed(Exception):
    """stdout was closed by its reader (``llamachat ask ... | head``)."""


class Console:
    """Where ``ask`` writes: reply text to ``out``, one-line status to ``err``."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        *,
        quiet: bool,
        json_mode: bool,
        reasoning: bool = False,
        render: bool = False,
    ) -> None:
        from llamachat.textsafety import escape_controls

        self.out, self.err = out, err
        self.quiet, self.json_mode = quiet, json_mode
        #: Print the reasoning on stderr as it arrives (``--reasoning``).
        self.show_reasoning = reasoning
        self._reasoning_open = False
        self._escape_out = out.isatty()
        self._escape_err = err.isatty()
        self._escape = escape_controls
        self.ends_with_newline = True
        #: Draws the reply as Markdown: ``render`` asked for, and stdout is a terminal.
        self._printer: MarkdownPrinter | None = None
        self._deferred: list[str] = []  # status lines held while the reply is drawn
        if render and self._escape_out and not json_mode:
            from llamachat.cli_render import MarkdownPrinter, drawable

            self._printer = MarkdownPrinter(out) if drawable(out) else None

    def text(self, piece: str) -> None:
        """Write a piece of the reply as it arrives; ``OutputClosed`` if the reader left."""
        if self.json_mode or not piece:
            return
        self.end_reasoning()
        if self._printer is not None:
            try:
                self._printer.feed(piece)
            except OSError:  # the terminal went away
                raise OutputClosed from None
            return
        try:
            self.out.write(self._escape(piece) if self._escape_out else piece)
            self.out.flush()
        except BrokenPipeError:
            raise OutputClosed from None
        self.ends_with_newline = piece.endswith("\n")

    def reasoning(self, piece: str) -> None:
        """Write a piece of the reasoning to stderr, with ``--reasoning`` only."""
        if not self.show_reasoning or not piece:
            return
        if self._printer is not None and self._shares_terminal():
            self._printer.hide()  # drawn again below the reasoning with the next text
        self.err.write(self._escape(piece) if self._escape_err else piece)
        self.err.flush()
        self._reasoning_open = not piece.endswith("\n")

    def end_reasoning(self) -> None:
        """End the reasoning's last line on stderr before anything else is written."""
        if self._reasoning_open:
            self._reasoning_open = False
            self.err.write("\n")
            self.err.flush()

    def _shares_terminal(self) -> bool:
        """Whether the Markdown tail is drawn on the terminal stderr writes to."""
        return self._printer is not None and self._escape_err

    def finish_text(self) -> None:
        """End the reply: what is still open is drawn for good, and the line is ended."""
        if self._printer is not None:
            with contextlib.suppress(OSError):
                self._printer.finish()
            deferred, self._deferred = self._deferred, []
            for line in deferred:
                self.error(line)
            return
        if not self.json_mode and not self.ends_with_newline:
            self.ends_with_newline = True
            with contextlib.suppress(BrokenPipeError):
                self.out.write("\n")
                self.out.flush()

    def status(self, line: str) -> None:
        """A status line on stderr, unless ``--quiet``."""
        if not self.quiet:
            self.error(line)

    def error(self, line: str) -> None:
        """A line on stderr, always (on a terminal, after the reply's line is ended)."""
        from llamachat.textsafety import one_line

        printer = self._printer if self._shares_terminal() else None
        if printer is not None and printer.started and not printer.finished:
            # Said below the reply once it is drawn whole, not above its last paragraph.
            self._deferred.append(line)
            return
        if printer is None and self._escape_out and self._escape_err:  # not mid-line
            self.finish_text()
        self.end_reasoning()

        text = one_line(line, 2000) if self._escape_err else " ".join(line.split())
        self.err.write(f"llamachat: {text}\n")
        self.err.flush()


def silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit flush cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


#: The most ``ask`` reads from stdin (``ask - < /dev/zero`` once grew without bound).
MAX_STDIN_BYTES = 8 * 1024 * 1024


class PromptTooLarge(ValueError):
    """More than :data:`MAX_STDIN_BYTES` arrived on stdin."""


def read_prompt(words: list[str]) -> str | None:
    """The prompt from the arguments, or stdin when they are absent or ``-``.

    Bytes on stdin that are not UTF-8 (a binary file piped in) become U+FFFD rather
    than failing later in the store or the request (``cli`` does the same for arguments).
    At most :data:`MAX_STDIN_BYTES` are read: more is :class:`PromptTooLarge`.
    """
    if words and words != ["-"]:
        return " ".join(words)
    if sys.stdin.isatty() and not words:
        return None
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise PromptTooLarge(
            f"the prompt on stdin is larger than {MAX_STDIN_BYTES // 1024**2} MB, the most "
            "ask reads: nothing was sent."
        )
    return data.decode("utf-8", errors="replace")


def describe_event(event: Any, outcome: AskOutcome, console: Console, provider_name: str) -> None:
    """Show one provider event: text to stdout, everything else as a status line."""
    from llamachat.numbers import dollars
    from llamachat.providers.base import (
        Credits,
        Finished,
        JobQueued,
        JobStatus,
        ReasoningDelta,
        Retrying,
        TextDelta,
        Usage,
    )

    if type(event) is TextDelta:
        outcome.parts.append(event.text)
        console.text(event.text)
    elif type(event) is ReasoningDelta:
        outcome.reasoning_parts.append(event.text)
        console.reasoning(event.text)
    elif isinstance(event, JobQueued):
        outcome.job_id = event.job_id
        console.status(f"queued as job {event.job_id} on {provider_name}")
    elif isinstance(event, JobStatus):
        console.status(f"job {event.job_id}: {event.status} after {event.waited:.0f} s")
    elif isinstance(event, Retrying):
        console.status(
            f"retry {event.attempt}/{event.max_attempts} in {event.delay:.1f} s: {event.reason}"
        )
    elif isinstance(event, Usage):
        outcome.usage = {
            "prompt_tokens": event.prompt_tokens,
            "completion_tokens": event.completion_tokens,
        }
        if event.prompt_tokens is not None or event.completion_tokens is not None:
            console.status(
                f"usage: {event.prompt_tokens or 0} prompt + "
                f"{event.completion_tokens or 0} completion tokens"
            )
        if event.cost_usd is not None:
            outcome.cost = event.cost_usd
            approx = "about " if event.cost_is_estimate else ""
            console.status(f"cost: {approx}{dollars(event.cost_usd)}")
    elif isinstance(event, Credits):
        outcome.credits = event.remaining_usd
        console.status(f"credits: {dollars(event.remaining_usd)} remaining")
    elif isinstance(event, Finished):
        outcome.finish_reason = event.finish_reason
        if event.finish_reason == "length":
            console.status("the reply was cut off by the token limit (finish_reason: length)")
