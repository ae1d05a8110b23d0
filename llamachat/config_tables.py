"""Checking the tables of the config file: each key's type, generation parameters, context.

Which keys each table may hold and of what type; an unknown key is a warning, a
value of the wrong type an error. Numbers are range-checked in
:mod:`llamachat.config_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llamachat.config_checks import line_of
from llamachat.config_errors import ConfigError
from llamachat.context.policy import overflow_problem, window_table
from llamachat.params import SPECS, GenerationParams, check_params

#: The keys the top level of the file may hold.
TOP_KEYS = {
    "keymap",
    "default_provider",
    "default_model",
    "theme",
    "network",
    "defaults",
    "providers",
    "ui",
    "context",
    "personas",
}
#: The keys of a ``[providers.NAME]`` table and the types each may have.
PROVIDER_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "display_name": str,
    "base_url": str,
    "api_key": str,
    "api_key_env": (str, list),
    "project_id": (str, int),
    "models": list,
    "default_model": str,
    "headers": dict,
    "mode": str,
    "poll_interval": (int, float),
    "deadline": (int, float),
    "stream_usage": bool,
    "tokens_per_second": (int, float),
    "defaults": dict,
    "context_overflow": str,
    "summary_model": str,
    "context": dict,
}
#: The keys of ``[network]`` and their types.
NETWORK_TYPES: dict[str, type | tuple[type, ...]] = {
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "reply_timeout": (int, float),
    "stream_timeout": (int, float),
    "max_reply_chars": int,
    "max_retries": int,
    "backoff_base": (int, float),
    "backoff_cap": (int, float),
}
#: The keys of ``[defaults]`` other than generation parameters, and their types.
DEFAULTS_TYPES: dict[str, type | tuple[type, ...]] = {
    "system_prompt": str,
    "context_overflow": str,
    "summary_model": str,
}


def context_settings(values: dict[str, Any], where: str, path: Path, warnings: list[str]) -> None:
    """Check ``context_overflow`` (a bad one is an error) and a ``context`` table in place."""
    policy = values.get("context_overflow")
    if policy is not None and overflow_problem(policy):
        raise ConfigError(f"{path}: 'context_overflow' in {where} {overflow_problem(policy)}.")
    if "context" in values:
        values["context"], problems = window_table(values["context"], f"{where[:-1]}.context]")
        warnings.extend(f"{path}: {problem}" for problem in problems)


def check_types(
    table: Mapping[str, Any],
    types: Mapping[str, type | tuple[type, ...]],
    where: str,
    path: Path,
    warnings: list[str],
) -> dict[str, Any]:
    """The keys of ``table`` of the type ``types`` names; an unknown key is warned about.

    A value of the wrong type is a :class:`ConfigError` (``True`` is never a number).
    """
    checked: dict[str, Any] = {}
    for key, value in table.items():
        expected = types.get(key)
        if expected is None:
            warnings.append(f"{path}: unknown setting '{key}' in {where} is ignored.")
            continue
        if isinstance(value, bool) and expected in ((int, float), int):
            ok = False
        else:
            ok = isinstance(value, expected)
        if not ok:
            raise ConfigError(
                f"{path}: '{key}' in {where} has the wrong type ({type(value).__name__})."
            )
        checked[key] = value
    return checked


def generation_params(
    table: Any, where: tuple[str, ...], path: Path, text: str, warnings: list[str]
) -> tuple[GenerationParams, dict[str, Any]]:
    """The parameters of a defaults table (refused ones warned about and ignored); the rest."""
    label = f"[{'.'.join(where)}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: {label} must be a table.")
    usable, refused = check_params(table, label)
    for key, sentence in refused:
        line = line_of(text, where, key)
        warnings.append(f"{path}: line {line}: {sentence}" if line else f"{path}: {sentence}")
    rest = {k: v for k, v in table.items() if k not in SPECS}
    return GenerationParams(**usable), rest
