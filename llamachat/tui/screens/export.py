"""Export the open conversation: pick a format and a path.

The dialog starts in the folder the last export went to (kept for the next start in
:mod:`llamachat.ui_state`), and a file name's extension picks the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

from llamachat import ui_state
from llamachat.locations import unused_path
from llamachat.store.db import Store
from llamachat.textsafety import one_line

FORMATS = {"md": "Markdown", "html": "HTML", "json": "JSON (re-importable)", "txt": "Plain text"}


#: Extensions that name a format (besides the formats' own).
EXTENSIONS = {"markdown": "md", "htm": "html", "text": "txt"}


def format_of(path: str | Path) -> str | None:
    """The export format a file name's extension names (``None``: none it names)."""
    suffix = Path(path).suffix.lower().removeprefix(".")
    return suffix if suffix in FORMATS else EXTENSIONS.get(suffix)


def default_path(title: str, fmt: str, folder: Path | None = None) -> Path:
    """A file name from the title, in ``folder`` (else the current directory), not taken
    by another file."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in title.lower()).strip("-")
    return unused_path((folder or Path.cwd()) / f"{(stem or 'conversation')[:40]}.{fmt}")


def last_folder() -> Path | None:
    """The folder the last export went to, if it is still there."""
    kept = ui_state.load().export_dir
    folder = Path(kept) if kept else None
    return folder if folder is not None and folder.is_dir() else None


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Returns ``(format, path)``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, title: str, folder: Path | None = None) -> None:
        super().__init__(classes="dialog")
        self.conversation_title = title
        self.folder = folder
        self.fmt = "md"
        self._replace_ok: Path | None = None  # asked once whether to replace this file
        #: Formats pressed to match a typed extension: not a choice to rename the file by.
        self._pressed_for_path: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(f"Export “{one_line(self.conversation_title, 80)}”", style="bold"))
            with RadioSet(id="formats"):
                for key, label in FORMATS.items():
                    yield RadioButton(label, value=key == "md", name=key)
            yield Label("Save as")
            yield Input(str(default_path(self.conversation_title, "md", self.folder)), id="path")
            yield Label("", id="warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        fmt = event.pressed.name or "md"
        if fmt in self._pressed_for_path:  # the extension typed chose it: nothing to rename
            self._pressed_for_path.remove(fmt)
            return
        path_input = self.query_one("#path", Input)
        current = Path(path_input.value)
        path_input.value = str(unused_path(current.with_suffix(f".{fmt}")))
        self.fmt = fmt

    def on_input_changed(self, event: Input.Changed) -> None:
        """Another path (typed, or another format's): the replace question no longer holds,
        and an extension that names a format chooses it."""
        fmt = format_of(event.value.strip())
        if fmt is not None and fmt != self.fmt:
            self.fmt = fmt
            for button in self.query(RadioButton):
                if button.name == fmt and not button.value:
                    self._pressed_for_path.append(fmt)
                    button.value = True
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
        self.dismiss((format_of(path) or self.fmt, path))


def export_conversation(app: App[Any], store: Store, conversation_id: int, title: str) -> None:
    """Ask where and how to export a conversation, then write it and say where it went."""

    def chosen(choice: tuple[str, Path] | None) -> None:
        if choice is not None:
            write_chosen(app, store, conversation_id, *choice)

    app.push_screen(ExportScreen(title, last_folder()), chosen)


def write_chosen(app: App[Any], store: Store, conversation_id: int, fmt: str, path: Path) -> None:
    """Write the export the dialog asked for (it asked before replacing a file). The rows are
    read here; drawing the file (code highlighting takes seconds on a long conversation) and
    writing it happen in a thread, so the screen keeps moving meanwhile."""
    from llamachat.export_file import ExportRefused, write_text
    from llamachat.store.export import export

    conversation = store.load(conversation_id)

    def write() -> None:
        try:
            write_text(export(conversation, fmt), path, replace=True)
        except ExportRefused as refused:
            app.call_from_thread(app.notify, str(refused), severity="error")
            return
        ui_state.update(export_dir=str(path.absolute().parent))  # the next export starts there
        app.call_from_thread(app.notify, f"Exported to {path}")

    app.run_worker(write, thread=True, group="export", exit_on_error=False)
