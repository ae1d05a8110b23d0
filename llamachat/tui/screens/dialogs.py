"""Small typed modals: confirm, ask for a line of text, show details."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from llamachat.textsafety import escape_controls, escape_label, one_line

if TYPE_CHECKING:
    from textual.app import App

    from llamachat.store.models import Message


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, question: str, confirm: str = "Delete") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(escape_label(self.question)))
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ChoiceScreen(ModalScreen[str | None]):
    """A question with a few answers; the first is focused, Esc answers ``None``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            # A Static wraps: a Label would not.
            yield Static(Text(escape_label(self.question)), classes="question")
            with Horizontal(classes="dialog-buttons"):
                for answer, label in self.choices:
                    yield Button(label, id=f"choice-{answer}")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        answer = (event.button.id or "").removeprefix("choice-")
        self.dismiss(None if event.button.id == "cancel" else answer)


class InputScreen(ModalScreen[str | None]):
    """One line of text (a new title, an image path...)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")
    ]

    def __init__(self, question: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog")
        self.question = question
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(escape_label(self.question)))
            # A title is edited as it is shown: a control character comes back escaped.
            yield Input(self.shown, placeholder=self.placeholder, id="answer")
            yield Label(Text("Enter to accept, Esc to cancel", style="dim"))

    @property
    def shown(self) -> str:
        """The value as the box shows it: escaped, on one line."""
        return one_line(self.value, 10_000)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Accepted as shown: the value itself, not its escaped form.
        self.dismiss(self.value if event.value == self.shown else event.value)


class DetailsScreen(ModalScreen[None]):
    """Everything known about a failure: sentence, status, raw body (keys already masked)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,d", "dismiss(None)", "Close", id="details.close"),
        Binding("c", "copy", "Copy", id="details.copy"),
    ]

    def __init__(self, title: str, details: str) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box wide"):
            yield Label(Text(one_line(self.title_text), style="bold"))
            with VerticalScroll(classes="details"):
                yield Static(Text(escape_controls(self.details)))
            yield Label(Text("c copies these details · Esc closes", style="dim"))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.details)
        self.app.notify("Details copied to the clipboard.")


def show_details(app: App[Any], message: Message) -> None:
    """The full details of a failed reply, and the parameters a reply was made with."""
    from llamachat.params import describe_params

    details = message.error_detail or message.error or ""
    made_with = describe_params(message.params) if message.role == "assistant" else ""
    text = "\n\n".join(t for t in (details, made_with) if t) or "No details were recorded."
    app.push_screen(DetailsScreen("What went wrong" if details else "Details", text))
