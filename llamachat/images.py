"""Images sent with a prompt: an ``https://`` URL, a ``data:`` URI, or a local file.

Shared by the TUI (Ctrl+O) and ``llamachat ask --image``; every refusal is an
:class:`ImageError` whose message is one plain sentence. Never imports Textual.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from llamachat.providers.base import Provider

#: The largest image sent, as the provider documents it.
MAX_IMAGE_BYTES = 20 * 1024 * 1024

_DATA_URI = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,([A-Za-z0-9+/]*={0,2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class ImageError(ValueError):
    """An image cannot be attached; the message is the sentence to show."""


def accepts_images(provider: Provider, model: str) -> bool:
    """Whether ``model`` on ``provider`` takes images (an unknown model is given the benefit)."""
    info = provider.model_info(model)
    return provider.capabilities.vision and (info is None or info.vision is not False)


def image_reference(text: str) -> str:
    """What to send for ``text``: a URL or data URI as is, a file as a data URI.

    Raises :class:`ImageError` with one sentence when ``text`` is none of these.
    """
    text = text.strip()
    if not text:
        raise ImageError("Give the path of an image file or an https:// URL.")
    if text[:5].lower() == "data:":
        return _data_uri(text)
    if _SCHEME.match(text):
        return _https_url(text)
    return image_data_uri(Path(text).expanduser())


def _data_uri(text: str) -> str:
    """``text`` if it is a ``data:image/...;base64,`` URI within the size limit."""
    match = _DATA_URI.fullmatch(text)
    if match is None:
        raise ImageError("A data URI must look like data:image/png;base64,... to be sent.")
    try:
        data = base64.b64decode(match.group(1), validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("The data URI does not hold valid base64.") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError("The data URI's image is larger than 20 MB; send a smaller image.")
    return text


def _https_url(text: str) -> str:
    """``text`` unchanged if it is a well-formed ``https://`` URL."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    scheme = text.split("://", 1)[0].lower()
    if scheme != "https":
        raise ImageError(f"Only https:// image URLs are accepted, not {scheme}:// ({shown}).")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ImageError(f"The image URL {shown!r} contains spaces or control characters.")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ImageError(f"{shown} is not a valid URL.") from None
    if not host:
        raise ImageError(f"The image URL {shown} has no host name.")
    return text


def image_data_uri(path: Path, mime: str | None = None) -> str:
    """The file at ``path`` as a ``data:`` URI, or :class:`ImageError` saying why not
    (``mime``: its type, known from its content; else its name says)."""
    if mime is None:
        mime, _ = mimetypes.guess_type(path.name)
    if not mime or not mime.startswith("image/"):
        raise ImageError(f"{path.name} is not an image (png, jpeg, gif or webp).")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"There is no file {path}.") from None
    except OSError as error:
        raise ImageError(f"Cannot read {path}: {error.strerror}.") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(f"{path.name} is larger than 20 MB; send a smaller image.")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
