"""Reading the settings screen back: numbers as typed, and each option as it would be saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from llamachat.providers.base import OptionKind, OptionSpec
from llamachat.secrets import redact_url

N = TypeVar("N", int, float)


#: Number fields other than generation parameters: their label in messages and their type.
NUMBER_FIELDS: dict[str, tuple[str, Callable[[str], float]]] = {
    "general--connect_timeout": ("Connect timeout", float),
    "general--read_timeout": ("Read timeout", float),
}


def parse_number(text: str, kind: Callable[[str], N]) -> N | None:
    """``text`` as a number of ``kind``; ``None`` when blank or not a number."""
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return None


def put(table: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` in ``table``, or remove it when ``value`` is ``None``."""
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


def store_option(table: dict[str, Any], spec: OptionSpec, value: str, current: Any) -> None:
    """Put what an option's field holds into its provider's ``table``, as it would be saved."""
    if spec.kind is OptionKind.SECRET:
        if value:
            table["api_key"] = value
        return
    if spec.kind is OptionKind.MODELS or spec.name == "api_key_env":
        items = [v.strip() for v in value.split(",") if v.strip()]
        if items or spec.name in table:
            put(table, spec.name, items or None)
        return
    if spec.kind is OptionKind.FLOAT:
        number = parse_number(value, float)
        if (number is not None and number != spec.default) or spec.name in table:
            put(table, spec.name, number)
        return
    if spec.name == "base_url" and isinstance(current, str) and value == redact_url(current):
        value = current  # unchanged on screen: keep the login the field did not show
    default = spec.default if spec.default is not None else ""
    if value and (value != default or spec.name in table):
        table[spec.name] = value
    elif not value:
        table.pop(spec.name, None)
