"""Short, local timestamps for badges and the sidebar."""

from __future__ import annotations

from datetime import datetime


def when(timestamp: float | None, *, with_time: bool = True, now: datetime | None = None) -> str:
    """``14:05`` today; ``28 Nov 14:05`` (or ``28 Nov``) another day; the year when not this one.

    ``unknown`` when there is no time, or one that cannot be shown.
    """
    try:
        moment = datetime.fromtimestamp(timestamp)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return "unknown"
    today = (now or datetime.now()).date()
    if moment.date() == today:
        return moment.strftime("%H:%M")
    day = moment.strftime("%d %b" if moment.year == today.year else "%d %b %Y")
    return f"{day} {moment.strftime('%H:%M')}" if with_time else day
