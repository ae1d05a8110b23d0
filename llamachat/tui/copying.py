"""Copying that always works: through the terminal and the platform's clipboard tool.

Every copy in the app (a selection with Ctrl+C, a message with ``c``, a code block, the
prompt's own selection) comes through :meth:`Copying.copy_to_clipboard`: Textual sends
it to the terminal (OSC 52), and :mod:`llamachat.clipboard` runs the platform's tool in a
thread; the notice then says which way it went. When no tool worked, the notice says so
and offers to save the text to a file (a command of the palette).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from llamachat import clipboard

if TYPE_CHECKING:
    from textual.app import App

#: The notice when no tool took the text: the terminal may have dropped it.
NO_TOOL = (
    "{what} sent to the terminal by OSC 52 only: no clipboard tool (wl-copy, xclip, xsel, "
    "pbcopy, clip.exe) worked. If pasting gives nothing, save it to a file: "
    '"Save the last copy to a file" in the command palette (Ctrl+P).'
)


class Copying:
    """Copies for the app (mixed into it, before Textual's ``App``)."""

    #: The text copied last, for saving to a file when the clipboard could not take it.
    last_copy: str = ""
    #: How the last copy went: the tool's name, "" for OSC 52 only, None while unknown.
    last_way: str | None = None

    def _copy_app(self) -> App[None]:
        return self  # type: ignore[return-value]  # mixed into LlamaChatApp

    def copy_to_clipboard(self, text: str, what: str = "") -> None:
        """Copy ``text`` (``what`` names it in the notice: "Message", "Code block 2")."""
        super().copy_to_clipboard(text)  # type: ignore[misc]  # Textual's: OSC 52
        self.last_copy, self.last_way = text, None
        work = partial(self._copy_with_tool, text, what or f"{len(text):,} characters")
        self._copy_app().run_worker(work, thread=True, group="clipboard")

    def _copy_with_tool(self, text: str, what: str) -> None:
        tool = clipboard.copy(text)
        self._copy_app().call_from_thread(self._copied, tool, what)

    def _copied(self, tool: str | None, what: str) -> None:
        app = self._copy_app()
        self.last_way = tool or ""
        if tool:
            app.notify(f"{what} copied to the clipboard (with {tool}, and OSC 52).")
            return
        # Offered, not opened: over SSH OSC 52 may well have worked, and a dialog would
        # take the keys typed next.
        app.notify(NO_TOOL.format(what=what), severity="warning", timeout=10)

    def action_copy_selection(self) -> None:
        """Copy the text selected with the mouse or in copy mode."""
        app = self._copy_app()
        for screen in reversed(app.screen_stack):
            text = screen.get_selected_text()
            if text:
                self.copy_to_clipboard(text, "Selection")
                return
        app.notify("Nothing is selected: drag over text, or press v on a message.")

    def action_save_copy(self) -> None:
        """Offer to save the text copied last to a file."""
        app = self._copy_app()
        if not self.last_copy:
            app.notify("Nothing has been copied yet.")
            return
        app.push_screen(SaveCopy(self.last_copy))


def copy_text(app: App[object], text: str, what: str) -> None:
    """Copy ``text`` through ``app``, naming it ``what`` in the notice."""
    if isinstance(app, Copying):
        app.copy_to_clipboard(text, what)
    else:
        app.copy_to_clipboard(text)
        app.notify(f"{what} copied to the clipboard.")


class SaveCopy(ModalScreen[Path | None]):
    """Save copied text to a file, for terminals that drop OSC 52 copies."""

    DEFAULT_CSS = """
    SaveCopy { align: center middle; }
    SaveCopy > Vertical { width: 72; height: auto; padding: 1 2; background: $panel;
        border: round $warning; }
    SaveCopy Label { width: 100%; margin-bottom: 1; }
    SaveCopy Horizontal { height: auto; margin-top: 1; }
    SaveCopy Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Not now", id="dialog.cancel")
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"The clipboard may not have taken the {len(self.text):,} characters "
                "copied. Save them to a file in this folder?"
            )
            yield Input(str(Path.home()), id="folder")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Not now", id="cancel")

    def on_input_submitted(self) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _save(self) -> None:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        try:
            path = clipboard.save(self.text, folder)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            self.app.notify(f"Could not save to {folder}: {reason}.", severity="error")
            return
        self.app.notify(f"Saved to {path}.")
        self.dismiss(path)
