"""Ranges of the config file's numeric settings, and finding the line a key is set on.

Generation parameters have their table in :mod:`llamachat.params`; this is the
same idea for ``[network]`` and the numbers of a ``[providers.NAME]`` table. A
value out of range (negative or zero timeouts, a billion retries, NaN, ``inf``,
a 300-digit number) is a warning naming the file, the line and the key, and the
built-in default is used instead, as for an out-of-range parameter.
This module imports nothing from the rest of llamachat.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """The allowed values of one numeric setting."""

    low: float
    high: float
    unit: str = "seconds"
    whole: bool = False

    def limit(self) -> str:
        """The allowed values, in words."""
        whole = "a whole number " if self.whole else ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{whole}between {self.low:g} and {self.high:g}{unit}"


#: ``[network]``: every timeout is positive and at most a day; retries and waits are bounded.
NETWORK_RANGES: Mapping[str, RangeSpec] = {
    "connect_timeout": RangeSpec(0.1, DAY),
    "read_timeout": RangeSpec(0.1, DAY),
    "reply_timeout": RangeSpec(0.1, DAY),
    "stream_timeout": RangeSpec(0.1, DAY),
    "max_retries": RangeSpec(0, 20, unit="", whole=True),
    "backoff_base": RangeSpec(0, 600),
    "backoff_cap": RangeSpec(0, 600),
}

#: The numbers of a ``[providers.NAME]`` table.
PROVIDER_RANGES: Mapping[str, RangeSpec] = {
    "poll_interval": RangeSpec(0.01, 3600),
    "deadline": RangeSpec(0.1, 7 * DAY),
    "tokens_per_second": RangeSpec(1, 1_000_000, unit="tokens a second"),
}


def shown(value: Any) -> str:
    """A number as a sentence may show it (a 300-digit one is not written out)."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = len(str(abs(value)))
        return str(value) if digits <= 15 else f"a {digits}-digit number"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def range_problem(name: str, value: Any, spec: RangeSpec, label: str = "") -> str | None:
    """Why ``value`` cannot be used for ``name`` (its type already checked), or ``None``."""
    number = float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
    wrong_kind = spec.whole and not isinstance(value, int)
    if wrong_kind or math.isnan(number) or not spec.low <= number <= spec.high:
        where = f" in {label}" if label else ""
        return f"{name}{where} must be {spec.limit()}; it is {shown(value)}"
    return None


def line_of(text: str, table: tuple[str, ...], key: str) -> int | None:
    """The line (from 1) where ``key`` is set inside ``[table]``, when it can be found."""
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[([^\[\]]+)\]\s*(#.*)?", stripped)
        if header:
            current = tuple(p.strip().strip("\"'") for p in header.group(1).split("."))
        elif current == table and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
        elif current == table[:-1] and re.match(
            rf"[\"']?{re.escape(table[-1])}[\"']?\s*\.\s*[\"']?{re.escape(key)}[\"']?\s*=",
            stripped,
        ):
            return number  # a dotted key: ``network.read_timeout = 5``
    return None


def where_in(path: Path, text: str, table: tuple[str, ...], key: str) -> str:
    """``path: line N`` for ``key`` of ``[table]``, or just the path when the line is unknown."""
    line = line_of(text, table, key) if table else None
    return f"{path}: line {line}" if line else f"{path}"


def check_ranges(
    values: Mapping[str, Any],
    ranges: Mapping[str, RangeSpec],
    table: tuple[str, ...],
    path: Path,
    text: str,
    warnings: list[str],
) -> dict[str, Any]:
    """``values`` without the numbers out of their range; a warning names each one refused."""
    kept: dict[str, Any] = {}
    label = f"[{'.'.join(table)}]"
    for key, value in values.items():
        spec = ranges.get(key)
        problem = range_problem(key, value, spec, label) if spec is not None else None
        if problem is None:
            kept[key] = value
            continue
        warnings.append(f"{where_in(path, text, table, key)}: {problem}, so the default is used.")
    return kept


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


def header_problem(name: str, value: str) -> str | None:
    """Why a configured HTTP header cannot be sent as it is, or ``None`` if it can.

    The name must be an HTTP token; the value plain ASCII without a line break or other
    control character (a CR or LF would end the header and start another; httpx refuses
    the rest). The value is never quoted: it may be a key.
    """
    shown_name = ascii(name[:60])[1:-1]
    if not _HEADER_NAME.fullmatch(name):
        return f"header '{shown_name}' has a name HTTP does not allow (letters, digits and -)"
    if _HEADER_VALUE.fullmatch(value):
        return None
    if "\r" in value or "\n" in value:
        what = "a line break"
    elif value.isascii():
        what = "a control character"
    else:
        what = "a character that is not plain ASCII"
    return f"header '{shown_name}' has {what} in its value, which HTTP does not allow"
