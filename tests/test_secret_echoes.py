"""Keys stay masked however a server echoes them, and base URLs never show their password."""

from __future__ import annotations

import json
import subprocess
import sys

from llamachat.config import NetworkSettings
from llamachat.secrets import MASK, redact, redact_url
from tests.fakeserver import FakeServer, json_reply, raw_reply
from tests.helpers import collect, make_provider, request

CHAT = "/v1/chat/completions"
#: A key with no recognisable shape: only knowing the key itself can mask it.
KEY = "di7QxLm9PzR4tWv8Ab3Cd6EfGh"
NO_RETRY = NetworkSettings(connect_timeout=1.0, read_timeout=0.5, reply_timeout=1.0, max_retries=0)
CUT = 20_000  # what of an error body is kept (providers/errors.py)


async def test_a_key_straddling_the_cut_is_masked_whole(fake: FakeServer) -> None:
    body = "A" * (CUT - 5) + KEY + " and more"  # five characters of the key before the cut
    fake.on("POST", CHAT, raw_reply(body, 500))
    prov = make_provider("openai", f"{fake.url}/v1", key=KEY, network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None and error.body is not None
    assert len(error.body) <= CUT
    assert KEY[:4] not in error.body and KEY[:4] not in error.details()
    assert error.body.startswith("A" * (CUT - 5) + MASK)


async def test_a_key_echoed_cut_short_reversed_or_recased_is_masked(fake: FakeServer) -> None:
    echoes = [KEY[:8], KEY[:15] + "...", KEY[::-1], KEY.lower(), KEY.upper(), KEY[::-1][:9]]
    message = "Invalid key: " + " | ".join(echoes)
    fake.on("POST", CHAT, json_reply({"error": {"message": message}}, 401))
    prov = make_provider("openai", f"{fake.url}/v1", key=KEY, network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None
    shown = f"{error.message}\n{error.details()}".lower()
    for echo in echoes:
        assert echo.lower().rstrip(".") not in shown, echo
    assert KEY[:8].lower() not in shown and KEY[::-1][:8].lower() not in shown
    assert redact("Invalid key: " + " | ".join(echoes), [KEY]).count(MASK) == len(echoes)
    assert redact("short di7Qx ok", [KEY]) == "short di7Qx ok"  # under 8 characters: not a key


DASHED = "di-7QxLm9PzR4tWv8Ab3Cd6EfGh"


async def test_a_key_split_encoded_or_with_a_nul_is_masked(fake: FakeServer) -> None:
    echoes = [
        DASHED[:12] + "\n" + DASHED[12:],  # split by a line break: the tail showed
        DASHED.replace("-", "%2D"),  # percent-encoded: shown whole
        DASHED[:5] + "\x00" + DASHED[5:],  # a NUL inserted: shown whole
        json.dumps(DASHED[:9] + "\n" + DASHED[9:]),  # escaped in JSON text
    ]
    message = "key " + " | ".join(echoes)
    fake.on("POST", CHAT, json_reply({"error": {"message": message}}, 401))
    prov = make_provider("openai", f"{fake.url}/v1", key=DASHED, network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None
    shown = f"{error.message}\n{error.details()}\n{error.body}"
    for start in range(len(DASHED) - 7):  # no eight characters of the key in a row
        assert DASHED[start : start + 8] not in shown, DASHED[start : start + 8]
    assert "Lm9PzR4t" not in redact("x" + "Lm9PzR4tWv8" + "y", [DASHED])


def test_redact_url_strips_user_and_password() -> None:
    assert redact_url("https://alice:s3cret@llm.example:8443/v1?x=1") == (
        "https://llm.example:8443/v1?x=1"
    )
    assert redact_url("http://token@10.0.0.5/v1") == "http://10.0.0.5/v1"
    assert (
        redact_url("https://api.deepinfra.com/v1/openai") == "https://api.deepinfra.com/v1/openai"
    )


def test_ask_base_url_never_shows_or_stores_its_password(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, raw_reply("<html><body>Bad Gateway</body></html>", 502, "text/html"))
    url = fake.url.replace("http://", "http://alice:s3cretPassw0rd@") + "/v1"
    base = [sys.executable, "-m", "llamachat"]
    ask = subprocess.run(
        [*base, "ask", "--base-url", url, "-m", "m", "--json", "hi"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    shown = ask.stdout + ask.stderr
    assert "s3cretPassw0rd" not in shown and "alice" not in shown, shown
    outcome = json.loads(ask.stdout)
    assert "server at http://127.0.0.1:" in outcome["error"]  # the URL, shown without userinfo
    listed = subprocess.run(
        [*base, "export", str(outcome["conversation_id"]), "--format", "json"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert "s3cretPassw0rd" not in listed.stdout + listed.stderr
