"""The fields of the settings screen: an input for each provider option and generation parameter.

Each field shows the current value; a key is shown masked, never whole, and a
base URL without its login.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, Select, TextArea

from llamachat.params import PARAM_SPECS, ParamKind, ParamSpec
from llamachat.providers.base import GenerationParams, OptionKind, OptionSpec
from llamachat.secrets import redact_url


def field_id(provider: str, option: str) -> str:
    """The id of ``provider``'s field for ``option``."""
    return f"opt--{provider}--{option}"


def option_widget(name: str, spec: OptionSpec, settings: Any, provider: Any) -> Any:
    """The field for one provider option, showing its current value (a key only masked)."""
    widget_id = field_id(name, spec.name)
    current = getattr(settings, spec.name, None)
    if spec.kind is OptionKind.SECRET:
        key, source = settings.key()
        if key is not None:
            hint = f"{key.masked()} (from {source}); type a new key to replace it"
        elif spec.env_vars:
            hint = f"not set: type a key, or set {spec.env_vars[0]}"
        else:
            hint = "not set"
        return Input(placeholder=hint, password=True, id=widget_id)
    if spec.kind is OptionKind.CHOICE:
        value = current or spec.default
        return Select([(c, c) for c in spec.choices], value=value or Select.NULL, id=widget_id)
    if spec.kind is OptionKind.MODELS:
        return Input(", ".join(current or ()), placeholder="model-a, model-b", id=widget_id)
    if spec.name == "base_url":  # a user:password@ in it is kept, never shown
        return Input(redact_url(current or provider.base_url or ""), id=widget_id)
    if spec.name == "api_key_env":
        return Input(", ".join(settings.api_key_env), id=widget_id)
    value = current if current is not None else (spec.default if spec.default is not None else "")
    placeholder = f"or set {spec.env_vars[0]}" if spec.env_vars and not current else ""
    return Input(input_text(value), placeholder=placeholder, id=widget_id)


def input_text(value: Any) -> str:
    """A value as its field shows it (``None`` blank, a float in its shortest form)."""
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def param_fields(prefix: str, owner: str, params: GenerationParams) -> ComposeResult:
    """A labelled field for each generation parameter, from the table in ``llamachat.params``."""
    for spec in PARAM_SPECS:
        yield Label(
            Text(f"{owner} {spec.label.lower()}")
            + Text(f" — {spec.help}; {spec.limit()}; blank: the provider's", style="dim")
        )
        yield param_widget(f"{prefix}--{spec.name}", spec, getattr(params, spec.name))


def param_widget(widget_id: str, spec: ParamSpec, value: Any) -> Input | TextArea | Select[str]:
    """The field for one generation parameter, by its kind."""
    if spec.kind is ParamKind.CHOICE:
        return Select([(c, c) for c in spec.choices], value=value or Select.NULL, id=widget_id)
    if spec.kind is ParamKind.STOPS:
        return TextArea("\n".join(value or ()), id=widget_id, classes="short")
    text = "" if value is None else str(value)
    if spec.kind is ParamKind.INT:
        return Input(text, id=widget_id, type="integer")
    return Input(text, id=widget_id, type="number")
