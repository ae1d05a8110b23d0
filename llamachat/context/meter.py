"""The context meter: how much of the window the next request will use.

The newest reply's reported usage (its prompt and completion tokens: exactly what the
conversation held after it) plus an estimate of the text still to be sent; where no
reply reported usage (llama.cpp's stream), an estimate of the whole request, marked as
one. Estimates are cached per message and per branch, so a meter updated on every
keystroke sums the history once and then only the draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llamachat.context.fit import fit
from llamachat.context.tokens import MESSAGE_OVERHEAD, TokenCache, estimate_text
from llamachat.store.models import Message, MessageStatus

#: Past this share of the window the meter warns.
WARN_AT = 0.8


@dataclass(frozen=True, slots=True)
class Meter:
    """The next request's size against the window."""

    used: int
    window: int | None
    estimated: bool

    @property
    def share(self) -> float | None:
        """``used`` as a share of the window (``None`` when the window is unknown)."""
        return self.used / self.window if self.window else None

    @property
    def warning(self) -> bool:
        """Whether the next request would fill more than :data:`WARN_AT` of the window."""
        share = self.share
        return share is not None and share > WARN_AT


def meter(
    path: Sequence[Message],
    system_prompt: str | None,
    window: int | None,
    draft: str = "",
    cache: TokenCache | None = None,
) -> Meter:
    """The meter for the branch ``path`` with ``draft`` about to be sent."""
    new = MESSAGE_OVERHEAD + estimate_text(draft) if draft else 0
    last = path[-1] if path else None
    if (
        last is not None
        and last.role == "assistant"
        and last.status is MessageStatus.COMPLETE
        and last.prompt_tokens is not None
        and last.completion_tokens is not None
    ):
        return Meter(last.prompt_tokens + last.completion_tokens + new, window, bool(draft))
    cache = cache if cache is not None else TokenCache()
    key = (last.id, len(last.content), len(path), system_prompt) if last else (system_prompt,)
    total = cache.totals.get(key)
    if total is None:
        total = cache.totals[key] = fit(path, system_prompt, window=None, cache=cache).used
    return Meter(total + new, window, True)
