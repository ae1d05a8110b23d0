"""The prompt: a multi-line input where Enter sends and a documented key adds a newline."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.keys import format_key
from textual.message import Message
from textual.widgets import TextArea

from llamachat.tui.conversation.recall import PromptHistory

#: Keys that insert a newline instead of sending. Shift+Enter works where the terminal
#: reports it (kitty keyboard protocol, WezTerm, foot, recent xterm); Ctrl+J and
#: Alt+Enter work everywhere.
NEWLINE_KEYS = ("shift+enter", "ctrl+j", "alt+enter", "ctrl+enter")


class PromptInput(TextArea):
    """Multi-line prompt. Enter sends; Shift+Enter, Ctrl+J or Alt+Enter insert a newline."""

    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 14; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown in the footer; the key itself is handled in ``_on_key``, in order with the
        # keys typed before it (a priority binding would run ahead of them and send half).
        Binding("enter", "submit", "Send", show=True, id="prompt.submit"),
        Binding("ctrl+j", "newline", "Newline", show=False, id="prompt.newline"),
        Binding("pageup", "read_back(-1)", "Read back", show=False, id="prompt.read_back"),
        Binding("pagedown", "read_back(1)", "Read on", show=False, id="prompt.read_on"),
        Binding("ctrl+g", "compose", "Editor", show=False, id="prompt.editor"),
    ]

    @dataclass
    class Problem(Message):
        """Something the person asked for could not be done (one sentence to show)."""

        sentence: str

    @dataclass
    class ReadBack(Message):
        """Scroll the conversation a page up (``pages`` < 0) or down, the prompt keeping focus."""

        pages: int

    @dataclass
    class ToEnd(Message):
        """Show the newest output and follow it (``newest``), or go to the first message."""

        newest: bool

    @dataclass
    class Submitted(Message):
        """The person pressed Enter on a non-empty prompt."""

        prompt: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(
        self,
        text: str = "",
        *,
        id: str | None = None,
        recall: Callable[[], list[str]] | None = None,
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            text,
            id=id,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder="Message Llama…  (Enter sends · Ctrl+J or Alt+Enter: new line)",
        )
        #: Earlier prompts, recalled with Up at the first line and Down at the last.
        self.prompts = PromptHistory(recall)
        keymap = keymap or {}
        #: Keys that send, and keys that add a line, after the ``[keymap]``.
        self.submit_keys = tuple(keymap.get("prompt.submit", "enter").split(","))
        extra = keymap.get("prompt.newline", "")
        self.newline_keys = (*(key for key in extra.split(",") if key), *NEWLINE_KEYS)
        if keymap:
            bindings = self._bindings.copy()  # this prompt runs its own bindings (below)
            bindings.apply_keymap(keymap)
            self._bindings = bindings
        if self.submit_keys != ("enter",):
            send = " or ".join(format_key(key) for key in self.submit_keys)
            self.placeholder = f"Message Llama…  ({send} sends · Enter: new line)"

    def action_submit(self) -> None:
        """Send the prompt (the pane sends a blank one only with something attached)."""
        self.prompts.reset()
        self.post_message(self.Submitted(self, self.text))

    def show_text(self, text: str) -> None:
        """Replace the prompt's text, the cursor at its end, ready to type on."""
        self.prompts.reset()
        self._show(text)

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def recall(self, older: bool) -> bool:
        """Show the prompt before (``older``) or after the one shown, when the cursor is on
        the first (or last) row; ``False`` when it is not, or there is none."""
        at = self.cursor_location
        if not self.selection.is_empty:
            return False
        if older and not self.navigator.is_first_wrapped_line(at):
            return False
        if not older and not self.navigator.is_last_wrapped_line(at):
            return False
        text = self.prompts.older(self.text) if older else self.prompts.newer()
        if text is None:
            return False
        self._show(text)
        return True

    def action_compose(self) -> None:
        """Write the prompt in ``$VISUAL`` or ``$EDITOR``: what it saves becomes the draft."""
        from textual.app import SuspendNotSupported

        from llamachat.editor import EditorFailed, edit_text

        try:
            if self.app.is_headless:  # no terminal to hand over (tests, scripts)
                text = edit_text(self.text)
            else:
                with self.app.suspend():
                    text = edit_text(self.text)
        except SuspendNotSupported:
            self.post_message(self.Problem("This terminal cannot hand the screen to an editor."))
        except EditorFailed as error:
            self.post_message(self.Problem(str(error)))
        else:
            self.show_text(text)
        self.focus()

    def remove_sent(self, sent: str) -> None:
        """Clear ``sent`` from the prompt, keeping whatever was typed after Enter."""
        text = self.text
        self.show_text(text[len(sent) :] if text.startswith(sent) else "")

    def action_read_back(self, pages: int) -> None:
        """Page through the conversation without leaving the prompt."""
        self.post_message(self.ReadBack(pages))

    def action_cursor_line_end(self, select: bool = False) -> None:
        """End: the end of the line; pressed there, the newest output (followed again)."""
        if not select and self.cursor_location == self.get_cursor_line_end_location():
            self.post_message(self.ToEnd(newest=True))
        super().action_cursor_line_end(select)

    def action_cursor_line_start(self, select: bool = False) -> None:
        """Home: the start of the line; pressed there, the conversation's first message."""
        if not select and self.cursor_location == self.get_cursor_line_start_location():
            self.post_message(self.ToEnd(newest=False))
        super().action_cursor_line_start(select)

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("up", "down") and self.recall(event.key == "up"):
            event.stop()
            event.prevent_default()
            return
        if event.key in self.submit_keys or event.key in self.newline_keys:
            event.stop()
            event.prevent_default()
            if event.key in self.submit_keys:
                self.action_submit()
            else:
                self.action_newline()
            return
        if event.key.startswith("alt+"):
            event.prevent_default()  # not text (TextArea would type the letter): it bubbles on
            return  # to the app's bindings (Alt+W closes the tab)
        if await self._run_own_binding(event):
            return
        await super()._on_key(event)

    async def _run_own_binding(self, event: events.Key) -> bool:
        """Run this prompt's own binding for ``event`` now, in order with the keys around it.

        Textual runs a widget's bindings once the key has bubbled up to the app, after the
        keys that followed it in the same burst were already typed here: ``C-u hi`` typed
        "hi", then Ctrl+U deleted it (and Backspace in a burst deleted the wrong letter).
        """
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.priority:
                continue
            if await self.app.run_action(binding.action, self):
                event.stop()  # done: it must not bubble on and run a second time
                event.prevent_default()
                return True
        return False
