"""Personas: named system prompts, each a ``[personas.NAME]`` table of the config file.

A persona holds a ``system_prompt`` and, optionally, a ``provider``, a ``model``, a
``description`` (shown in the picker) and any generation parameter. A few ship built in;
a table of the same name is read over the built-in one (only the keys it sets change).
Every bad value is one warning naming the file, the line and the key, and is ignored, as
elsewhere in the config; a persona that is left without a system prompt, or that names a
provider there is not, is left out (with its warning).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llamachat.config_checks import line_of, where_in
from llamachat.config_tables import generation_params
from llamachat.params import GenerationParams

#: The keys of a ``[personas.NAME]`` table other than generation parameters.
PERSONA_KEYS = ("system_prompt", "description", "provider", "model")
#: The key of a conversation's (and a reply's) stored parameters that names its persona.
PERSONA_KEY = "persona"


@dataclass(frozen=True)
class Persona:
    """A named system prompt, with the provider, model and parameters it prefers."""

    name: str
    system_prompt: str
    description: str = ""
    provider: str | None = None
    model: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)


BUILTIN_PERSONAS: dict[str, Persona] = {
    "coder": Persona(
        "coder",
        "You are a senior software engineer. Answer with working, idiomatic code in fenced "
        "blocks that name their language, then explain only what is not obvious. Point out "
        "bugs, edge cases and security problems you notice. Say so when you are unsure "
        "rather than guessing an API.",
        description="code first, short explanations, points out bugs",
        params=GenerationParams(temperature=0.2),
    ),
    "editor": Persona(
        "editor",
        "You are a careful copy editor. Improve the text you are given for clarity, "
        "grammar and concision while keeping the author's voice and meaning. Return the "
        "edited text first, then a short list of the changes that matter.",
        description="edits your text, then lists what changed",
        params=GenerationParams(temperature=0.3),
    ),
    "tutor": Persona(
        "tutor",
        "You are a patient tutor. Explain step by step with small concrete examples, "
        "check understanding with one short question at the end, and never just hand "
        "over the answer to an exercise: guide the learner to it.",
        description="step by step, with examples and a question back",
        params=GenerationParams(temperature=0.5),
    ),
}


def read_personas(
    tables: Any,
    providers: Mapping[str, object],
    path: Path,
    text: str,
    warnings: list[str],
) -> dict[str, Persona]:
    """The built-in personas with the file's ``[personas]`` tables read over them."""
    personas = dict(BUILTIN_PERSONAS)
    if tables is None:
        return personas
    if not isinstance(tables, Mapping):
        warnings.append(
            f"{where_in(path, text, (), 'personas')}: 'personas' must be a table of "
            "[personas.NAME] tables; it is ignored."
        )
        return personas
    for name, table in tables.items():
        persona = _persona(str(name), table, personas.get(name), providers, path, text, warnings)
        if persona is not None:
            personas[name] = persona
    return personas


def _persona(
    name: str,
    table: Any,
    base: Persona | None,
    providers: Mapping[str, object],
    path: Path,
    text: str,
    warnings: list[str],
) -> Persona | None:
    """One ``[personas.NAME]`` table over ``base`` (a built-in of that name), or ``None``."""
    where = ("personas", name)
    label = f"[personas.{name}]"

    def place(key: str) -> str:
        line = line_of(text, where, key)
        return f"{path}: line {line}" if line else f"{path}"

    if not isinstance(table, Mapping):
        warnings.append(f"{path}: {label} must be a table; it is ignored.")
        return None
    params, rest = generation_params(table, where, path, text, warnings)
    values: dict[str, str] = {}
    for key, value in rest.items():
        if key not in PERSONA_KEYS:
            warnings.append(f"{place(key)}: unknown setting '{key}' in {label} is ignored.")
        elif not isinstance(value, str) or (key != "description" and not value.strip()):
            warnings.append(f"{place(key)}: '{key}' in {label} must be a text; it is ignored.")
        else:
            values[key] = value
    provider = values.get("provider")
    if provider is not None and provider not in providers:
        known = ", ".join(sorted(providers))
        warnings.append(
            f"{place('provider')}: {label} names provider '{provider}', which is not "
            f"configured (known: {known}); the persona is left out."
        )
        return None
    if base is None:
        if "system_prompt" not in values:
            warnings.append(f"{path}: {label} needs a system_prompt; the persona is left out.")
            return None
        base = Persona(name, values["system_prompt"])
    given = {key: value for key, value in values.items() if key != "system_prompt"}
    return replace(
        base,
        system_prompt=values.get("system_prompt", base.system_prompt),
        params=base.params.merged(params),
        **given,
    )
