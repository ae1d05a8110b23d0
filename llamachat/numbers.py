"""Reading numbers that providers send as JSON values or header strings, defensively."""

from __future__ import annotations

import math
import re
from typing import Any

#: Money beyond this is not a real balance or cost: a broken reply, never shown or stored.
MAX_MONEY = 1e9
#: The most a reported cost may come to per token of the reply (prompt and completion):
#: $1 per 1,000 tokens, $1,000 per million. The dearest Llama 3.1 list price (405B, a few
#: dollars per million tokens) is hundreds of times below it, so only a broken report is refused.
MAX_USD_PER_TOKEN = 1e-3
#: The most a reported cost may be when the reply reports no tokens (Segmind's ``x-cost``
#: on a body without ``usage``): a 128k-token 405B request costs well under a dollar.
MAX_USD_UNCOUNTED = 5.0
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
    return number + 0.0  # -0.0 becomes 0.0: a cost is never shown as "$-0.000000"


def reported_cost(
    value: Any, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    """A cost the provider reported, read as :func:`money`, when it is plausible for the tokens.

    ``None`` (as if no cost were reported) past :data:`MAX_USD_PER_TOKEN` for the reply's
    prompt and completion tokens; with no tokens known, past :data:`MAX_USD_UNCOUNTED`.
    """
    cost = money(value)
    if cost is None:
        return None
    if prompt_tokens is None and completion_tokens is None:
        return cost if cost <= MAX_USD_UNCOUNTED else None
    tokens = (prompt_tokens or 0) + (completion_tokens or 0)
    return cost if cost <= tokens * MAX_USD_PER_TOKEN else None


def dollars(value: float, *, short_zero: bool = False) -> str:
    """A dollar amount with enough digits to be meaningful for tiny costs (never "$-0");
    ``short_zero``: nothing spent reads "$0"."""
    value += 0.0
    if short_zero and value == 0:
        return "$0"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"
