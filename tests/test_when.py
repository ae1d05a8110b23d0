"""Badge and sidebar timestamps: the time today, the day otherwise, the year when not this one."""

from __future__ import annotations

from datetime import datetime

from llamachat.tui.when import when

NOW = datetime(2026, 11, 30, 18, 0)


def at(*parts: int) -> float:
    return datetime(*parts).timestamp()  # type: ignore[arg-type]


def test_today_is_the_time() -> None:
    assert when(at(2026, 11, 30, 9, 5), now=NOW) == "09:05"
    assert when(at(2026, 11, 30, 9, 5), with_time=False, now=NOW) == "09:05"


def test_another_day_names_the_day() -> None:
    assert when(at(2026, 11, 28, 14, 5), now=NOW) == "28 Nov 14:05"
    assert when(at(2026, 11, 28, 14, 5), with_time=False, now=NOW) == "28 Nov"


def test_another_year_names_the_year() -> None:
    assert when(at(2025, 12, 31, 23, 59), now=NOW) == "31 Dec 2025 23:59"
    assert when(at(2025, 12, 31, 23, 59), with_time=False, now=NOW) == "31 Dec 2025"
