"""The images attached to the next prompt, and the line above the prompt that counts them."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Static


class Attachments(Static):
    """Images (paths or https URLs) waiting to go with the next prompt."""

    DEFAULT_CSS = """
    Attachments { height: auto; padding: 0 2; color: $accent; }
    """

    @dataclass
    class Chosen(Message):
        """The person gave an image to attach (``reference``), or none (remove them all)."""

        reference: str

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.display = False
        #: The references of the attached images, in the order attached.
        self.images: list[str] = []

    def add(self, reference: str) -> None:
        """Attach one more image."""
        self.images.append(reference)
        self._count()

    def take(self) -> list[str]:
        """The attached images, detached (they go with the prompt being sent)."""
        images, self.images = self.images, []
        self._count()
        return images

    def clear(self) -> None:
        """Drop every attached image."""
        self.take()

    def _count(self) -> None:
        count = len(self.images)
        self.update(f"🖼 {count} image{'s' if count != 1 else ''} attached")
        self.display = count > 0

    def ask(self) -> None:
        """Ask for the path or https URL of an image to attach (empty: remove them)."""
        from llamachat.tui.screens.dialogs import InputScreen

        def chosen(path: str | None) -> None:
            if path is not None and (path.strip() or self.images):
                self.post_message(self.Chosen(path.strip()))

        question = "Path or https:// URL of the image to send"
        if self.images:
            question += " (empty: remove the attached images)"
        placeholder = "~/photo.png or https://…/photo.png"
        self.app.push_screen(InputScreen(question, placeholder=placeholder), chosen)
