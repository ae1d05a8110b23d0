"""The overflow policies and the rules a request is sent under.

Imports nothing from the rest of llamachat but the provider protocol's types, so the
config module can validate ``context_overflow`` with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Overflow(StrEnum):
    """What to do when the next request would not fit the model's context window."""

    #: Send the system prompt and as many of the newest turns as fit (nothing is deleted).
    DROP_OLDEST = "drop-oldest"
    #: Summarise the turns that do not fit into a new branch, and go on from it.
    SUMMARIZE = "summarize"
    #: Refuse, saying what the other two policies would do.
    STOP = "stop"


POLICY_NAMES: tuple[str, ...] = tuple(p.value for p in Overflow)


def overflow_problem(value: object) -> str | None:
    """Why ``value`` is not a policy name, or ``None`` when it is one."""
    if isinstance(value, str) and value in POLICY_NAMES:
        return None
    return f"must be one of {', '.join(POLICY_NAMES)}, not {value!r}"


#: Tokens kept for the reply when ``max_tokens`` is not set: a quarter of the window,
#: at least this and at most :data:`MAX_RESERVE`.
MIN_RESERVE = 64
MAX_RESERVE = 1024


def reply_reserve(window: int, max_tokens: int | None) -> int:
    """The tokens left free for the reply: ``max_tokens``, else a quarter of the window."""
    if max_tokens is not None:
        return max_tokens
    return min(MAX_RESERVE, max(MIN_RESERVE, window // 4))


def summary_cap(window: int) -> int:
    """The longest summary asked for: an eighth of the window, 64 to 1,024 tokens."""
    return min(MAX_RESERVE, max(MIN_RESERVE, window // 8))


@dataclass(frozen=True, slots=True)
class ContextRules:
    """How one request is fitted into its model's window.

    ``window`` is ``None`` when nothing is known yet; then the server may be asked
    (``probe``) once the request is large enough for the window to matter.
    """

    window: int | None
    policy: Overflow = Overflow.DROP_OLDEST
    #: The model that writes summaries (same provider); ``None``: the conversation's model.
    summary_model: str | None = None
    #: Ask the server for the window (llama.cpp ``/props``, ``/models``) when unknown.
    probe: bool = True
    #: Where ``window`` came from, for the sentences: "config", "preset", "server", "error".
    source: str = "preset"
    #: Token estimates are multiplied by this (raised after a server counted more).
    scale: float = 1.0


def window_table(table: object, where: str) -> tuple[dict[str, int], list[str]]:
    """The model windows of a ``[...context]`` table, and a sentence for each bad entry."""
    if not isinstance(table, dict):
        return {}, [f'{where} must be a table of "model-id" = tokens; it is ignored.']
    windows: dict[str, int] = {}
    problems: list[str] = []
    for model, value in table.items():
        if isinstance(value, int) and not isinstance(value, bool) and 16 <= value <= 100_000_000:
            windows[str(model)] = value
        else:
            problems.append(
                f"the context window of '{model}' in {where} must be a whole number of tokens "
                f"between 16 and 100,000,000, not {value!r}; it is ignored."
            )
    return windows, problems
