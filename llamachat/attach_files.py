"""Text files sent with a prompt: read, checked, and written into it as fenced blocks.

Shared by the TUI (Ctrl+O) and ``llamachat ask -f``. A file goes into the prompt's text
as its name on a line, then a fenced block (the fence longer than any run of backticks
inside, so nothing in the file can close it early), so the stored message shows exactly
what was sent. Every refusal is a :class:`FileRefused` whose message is one plain sentence.
Never imports Textual.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from llamachat.context.tokens import MESSAGE_OVERHEAD, REQUEST_OVERHEAD, estimate_text

if TYPE_CHECKING:
    from llamachat.context.policy import ContextRules

#: The largest text file read (as much as ``ask`` reads from stdin).
MAX_FILE_BYTES = 8 * 1024 * 1024

_BACKTICKS = re.compile(r"`+")
#: A file extension that can name the fence's language (Pygments knows most of them as is).
_LANGUAGE = re.compile(r"[a-z0-9+#-]{1,12}")


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


class FileRefused(ValueError):
    """A file cannot be attached; the message is the sentence to show."""


@dataclass(frozen=True)
class TextFile:
    """A text file to send: the name shown above it and its text."""

    name: str
    text: str

    @cached_property
    def block(self) -> str:
        """The file as it goes into the prompt: its name, then its text in a fence."""
        return f"{self.name}\n{fenced(self.text, language_of(self.name))}"

    @cached_property
    def tokens(self) -> int:
        """About how many tokens the file takes in the prompt."""
        return estimate_text(self.block)


def is_image(path_text: str) -> bool:
    """Whether ``path_text`` names an image (by its extension, or as a URL or data URI):
    those go as images; any other file as text."""
    text = path_text.strip()
    if text[:5].lower() == "data:" or "://" in text:
        return True
    mime, _ = mimetypes.guess_type(text)
    return bool(mime and mime.startswith("image/"))


def sniffed_image(path: Path) -> str | None:
    """The image type of the file at ``path`` by its first bytes (PNG, JPEG, GIF, WebP),
    for an image whose name does not say so; ``None`` for anything else."""
    try:
        with path.open("rb") as file:
            head = file.read(12)
    except OSError:
        return None
    for magic, mime in _IMAGE_MAGIC:
        if head.startswith(magic):
            return mime
    return "image/webp" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None


def language_of(name: str) -> str:
    """The fence's language for a file called ``name`` (its extension), or ``""``."""
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if _LANGUAGE.fullmatch(suffix) else ""


def fenced(text: str, language: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    end = "" if text.endswith("\n") or not text else "\n"
    return f"{fence}{language}\n{text}{end}{fence}"


def read_text_file(path: Path) -> TextFile:
    """The text file at ``path``, or :class:`FileRefused` saying why it cannot be sent
    (missing, unreadable, larger than :data:`MAX_FILE_BYTES`, binary, not UTF-8)."""
    name = path.name
    try:
        if path.is_dir():
            raise FileRefused(f"{path} is a folder: attach the files in it one at a time.")
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise FileRefused(f"There is no file {path}.") from None
    except OSError as error:
        raise FileRefused(f"Cannot read {path}: {error.strerror}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(
            f"{name} is larger than {MAX_FILE_BYTES // 1024**2} MB, the most a text file "
            "attached can be: attach a part of it."
        )
    if b"\0" in data:
        raise FileRefused(f"{name} is not a text file: it holds binary data.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(f"{name} is not text in UTF-8.") from None
    return TextFile(name, text)


def room_for_prompt(window: int, max_tokens: int | None) -> int:
    """The tokens of a ``window`` a prompt can take, the reply's share kept free."""
    from llamachat.context.policy import reply_reserve

    return max(0, window - reply_reserve(window, max_tokens) - MESSAGE_OVERHEAD - REQUEST_OVERHEAD)


def too_large(file: TextFile, rules: ContextRules | None, max_tokens: int | None) -> str | None:
    """Why ``file`` cannot fit the model's context (its size in tokens), or ``None``.

    Nothing is refused while the window is unknown (the server says so when sent)."""
    if rules is None or rules.window is None:
        return None
    tokens = round(file.tokens * rules.scale)
    room = room_for_prompt(rules.window, max_tokens)
    if tokens <= room:
        return None
    return (
        f"{file.name} is about {tokens:,} tokens, more than the {room:,} this model's "
        f"{rules.window:,}-token context leaves for a prompt."
    )


def with_files(prompt: str, files: Sequence[TextFile]) -> str:
    """``prompt`` followed by each file's block, a blank line between them."""
    parts = [prompt] if prompt.strip() else []
    parts.extend(file.block for file in files)
    return "\n\n".join(parts)
