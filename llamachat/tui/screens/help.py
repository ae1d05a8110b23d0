"""The help screen: every key binding, by where it applies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Label, Static

#: Every binding, grouped, with the id a ``[keymap]`` line names it by; the README's table is
#: generated from the same list.
KEYS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "Anywhere",
        [
            ("Ctrl+N", "new chat", "app.new_chat"),
            ("Ctrl+L", "switch provider and model (picker with fuzzy filter)", "app.pick_model"),
            (
                "Ctrl+B",
                "show or hide the sidebar (hidden at first under 90 columns)",
                "app.toggle_sidebar",
            ),
            ("Ctrl+F", "search all conversations", "app.search"),
            ("Ctrl+T", "export the open conversation (transcript)", "app.export"),
            ("Ctrl+S", "settings", "app.settings"),
            ("Alt+W", "close the current tab", "app.close_tab"),
            ("Ctrl+PgDn", "next tab (or click its title)", "app.next_tab"),
            ("Ctrl+PgUp", "previous tab", "app.previous_tab"),
            ("Ctrl+P", "command palette (every action, conversations, themes)", ""),
            ("F1", "this help", "app.help"),
            ("Ctrl+Q", "quit (drafts are kept)", ""),
        ],
    ),
    (
        "Prompt",
        [
            ("Enter", "send", "prompt.submit"),
            ("Shift+Enter", "new line (terminals that report it)", ""),
            ("Ctrl+J or Alt+Enter", "new line (every terminal)", "prompt.newline"),
            ("Esc", "stop the reply (what arrived is kept); cancel an edit", "pane.stop"),
            (
                "Ctrl+R",
                "regenerate the last reply (the old one stays as a branch)",
                "pane.regenerate",
            ),
            (
                "Ctrl+O",
                "attach a text file or an image (images: models that accept them)",
                "pane.attach",
            ),
            ("Ctrl+G", "write the prompt in $VISUAL / $EDITOR", "prompt.editor"),
            ("Up / Down", "earlier prompts (at the first / last line): this chat's, then all", ""),
            (
                "PgUp",
                "read back (the prompt keeps focus); earlier messages load at the top",
                "prompt.read_back",
            ),
            ("PgDn", "read on; at the bottom the view follows the reply again", "prompt.read_on"),
            ("End", "at the end of the prompt's text: to the newest output, following it", ""),
            ("Home", "in an empty prompt: to the first message", ""),
            (
                "Shift+Tab / Tab",
                "focus the attachment chips and the messages, then back to the prompt",
                "",
            ),
            ("Delete or Enter on a chip", "remove that attachment (or click it)", "chip.remove"),
        ],
    ),
    (
        "A focused message",
        [
            (
                "c",
                "copy the message as written (while it streams: what has arrived)",
                "message.copy",
            ),
            (
                "v",
                "copy mode: a cursor; arrows, Home and End select, c copies",
                "message.copy_mode",
            ),
            ("Esc", "leave copy mode", "message.leave_copy_mode"),
            ("←", "in copy mode: the cursor left, extending the selection", "message.cursor_left"),
            ("→", "in copy mode: the cursor right", "message.cursor_right"),
            ("↑", "in copy mode: the line above", "message.cursor_up"),
            ("↓", "in copy mode: the line below", "message.cursor_down"),
            ("Home", "in copy mode: to the line's start", "message.line_start"),
            ("End", "in copy mode: to the line's end", "message.line_end"),
            ("1 … 9", "copy code block N", "message.copy_code_1 … message.copy_code_9"),
            ("End or G", "to the newest output, following it again", "messages.newest"),
            ("Home or g", "to the first message (earlier ones are loaded)", "messages.first"),
            ("j", "the next message", "messages.next"),
            ("k", "the previous message (loading earlier ones at the top)", "messages.previous"),
            ("e", "edit this prompt and resend it as a new branch", "message.edit"),
            (
                "r",
                "regenerate this reply (resume it, if it is a stopped queued job)",
                "message.regenerate",
            ),
            ("← or [", "previous sibling branch", "message.previous_branch"),
            ("→ or ]", "next sibling branch", "message.next_branch"),
            ("d", "details: a failure, the parameters of a reply", "message.details"),
            (
                "t",
                "open or close the reasoning of a reply (or click its Thinking line)",
                "message.thinking",
            ),
            ("m", "show more of a long message", "message.show_more"),
        ],
    ),
    (
        "Mouse",
        [
            ("drag", "select text, across lines and messages", ""),
            ("double / triple click", "select a word / a line", ""),
            ("Ctrl+C", "copy the selection as written (Markdown, code without its frame)", ""),
        ],
    ),
    (
        "Sidebar",
        [
            ("Enter", "open the conversation (or the search hit, at its message)", ""),
            ("F2", "rename", "sidebar.rename"),
            ("Delete", "delete (asks first)", "sidebar.delete"),
            ("a", "archive (in the archived list: restore)", "sidebar.archive"),
            ("v", "list archived conversations, or the others again", "sidebar.archived"),
            ("p", "pin to the top", "sidebar.pin"),
        ],
    ),
    (
        "Dialogs and rows",
        [
            ("Esc", "close a dialog without acting", "dialog.cancel"),
            ("Ctrl+S", "save the settings (in Settings)", "settings.save"),
            (
                "Ctrl+T",
                "test the open provider tab's connection (in Settings)",
                "settings.test_connection",
            ),
            ("Esc, F1 or q", "close this help", "help.close"),
            ("Esc, q or d", "close a message's details", "details.close"),
            ("c", "copy a message's details", "details.copy"),
            (
                "Enter or Space",
                "load earlier messages (on the row that offers them)",
                "earlier.load",
            ),
        ],
    ),
]


def shown_keys(key: str, binding_id: str, keymap: Mapping[str, str]) -> str:
    """The key a row names: the one from the ``[keymap]`` when its binding was moved there."""
    moved = keymap.get(binding_id)
    if moved is None:
        return key
    return " or ".join(format_key(part) for part in moved.split(","))


class HelpScreen(ModalScreen[None]):
    """All the keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss(None)", "Close", id="help.close")
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide tall"):
            yield Label(Text("llamachat keys", style="bold"))
            with VerticalScroll():
                for group, keys in KEYS:
                    table = Table(title=group, title_justify="left", show_header=False, box=None)
                    table.add_column(style="bold cyan", no_wrap=True)
                    table.add_column()
                    table.add_column(style="dim")
                    for key, what, binding_id in keys:
                        table.add_row(shown_keys(key, binding_id, self.keymap), what, binding_id)
                    yield Static(table)
            yield Label(
                Text("Esc closes · the third column is the id a [keymap] line uses", style="dim")
            )

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__(classes="dialog")
        self.keymap = keymap or {}

    @staticmethod
    def keys_by_group() -> list[tuple[str, list[tuple[str, str, str]]]]:
        """Every binding, grouped as the screen and the README show them."""
        return KEYS
