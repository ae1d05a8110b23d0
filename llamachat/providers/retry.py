"""When and how long to wait before trying a failed request again (PROTOCOLS.md section 6)."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; server hints win when they are sane."""

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 20.0
    max_server_delay: float = 90.0

    def delay(self, attempt: int, server_hint: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if server_hint is not None:
            return max(0.0, min(server_hint, self.max_server_delay))
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)

    def allows(self, attempt: int, server_hint: float | None = None) -> bool:
        """Whether retry number ``attempt`` may happen at all."""
        if attempt > self.max_retries:
            return False
        return server_hint is None or server_hint <= self.max_server_delay


def _parse_when(value: str, now: float) -> float | None:
    """Seconds from ``now`` until ``value``: a delay, an epoch time, an ISO or HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number > 1e12:  # epoch milliseconds
            return number / 1000 - now
        if number > 1e9:  # epoch seconds
            return number - now
        return number
    moment: datetime | None = None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - now


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a server asked for: ``Retry-After`` (seconds or a date) or Segmind's reset time."""
    now = time.time() if now is None else now
    for name in ("retry-after", "x-rate-limit-reset-at-utc"):
        raw = headers.get(name)
        if raw:
            seconds = _parse_when(raw, now)
            if seconds is not None:
                return max(0.0, seconds)
    return None
