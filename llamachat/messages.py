"""The messages of a conversation as they are sent: text and image parts, roles.

Shared by the store (which keeps them), the providers (which send them) and the chat
session; it imports nothing from the rest of llamachat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class TextPart:
    """A piece of text inside a multi-part message."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image inside a message: an ``https://`` URL or a ``data:image/...;base64,`` URI."""

    url: str


ContentPart = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation as sent to a provider."""

    role: Role
    content: str | tuple[ContentPart, ...]

    @property
    def text(self) -> str:
        """The message's text, with image parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def has_images(self) -> bool:
        """Whether the message carries an image part."""
        return not isinstance(self.content, str) and any(
            isinstance(p, ImagePart) for p in self.content
        )

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI wire form: plain-string content unless the message holds an image."""
        if not self.has_images:
            return {"role": self.role, "content": self.text}
        parts: list[dict[str, Any]] = []
        assert not isinstance(self.content, str)
        for part in self.content:
            if isinstance(part, TextPart):
                parts.append({"type": "text", "text": part.text})
            else:
                parts.append({"type": "image_url", "image_url": {"url": part.url}})
        return {"role": self.role, "content": parts}
