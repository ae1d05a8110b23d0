"""Segmind's money: the cost it reports for a reply and the balance it reports with it."""

from __future__ import annotations

from typing import Any

from llamachat.numbers import money, reported_cost
from llamachat.providers.base import Credits, Finished, ProviderEvent, Usage
from llamachat.providers.limits import Body

CREDITS_HEADER = "x-remaining-credits"


def header_credits(response: Body) -> float | None:
    """The balance in a reply's ``x-remaining-credits`` header, if it can be read."""
    return money(response.headers.get(CREDITS_HEADER))


def with_billing(
    events: list[ProviderEvent], *, cost: Any, credits: float | None
) -> list[ProviderEvent]:
    """``events`` with Segmind's reported cost in the usage and the balance before the finish.

    ``cost`` is the value as sent (``x-cost``, ``metrics.cost``), taken only when it is
    plausible for the reply's tokens (:func:`reported_cost`); else the list-price estimate stays.
    """
    has_usage = any(isinstance(e, Usage) for e in events)
    billed: list[ProviderEvent] = []
    for event in events:
        if isinstance(event, Usage):
            usd = reported_cost(cost, event.prompt_tokens, event.completion_tokens)
            if usd is not None:
                event = Usage(event.prompt_tokens, event.completion_tokens, usd)
        if isinstance(event, Finished):
            usd = None if has_usage else reported_cost(cost, None, None)
            if usd is not None:
                billed.append(Usage(cost_usd=usd))
            if credits is not None:
                billed.append(Credits(credits))
        billed.append(event)
    return billed
