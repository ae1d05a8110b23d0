"""Settings that cannot go on the wire are refused before anything is sent.

A configured HTTP header with a line break, a NUL or a character that is not plain
ASCII is one sentence naming the provider, the header and the file's line, never a
request retried as "connection dropped"; a parameter refused says the number given.
"""

from __future__ import annotations

import pytest

from llamachat.cli import main
from llamachat.config import load_config
from llamachat.config_errors import ConfigError
from llamachat.locations import config_path
from llamachat.params import param_problem
from llamachat.providers.errors import ErrorKind
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.helpers import collect, make_provider, request

CHAT = "/v1/chat/completions"

BAD_HEADERS = {
    "crlf-value": ('"X-Trace" = "v\\r\\nInjected: 1"', "X-Trace", "a line break"),
    "lf-name": ('"X-Bad\\nHeader" = "v"', "X-Bad\\nHeader", "a name HTTP does not allow"),
    "nul-value": ('"X-Trace" = "a\\u0000b"', "X-Trace", "a control character"),
    "non-ascii": ('"X-Trace" = "café"', "X-Trace", "not plain ASCII"),
    "space-name": ('"X Trace" = "v"', "X Trace", "a name HTTP does not allow"),
}


def config_with_headers(fake: FakeServer, headers: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        'default_provider = "x"\n[network]\nmax_retries = 3\nbackoff_base = 0\n\n'
        f'[providers.x]\nkind = "openai"\nbase_url = "{fake.url}/v1"\n'
        f'headers = {{ {headers} }}\nmodels = ["m"]\n'
    )


@pytest.mark.parametrize("name", list(BAD_HEADERS))
def test_a_header_http_cannot_carry_is_a_config_sentence_and_nothing_is_sent(
    name: str, fake: FakeServer, capsys: pytest.CaptureFixture[str]
) -> None:
    entry, header, problem = BAD_HEADERS[name]
    config_with_headers(fake, entry)
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    code = main(["ask", "-p", "x", "hi"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code != 0 and len(lines) == 1, err
    assert f"header '{header}'" in lines[0] and problem in lines[0]
    assert "[providers.x]" in lines[0] and "line 9" in lines[0]
    assert "Injected" not in err and "dropped" not in err
    assert fake.received() == []


def test_a_valid_header_is_sent(fake: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    config_with_headers(fake, '"X-Trace" = "a b\\tc"')
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    assert main(["ask", "-p", "x", "hi"]) == 0
    assert fake.received()[0].headers["x-trace"] == "a b\tc"
    assert load_config().providers["x"].headers == {"X-Trace": "a b\tc"}


def test_the_file_refuses_a_bad_header_with_its_line(fake: FakeServer) -> None:
    config_with_headers(fake, BAD_HEADERS["crlf-value"][0])
    with pytest.raises(ConfigError, match=r"line 9: header 'X-Trace' has a line break"):
        load_config()


async def test_settings_not_from_the_file_are_refused_without_a_request(fake: FakeServer) -> None:
    provider = make_provider("openai", f"{fake.url}/v1", headers={"X-Trace": "v\r\nX-Evil: 1"})
    _, error = await collect(provider, request())
    assert error is not None and error.kind is ErrorKind.NOT_CONFIGURED
    assert "header 'X-Trace' has a line break" in error.message
    assert "[providers.openai]" in error.message and "X-Evil" not in error.message
    assert fake.received() == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (9223372036854775807, "not 9223372036854775807."),
        (9_200_000_000_000_000_001, "not 9200000000000000001."),
        (10**400, "not a 401-digit number."),
    ],
    ids=["int64-max", "just-over", "400-digits"],
)
def test_a_whole_number_out_of_range_is_shown_as_written(value: int, shown: str) -> None:
    problem = param_problem("seed", value)
    assert problem is not None and problem.endswith(shown), problem


def test_ask_says_the_seed_it_was_given(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "-p", "demo", "--seed", "9223372036854775807", "hi"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not 9223372036854775807." in err and "9.22337e+18" not in err
