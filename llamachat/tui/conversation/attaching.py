"""Attaching images and text files to the next prompt (Ctrl+O), the pane's part of it.

An image (by its extension, a URL or a data URI) goes as an image, for models that take
them; any other file is read as text and goes into the prompt as a fenced block, unless
it is binary, not UTF-8, or too large for the model's context (said with its size in
tokens).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from llamachat.attach_files import (
    FileRefused,
    is_image,
    read_text_file,
    sniffed_image,
    too_large,
)
from llamachat.images import ImageError, image_data_uri, image_reference
from llamachat.tui.conversation.attachments import Attachments

if TYPE_CHECKING:
    from llamachat.session import ChatSession
    from llamachat.tui.conversation.notice import Notice

#: What to do about images the model does not take, said after why.
IMAGES_REMEDY = (
    "pick a model that does (Ctrl+L), or remove the images (Shift+Tab to their chips, "
    "then Delete) to send text only."
)


class Attaching:
    """The pane's Ctrl+O: attach a file or an image, or remove them all."""

    session: ChatSession
    attachments: Attachments
    notice: Notice

    if TYPE_CHECKING:

        def show_notice(self, text: str, *, error: bool = False, retry: bool = False) -> None:
            """The pane's line above the prompt."""

    def action_attach(self) -> None:
        """Ask for a file path or an image URL to send with the next prompt."""
        self.attachments.ask()

    def on_attachments_chosen(self, event: Attachments.Chosen) -> None:
        event.stop()
        reference = event.reference
        if not reference:
            self.clear_attachments()
        elif is_image(reference):
            self.attach_image(reference)
        else:
            mime = sniffed_image(Path(reference).expanduser())
            if mime is not None:  # an image whose name does not say so
                self.attach_image(reference, mime)
            else:
                self.attach_file(reference)

    def attach_image(self, path_text: str, mime: str | None = None) -> None:
        """Attach the image file or https URL ``path_text`` if the model accepts images
        (``mime``: the type of a file whose name does not tell it)."""
        try:
            refused = self.session.images_refused([path_text], IMAGES_REMEDY)
            if refused is None:
                name = None if "://" in path_text else Path(path_text).name
                reference = (
                    image_data_uri(Path(path_text).expanduser(), mime)
                    if mime
                    else image_reference(path_text)
                )
                self.attachments.add(reference, name)
            else:
                self.show_notice(refused, error=True)
        except ImageError as error:
            self.show_notice(str(error), error=True)
        except Exception as error:  # a provider that cannot be built
            self.show_notice(f"{error}", error=True)

    def attach_file(self, path_text: str) -> None:
        """Attach the text file at ``path_text``, if it is text and fits the model's context."""
        try:
            file = read_text_file(Path(path_text).expanduser())
        except FileRefused as error:
            self.show_notice(str(error), error=True)
            return
        refused = too_large(file, self.session.context_rules(), self.session.params.max_tokens)
        if refused is not None:
            self.show_notice(refused, error=True)
            return
        self.attachments.add_file(file)
        self.notice.hide()

    def clear_attachments(self) -> None:
        """Drop everything attached to the next prompt."""
        self.attachments.clear_all()
        self.notice.hide()
