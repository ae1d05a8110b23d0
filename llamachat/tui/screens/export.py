"""Export the open conversation: pick a format and a path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from llamachat.locations import unused_path
from llamachat.store.db import Store
from llamachat.textsafety import one_line

FORMATS = {"md": "Markdown", "html": "HTML", "json": "JSON (re-importable)", "txt": "Plain text"}


def default_path(title: str, fmt: str) -> Path:
    """A file name from the title, in the current directory, not taken by another file."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.lower()).strip("-")
    return unused_path(Path.cwd() / f"{(stem or 'conversation')[:40]}.{fmt}")


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Returns ``(format, path)``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog")
        self.conversation_title = title
        self.fmt = "md"
        self._replace_ok: Path | None = None  # asked once whether to replace this file

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"Export “{one_line(self.conversation_title, 80)}”", style="bold"))
            with RadioSet(id="formats"):
                for key, label in FORMATS.items():
                    yield RadioButton(label, value=key == "md", name=key)
            yield Label("Save as")
            yield Input(str(default_path(self.conversation_title, "md")), id="path")
            yield Label("", id="warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        fmt = event.pressed.name or "md"
        path_input = self.query_one("#path", Input)
        current = Path(path_input.value)
        path_input.value = str(unused_path(current.with_suffix(f".{fmt}")))
        self.fmt = fmt

    def on_input_changed(self, event: Input.Changed) -> None:
        """Another path (typed, or another format's): the replace question no longer holds."""
        if self._replace_ok is not None and Path(event.value).expanduser() != self._replace_ok:
            self._replace_ok = None
            self.query_one("#warning", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._done()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self._done()
        else:
            self.dismiss(None)

    def _done(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if not value:
            return
        path = Path(value).expanduser()
        if path.exists() and path != self._replace_ok:
            self._replace_ok = path
            warning = self.query_one("#warning", Label)
            warning.update(Text(f"{path.name} exists: Export again replaces it.", style="bold"))
            return
        self.dismiss((self.fmt, path))


def export_conversation(app: App[Any], store: Store, conversation_id: int, title: str) -> None:
    """Ask where and how to export a conversation, then write it and say where it went."""

    def chosen(choice: tuple[str, Path] | None) -> None:
        if choice is not None:
            write_chosen(app, store, conversation_id, *choice)

    app.push_screen(ExportScreen(title), chosen)


def write_chosen(app: App[Any], store: Store, conversation_id: int, fmt: str, path: Path) -> None:
    """Write the export the dialog asked for (it asked before replacing a file)."""
    from llamachat.export_file import ExportRefused, write_export

    try:
        write_export(store, conversation_id, fmt, path, replace=True)
    except ExportRefused as refused:
        app.notify(str(refused), severity="error")
        return
    app.notify(f"Exported to {path}")
