"""One message of a conversation: a quiet badge, the reasoning if any, then the Markdown body."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.geometry import Offset, Region
from textual.message import Message as TextualMessage
from textual.selection import Selection
from textual.timer import Timer

from llamachat.numbers import dollars
from llamachat.store.models import Branch, Message, MessageStatus
from llamachat.textsafety import one_line
from llamachat.tui.conversation.markdown_view import MarkdownView
from llamachat.tui.conversation.selectable import word_at
from llamachat.tui.conversation.thinking import ThinkingSection
from llamachat.tui.copying import copy_text
from llamachat.tui.when import when


def badge(message: Message, display_name: str | None = None, live: str | None = None) -> Text:
    """The quiet line above a message: who produced it, at what cost and speed, and its state
    (``live`` says what a reply that is being received is doing, in place of "streaming")."""
    text = Text(style="dim")
    sent = when(message.created_at)
    if message.role == "user":
        text.append("You", style="bold")
        text.append(f" · {sent}")
        return text
    # An imported file sets the provider, model and persona: shown as escaped, flat text.
    persona = (message.params or {}).get("persona")
    if isinstance(persona, str) and persona:
        text.append(one_line(persona, 40), style="bold italic")
        text.append(" · ")
    text.append(one_line(display_name or message.provider or "assistant", 80), style="bold")
    if message.model:
        text.append(f" · {one_line(message.model, 120)}")
    if message.completion_tokens is not None or message.prompt_tokens is not None:
        text.append(f" · {message.prompt_tokens or 0}→{message.completion_tokens or 0} tok")
    if message.cost_usd is not None:
        text.append(f" · {dollars(message.cost_usd, short_zero=True)}")
    if message.ttft is not None:
        text.append(f" · TTFT {message.ttft:.2f} s")
    if message.tokens_per_second is not None:
        text.append(f" · {message.tokens_per_second:.0f} tok/s")
    if message.finish_reason == "length":
        text.append(" · cut at max tokens", style="yellow")
    status = message.status
    if status is not MessageStatus.COMPLETE:
        colour = {"failed": "red", "interrupted": "yellow"}.get(status.value, "cyan")
        label = status.value
        if status is MessageStatus.QUEUED and message.job_status:
            label = f"queued · {one_line(message.job_status.lower(), 40)}"
        if status is MessageStatus.QUEUED and message.job_id:
            label += f" · job {one_line(message.job_id, 40)}"
        if live and status is MessageStatus.STREAMING:
            label = live
        text.append(f"  {label}", style=f"bold {colour}")
    return text


class MessageView(MarkdownView, can_focus=True):
    """A message: its badge, its Markdown, and an error line when it failed.

    It is one Line-API widget (the badge and error are blocks of the view), so a
    conversation costs one widget per message. Focus it to copy it or a code
    block, edit, regenerate or step through branches, or to select in copy mode
    (``v``: a cursor that the arrows move, extending the selection; ``c`` copies).
    """

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageView.-user { background: $boost; }
    MessageView:focus { background: $primary 10%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Copy mode's keys come first: they take the arrows while it is on (check_action).
        Binding("left", "cursor(-1, 0)", "Cursor left", show=False, id="message.cursor_left"),
        Binding("right", "cursor(1, 0)", "Cursor right", show=False, id="message.cursor_right"),
        Binding("up", "cursor(0, -1)", "Cursor up", show=False, id="message.cursor_up"),
        Binding("down", "cursor(0, 1)", "Cursor down", show=False, id="message.cursor_down"),
        Binding("home", "cursor(-9999, 0)", "Line start", show=False, id="message.line_start"),
        Binding("end", "cursor(9999, 0)", "Line end", show=False, id="message.line_end"),
        Binding("escape", "leave_copy_mode", "Leave copy mode", id="message.leave_copy_mode"),
        Binding("v", "copy_mode", "Select", id="message.copy_mode"),
        Binding("c", "copy", "Copy", id="message.copy"),
        Binding("e", "edit", "Edit", id="message.edit"),
        Binding("r", "regenerate", "Regenerate", id="message.regenerate"),
        Binding("left,[", "branch(-1)", "Prev branch", show=False, id="message.previous_branch"),
        Binding("right,]", "branch(1)", "Next branch", show=False, id="message.next_branch"),
        Binding("d", "details", "Details", show=False, id="message.details"),
        Binding("t", "toggle_thinking", "Thinking", id="message.thinking"),
        Binding("m", "show_more", "Show more", id="message.show_more"),
        *[
            Binding(str(n), f"copy_code({n})", show=False, id=f"message.copy_code_{n}")
            for n in range(1, 10)
        ],
    ]

    @dataclass
    class Action(TextualMessage):
        """A person asked for something to be done with this message."""

        view: MessageView
        action: str
        argument: int = 0

        @property
        def control(self) -> MessageView:
            return self.view

    def __init__(
        self,
        message: Message,
        *,
        display_name: str | None = None,
        branch: Branch | None = None,
        code_theme: str = "monokai",
    ) -> None:
        super().__init__(
            message.content,
            code_theme=code_theme,
            hard_breaks=message.role == "user",  # a prompt shows as it was typed
            classes=f"-{message.role}",
        )
        self.message = message
        self.display_name = display_name
        self.branch = branch
        self.thinking: ThinkingSection | None = None
        self._ticker: Timer | None = None
        self._thinking_drawn = False
        #: While no text has arrived: since when it is awaited, and a retry's (attempt,
        #: attempts, time it starts); a ticker redraws the badge every second meanwhile.
        self._waiting_since: float | None = None
        self._retry: tuple[int, int, float] | None = None
        self._wait_ticker: Timer | None = None
        self._anchor = Offset(0, 0)  # where copy mode's selection starts
        self.refresh_badge()
        if message.reasoning:
            self.thinking = ThinkingSection(message.reasoning, message.reasoning_seconds)
            self.set_section(self.thinking.blocks())

    def badge_text(self) -> Text:
        """The badge line as shown."""
        line = badge(self.message, self.display_name, self.live_state())
        if self.branch is not None and self.branch.count > 1:
            line.append(f"  ‹ {self.branch.index}/{self.branch.count} ›", style="bold")
        return line

    def error_text(self) -> Text | None:
        """The error line as shown: a failure, or why a queued job is not being waited for."""
        status, error = self.message.status, self.message.error
        if not error or status not in (MessageStatus.FAILED, MessageStatus.QUEUED):
            return None
        if status is MessageStatus.QUEUED:
            return Text(f"⏸ {one_line(error, 400)}", style="bold yellow")
        return Text(f"⚠ {one_line(error, 400)}  (press d for details)", style="bold red")

    def live_state(self) -> str | None:
        """What a reply with no text yet is doing: waiting, how long, or retrying."""
        if self._waiting_since is None:
            return None
        now = time.time()
        if self._retry is not None:
            attempt, attempts, starts = self._retry
            if starts > now:
                return f"retrying ({attempt} of {attempts}) in {math.ceil(starts - now)} s"
            return f"retrying ({attempt} of {attempts}) · {int(now - starts)} s"
        return f"waiting for first token · {int(now - self._waiting_since)} s"

    def waiting(self) -> None:
        """The request is sent: count the seconds until the first token."""
        self._waiting_since = time.time()
        if self._wait_ticker is None:
            self._wait_ticker = self.set_interval(1.0, self.refresh_badge)
        self.refresh_badge()

    def retrying(self, attempt: int, attempts: int, delay: float) -> None:
        """The request failed and is tried again (``attempt`` of ``attempts``) in ``delay`` s."""
        if self._waiting_since is None:
            self.waiting()
        self._retry = (attempt, attempts, time.time() + delay)
        self.refresh_badge()

    def _stop_waiting(self) -> None:
        if self._wait_ticker is not None:
            self._wait_ticker.stop()
            self._wait_ticker = None
        if self._waiting_since is not None:
            self._waiting_since = self._retry = None
            self.refresh_badge()

    def refresh_badge(self) -> None:
        """Redraw the badge and error line from :attr:`message`."""
        self.set_header(self.badge_text())
        self.set_footer(self.error_text())

    def update_message(self, message: Message) -> None:
        """Take the stored state of the message (status, usage, error...)."""
        self.message = message
        self.refresh_badge()
        if self.thinking is not None and message.reasoning_seconds is not None:
            self.thinking.finish(message.reasoning_seconds)
            self._draw_thinking()

    # --- reasoning ------------------------------------------------------------------

    def append_reasoning(self, text: str) -> None:
        """Streamed thoughts: the "Thinking…" line counts the seconds until the answer."""
        if not text:
            return
        if self._waiting_since is not None:
            self._stop_waiting()
        if self.thinking is None:
            self.thinking = ThinkingSection(live=True)
            self._ticker = self.set_interval(1.0, self._tick)
        self.thinking.append(text)
        if not self._thinking_drawn:
            self._thinking_drawn = True
            self.set_timer(1 / 30, self._draw_thinking)

    def append(self, text: str) -> None:
        """Streamed answer text; the first of it ends the thinking."""
        if self._ticker is not None and text:
            self._end_thinking()
        if self._waiting_since is not None and text:
            self._stop_waiting()
        super().append(text)

    def finish(self) -> None:
        """The reply is complete (or stopped): so is the thinking, and any wait."""
        self._end_thinking()
        self._stop_waiting()
        super().finish()

    def _end_thinking(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self.thinking is not None and self.thinking.live:
            self.thinking.finish()
            self._draw_thinking()

    def _tick(self) -> None:
        if self.thinking is not None:
            self.thinking.refresh_label()
            self._draw_thinking()

    def _draw_thinking(self) -> None:
        self._thinking_drawn = False
        if self.thinking is not None:
            self.set_section(self.thinking.blocks())

    def action_toggle_thinking(self) -> None:
        """Open or close the reasoning."""
        if self.thinking is not None:
            self.thinking.toggle()
            self._draw_thinking()

    def on_click(self, event: events.Click) -> None:
        """A click on the "Thinking" line opens or closes it; a double click selects a word,
        a triple click a line (not the whole message, and not every message: Textual's)."""
        offset = event.get_content_offset(self)
        if event.chain in (2, 3) and offset is not None:
            event.stop()
            event.prevent_default()
            self._select_at(offset, whole_line=event.chain == 3)
            return
        row = self._window_row
        if offset is not None and row is not None and self.block_at(offset.y) is row:
            event.stop()
            self.action_show_more()
            return
        on = self.thinking is not None and offset is not None
        if on and self.block_at(offset.y) is self.thinking.label:  # type: ignore[union-attr]
            event.stop()
            self.action_toggle_thinking()

    def _select_at(self, offset: Offset, *, whole_line: bool) -> None:
        line = self.render_line(offset.y).text.rstrip()
        index, cells = 0, 0
        while index < len(line) and cells + cell_len(line[index]) <= offset.x:
            cells += cell_len(line[index])
            index += 1
        start, end = (0, len(line)) if whole_line else word_at(line, index)
        if start < end:
            span = Selection(Offset(start, offset.y), Offset(end, offset.y))
            self.screen.selections = {self: span}

    # --- copy mode ----------------------------------------------------------------------

    def _lines(self) -> list[str]:
        return [strip.text.rstrip() for _, strips in self.drawn() for strip in strips]

    def action_copy_mode(self) -> None:
        """Put a cursor on the message's first line of text; the arrows extend a selection."""
        if self.cursor is not None:
            self.action_leave_copy_mode()
            return
        lines = self._lines()
        y = next((n for n, line in enumerate(lines) if n and line.strip()), 0)  # not the badge
        x = len(lines[y]) - len(lines[y].lstrip()) if lines else 0
        self._anchor = self.cursor = Offset(x, y)
        self._select()
        self.notify("Copy mode: the arrows extend the selection, c copies, Escape leaves.")

    def action_cursor(self, dx: int, dy: int) -> None:
        """Move copy mode's cursor, the selection following it."""
        if self.cursor is None:
            return
        lines = self._lines() or [""]
        x, y = self.cursor.x + dx, min(max(self.cursor.y + dy, 0), len(lines) - 1)
        if dx == -1 and x < 0 < y:
            y -= 1
            x = len(lines[y])
        elif dx == 1 and x > len(lines[y]) and y < len(lines) - 1:
            x, y = 0, y + 1
        self.cursor = Offset(min(max(x, 0), len(lines[y])), y)
        self._select()
        parent = self.parent
        if isinstance(parent, ScrollableContainer):
            top = self.virtual_region.y + self.styles.padding.top
            parent.scroll_to_region(Region(0, top + y, 1, 1), animate=False, immediate=True)

    def _select(self) -> None:
        assert self.cursor is not None
        start, end = Selection.from_offsets(self._anchor, self.cursor)
        assert start is not None and end is not None
        self.screen.selections = {self: Selection(start, end + Offset(1, 0))}
        self.refresh()

    def action_leave_copy_mode(self) -> None:
        """Leave copy mode, and its selection."""
        self.cursor = None
        self.screen.clear_selection()
        self.refresh()

    def on_blur(self) -> None:
        if self.cursor is not None:
            self.cursor = None
            self.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only your own prompts can be edited: ``e`` is not offered on a reply."""
        if action in ("cursor", "leave_copy_mode"):
            return self.cursor is not None
        if action == "branch":
            return self.cursor is None
        if action == "edit":
            return self.message.role == "user"
        if action == "toggle_thinking":
            return self.thinking is not None
        if action == "show_more":
            return self.hidden > 0
        return True

    def action_show_more(self) -> None:
        """Draw more of a huge message, above what is shown."""
        self.show_more()

    def action_copy(self) -> None:
        """Copy the message (what has arrived, while it streams), or copy mode's selection."""
        if self.cursor is None:
            self.post_message(self.Action(self, "copy"))
            return
        selection = self.text_selection
        selected = self.get_selection(selection) if selection is not None else None
        self.action_leave_copy_mode()
        if selected is not None:
            copy_text(self.app, selected[0], "Selection")

    def action_copy_code(self, number: int) -> None:
        self.post_message(self.Action(self, "copy_code", number))

    def action_edit(self) -> None:
        self.post_message(self.Action(self, "edit"))

    def action_regenerate(self) -> None:
        self.post_message(self.Action(self, "regenerate"))

    def action_branch(self, step: int) -> None:
        self.post_message(self.Action(self, "branch", step))

    def action_details(self) -> None:
        self.post_message(self.Action(self, "details"))
