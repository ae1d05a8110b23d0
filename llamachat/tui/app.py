"""The llamachat Textual application (placeholder until the chat UI lands)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class LlamaChatApp(App[None]):
    """The chat application."""

    TITLE = "llamachat"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "The chat screen is on its way. Meanwhile: llamachat ask --help", id="placeholder"
        )
        yield Footer()
