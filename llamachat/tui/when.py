"""Short, local timestamps for badges and the sidebar."""

from __future__ import annotations

from datetime import datetime


def when(timestamp: float, *, with_time: bool = True, now: datetime | None = None) -> str:
    """``14:05`` today; ``28 Nov 14:05`` (or ``28 Nov``) another day; the year when not this one."""
    moment = datetime.fromtimestamp(timestamp)
    today = (now or datetime.now()).date()
    if moment.date() == today:
        return moment.strftime("%H:%M")
    day = moment.strftime("%d %b" if moment.year == today.year else "%d %b %Y")
    return f"{day} {moment.strftime('%H:%M')}" if with_time else day
