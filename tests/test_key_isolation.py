"""A key goes only to its own provider's host, and never shows up anywhere else."""

from __future__ import annotations

import httpx

from llamachat.config import ProviderSettings, load_config
from llamachat.config_write import write_config
from llamachat.providers.http import HostBoundAuth
from llamachat.secrets import Secret, redact
from tests.fakeserver import FakeServer, json_reply, sse_reply, stream_events
from tests.helpers import collect, make_provider, request

KEY_A = "di-key-AAAAAAAAAAAAAAAA"
KEY_B = "groq-key-BBBBBBBBBBBBBBBB"


async def test_each_key_reaches_only_its_provider(fake: FakeServer, other: FakeServer) -> None:
    for server in (fake, other):
        server.on("POST", "/v1/chat/completions", sse_reply(stream_events(["hi"])))
    a = make_provider("deepinfra", f"{fake.url}/v1", key=KEY_A)
    b = make_provider("openai", f"{other.url}/v1", key=KEY_B, name="groq")
    assert (await collect(a, request()))[1] is None
    assert (await collect(b, request()))[1] is None
    seen_a = fake.received()[0].headers
    seen_b = other.received()[0].headers
    assert seen_a["authorization"] == f"Bearer {KEY_A}"
    assert seen_b["authorization"] == f"Bearer {KEY_B}"
    for recorded in fake.received() + other.received():
        raw = str(recorded.headers) + recorded.body.decode()
        assert (KEY_A in raw) != (KEY_B in raw)


async def test_client_withholds_key_from_other_hosts(fake: FakeServer, other: FakeServer) -> None:
    fake.on("GET", "/elsewhere", json_reply({}))
    other.on("GET", "/elsewhere", json_reply({}))
    prov = make_provider("deepinfra", f"{fake.url}/v1", key=KEY_A)
    client = prov.client  # type: ignore[attr-defined]
    await client.get(f"{other.url}/elsewhere")
    await client.get(f"{fake.url}/elsewhere")
    await prov.aclose()
    assert "authorization" not in other.received()[0].headers
    assert fake.received()[0].headers["authorization"] == f"Bearer {KEY_A}"


def test_auth_matches_scheme_host_and_port() -> None:
    auth = HostBoundAuth(
        httpx.URL("https://api.deepinfra.com/v1/openai"), "Authorization", Secret("k")
    )
    assert auth.allows(httpx.URL("https://api.deepinfra.com/v1/openai/chat/completions"))
    assert not auth.allows(httpx.URL("http://api.deepinfra.com/v1/openai"))
    assert not auth.allows(httpx.URL("https://api.deepinfra.com:8443/v1"))
    assert not auth.allows(httpx.URL("https://api.deepinfra.com.evil.example/v1"))
    assert not auth.allows(httpx.URL("https://evil.example/?u=api.deepinfra.com"))
    assert "k" not in repr(auth).replace("host", "").replace("header", "").replace("deepinfra", "")


async def test_segmind_never_follows_a_foreign_poll_url(
    fake: FakeServer, other: FakeServer
) -> None:
    slug = "llama-v3p1-8b-instruct"
    fake.on(
        "POST",
        f"/v2/{slug}",
        json_reply(
            {
                "request_id": "job1",
                "status": "QUEUED",
                "poll_url": f"{other.url}/steal",
                "status_url": f"{other.url}/steal/status",
                "response_url": f"{other.url}/steal",
            }
        ),
    )
    fake.on("GET", "/v2/requests/job1/status", json_reply({"status": "COMPLETED"}))
    fake.on(
        "GET",
        "/v2/requests/job1",
        json_reply({"status": "COMPLETED", "output": '{"choices":[{"message":{"content":"ok"}}]}'}),
    )
    prov = make_provider(
        "segmind", fake.url, key="SG_secretsecret", mode="async", poll_interval=0.01
    )
    _, error = await collect(prov, request(model=slug))
    assert error is None
    assert other.received() == []


def test_secret_never_in_repr_or_format() -> None:
    secret = Secret("SG_abcdefghijkl")
    assert (
        "abcdef" not in repr(secret) and "abcdef" not in str(secret) and "abcdef" not in f"{secret}"
    )
    assert secret.masked() == "****ijkl"
    settings = ProviderSettings(
        name="x", kind="openai", api_key=secret, headers={"X-Token": "hdr-secret-1"}
    )
    assert "abcdef" not in repr(settings) and "hdr-secret-1" not in repr(settings)


def test_config_repr_and_provider_repr_hide_keys(isolated_env) -> None:  # type: ignore[no-untyped-def]
    write_config({"providers": {"deepinfra": {"api_key": "di-secret-in-config-123"}}})
    config = load_config()
    assert "di-secret-in-config-123" not in repr(config)
    prov = make_provider(
        "deepinfra", "https://api.deepinfra.com/v1/openai", key="di-secret-in-config-123"
    )
    assert "di-secret-in-config-123" not in repr(vars(prov))


def test_redact_patterns() -> None:
    text = "Bearer abcdefghijklmnop SG_ABCDEFGH eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl sk-abcdefghijklmnop"
    cleaned = redact(text)
    for leaked in ("abcdefghijklmnop", "SG_ABCDEFGH", "eyJhbGciOi", "sk-abcdefghijklmnop"):
        assert leaked not in cleaned
    assert redact("my key is hunter2hunter2", ["hunter2hunter2"]) == "my key is ****"
