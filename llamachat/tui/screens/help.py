"""The help screen: every key binding, by where it applies."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

#: Every binding, grouped; the README's table is generated from the same list.
KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Anywhere",
        [
            ("Ctrl+N", "new chat"),
            ("Ctrl+L", "switch provider and model (picker with fuzzy filter)"),
            ("Ctrl+B", "show or hide the sidebar (hidden at first under 90 columns)"),
            ("Ctrl+F", "search all conversations"),
            ("Ctrl+T", "export the open conversation (transcript)"),
            ("Ctrl+S", "settings"),
            ("Alt+W", "close the current tab"),
            ("Ctrl+PgDn / Ctrl+PgUp", "next / previous tab"),
            ("Ctrl+P", "command palette (every action, conversations, themes)"),
            ("F1", "this help"),
            ("Ctrl+Q", "quit (drafts are kept)"),
        ],
    ),
    (
        "Prompt",
        [
            ("Enter", "send"),
            ("Shift+Enter", "new line (terminals that report it)"),
            ("Ctrl+J or Alt+Enter", "new line (every terminal)"),
            ("Esc", "stop the reply (what arrived is kept); cancel an edit"),
            ("Ctrl+R", "regenerate the last reply (the old one stays as a branch)"),
            ("Ctrl+O", "attach an image (models that accept images)"),
            (
                "PgUp / PgDn or the wheel",
                "read back and on (the prompt keeps focus); earlier messages load at the top;"
                " at the bottom the view follows the reply again",
            ),
            ("Shift+Tab / Tab", "focus the messages, newest first, then back to the prompt"),
        ],
    ),
    (
        "A focused message",
        [
            ("c", "copy the message"),
            ("1 … 9", "copy code block N"),
            ("e", "edit this prompt and resend it as a new branch"),
            ("r", "regenerate this reply (resume it, if it is a stopped queued job)"),
            ("← / → or [ / ]", "step through sibling branches"),
            ("d", "details: a failure, the parameters of a reply"),
            ("t", "open or close the reasoning of a reply (or click its Thinking line)"),
        ],
    ),
    (
        "Sidebar",
        [
            ("Enter", "open the conversation (or the search hit, at its message)"),
            ("F2", "rename"),
            ("Delete", "delete (asks first)"),
            ("a", "archive (in the archived list: restore)"),
            ("v", "list archived conversations, or the others again"),
            ("p", "pin to the top"),
        ],
    ),
]


class HelpScreen(ModalScreen[None]):
    """All the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss(None)", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide tall"):
            yield Label(Text("llamachat keys", style="bold"))
            with VerticalScroll():
                for group, keys in KEYS:
                    table = Table(title=group, title_justify="left", show_header=False, box=None)
                    table.add_column(style="bold cyan", no_wrap=True)
                    table.add_column()
                    for key, what in keys:
                        table.add_row(key, what)
                    yield Static(table)
            yield Label(Text("Esc closes", style="dim"))

    def __init__(self) -> None:
        super().__init__(classes="dialog")

    @staticmethod
    def keys_by_group() -> list[tuple[str, list[tuple[str, str]]]]:
        """Every binding, grouped as the screen and the README show them."""
        return KEYS
