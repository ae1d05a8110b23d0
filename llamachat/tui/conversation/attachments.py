"""What goes with the next prompt (images, text files), shown as chips above the prompt.

Each chip can be removed before sending: click it, or focus it (Shift+Tab from the
prompt) and press Delete, Backspace or Enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from textual.binding import Binding, BindingType
from textual.containers import HorizontalGroup
from textual.message import Message
from textual.widgets import Static

from llamachat.attach_files import TextFile


class Chip(Static, can_focus=True):
    """One attachment; removed by a click, Delete, Backspace or Enter."""

    DEFAULT_CSS = """
    Chip { width: auto; height: 1; margin: 0 1 0 0; padding: 0 1; background: $boost; }
    Chip:hover { background: $panel; }
    Chip:focus { background: $accent; color: $text; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete,backspace,enter", "remove", "Remove", show=True, id="chip.remove"),
    ]

    def __init__(self, label: str, kind: str, index: int) -> None:
        super().__init__(f"{label} ✕")
        self.kind, self.index = kind, index

    def action_remove(self) -> None:
        """Take this attachment off the next prompt."""
        parent = self.parent
        if isinstance(parent, Attachments):
            parent.remove_item(self.kind, self.index)

    def on_click(self) -> None:
        self.action_remove()


class Attachments(HorizontalGroup):
    """Images (paths or https URLs) and text files waiting to go with the next prompt."""

    DEFAULT_CSS = """
    Attachments { height: auto; padding: 0 2; color: $accent; }
    """

    class Changed(Message):
        """An attachment was added or removed."""

    @dataclass
    class Chosen(Message):
        """The person gave a file or image to attach (``reference``), or none (remove all)."""

        reference: str

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.display = False
        #: The references of the attached images, in the order attached.
        self.images: list[str] = []
        #: The text files attached, in the order attached.
        self.files: list[TextFile] = []
        self._names: list[str] = []  # what each image's chip says

    def add(self, reference: str, name: str | None = None) -> None:
        """Attach one more image (``name``: the file it was read from)."""
        self.images.append(reference)
        self._names.append(name or _image_name(reference))
        self._show()

    def add_file(self, file: TextFile) -> None:
        """Attach one more text file."""
        self.files.append(file)
        self._show()

    def take(self) -> list[str]:
        """The attached images, detached (they go with the prompt being sent)."""
        images, self.images, self._names = self.images, [], []
        self._show()
        return images

    def take_files(self) -> list[TextFile]:
        """The attached text files, detached (they go with the prompt being sent)."""
        files, self.files = self.files, []
        self._show()
        return files

    def clear(self) -> None:
        """Drop every attached image."""
        self.take()

    def clear_all(self) -> None:
        """Drop every attachment."""
        self.images, self.files, self._names = [], [], []
        self._show()

    def remove_item(self, kind: str, index: int) -> None:
        """Drop the ``index``-th image (``kind`` "image") or text file ("file")."""
        if kind == "image" and index < len(self.images):
            del self.images[index], self._names[index]
        elif kind == "file" and index < len(self.files):
            del self.files[index]
        self._show()

    def labels(self) -> list[str]:
        """What the chips say, in order (images first)."""
        return [label for label, _ in self._chips()]

    def _chips(self) -> list[tuple[str, Chip]]:
        chips = [(f"🖼 {name}", "image", index) for index, name in enumerate(self._names)]
        chips += [
            (f"📄 {file.name} · ~{_tokens(file.tokens)} tokens", "file", index)
            for index, file in enumerate(self.files)
        ]
        return [(label, Chip(label, kind, index)) for label, kind, index in chips]

    def _show(self) -> None:
        if len(self._names) != len(self.images):  # images set directly
            self._names = [_image_name(image) for image in self.images]
        self.display = bool(self.images or self.files)
        self.post_message(self.Changed())
        if self.is_attached:
            focused = self.app.focused
            chips = list(self.children)
            at = chips.index(focused) if focused is not None and focused in chips else None
            self.call_later(self._redraw, at)  # in order with the changes before and after

    async def _redraw(self, focused_at: int | None) -> None:
        """Draw the chips again; the focus goes to the chip now where the focused one was,
        or to the prompt below when none is left."""
        await self.remove_children()
        chips = [chip for _, chip in self._chips()]
        await self.mount_all(chips)
        if focused_at is None:
            return
        if chips:
            chips[min(focused_at, len(chips) - 1)].focus()
        elif self.parent is not None:
            after = list(self.parent.children)[self.parent.children.index(self) + 1 :]
            following = next((widget for widget in after if widget.focusable), None)
            if following is not None:
                following.focus()

    def on_mount(self) -> None:
        self._show()

    def ask(self) -> None:
        """Ask for a file or image to attach (empty: remove every attachment)."""
        from llamachat.tui.screens.dialogs import InputScreen

        def chosen(path: str | None) -> None:
            if path is not None and (path.strip() or self.images or self.files):
                self.post_message(self.Chosen(path.strip()))

        question = "Path of a text file or image, or an https:// URL of an image"
        if self.images or self.files:
            question += " (empty: remove the attachments)"
        placeholder = "~/notes.md, ~/photo.png or https://…/photo.png"
        self.app.push_screen(InputScreen(question, placeholder=placeholder), chosen)


def _tokens(count: int) -> str:
    if count < 1000:
        return str(count)
    return f"{count / 1000:.1f}k" if count < 10_000 else f"{count / 1000:.0f}k"


def _image_name(reference: str) -> str:
    """A short name for an image: a URL's last part, or "image" for data."""
    if reference[:5].lower() == "data:":
        return "image"
    path = urlsplit(reference).path.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    return name[:40] or "image"
