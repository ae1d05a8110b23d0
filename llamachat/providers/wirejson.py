"""Provider JSON, decoded once and the same way everywhere a reply or an error body is read.

``json.loads`` alone lets three hostile things through:

* a lone UTF-16 surrogate written as an escape (``"\\ud800"``) becomes a Python
  string that cannot be encoded: printing it, storing it in SQLite or drawing it
  fails far from here. Every lone surrogate becomes U+FFFD, the replacement character;
* JSON nested 100,000 deep raises ``RecursionError``, and JSON nested 900 deep parses
  but breaks whatever walks it later (``json.dumps`` into the store): nesting past
  :data:`MAX_DEPTH` is refused with :class:`NestedTooDeep`, a ``ValueError``;
* several values in one text (two ``data:`` lines of one SSE event, which SSE joins
  with a newline, or objects run together) are not one value: :func:`loads_each`
  reads them one by one.

This module imports nothing from the rest of llamachat.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deepest nesting of arrays and objects read. A chat reply nests about six deep; the
#: bound is far above that and far below Python's recursion limit.
MAX_DEPTH = 128
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_decoder = json.JSONDecoder()
_json_loads = json.loads


class NestedTooDeep(ValueError):
    """JSON nested past :data:`MAX_DEPTH`; its message reads after a possessive."""

    def __init__(self) -> None:
        super().__init__(f"JSON was nested more than {MAX_DEPTH} deep")


def loads(text: str) -> Any:
    """``text`` as one JSON value, lone surrogates replaced; ``ValueError`` when it is not one."""
    try:
        value = _json_loads(text)
    except RecursionError:
        raise NestedTooDeep from None
    return _checked(value, text)


def loads_each(text: str) -> list[Any]:
    """Every JSON value in ``text``, one after another (whitespace between them allowed).

    ``ValueError`` when any part of ``text`` is not JSON.
    """
    values: list[Any] = []
    end, size = 0, len(text)
    while True:
        while end < size and text[end] in " \t\r\n":
            end += 1
        if end >= size:
            break
        start = end
        try:
            value, end = _decoder.raw_decode(text, start)
        except RecursionError:
            raise NestedTooDeep from None
        values.append(_checked(value, text[start:end]))
    if not values:
        raise ValueError("no JSON value")
    return values


def _checked(value: Any, text: str) -> Any:
    """``value`` refused when too deep, mended when it may hold a lone surrogate.

    Both checks are skipped by a scan of ``text`` in C when they cannot apply, as
    they cannot for nearly every stream chunk.
    """
    if (
        len(text) > 2 * MAX_DEPTH  # nesting past MAX_DEPTH takes more characters than that
        and text.count("[") + text.count("{") > MAX_DEPTH
        and _deeper_than(value, MAX_DEPTH)
    ):
        raise NestedTooDeep
    if "\\u" in text and _SURROGATE_ESCAPE.search(text):
        value = _mend(value)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` deep (without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item if type(item) is list else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if type(child) in (dict, list))
    return False


def _mend(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD.

    ``value`` is at most :data:`MAX_DEPTH` deep here, so recursion is safe.
    """
    if type(value) is str:
        return _LONE_SURROGATE.sub("\ufffd", value)
    if type(value) is list:
        return [_mend(item) for item in value]
    if type(value) is dict:
        return {_mend(key): _mend(item) for key, item in value.items()}
    return value
