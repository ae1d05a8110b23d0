"""The status bar: provider and model, queue and retry state, credits, money and tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from llamachat.context.meter import WARN_AT
from llamachat.numbers import dollars
from llamachat.textsafety import one_line


@dataclass
class PaneStatus:
    """What the status bar shows for one conversation pane."""

    provider: str = ""
    model: str = ""
    #: The persona the conversation answers as ("": none).
    persona: str = ""
    streaming: bool = False
    job_id: str | None = None
    job_status: str | None = None
    job_since: float | None = None
    next_poll_at: float | None = None
    poll_interval: float | None = None
    retry_at: float | None = None
    retry_attempt: str = ""
    #: Since when the first token of the reply is awaited (``None`` once text arrives).
    waiting_since: float | None = None
    credits: float | None = None
    conversation_cost: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    #: The next request's size against the model's window (see llamachat.context.meter).
    context_used: int | None = None
    context_window: int | None = None
    context_estimated: bool = True


class StatusBar(Static):
    """One line at the bottom, refreshed every half second while something is waiting."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="status-bar")
        self.status = PaneStatus()
        self.session_cost = 0.0

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)

    def show(self, status: PaneStatus, session_cost: float) -> None:
        """Show ``status`` (the active pane's) and the session's spend."""
        self.status = status
        self.session_cost = session_cost
        # One line whatever it says (height 1, the screen's width): no layout of the
        # screen for a new text (the start shows it three times before its first paint).
        self.update(self.render_status(), layout=False)

    def _tick(self) -> None:
        s = self.status
        if s.job_id or s.retry_at or s.streaming:
            self.update(self.render_status(), layout=False)  # see show

    def render_status(self) -> Text:
        """The bar's text."""
        s = self.status
        now = time.time()
        text = Text()
        if s.persona:
            text.append(f"{one_line(s.persona, 40)} · ", style="bold italic")
        text.append(one_line(s.provider or "no provider", 80), style="bold")
        if s.model:
            text.append(f" · {one_line(s.model, 120)}")
        if s.context_used is not None:
            text.append("  ")
            text.append_text(context_meter(s))
        retrying = bool(s.retry_at and s.retry_at > now)
        if s.retry_at and retrying:
            text.append(
                f"  ⟳ retry {s.retry_attempt} in {s.retry_at - now:.0f} s", style="bold yellow"
            )
        if s.job_id:
            waited = now - s.job_since if s.job_since else 0
            state = one_line((s.job_status or "queued").lower(), 40)
            text.append(f"  queue: {state}", style="bold cyan")
            text.append(f" job {one_line(s.job_id[:12])} · {waited:.0f} s")
            next_poll = s.next_poll_at
            if next_poll and s.poll_interval and next_poll <= now:
                # Providers report a change of state, not every poll: count on to the next one.
                next_poll += ((now - next_poll) // s.poll_interval + 1) * s.poll_interval
            if next_poll and next_poll > now:
                text.append(f" · next poll {next_poll - now:.0f} s")
        elif retrying:
            pass  # said above: the reply is not streaming yet
        elif s.streaming and s.waiting_since is not None and s.retry_attempt:
            text.append(f"  ⟳ retrying {s.retry_attempt}", style="bold yellow")
        elif s.streaming and s.waiting_since is not None:
            waited = max(0, int(now - s.waiting_since))
            text.append(f"  … waiting for first token · {waited} s", style="bold cyan")
        elif s.streaming:
            text.append("  ● streaming", style="bold green")
        if s.credits is not None:
            text.append(f"  credits {money_shown(s.credits)}")
        here, session = money_shown(s.conversation_cost), money_shown(self.session_cost)
        text.append(f"  spent {here} here · {session} session")
        text.append(f"  tokens {s.tokens_in:,} in · {s.tokens_out:,} out")
        return text


def _tokens(count: int) -> str:
    """``950``, ``3.1k``, ``131k``: a token count short enough for the bar."""
    if count < 1000:
        return str(count)
    return f"{count / 1000:.1f}k" if count < 10_000 else f"{count / 1000:.0f}k"


def context_meter(s: PaneStatus) -> Text:
    """``ctx ~3.1k/8.2k 38%``: the next request against the window; ``~`` marks an
    estimate, and past 80% it turns the warning colour."""
    used = f"{'~' if s.context_estimated else ''}{_tokens(s.context_used or 0)}"
    if not s.context_window:
        return Text(f"ctx {used}")
    share = (s.context_used or 0) / s.context_window
    style = "bold yellow" if share > WARN_AT else ""
    return Text(f"ctx {used}/{_tokens(s.context_window)} {share:.0%}", style=style)


def money_shown(value: float) -> str:
    """Money in the status bar (nothing spent reads "$0")."""
    return dollars(value, short_zero=True)
