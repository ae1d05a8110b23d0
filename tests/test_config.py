"""The config file: defaults, overrides, validation, atomic private writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from llamachat import locations
from llamachat.config import (
    configured_params,
    default_provider_name,
    load_config,
)
from llamachat.config_errors import ConfigError
from llamachat.config_write import write_config
from llamachat.providers.base import GenerationParams
from llamachat.providers.registry import build_provider, option_specs


def write(text: str) -> Path:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_env_overrides_paths(isolated_env: Path) -> None:
    assert locations.config_path() == isolated_env / "config" / "config.toml"
    assert locations.data_dir() == isolated_env / "data"


def test_no_file_means_builtins_and_demo_default() -> None:
    config = load_config()
    assert set(config.providers) == {"deepinfra", "e2e", "segmind", "local", "demo"}
    assert config.providers["local"].base_url == "http://127.0.0.1:8080/v1"
    assert config.providers["segmind"].mode == "sync"
    assert default_provider_name(config) == "demo"


def test_default_follows_the_first_key_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMIND_API_KEY", "SG_123456789")
    assert default_provider_name(load_config()) == "segmind"
    monkeypatch.setenv("DEEPINFRA_TOKEN", "di-123456789")
    assert default_provider_name(load_config()) == "deepinfra"


def test_custom_provider_and_overrides() -> None:
    write(
        """
default_provider = "groq"
default_model = "llama-3.1-8b-instant"

[network]
connect_timeout = 3
read_timeout = 30.5

[defaults]
system_prompt = "Be brief."
temperature = 0.3

[providers.groq]
kind = "openai"
base_url = "https://api.groq.com/openai/v1"
api_key_env = "GROQ_API_KEY"
models = ["llama-3.1-8b-instant"]
headers = { "X-Title" = "llamachat" }

[providers.segmind]
mode = "async"
poll_interval = 2
deadline = 120

[providers.e2e]
project_id = 1234
"""
    )
    config = load_config()
    assert config.warnings == ()
    groq = config.provider("groq")
    assert groq.kind == "openai" and groq.api_key_env == ("GROQ_API_KEY",)
    assert groq.headers == {"X-Title": "llamachat"}
    assert config.network.connect_timeout == 3 and config.network.read_timeout == 30.5
    assert (
        config.defaults.system_prompt == "Be brief." and config.defaults.params.temperature == 0.3
    )
    segmind = config.provider("segmind")
    assert (segmind.mode, segmind.poll_interval, segmind.deadline) == ("async", 2.0, 120.0)
    assert build_provider(segmind).capabilities.queued
    assert config.provider("e2e").project_id == "1234"
    assert default_provider_name(config) == "groq"


def test_broken_toml_names_file_line_and_column() -> None:
    path = write('default_provider = "demo"\n[providers.x\nkind = "openai"\n')
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert str(path) in message and "line 2" in message and "column" in message


def test_generation_defaults_out_of_range_are_warnings_naming_the_line_and_ignored() -> None:
    for line, words in (
        ("temperature = 50", "temperature must be between 0 and 2, not 50"),
        ("max_tokens = -5", "max_tokens must be a whole number between 1 and 1e+06, not -5"),
        ("top_p = 0", "top_p must be greater than 0 and at most 1, not 0"),
        ("top_k = 1000", "top_k must be a whole number between 0 and 999"),
        ("seed = 1.5", "seed must be a whole number"),
        ("min_p = 1.5", "min_p must be between 0 and 1"),
        ("repetition_penalty = 0", "repetition_penalty must be between 0.01 and 5"),
        ("presence_penalty = -3", "presence_penalty must be between -2 and 2"),
        ("frequency_penalty = 3", "frequency_penalty must be between -2 and 2"),
        ('response_format = "xml"', "response_format must be one of json_object, text"),
        ("stop = [" + ", ".join(['"s"'] * 17) + "]", "stop must be up to 16 non-empty strings"),
    ):
        write(f'# a comment\n[defaults]\nsystem_prompt = "x"\n{line}\n')
        config = load_config()
        assert config.defaults.params == GenerationParams(), line  # ignored
        assert config.defaults.system_prompt == "x"
        (warning,) = config.warnings
        assert "line 4: [defaults] " + words in warning and "ignored" in warning, warning
    write("[defaults]\ntemperature = 0\nmax_tokens = 1\ntop_p = 1\n")
    config = load_config()
    assert config.defaults.params.temperature == 0 and config.warnings == ()


def test_provider_defaults_win_over_defaults_and_are_checked() -> None:
    write(
        "[defaults]\ntemperature = 0.5\ntop_k = 10\n"
        "[providers.deepinfra.defaults]\ntemperature = 1.5\ntop_k = 5000\nseed = 7\n"
    )
    config = load_config()
    (warning,) = config.warnings
    assert "line 6: [providers.deepinfra.defaults] top_k must be" in warning
    deepinfra = configured_params(config, "deepinfra")
    assert (deepinfra.temperature, deepinfra.top_k, deepinfra.seed) == (1.5, 10, 7)
    assert configured_params(config, "e2e") == GenerationParams(temperature=0.5, top_k=10)


def test_e2e_project_id_is_the_digits_of_the_project() -> None:
    write('[providers.e2e]\nproject_id = "abc"\n')
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "must be the digits of your project" in str(caught.value)
    write('[providers.e2e]\nproject_id = "p-4242"\n')
    assert load_config().providers["e2e"].project_id == "4242"
    write("[providers.e2e]\nproject_id = 4242\n")
    assert load_config().providers["e2e"].project_id == "4242"


def test_unknown_keys_warn_not_crash() -> None:
    write('colour = "blue"\n[providers.deepinfra]\nbase_urll = "x"\n[network]\nspeed = 3\n')
    config = load_config()
    assert len(config.warnings) == 3
    assert any("'base_urll' in [providers.deepinfra]" in w for w in config.warnings)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('[providers.x]\nbase_url = "http://h"\n', "needs kind"),
        ('[providers.x]\nkind = "martian"\n', "unknown kind"),
        ("[providers.deepinfra]\nmodels = 5\n", "wrong type"),
        ('[providers.segmind]\nmode = "later"\n', "sync"),
        ("[network]\nmax_retries = true\n", "wrong type"),
        ('providers = "all"\n', "table"),
    ],
)
def test_invalid_values_are_config_errors(text: str, phrase: str) -> None:
    path = write(text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert phrase in str(caught.value) and str(path) in str(caught.value)


def test_unknown_default_provider_is_a_warning() -> None:
    write('default_provider = "nope"\n')
    config = load_config()
    assert config.default_provider is None and config.warnings


def test_not_utf8_is_a_config_error() -> None:
    path = locations.config_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config()


def test_write_is_atomic_private_and_round_trips() -> None:
    raw = {
        "default_provider": "deepinfra",
        "providers": {"deepinfra": {"api_key": "di-key-9876543210"}},
    }
    path = write_config(raw)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left behind
    config = load_config()
    key, source = config.provider("deepinfra").key()
    assert key is not None and key.reveal() == "di-key-9876543210" and source == "config"


def test_key_from_config_wins_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPINFRA_API_KEY", "from-env-123456")
    write_config({"providers": {"deepinfra": {"api_key": "from-config-123456"}}})
    prov = build_provider(load_config().provider("deepinfra"))
    assert prov.key_source == "config"


def test_option_declarations_drive_forms() -> None:
    names = {spec.name for spec in option_specs("segmind")}
    assert {"api_key", "mode", "poll_interval", "deadline"} <= names
    e2e = {spec.name: spec for spec in option_specs("e2e")}
    assert e2e["project_id"].env_vars == ("E2E_TIR_PROJECT_ID",)
    assert e2e["api_key"].env_vars == ("E2E_TIR_ACCESS_TOKEN", "E2E_TIR_API_KEY")
    for kind in ("openai", "deepinfra", "e2e", "segmind", "demo"):
        assert option_specs(kind)
