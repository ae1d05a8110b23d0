"""The configuration: its settings, reading the file safely, and the defaults it gives.

``config.toml`` lives in the platformdirs config dir (``LLAMACHAT_CONFIG``
overrides the path). A broken file is reported with its line and column; an
unknown key is a warning, never a crash. Keys are wrapped in
:class:`~llamachat.secrets.Secret` so no ``repr`` reveals them. Each table's keys
and types are checked in :mod:`llamachat.config_tables`, its numbers' ranges in
:mod:`llamachat.config_checks`; :mod:`llamachat.config_errors` holds the error, and
:mod:`llamachat.config_write` writes the file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llamachat import locations
from llamachat.config_checks import (
    NETWORK_RANGES,
    PROVIDER_RANGES,
    check_ranges,
    header_problem,
    where_in,
)
from llamachat.config_errors import ConfigError, toml_error, too_deep
from llamachat.config_personas import BUILTIN_PERSONAS, Persona, read_personas
from llamachat.config_tables import (
    DEFAULTS_TYPES,
    NETWORK_TYPES,
    PROVIDER_TYPES,
    TOP_KEYS,
    check_types,
    context_settings,
    generation_params,
)
from llamachat.context.policy import window_table
from llamachat.key_env import KEY_ENV_BY_KIND
from llamachat.keymap import read_keymap
from llamachat.params import GenerationParams
from llamachat.secrets import Secret
from llamachat.urls import base_url_problem, shown_url

PROVIDER_KINDS = ("openai", "deepinfra", "e2e", "segmind", "demo")


#: The byte order mark some editors put first in a UTF-8 file; it is read past.
BOM = "\ufeff"


@dataclass(frozen=True)
class NetworkSettings:
    """Timeouts (seconds) and retries for every provider."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    reply_timeout: float = 600.0
    #: A whole streamed reply is cut after this many seconds (read_timeout bounds each gap).
    stream_timeout: float = 1800.0
    #: Characters of reply text (and reasoning) read at most; the rest is not read.
    max_reply_chars: int = 8_000_000
    max_retries: int = 3
    backoff_base: float = 1.0
    backoff_cap: float = 20.0


@dataclass(frozen=True)
class Defaults:
    """Generation defaults applied to every new conversation."""

    system_prompt: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    #: What to do when a request would not fit the window (``drop-oldest``...).
    context_overflow: str | None = None
    #: The model that writes summaries (``summarize``); else the conversation's.
    summary_model: str | None = None


@dataclass(frozen=True)
class ProviderSettings:
    """One ``[providers.NAME]`` table merged over its built-in preset."""

    name: str
    kind: str
    display_name: str | None = None
    base_url: str | None = None
    api_key: Secret | None = None
    api_key_env: tuple[str, ...] = ()
    project_id: str | None = None
    models: tuple[str, ...] = ()
    default_model: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    mode: str | None = None
    poll_interval: float | None = None
    deadline: float | None = None
    stream_usage: bool | None = None
    tokens_per_second: float | None = None
    #: ``[providers.NAME.defaults]``: generation parameters that win over ``[defaults]`` here.
    defaults: GenerationParams = field(default_factory=GenerationParams)
    context_overflow: str | None = None
    summary_model: str | None = None
    #: ``[providers.NAME.context]``: context windows by model id, over the presets.
    context: Mapping[str, int] = field(default_factory=dict)

    @property
    def key_env(self) -> tuple[str, ...]:
        """The env vars the key is read from: ``api_key_env``, else the kind's conventional ones."""
        return self.api_key_env or KEY_ENV_BY_KIND.get(self.kind, ())

    def key(self, environ: Mapping[str, str] | None = None) -> tuple[Secret | None, str | None]:
        """The API key and where it came from (``config`` or an env var name)."""
        if self.api_key:
            return self.api_key, "config"
        env = os.environ if environ is None else environ
        for var in self.key_env:
            value = env.get(var, "").strip()
            if value:
                return Secret(value), var
        return None, None


@dataclass(frozen=True)
class Config:
    """Everything read from the config file, with built-in providers merged in."""

    path: Path
    providers: Mapping[str, ProviderSettings]
    default_provider: str | None = None
    default_model: str | None = None
    theme: str | None = None
    network: NetworkSettings = field(default_factory=NetworkSettings)
    defaults: Defaults = field(default_factory=Defaults)
    #: ``[context]``: context windows by model id, for any provider.
    context: Mapping[str, int] = field(default_factory=dict)
    #: ``[keymap]``: binding id -> key(s), as written (the TUI checks the ids).
    keymap: Mapping[str, str] = field(default_factory=dict)
    #: ``[personas.NAME]`` over the built-in ones: named system prompts.
    personas: Mapping[str, Persona] = field(default_factory=lambda: dict(BUILTIN_PERSONAS))
    warnings: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def provider(self, name: str) -> ProviderSettings:
        """The settings of provider ``name``; ``ConfigError`` if there is none."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            raise ConfigError(f"There is no provider named '{name}'; known: {known}.") from None

    def persona(self, name: str) -> Persona:
        """The persona called ``name``; ``ConfigError`` naming the known ones if there is none."""
        try:
            return self.personas[name]
        except KeyError:
            known = ", ".join(sorted(self.personas)) or "none"
            raise ConfigError(f"There is no persona named '{name}'; known: {known}.") from None


BUILTIN_PROVIDERS: dict[str, ProviderSettings] = {
    "deepinfra": ProviderSettings(name="deepinfra", kind="deepinfra"),
    "e2e": ProviderSettings(name="e2e", kind="e2e"),
    "segmind": ProviderSettings(name="segmind", kind="segmind", mode="sync"),
    "local": ProviderSettings(
        name="local",
        kind="openai",
        display_name="Local server",
        base_url="http://127.0.0.1:8080/v1",
    ),
    "demo": ProviderSettings(name="demo", kind="demo"),
}


def _provider_settings(
    name: str, table: Mapping[str, Any], path: Path, warnings: list[str], text: str = ""
) -> ProviderSettings:
    where = f"[providers.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: {where} must be a table.")
    values = check_types(table, PROVIDER_TYPES, where, path, warnings)
    values = check_ranges(values, PROVIDER_RANGES, ("providers", name), path, text, warnings)
    context_settings(values, where, path, warnings)
    base = BUILTIN_PROVIDERS.get(name)
    kind = values.pop("kind", base.kind if base else None)
    if kind is None:
        raise ConfigError(f"{path}: {where} needs kind = one of {', '.join(PROVIDER_KINDS[:-1])}.")
    if kind not in PROVIDER_KINDS:
        raise ConfigError(
            f"{path}: {where} has unknown kind '{kind}'; use one of {', '.join(PROVIDER_KINDS)}."
        )
    settings = (
        base if base is not None and base.kind == kind else ProviderSettings(name=name, kind=kind)
    )
    updates: dict[str, Any] = {}
    for key, value in values.items():
        if key == "api_key":
            updates[key] = Secret(value) if value else None
        elif key == "api_key_env":
            updates[key] = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
        elif key == "models":
            updates[key] = tuple(str(v) for v in value)
        elif key == "headers":
            headers = {str(k): str(v) for k, v in value.items()}
            for header, header_value in headers.items():
                problem = header_problem(header, header_value)
                if problem:
                    place = where_in(path, text, ("providers", name), key)
                    raise ConfigError(f"{place}: {problem}: fix it in {where}.")
            updates[key] = headers
        elif key == "project_id":
            project = str(value).strip().removeprefix("p-")
            if not project.isdigit():
                raise ConfigError(
                    f"{path}: 'project_id' in {where} must be the digits of your project "
                    f"(after p- in its URL), not '{value}'."
                )
            updates[key] = project
        elif key in PROVIDER_RANGES:
            updates[key] = float(value)
        elif key == "defaults":
            params, rest = generation_params(
                value, ("providers", name, "defaults"), path, text, warnings
            )
            for unknown in rest:
                warnings.append(
                    f"{path}: unknown setting '{unknown}' in {where}.defaults is ignored."
                )
            updates[key] = params
        elif key == "base_url":
            problem = base_url_problem(value) if value else None
            if problem:
                place = where_in(path, text, ("providers", name), key)
                raise ConfigError(f"{place}: base_url {shown_url(value)} in {where} {problem}.")
            updates[key] = value
        elif key == "mode":
            if value not in ("sync", "async"):
                raise ConfigError(f'{path}: \'mode\' in {where} must be "sync" or "async".')
            updates[key] = value
        else:
            updates[key] = value
    return replace(settings, **updates)


def parse_config(text: str, path: Path) -> Config:
    """A :class:`Config` from TOML text; ``ConfigError`` says exactly what is wrong."""
    text = text.removeprefix(BOM)  # an editor's byte order mark is not a TOML statement
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_error(path, error) from None
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        raise ConfigError(too_deep(path)) from None
    warnings: list[str] = []
    for key in raw:
        if key not in TOP_KEYS:
            warnings.append(f"{path}: unknown setting '{key}' is ignored.")
    providers = dict(BUILTIN_PROVIDERS)
    tables = raw.get("providers", {})
    if not isinstance(tables, Mapping):
        raise ConfigError(f"{path}: 'providers' must be a table of [providers.NAME] tables.")
    for name, table in tables.items():
        providers[name] = _provider_settings(name, table, path, warnings, text)

    network_raw = raw.get("network", {})
    defaults_raw = raw.get("defaults", {})
    if not isinstance(network_raw, Mapping) or not isinstance(defaults_raw, Mapping):
        raise ConfigError(f"{path}: [network] and [defaults] must be tables.")
    network_values = check_types(network_raw, NETWORK_TYPES, "[network]", path, warnings)
    network = NetworkSettings(
        **check_ranges(network_values, NETWORK_RANGES, ("network",), path, text, warnings)
    )
    params, rest = generation_params(defaults_raw, ("defaults",), path, text, warnings)
    rest = check_types(rest, DEFAULTS_TYPES, "[defaults]", path, warnings)
    context_settings(rest, "[defaults]", path, warnings)
    defaults = Defaults(params=params, **rest)
    windows, problems = window_table(raw.get("context", {}), "[context]")
    warnings.extend(f"{path}: {problem}" for problem in problems)
    keymap, problems = read_keymap(raw, path)
    warnings.extend(problems)
    personas = read_personas(raw.get("personas"), providers, path, text, warnings)

    top: dict[str, str | None] = {}
    for key in ("default_provider", "default_model", "theme"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: '{key}' must be a string.")
        top[key] = value
    if top["default_provider"] and top["default_provider"] not in providers:
        warnings.append(
            f"{path}: default_provider '{top['default_provider']}' is not a known provider; "
            "it is ignored."
        )
        top["default_provider"] = None
    return Config(
        path=path,
        providers=providers,
        default_provider=top["default_provider"],
        default_model=top["default_model"],
        theme=top["theme"],
        network=network,
        defaults=defaults,
        context=windows,
        keymap=keymap,
        personas=personas,
        warnings=tuple(warnings),
        raw=raw,
    )


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file gives the built-in defaults."""
    path = locations.config_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return config_defaults(path)
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path}: the file is not UTF-8 text. Fix the file or move it aside."
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror}).") from None
    config = parse_config(text, path)
    if locations.readable_by_others(path) and any(p.api_key for p in config.providers.values()):
        exposed = f"{path} holds an API key and other users can read it: run chmod 600 {path}"
        config = replace(config, warnings=(*config.warnings, exposed))
    return config


def configured_params(config: Config, provider: str | None) -> GenerationParams:
    """The generation defaults for ``provider``: ``[defaults]``, then its own table over them."""
    settings = config.providers.get(provider) if provider else None
    if settings is None:
        return config.defaults.params
    return config.defaults.params.merged(settings.defaults)


def default_provider_name(config: Config, environ: Mapping[str, str] | None = None) -> str:
    """The provider used when none is named: the configured one, the first with a key, or demo."""
    if config.default_provider:
        return config.default_provider
    for name in ("deepinfra", "e2e", "segmind"):
        settings = config.providers.get(name)
        if settings is not None and settings.key(environ)[0] is not None:
            return name
    return "demo"


def config_defaults(path: Path | None = None) -> Config:
    """The built-in configuration, as if no file existed at ``path``."""
    return Config(
        path=locations.config_path() if path is None else path, providers=dict(BUILTIN_PROVIDERS)
    )
