"""Numbers in the config file are range-checked: a warning names the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamachat import locations
from llamachat.config import NetworkSettings, load_config
from llamachat.config_errors import ConfigError


def write(text: str) -> Path:
    path = locations.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


HEAD = '# my settings\ndefault_provider = "demo"\n\n[network]\nconnect_timeout = 5\n'


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "read_timeout = -5",
            "read_timeout in [network] must be between 0.1 and 86400 seconds; it is -5",
        ),
        (
            "read_timeout = 0",
            "read_timeout in [network] must be between 0.1 and 86400 seconds; it is 0",
        ),
        (
            "reply_timeout = 1e300",
            "reply_timeout in [network] must be between 0.1 and 86400 seconds; it is 1e+300",
        ),
        (
            "reply_timeout = nan",
            "reply_timeout in [network] must be between 0.1 and 86400 seconds; it is nan",
        ),
        ("read_timeout = inf", "it is inf"),
        ("read_timeout = -inf", "it is -inf"),
        (
            "max_retries = 1000000000",
            "max_retries in [network] must be a whole number between 0 and 20; it is 1000000000",
        ),
        (
            "max_retries = -1",
            "max_retries in [network] must be a whole number between 0 and 20; it is -1",
        ),
        (
            "backoff_base = " + "9" * 300,
            "backoff_base in [network] must be between 0 and 600 seconds; it is a 300-digit number",
        ),
        ("backoff_cap = -" + "9" * 400, "it is a 400-digit number"),
    ],
)
def test_network_values_out_of_range_name_file_line_and_key_and_use_the_default(
    line: str, words: str
) -> None:
    path = write(f"{HEAD}{line}\n")
    config = load_config()
    (warning,) = config.warnings
    assert warning.startswith(f"{path}: line 6: "), warning
    assert words in warning and "the default is used" in warning, warning
    key = line.split()[0]
    assert getattr(config.network, key) == getattr(NetworkSettings(), key)
    assert config.network.connect_timeout == 5  # the good value next to it is kept


def test_network_values_in_range_are_kept_without_warnings() -> None:
    write(
        "[network]\nconnect_timeout = 0.1\nread_timeout = 86400\nreply_timeout = 30\n"
        "max_retries = 0\nbackoff_base = 0\nbackoff_cap = 600\n"
    )
    config = load_config()
    assert config.warnings == ()
    assert config.network == NetworkSettings(
        connect_timeout=0.1,
        read_timeout=86400,
        reply_timeout=30,
        max_retries=0,
        backoff_base=0,
        backoff_cap=600,
    )


def test_dotted_keys_are_found_too() -> None:
    path = write('theme = "x"\nnetwork.read_timeout = -1\n')
    (warning,) = load_config().warnings
    assert warning.startswith(f"{path}: line 2: read_timeout in [network]"), warning


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "poll_interval = -1",
            "poll_interval in [providers.segmind] must be between 0.01 and 3600 seconds; it is -1",
        ),
        ("poll_interval = nan", "it is nan"),
        (
            "deadline = 0",
            "deadline in [providers.segmind] must be between 0.1 and 604800 seconds; it is 0",
        ),
        ("deadline = 1e300", "it is 1e+300"),
    ],
)
def test_provider_numbers_out_of_range_are_refused_by_line(line: str, words: str) -> None:
    path = write(f'[providers.segmind]\nmode = "async"\n{line}\n')
    config = load_config()
    (warning,) = config.warnings
    assert warning.startswith(f"{path}: line 3: {line.split()[0]} in [providers.segmind]")
    assert words in warning, warning
    settings = config.providers["segmind"]
    assert settings.mode == "async" and settings.poll_interval is None and settings.deadline is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://[::1", "an IPv6 address goes in [brackets]"),
        ("http://127.0.0.1:99999/v1", "has a port outside 1 to 65535"),
        ("ftp://example.com/", "must start with http:// or https://"),
        ("127.0.0.1:8080/v1", "must start with http:// or https://"),
        ("http://exa\\u0000mple.com/", "a space or a control character"),
    ],
)
def test_a_malformed_base_url_in_the_file_is_one_sentence_naming_the_line(
    url: str, words: str
) -> None:
    path = write(f'[providers.mine]\nkind = "openai"\nbase_url = "{url}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3: base_url ") and words in message, message
    assert "\x00" not in message and "\n" not in message
