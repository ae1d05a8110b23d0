"""Reading numbers that providers send as JSON values or header strings, defensively."""

from __future__ import annotations

import math
import re
from typing import Any

#: Money beyond this is not a real balance or cost: a broken reply, never shown or stored.
MAX_MONEY = 1e9
_SEPARATORS = re.compile(r"[\s,_]")


def money(value: Any) -> float | None:
    """A dollar amount from a number or a string such as ``" 1,234.50 "`` or ``"$3"``.

    ``None`` when the value is missing, not a number, not finite, negative or absurdly
    large: a value that cannot be read is ignored, never taken as 0.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = _SEPARATORS.sub("", value).removeprefix("$")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    if not math.isfinite(number) or not 0 <= number < MAX_MONEY:
        return None
    return number
