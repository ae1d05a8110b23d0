"""Cheap token estimates, for servers that report no usage (llama.cpp's stream).

Llama 3's tokenizer averages about four characters of English or code per token; a
character outside ASCII (accents, CJK, emoji) is counted as a whole token, which is
close for CJK and errs high for accented Latin. Every message also costs the few
tokens of its role header. An estimate is always marked as one where it is shown.

Estimates are cached per stored message (``TokenCache``), so the reply path sums each
message once: linear in the history, never re-estimating it per message.
"""

from __future__ import annotations

from collections.abc import Iterable

from llamachat.providers.base import ChatMessage, ImagePart
from llamachat.store.models import Message

#: Characters of ASCII text per token.
CHARS_PER_TOKEN = 4
#: ``<|start_header_id|>role<|end_header_id|>\n\n ... <|eot_id|>``.
MESSAGE_OVERHEAD = 4
#: ``<|begin_of_text|>`` and the header of the reply to come.
REQUEST_OVERHEAD = 5
#: An image part (Llama 3.2 vision tiles: about 1,600 tokens for a full image).
IMAGE_TOKENS = 1_600


def estimate_text(text: str) -> int:
    """About how many tokens ``text`` is."""
    if not text:
        return 0
    ascii_chars = len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // CHARS_PER_TOKEN) + (len(text) - ascii_chars)


def estimate_message(message: ChatMessage) -> int:
    """About how many tokens ``message`` takes in a request, role header included."""
    images = 0
    if not isinstance(message.content, str):
        images = sum(1 for part in message.content if isinstance(part, ImagePart))
    return MESSAGE_OVERHEAD + estimate_text(message.text) + images * IMAGE_TOKENS


def estimate_request(messages: Iterable[ChatMessage]) -> int:
    """About how many tokens a request holding ``messages`` is (before the reply)."""
    return REQUEST_OVERHEAD + sum(estimate_message(m) for m in messages)


class TokenCache:
    """Estimates of stored messages, each worked out once (keyed by id and length)."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], int] = {}
        #: Sums over whole branches, by a key the caller chooses (the meter's).
        self.totals: dict[tuple[object, ...], int] = {}

    def __len__(self) -> int:
        return len(self._known)

    def message(self, stored: Message, sent: ChatMessage) -> int:
        """The estimate of ``sent``, the request form of ``stored``."""
        key = (stored.id, len(stored.content))
        tokens = self._known.get(key)
        if tokens is None:
            tokens = self._known[key] = estimate_message(sent)
        return tokens
