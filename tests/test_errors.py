"""Every failure kind maps to its own plain sentence, with details kept and keys masked."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator

import pytest

from llamachat.config import NetworkSettings
from llamachat.providers.errors import ErrorKind, ProviderError
from tests.fakeserver import FakeServer, chunk_event, json_reply, raw_reply, sse_reply
from tests.helpers import FAST, WIRE, collect, make_provider, request

CHAT = "/v1/chat/completions"
KEY = "sk-test-SECRET-0123456789abcdef"
NO_RETRY = NetworkSettings(connect_timeout=1.0, read_timeout=0.5, reply_timeout=1.0, max_retries=0)
HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

CASES = [
    (
        400,
        {"error": {"message": "temperature must be <= 2", "type": "invalid_request_error"}},
        ErrorKind.BAD_REQUEST,
        "temperature must be <= 2",
    ),
    (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 4096 tokens.",
                "code": "context_length_exceeded",
            }
        },
        ErrorKind.CONTEXT_LENGTH,
        "context window",
    ),
    (
        401,
        {"error": {"message": "Invalid API key", "code": 401}},
        ErrorKind.AUTH,
        "rejected the API key",
    ),
    (402, {"error": "Payment required"}, ErrorKind.BILLING, "needs payment"),
    (403, {"detail": "Not permitted"}, ErrorKind.FORBIDDEN, "refused access"),
    (404, {"detail": "Model not found"}, ErrorKind.NOT_FOUND, "does not know"),
    (405, HTML, ErrorKind.BAD_METHOD, "check the base URL"),
    (406, {"error": "Invalid content type"}, ErrorKind.CONTENT_TYPE, "content type"),
    (
        406,
        {"error": "Insufficient credits"},
        ErrorKind.INSUFFICIENT_CREDITS,
        "insufficient credits",
    ),
    (410, {"error": "Model retired"}, ErrorKind.RETIRED, "retired"),
    (413, "Request Entity Too Large", ErrorKind.TOO_LARGE, "too large"),
    (
        422,
        {"detail": [{"msg": "field required", "loc": ["body", "messages"]}]},
        ErrorKind.UNPROCESSABLE,
        "field required",
    ),
    (
        429,
        {"error": {"message": "Model busy, retry later"}},
        ErrorKind.RATE_LIMITED,
        "limiting the rate",
    ),
    (500, "Internal Server Error", ErrorKind.SERVER, "internal error"),
    (
        500,
        {"error": {"message": "Requested input length 140000 exceeds maximum input length 131072"}},
        ErrorKind.CONTEXT_LENGTH,
        "context window",
    ),
    (502, HTML, ErrorKind.GATEWAY, "gateway failed"),
    (503, {"object": "error", "message": "overloaded"}, ErrorKind.UNAVAILABLE, "overloaded"),
    (504, HTML, ErrorKind.GATEWAY, "gateway failed"),
    (418, {"error": "teapot"}, ErrorKind.HTTP_OTHER, "unexpected error"),
]


def _reply(status: int, body: object):  # type: ignore[no-untyped-def]
    if isinstance(body, str):
        kind = "text/html" if body.startswith("<") else "text/plain"
        return raw_reply(body, status, content_type=kind)
    return json_reply(body, status)


@pytest.mark.parametrize(("status", "body", "kind", "phrase"), CASES)
async def test_http_errors_map_to_sentences(
    fake: FakeServer, status: int, body: object, kind: ErrorKind, phrase: str
) -> None:
    fake.on("POST", CHAT, _reply(status, body))
    prov = make_provider("openai", f"{fake.url}/v1", key=KEY, network=NO_RETRY, display_name="Acme")
    events, error = await collect(prov, request(model="m1"))
    assert error is not None
    assert error.kind is kind
    assert phrase.lower() in error.message.lower()
    assert error.status == status
    assert error.body  # raw body kept for the details view
    assert "\n" not in error.message and error.message.endswith(".")
    assert error.message.startswith(("Acme", "The conversation", "The request"))
    assert KEY not in error.message + error.details() + repr(error)


def test_every_status_has_a_distinct_sentence() -> None:
    from llamachat.providers.errors import ErrorContext
    from llamachat.providers.reply_errors import http_error

    ctx = ErrorContext("Acme", "m1")
    sentences = {}
    for status, body, kind, _ in CASES:
        text = body if isinstance(body, str) else __import__("json").dumps(body)
        sentences[(status, kind)] = re.sub(r"\(\d+\)", "", http_error(ctx, status, text).message)
    by_kind: dict[ErrorKind, set[str]] = {}
    for (_, kind), sentence in sentences.items():
        by_kind.setdefault(kind, set()).add(sentence)
    firsts = [next(iter(s)) for s in by_kind.values()]
    assert len(set(firsts)) == len(firsts)


async def test_real_overlong_prompt_sample(fake: FakeServer) -> None:
    text = (WIRE / "10-overlong-prompt.txt").read_text()
    body = re.search(r'^\{"error".*$', text, re.M)
    assert body is not None
    fake.on("POST", CHAT, raw_reply(body.group(0), 400, content_type="application/json"))
    _, error = await collect(make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request())
    assert error is not None and error.kind is ErrorKind.CONTEXT_LENGTH


async def test_real_invalid_json_sample_plain_text_500(fake: FakeServer) -> None:
    fake.on("POST", CHAT, raw_reply("Internal Server Error", 500))
    _, error = await collect(make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request())
    assert error is not None and error.kind is ErrorKind.SERVER
    assert error.body == "Internal Server Error"


async def test_html_page_with_200_status(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        raw_reply("<html><body>Welcome to my blog</body></html>", content_type="text/html"),
    )
    _, error = await collect(make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request())
    assert error is not None and error.kind is ErrorKind.HTML_PAGE
    assert "web page" in error.message


async def test_not_json_reply(fake: FakeServer) -> None:
    fake.on("POST", CHAT, raw_reply("this is not json", content_type="application/json"))
    _, error = await collect(
        make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request(stream=False)
    )
    assert error is not None and error.kind is ErrorKind.BAD_RESPONSE


async def test_key_echoed_in_error_body_is_masked(fake: FakeServer) -> None:
    fake.on(
        "POST",
        CHAT,
        json_reply({"error": {"message": f"Invalid key {KEY}; header was Bearer {KEY}"}}, 400),
    )
    prov = make_provider("openai", f"{fake.url}/v1", key=KEY, network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None
    assert KEY not in error.message and KEY not in (error.body or "") and KEY not in error.details()
    assert "****" in error.message


async def test_server_message_with_escape_sequences_is_flattened(fake: FakeServer) -> None:
    fake.on(
        "POST", CHAT, json_reply({"error": "bad \x1b]52;c;aGVsbG8=\x07 thing\nsecond line"}, 400)
    )
    _, error = await collect(make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request())
    assert error is not None
    assert "\x1b" not in error.message and "\n" not in error.message
    assert "\\x1b" in error.message


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


async def test_connection_refused() -> None:
    prov = make_provider("openai", f"http://127.0.0.1:{_closed_port()}/v1", network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None and error.kind is ErrorKind.CONNECTION_REFUSED
    assert "nothing is listening" in error.message and "127.0.0.1" in error.message


async def test_dns_failure() -> None:
    prov = make_provider("openai", "http://no-such-host.invalid/v1", network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None and error.kind is ErrorKind.DNS
    assert "no-such-host.invalid" in error.message


async def test_tls_failure(fake: FakeServer) -> None:
    # An https:// URL at a plain-HTTP server: the TLS handshake fails.
    prov = make_provider("openai", f"https://127.0.0.1:{fake.port}/v1", network=NO_RETRY)
    _, error = await collect(prov, request())
    assert error is not None and error.kind is ErrorKind.TLS
    assert "TLS" in error.message


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port whose accept queue is full, so new connections hang (a connect timeout)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    yield port
    for s in fillers:
        s.close()
    server.close()


async def test_connect_timeout(blackhole: int) -> None:
    network = NetworkSettings(connect_timeout=0.3, read_timeout=1, max_retries=0)
    prov = make_provider("openai", f"http://127.0.0.1:{blackhole}/v1", network=network)
    _, error = await collect(prov, request())
    assert error is not None and error.kind is ErrorKind.CONNECT_TIMEOUT
    assert "timed out" in error.message


async def test_read_timeout_gap_between_chunks(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event("slow "), chunk_event("and stuck")], delay=2.0))
    _, error = await collect(make_provider("openai", f"{fake.url}/v1", network=NO_RETRY), request())
    assert error is not None and error.kind is ErrorKind.READ_TIMEOUT
    assert error.partial_text == "slow "
    assert "0.5 s" in error.message


async def test_no_key_refused_before_any_request(fake: FakeServer) -> None:
    prov = make_provider("deepinfra", f"{fake.url}/v1", network=FAST)
    _, error = await collect(prov, request())
    assert error is not None and error.kind is ErrorKind.NO_KEY
    assert "DEEPINFRA_API_KEY" in error.message
    assert fake.received() == []


async def test_a_server_configured_with_a_key_variable_needs_that_key(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llamachat.config import ProviderSettings
    from llamachat.providers.registry import build_provider

    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    settings = ProviderSettings(
        name="groq", kind="openai", base_url=f"{fake.url}/v1", api_key_env=("GROQ_API_KEY",)
    )
    _, error = await collect(build_provider(settings), request())
    assert error is not None and error.kind is ErrorKind.NO_KEY
    assert "set GROQ_API_KEY" in error.message
    assert fake.received() == []
    local = build_provider(ProviderSettings(name="local", kind="openai", base_url=fake.url))
    assert not local.capabilities.needs_key  # a local server needs none


async def test_images_refused_for_text_only_model(fake: FakeServer) -> None:
    from llamachat.providers.base import ChatMessage, ChatRequest, ImagePart, TextPart

    prov = make_provider("deepinfra", f"{fake.url}/v1", key=KEY)
    req = ChatRequest(
        (ChatMessage("user", (TextPart("look"), ImagePart("data:image/png;base64,AA"))),),
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
    )
    _, error = await collect(prov, req)
    assert error is not None and error.kind is ErrorKind.UNSUPPORTED
    assert "does not accept images" in error.message
    assert fake.received() == []


def test_provider_error_str_is_the_sentence() -> None:
    err = ProviderError(
        ErrorKind.AUTH, "Acme rejected the API key (401): set X.", status=401, body="{}"
    )
    assert str(err) == "Acme rejected the API key (401): set X."
    assert "HTTP status: 401" in err.details()
