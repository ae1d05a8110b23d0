"""Generation parameters: the one table of names, types and ranges, and the rules built on it.

The ``ask`` flags, the config file's ``[defaults]`` tables, the settings screen
and the wire body are all derived from :data:`PARAM_SPECS`; a range is written
only here. This module imports nothing from the rest of llamachat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class ParamKind(StrEnum):
    """How a parameter's value is written."""

    FLOAT = "float"
    INT = "int"
    STOPS = "stops"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One generation parameter: its wire (and config) name, type, range, flag and label."""

    name: str
    kind: ParamKind
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    #: Whether ``low`` itself is refused (``top_p`` must be greater than 0).
    low_open: bool = False
    choices: tuple[str, ...] = ()
    #: Most values a list may hold (``stop``).
    max_items: int | None = None
    metavar: str = "X"

    @property
    def flag(self) -> str:
        """The ``ask`` flag: ``--top-p`` for ``top_p``."""
        return (
            "--json-mode" if self.name == "response_format" else "--" + self.name.replace("_", "-")
        )

    def limit(self) -> str:
        """The allowed values, in words."""
        if self.kind is ParamKind.STOPS:
            return f"up to {self.max_items} non-empty strings"
        if self.kind is ParamKind.CHOICE:
            return "one of " + ", ".join(self.choices)
        whole = "a whole number " if self.kind is ParamKind.INT else ""
        low = f"greater than {self.low:g}" if self.low_open else f"between {self.low:g}"
        if self.low_open:
            return f"{whole}{low} and at most {self.high:g}"
        return f"{whole}{low} and {self.high:g}"


PARAM_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("temperature", ParamKind.FLOAT, "Temperature", "randomness", 0.0, 2.0, metavar="T"),
    ParamSpec("top_p", ParamKind.FLOAT, "Top p", "nucleus sampling", 0.0, 1.0, low_open=True),
    ParamSpec("max_tokens", ParamKind.INT, "Max tokens", "reply length cap", 1, 1_000_000,
              metavar="N"),
    ParamSpec("stop", ParamKind.STOPS, "Stop sequences", "one per line", max_items=16,
              metavar="TEXT"),
    ParamSpec("seed", ParamKind.INT, "Seed", "repeatable sampling", 0, 9.2e18, metavar="N"),
    ParamSpec("presence_penalty", ParamKind.FLOAT, "Presence penalty", "new topics", -2.0, 2.0),
    ParamSpec("frequency_penalty", ParamKind.FLOAT, "Frequency penalty", "less repetition",
              -2.0, 2.0),
    ParamSpec("repetition_penalty", ParamKind.FLOAT, "Repetition penalty", "1 is none",
              0.01, 5.0),
    ParamSpec("top_k", ParamKind.INT, "Top k", "0 is off", 0, 999, metavar="N"),
    ParamSpec("min_p", ParamKind.FLOAT, "Min p", "0 is off", 0.0, 1.0),
    ParamSpec("response_format", ParamKind.CHOICE, "Response format",
              "json_object asks for JSON", choices=("json_object", "text")),
)  # fmt: skip

SPECS: Mapping[str, ParamSpec] = {spec.name: spec for spec in PARAM_SPECS}

#: Every parameter name: what a provider that takes them all accepts.
ALL_PARAMS: frozenset[str] = frozenset(SPECS)


def param_problem(name: str, value: Any) -> str | None:
    """A sentence saying why ``value`` cannot be used for ``name``, or ``None`` if it can."""
    spec = SPECS[name]
    if spec.kind is ParamKind.STOPS:
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list | tuple)
            or len(items) > (spec.max_items or 0)
            or not all(isinstance(s, str) and s for s in items)
        ):
            return f"{name} must be {spec.limit()}."
        return None
    if spec.kind is ParamKind.CHOICE:
        if value in spec.choices:
            return None
        return f"{name} must be {spec.limit()}, not {value!r}."
    number_types = int if spec.kind is ParamKind.INT else (int, float)
    if isinstance(value, bool) or not isinstance(value, number_types):
        return f"{name} must be {spec.limit()}, not {value!r}."
    assert spec.low is not None and spec.high is not None
    too_low = value <= spec.low if spec.low_open else value < spec.low
    if (isinstance(value, float) and math.isnan(value)) or too_low or value > spec.high:
        return f"{name} must be {spec.limit()}, not {_shown(value)}."
    return None


def _shown(value: float) -> str:
    """A number for a sentence: a whole one as written (a 300-digit one by its length)."""
    if isinstance(value, int):
        digits = len(str(abs(value)))
        return str(value) if digits <= 30 else f"a {digits}-digit number"
    return f"{value:g}"


def parse_param(name: str, text: str) -> Any:
    """``text`` as a value of ``name`` (stop: one sequence per line); ``ValueError`` says why."""
    spec = SPECS[name]
    text = text if spec.kind is ParamKind.STOPS else text.strip()
    if spec.kind is ParamKind.STOPS:
        value: Any = tuple(line for line in text.split("\n") if line)
    elif spec.kind is ParamKind.CHOICE:
        value = text
    else:
        try:
            value = int(text) if spec.kind is ParamKind.INT else float(text)
        except ValueError:
            kind = "whole number" if spec.kind is ParamKind.INT else "number"
            raise ValueError(f"{name} must be a {kind}, not {text!r}.") from None
    problem = param_problem(name, value)
    if problem:
        raise ValueError(problem)
    return value


def check_params(
    table: Mapping[str, Any], where: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The usable parameters of a config table, and ``(key, sentence)`` for each refused one.

    Unknown keys are left to the caller (they are neither usable nor refused here).
    """
    usable: dict[str, Any] = {}
    refused: list[tuple[str, str]] = []
    for key, value in table.items():
        if key not in SPECS:
            continue
        if isinstance(value, list):
            value = tuple(value)
        if SPECS[key].kind is ParamKind.FLOAT and type(value) is int:
            value = float(value)
        problem = param_problem(key, value)
        if problem:
            refused.append((key, f"{where} {problem} It is ignored."))
        else:
            usable[key] = value
    return usable, refused


def wire_value(name: str, value: Any) -> Any:
    """A stored value in the form a provider's JSON body takes."""
    if name == "response_format":
        return {"type": value}
    if name == "stop":
        return list(value)
    return value


def stored_value(name: str, value: Any) -> Any:
    """A value read back from storage or an export, in :class:`GenerationParams` form."""
    if name == "response_format" and isinstance(value, Mapping):
        return value.get("type")
    if name == "stop" and isinstance(value, list | tuple):
        return tuple(value)
    return value


def describe_params(stored: Mapping[str, Any] | None) -> str:
    """A reply's stored parameters, one ``name = value`` a line (for its details view)."""
    lines = [
        f"{spec.name} = {stored[spec.name]!r}"
        for spec in PARAM_SPECS
        if stored and stored.get(spec.name) is not None
    ]
    persona = (stored or {}).get("persona")  # config_personas.PERSONA_KEY, set by a persona
    said = f"Persona: {persona}\n" if isinstance(persona, str) and persona else ""
    if not lines:
        return f"{said}Parameters: none set (the provider's defaults)."
    return f"{said}Parameters:\n" + "\n".join(lines)


def dropped_params(names: Iterable[str], accepted: frozenset[str]) -> tuple[str, ...]:
    """The set parameters ``names`` a provider that takes ``accepted`` does not take, in order."""
    chosen = set(names)
    return tuple(spec.name for spec in PARAM_SPECS if spec.name in chosen - accepted)


def dropped_sentence(provider: str, dropped: Sequence[str]) -> str:
    """What to tell the person about parameters that were not sent."""
    return f"{provider} does not take {', '.join(dropped)}, so it was not sent."


@dataclass(frozen=True, slots=True)
class GenerationParams:
    """Sampling parameters (see :data:`~llamachat.params.PARAM_SPECS`); ``None``: the provider's."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    response_format: str | None = None

    def values(self) -> dict[str, Any]:
        """The parameters that are set, by name, in table order."""
        return {
            spec.name: getattr(self, spec.name)
            for spec in PARAM_SPECS
            if getattr(self, spec.name) is not None and getattr(self, spec.name) != ()
        }

    def to_body(self) -> dict[str, Any]:
        """The fields that are set, in OpenAI wire form."""
        return {name: wire_value(name, value) for name, value in self.values().items()}

    def merged(self, other: GenerationParams) -> GenerationParams:
        """These parameters with every field that ``other`` sets taken from ``other``."""
        return replace(self, **other.values())

    def without(self, names: Iterable[str]) -> GenerationParams:
        """These parameters with ``names`` unset."""
        return replace(self, **dict.fromkeys(names))


def params_dict(params: GenerationParams) -> dict[str, Any]:
    """The parameters that are set, for storage."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.values().items()}


def params_from(data: dict[str, Any] | None) -> GenerationParams:
    """Stored parameters back into :class:`GenerationParams` (unknown or unusable ones ignored)."""
    values = {}
    for name, value in (data or {}).items():
        if name in SPECS and value is not None:
            value = stored_value(name, value)
            if param_problem(name, value) is None:
                values[name] = value
    return GenerationParams(**values)
