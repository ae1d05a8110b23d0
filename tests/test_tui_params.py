"""Generation parameters in the TUI: set in Settings, sent, reported when dropped, shown in details."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Select, TextArea

from llamachat.config import load_config
from llamachat.params import PARAM_SPECS, ParamKind
from llamachat.tui.screens.dialogs import DetailsScreen
from llamachat.tui.screens.settings import SettingsScreen
from tests.fakeserver import FakeServer, completion_body, json_reply, sse_reply, stream_events
from tests.test_params import CONFIG, WIRE
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"


def _fill(screen: Any, prefix: str, values: dict[str, Any]) -> None:
    for spec in PARAM_SPECS:
        value = values[spec.name]
        widget_id = f"#{prefix}--{spec.name}"
        if spec.kind is ParamKind.STOPS:
            screen.query_one(widget_id, TextArea).text = "\n".join(value)
        elif spec.kind is ParamKind.CHOICE:
            screen.query_one(widget_id, Select).value = value
        else:
            screen.query_one(widget_id, Input).value = str(value)


async def test_settings_overrides_and_defaults_reach_the_wire(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    configure(fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(fake.received("POST", CHAT)) == 1 and not pane(app).busy, pilot)
        assert not set(WIRE) & set(fake.received("POST", CHAT)[0].json)

        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        _fill(app.screen, "conv", CONFIG)
        defaults = {**CONFIG, "top_k": 7, "temperature": 1.5}
        _fill(app.screen, "general", defaults)
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)

        pane(app).prompt.focus()
        await pilot.press(*"again", "enter")
        await wait_for(lambda: len(fake.received("POST", CHAT)) == 2 and not pane(app).busy, pilot)
        sent = fake.received("POST", CHAT)[1].json
        assert {k: sent[k] for k in WIRE} == WIRE  # this conversation's overrides

        saved = load_config()
        assert saved.defaults.params.top_k == 7 and saved.defaults.params.stop == ("END", "###")
        await pilot.press("ctrl+n")  # a new chat starts from the saved defaults
        await wait_for(lambda: pane(app).conversation_id is None, pilot)
        await pilot.press(*"new", "enter")
        await wait_for(lambda: len(fake.received("POST", CHAT)) == 3 and not pane(app).busy, pilot)
        sent = fake.received("POST", CHAT)[2].json
        assert {k: sent[k] for k in WIRE} == {**WIRE, "top_k": 7, "temperature": 1.5}

        reply = views(app)[-1]
        reply.focus()
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DetailsScreen), pilot)
        details = app.screen.details  # type: ignore[attr-defined]
        assert "top_k = 7" in details and "response_format = 'json_object'" in details


async def test_a_parameter_segmind_does_not_take_is_reported_once(fake: FakeServer) -> None:
    slug = "llama-v3p1-8b-instruct"
    fake.on("POST", f"/v1/{slug}", json_reply(completion_body("ok")))
    configure(
        providers={
            "sg": {
                "kind": "segmind",
                "base_url": fake.url,
                "api_key": "SG_testkey1234567",
                "default_model": slug,
                "defaults": {"top_k": 40, "temperature": 0.5},
            }
        },
        default_provider="sg",
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for turn in (1, 2):
            await pilot.press(*f"turn {turn}", "enter")
            await wait_for(
                lambda n=turn: len(fake.received("POST")) == n and not pane(app).busy,
                pilot,
            )
        for request in fake.received("POST"):
            assert request.json["temperature"] == 0.5 and "top_k" not in request.json
        told = [n for n in app._notifications if "does not take top_k" in n.message]
        assert len(told) == 1
        assert views(app)[-1].message.params == {"temperature": 0.5}  # what was sent, stored
