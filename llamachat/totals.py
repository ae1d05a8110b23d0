"""The running totals of one conversation: tokens, money and the provider's credits.

They start from what the store counted for the branch shown and grow as replies
report usage, cost and balance (the session counts each event on its way through).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llamachat.providers.base import Credits, Usage
from llamachat.store.models import Message, Totals


@dataclass
class SessionTotals:
    """Tokens and money over the branch shown (kept up to date as replies report them)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    #: The balance the current provider last reported (another's would mislead).
    credits_usd: float | None = None

    def take(self, totals: Totals) -> None:
        """Start again from what the store counted."""
        self.prompt_tokens, self.completion_tokens = totals.prompt_tokens, totals.completion_tokens
        self.cost_usd = totals.cost_usd

    def take_credits(self, path: Sequence[Message], provider: str) -> None:
        """The last balance ``provider`` reported on the branch, if it reported one."""
        credits = [
            m.credits_usd for m in path if m.credits_usd is not None and m.provider == provider
        ]
        if credits:
            self.credits_usd = credits[-1]

    def count(self, event: object) -> float | None:
        """Add what ``event`` reports; returns the money it cost, if it says."""
        if isinstance(event, Usage):
            self.prompt_tokens += event.prompt_tokens or 0
            self.completion_tokens += event.completion_tokens or 0
            if event.cost_usd is not None:
                self.cost_usd += event.cost_usd
                return event.cost_usd
        elif isinstance(event, Credits):
            self.credits_usd = event.remaining_usd
        return None
