"""Checking an export's messages a field at a time: the fast way through a million.

Each field of every message is gathered into one list, and the list is checked with a
few passes that run in C (the set of its values' types, a comparison of every number
with its bounds) instead of a dozen Python tests per message: a million messages are
checked in a few seconds instead of twenty.

This path only ever accepts. At the least doubt (a type it does not expect, a value out
of range, anything unusual) it returns ``None``, and the importer checks the messages
one by one (:func:`llamachat.store.importer._message_row`), which finds the first bad
message and names it and its field. So this must be exactly as strict as that check,
or stricter, never looser: ``tests/test_import_fast.py`` holds the two to the same
results.
"""

from __future__ import annotations

import json
from itertools import repeat
from operator import itemgetter, le, lt
from typing import Any

from llamachat.numbers import MAX_MONEY
from llamachat.store import validate
from llamachat.store.import_write import COLUMNS
from llamachat.store.models import MessageStatus

_NONE = type(None)
_STATUSES = frozenset(status.value for status in MessageStatus)
#: The fields of ``COLUMNS`` taken from a message entry as they are (after checking).
PLAIN = COLUMNS[10:]
#: (types allowed besides ``None``, smallest, largest, whether the largest is allowed)
#: of each numeric field: the rules of :mod:`llamachat.store.validate`.
_NUMBERS: dict[str, tuple[frozenset[type], float, float, bool]] = {
    **dict.fromkeys(validate.COUNT_FIELDS, (frozenset({int}), 0, validate.MAX_TOKENS, True)),
    **dict.fromkeys(validate.MONEY_FIELDS, (frozenset({int, float}), 0, MAX_MONEY, False)),
    **dict.fromkeys(
        validate.SECONDS_FIELDS, (frozenset({int, float}), 0, validate.MAX_SECONDS, True)
    ),
    **dict.fromkeys(
        validate.TIME_FIELDS, (frozenset({int, float}), 0, validate.MAX_TIMESTAMP, True)
    ),
}
_SPECIAL = frozenset({"raw", "created_at"})
#: Every field read from a message entry.
_NAMES = ("id", "parent", "role", "content", "images", "provider", "model", "params", "status",
          *PLAIN)  # fmt: skip
assert all(n in _NUMBERS or n in validate.TEXT_FIELDS or n in _SPECIAL for n in PLAIN)


class _Doubt(Exception):
    """Something this path does not vouch for: check message by message."""


def check(
    messages: list[Any], now: float, live: dict[str, tuple[str, str]]
) -> tuple[list[list[Any]], dict[int, int]] | None:
    """The plan's columns and each message id's position, or ``None`` at any doubt.

    ``live``: the statuses of a reply still arriving, each mapped to the status and
    error it is stored with.
    """
    try:
        return _check(messages, now, live)
    except (_Doubt, TypeError, ValueError, OverflowError, RecursionError):
        return None


def _types(values: list[Any]) -> set[type]:
    return set(map(type, values))


def _within(values: list[Any], types: set[type], low: float, high: float, top: bool) -> None:
    """:class:`_Doubt` unless every number is from ``low`` to ``high`` (``top``: included)."""
    present = [v for v in values if v is not None] if _NONE in types else values
    if not all(map(le, repeat(low), present)) or not all(
        map(le if top else lt, present, repeat(high))
    ):
        raise _Doubt  # NaN fails both comparisons, so it is refused here too


def _json_texts(values: list[Any], types: set[type]) -> list[Any]:
    """Objects kept as JSON text (``params``, ``raw``), each checked as the slow path does."""
    if types <= {_NONE}:
        return values

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if validate.json_problem(value):
            raise _Doubt
        return json.dumps(value, ensure_ascii=False)

    return list(map(text, values))


def _image_texts(values: list[Any]) -> list[Any]:
    if not any(values):
        return [None] * len(values)

    def text(images: list[Any] | None) -> str | None:
        if not images:
            return None
        if not all(type(url) is str for url in images):
            raise _Doubt
        return json.dumps(images, ensure_ascii=False)

    return list(map(text, values))


class _Fields:
    """Every message's value of each field, and the types each field holds.

    The messages are read in one pass (each visited once: that is what takes the time)
    and their fields' types gathered per distinct shape of message (a handful), not per
    value; a file whose messages lack some field is read a field at a time.
    """

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.total = len(messages)
        self._by_name: dict[str, list[Any]] = {}
        self._types: dict[str, set[type]] = {}
        try:
            rows = list(map(itemgetter(*_NAMES), messages))
        except KeyError:
            self._messages = messages
            return
        shapes = set(map(tuple, map(map, repeat(type), rows)))
        columns = zip(*rows, strict=True) if rows else ([] for _ in _NAMES)
        for number, (name, values) in enumerate(zip(_NAMES, columns, strict=True)):
            self._by_name[name] = list(values)
            self._types[name] = {shape[number] for shape in shapes}

    def __call__(self, name: str) -> list[Any]:
        """Each message's value of field ``name`` (``None`` where it has none)."""
        if name not in self._by_name:
            values = list(map(dict.get, self._messages, repeat(name, self.total)))
            self._by_name[name] = values
        return self._by_name[name]

    def only(self, name: str, *allowed: type) -> set[type]:
        """The types field ``name`` holds; :class:`_Doubt` if one is not ``allowed``."""
        if name not in self._types:
            self._types[name] = _types(self(name))
        if not self._types[name] <= set(allowed):
            raise _Doubt
        return self._types[name]


def _check(
    messages: list[Any], now: float, live: dict[str, tuple[str, str]]
) -> tuple[list[list[Any]], dict[int, int]]:
    total = len(messages)
    if not _types(messages) <= {dict}:
        raise _Doubt
    get = _Fields(messages)
    get.only("id", int)
    position = dict(zip(get("id"), range(total), strict=True))
    if len(position) != total:
        raise _Doubt  # an id given twice
    get.only("parent", int, _NONE)
    parents = get("parent")
    # Where each parent sits; ``total`` for no parent or an unknown one. Every message
    # with a parent must find it among the messages before it.
    found = list(map(position.get, parents, repeat(total, total)))
    if sum(map(lt, found, range(total))) != total - parents.count(None):
        raise _Doubt
    get.only("role", str)
    if not set(get("role")) <= {"user", "assistant", "system"}:
        raise _Doubt
    contents = get("content")
    if _NONE in get.only("content", str, _NONE):
        contents = [text or "" for text in contents]
    get.only("status", str, _NONE)
    statuses = get("status")
    kinds = set(statuses)
    if not kinds <= _STATUSES | {None, ""}:
        raise _Doubt
    if kinds & {None, ""}:
        statuses = [status or MessageStatus.COMPLETE.value for status in statuses]
    get.only("images", list, _NONE)
    for name in ("provider", "model"):
        get.only(name, str, _NONE)
        if not all(map(validate.is_name, set(get(name)) - {None})):
            raise _Doubt  # a control character in a name: the careful check names it
    columns: list[list[Any]] = [
        [None if index == total else index for index in found],
        get("role"),
        contents,
        _image_texts(get("images")),
        get("provider"),
        get("model"),
        _json_texts(get("params"), get.only("params", dict, _NONE)),
        statuses,
    ]
    for name in PLAIN:
        values = get(name)
        if name == "raw":
            values = _json_texts(values, get.only(name, dict, _NONE))
        elif name == "created_at":
            types = get.only(name, float, int, _NONE)
            _within(values, types, 0.0, validate.MAX_TIMESTAMP, True)
            if types != {float}:
                values = [now if v is None else float(v) for v in values]
        elif name in validate.TEXT_FIELDS:
            get.only(name, str, _NONE)
        else:
            allowed, low, high, top = _NUMBERS[name]
            _within(values, get.only(name, *allowed, _NONE), low, high, top)
        columns.append(values)
    if kinds & live.keys():  # a reply still arriving when exported: stored finished
        status_column, error_column = columns[7], columns[8 + PLAIN.index("error")]
        for number, status in enumerate(statuses):
            if status in live:
                status_column[number], error_column[number] = live[status]
    return columns, position
