"""The private APIs of dependencies that llamachat relies on, pinned: if an upgrade changes
one, this fails with a sentence naming it, rather than the reply path failing in use.

``llamachat.providers.sse`` drives httpx-sse's own decoders line by line (its public
``aiter_sse`` hides the raw lines llamachat needs to bound an endless line), reading the
line decoder's ``buffer`` to know how long the unfinished line is.
"""

from __future__ import annotations


def test_httpx_sse_line_and_event_decoders_behave_as_llamachat_uses_them() -> None:
    try:
        from httpx_sse._decoders import SSEDecoder, SSELineDecoder
    except ImportError as error:  # pragma: no cover - only when httpx-sse moves them
        raise AssertionError(
            f"httpx_sse._decoders changed ({error}): update llamachat/providers/sse.py"
        ) from None
    lines = SSELineDecoder()
    assert lines.decode("data: one\n\ndata: tw") == ["data: one", ""]
    assert isinstance(lines.buffer, list), "SSELineDecoder.buffer is no longer a list"
    assert "".join(lines.buffer) == "data: tw", "SSELineDecoder.buffer no longer holds the rest"
    assert lines.decode("o\r\n\r\n") == ["data: two", ""]
    assert list(lines.flush()) == []
    events = SSEDecoder()
    assert events.decode("data: one") is None
    event = events.decode("")
    assert event is not None and event.data == "one" and event.event == "message"
