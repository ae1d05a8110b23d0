"""The "N earlier messages" row at the top of a long conversation: click it, or focus it
and press Enter, to load the next batch of older messages (as scrolling up does)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message as TextualMessage
from textual.widgets import Static


class EarlierRow(Static, can_focus=True):
    """Says how many older messages are not shown yet; pressing it shows a batch more."""

    DEFAULT_CSS = """
    EarlierRow { color: $text-muted; text-align: center; height: 1; }
    EarlierRow:hover { color: $text; }
    EarlierRow:focus { background: $primary 10%; color: $text; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "load", "Load earlier", show=False, id="earlier.load"),
    ]

    @dataclass
    class Pressed(TextualMessage):
        """The person asked for older messages."""

        row: EarlierRow

        @property
        def control(self) -> EarlierRow:
            return self.row

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_load()

    def action_load(self) -> None:
        """Ask the pane for the next batch of older messages."""
        self.post_message(self.Pressed(self))
