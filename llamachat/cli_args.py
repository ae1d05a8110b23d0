"""Argument types and flags the commands share: conversation ids, generation parameters, text.

Only the standard library and the parameter table, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse

from llamachat.params import PARAM_SPECS, ParamKind, parse_param
from llamachat.providers.base import GenerationParams

#: The largest number ``positive`` accepts (``--limit``, ``--max-size``): far more than any
#: listing or file needs, far less than SQLite's largest integer.
MAX_POSITIVE = 1_000_000


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:24] + "…"


def positive(text: str) -> int:
    """An argparse type: a whole number from 1 to :data:`MAX_POSITIVE`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {_shown(text)!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {_shown(text.strip())}")
    if value > MAX_POSITIVE:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_POSITIVE:,}, not {_shown(text.strip())}"
        )
    return value


SQLITE_MAX_INTEGER = 2**63 - 1
LAST_CONVERSATION = -1  # what ``--continue`` holds without an id


def conversation_id(text: str) -> int:
    """An argparse type: a conversation id (a whole number SQLite can hold)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a conversation id: {text!r}") from None
    if not 1 <= value <= SQLITE_MAX_INTEGER:
        raise argparse.ArgumentTypeError(
            f"no conversation has the id {_shown(text)}: see `llamachat history list`"
        )
    return value


def continue_target(text: str) -> int:
    """An argparse type for ``--continue``: an id, or ``last`` (what a bare ``-c`` becomes)."""
    return LAST_CONVERSATION if text == "last" else conversation_id(text)


def add_param_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per generation parameter, from the table; values are checked by ``flag_params``."""
    for spec in PARAM_SPECS:
        if spec.kind is ParamKind.CHOICE:
            parser.add_argument(
                spec.flag,
                dest=spec.name,
                action="store_const",
                const="json_object",
                help='ask for JSON (sent as response_format {"type": "json_object"})',
            )
        elif spec.kind is ParamKind.STOPS:
            parser.add_argument(
                spec.flag,
                dest=spec.name,
                action="append",
                metavar=spec.metavar,
                help=f"stop the reply at TEXT (repeatable, {spec.limit()})",
            )
        else:
            parser.add_argument(
                spec.flag, dest=spec.name, metavar=spec.metavar, help=f"{spec.limit()}"
            )


def flag_params(args: argparse.Namespace) -> GenerationParams:
    """The generation parameters given as flags; ``ValueError`` names the limit broken."""
    values = {}
    for spec in PARAM_SPECS:
        given = getattr(args, spec.name, None)
        if given is None:
            continue
        if spec.kind is ParamKind.STOPS:
            values[spec.name] = parse_param(spec.name, "\n".join(given))
            if len(values[spec.name]) != len(given):
                raise ValueError(f"{spec.name} must be {spec.limit()}.")
        else:
            values[spec.name] = parse_param(spec.name, given)
    return GenerationParams(**values)


#: Arguments that name files: undecodable bytes in them are part of the name.
_PATH_ARGUMENTS = frozenset({"file", "files", "output", "images"})


def _valid_text(value: object) -> object:
    """A text argument with the surrogates Python uses for bytes that are not UTF-8 replaced."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_valid_text(item) for item in value]
    return value


def valid_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with every text but file names valid UTF-8 (a stray Latin-1 byte in a prompt)."""
    for name, value in vars(args).items():
        if name not in _PATH_ARGUMENTS:
            setattr(args, name, _valid_text(value))
    return args
