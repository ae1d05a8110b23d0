"""Images in the TUI: sent as data URIs to vision models, refused for text-only ones."""

from __future__ import annotations

from pathlib import Path

from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def fake_png(folder: Path) -> Path:
    """A file that passes for a PNG image."""
    image = folder / "square.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nfake-png-bytes")
    return image


async def test_images_refused_for_text_only_models(fake: FakeServer, tmp_path: Path) -> None:
    configure(providers={"deepinfra": {"api_key": "di-1234567890"}}, default_provider="deepinfra")
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))
        assert "does not accept images" in str(pane(app).notice.render())
        assert pane(app).attachments.images == []


async def test_image_sent_as_data_uri_to_a_vision_model(fake: FakeServer, tmp_path: Path) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["a red square"])))
    configure(fake)
    image = fake_png(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))
        assert len(pane(app).attachments.images) == 1 and pane(app).attachments.display
        await pilot.press(*"what is this?", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        content = fake.received("POST")[0].json["messages"][-1]["content"]
        assert content[0] == {"type": "text", "text": "what is this?"}
        assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
        assert views(app)[0].message.images


async def test_images_are_not_sent_to_a_model_picked_after_attaching(
    fake: FakeServer,
    tmp_path: Path,
) -> None:
    from llamachat.tui.screens.dialogs import InputScreen

    fake.on("POST", CHAT, sse_reply(stream_events(["text only"])))
    configure(fake)
    image = fake_png(tmp_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane(app).attach_image(str(image))  # the fake model accepts images
        app.switch_model("demo", "llama-3.1-8b-demo")  # this one does not
        await pilot.press(*"what is this?", "enter")
        await pilot.pause(0.1)
        assert views(app) == [] and "does not accept images" in str(pane(app).notice.render())
        assert pane(app).prompt.text == "what is this?" and len(pane(app).attachments.images) == 1
        await pilot.press("ctrl+o")  # an empty path removes the images
        await wait_for(lambda: isinstance(app.screen, InputScreen), pilot)
        await pilot.press("enter")
        await wait_for(lambda: not pane(app).attachments.images, pilot)
        pane(app).prompt.focus()
        await pilot.press("enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert not views(app)[0].message.images
