"""Images with a prompt: ``image_reference``, ``ask --image`` and Ctrl+O with an https URL."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from llamachat.config_write import write_config
from llamachat.images import MAX_IMAGE_BYTES, ImageError, image_reference
from llamachat.store.db import Store
from tests.fakeserver import FakeServer, completion_body, json_reply, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

VISION = "llama-v3p1-405b-instruct"
TEXT_ONLY = "llama-v3p1-8b-instruct"
CAT_URL = "https://example.com/cat.png"
PNG_BYTES = b"\x89PNG\r\n\x1a\nfake-png-bytes"


def fake_png(folder: Path, name: str = "square.png") -> Path:
    """A file that passes for a PNG image."""
    image = folder / name
    image.write_bytes(PNG_BYTES)
    return image


# --- image_reference ------------------------------------------------------------------


def test_image_reference_accepts_urls_data_uris_and_files(tmp_path: Path) -> None:
    assert image_reference(CAT_URL) == CAT_URL
    assert image_reference(f"  {CAT_URL}?size=2 ") == f"{CAT_URL}?size=2"
    data = "data:image/png;base64,iVBORw0KGgo="
    assert image_reference(data) == data
    uri = image_reference(str(fake_png(tmp_path)))
    assert uri == "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("http://example.com/cat.png", "Only https:// image URLs are accepted, not http://"),
        ("ftp://example.com/cat.png", "Only https:// image URLs are accepted, not ftp://"),
        ("https:///cat.png", "has no host name"),
        ("https://example.com/a cat.png", "contains spaces or control characters"),
        ("https://example.com:99999/cat.png", "is not a valid URL"),
        ("data:text/plain;base64,aGk=", "must look like data:image/png;base64"),
        ("data:image/png;base64,!!!!", "must look like data:image/png;base64"),
        ("data:image/png;base64,abc", "does not hold valid base64"),
        ("   ", "Give the path of an image file or an https:// URL."),
    ],
)
def test_image_reference_refuses_in_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(ImageError) as caught:
        image_reference(text)
    message = str(caught.value)
    assert sentence in message and "\n" not in message and message.endswith(".")


def test_image_reference_checks_local_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    big = tmp_path / "big.png"
    big.write_bytes(b"0" * (MAX_IMAGE_BYTES + 1))
    for path, sentence in (
        (tmp_path / "missing.png", "There is no file"),
        (tmp_path / "notes.txt", "notes.txt is not an image"),
        (big, "big.png is larger than 20 MB"),
    ):
        with pytest.raises(ImageError, match=sentence):
            image_reference(str(path))


# --- ask --image ----------------------------------------------------------------------


def ask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", "ask", "-p", "sg", *args],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


@pytest.fixture
def segmind(fake: FakeServer) -> FakeServer:
    """A sync Segmind provider ``sg`` on the fake server."""
    write_config(
        {"providers": {"sg": {"kind": "segmind", "base_url": fake.url, "api_key": "SG_abcdefgh"}}}
    )
    fake.on("POST", f"/v1/{VISION}", json_reply(completion_body("A cat and a square.")))
    fake.on("POST", f"/v1/{TEXT_ONLY}", json_reply(completion_body("never")))
    return fake


def test_ask_sends_url_and_file_images_to_segmind(
    segmind: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    image = fake_png(tmp_path)
    result = ask(
        "-m", VISION, "--image", CAT_URL, "--image", str(image), "what is this", env=subprocess_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "A cat and a square.\n"
    [sent] = segmind.received("POST", f"/v1/{VISION}")
    data_uri = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
    assert sent.json["messages"][-1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": CAT_URL}},
            {"type": "image_url", "image_url": {"url": data_uri}},
        ],
    }
    store = Store.open_default()
    try:
        conversation_id = store.latest_conversation_id()
        assert conversation_id is not None
        user = store.messages(conversation_id)[0]
        assert user.role == "user" and user.images == (CAT_URL, data_uri)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("image", "sentence"),
    [
        ("http://example.com/cat.png", "Only https:// image URLs are accepted"),
        ("missing.png", "There is no file"),
    ],
)
def test_ask_refuses_a_bad_image_before_sending(
    segmind: FakeServer, subprocess_env: dict[str, str], tmp_path: Path, image: str, sentence: str
) -> None:
    if not image.startswith("http"):
        image = str(tmp_path / image)
    result = ask("-m", VISION, "--image", image, "what is this", env=subprocess_env)
    assert result.returncode == 2
    assert sentence in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert segmind.received() == []


def test_ask_refuses_images_for_a_text_only_model(
    segmind: FakeServer, subprocess_env: dict[str, str]
) -> None:
    result = ask("-m", TEXT_ONLY, "--image", CAT_URL, "what is this", env=subprocess_env)
    assert result.returncode == 1
    assert f"'{TEXT_ONLY}'" in result.stderr and "does not accept images" in result.stderr
    assert "Traceback" not in result.stderr
    assert segmind.received() == []


# --- the TUI --------------------------------------------------------------------------


async def test_tui_attaches_an_https_url_that_reaches_the_wire(fake: FakeServer) -> None:
    from llamachat.tui.screens.dialogs import InputScreen

    fake.on("POST", "/v1/chat/completions", sse_reply(stream_events(["a cat"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+o")
        await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
        await pilot.press(*CAT_URL, "enter")
        await wait_for(lambda: len(pane(app).attachments.images) == 1, pilot)
        pane(app).prompt.focus()
        await pilot.press(*"what is this?", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        content = fake.received("POST")[0].json["messages"][-1]["content"]
        assert content == [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": CAT_URL}},
        ]
        assert views(app)[0].message.images == (CAT_URL,)


async def test_tui_refuses_an_http_url_in_one_sentence(fake: FakeServer) -> None:
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image("http://example.com/cat.png")
        notice = str(pane(app).notice.render())
        assert "Only https:// image URLs are accepted" in notice
        assert pane(app).attachments.images == []
