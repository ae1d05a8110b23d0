"""Personas in the TUI (picker, Settings, badge, status bar, a restart), and every provider
shown by the name it was given in the config."""

from __future__ import annotations

from typing import Any

from textual.widgets import OptionList, Select, TextArea

from llamachat.config_personas import BUILTIN_PERSONAS
from llamachat.tui.screens.picker import PickerScreen
from llamachat.tui.screens.settings import SettingsScreen
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.tui_helpers import SIZE, configure, make_app, pane, views, wait_for

CHAT = "/v1/chat/completions"
PIRATE = {"system_prompt": "Answer as a pirate.", "temperature": 1.5, "description": "arr"}


def highlighted(app: Any) -> str:
    option = app.screen.options.highlighted_option
    return option.id if option is not None and option.id else ""


async def choose_in_picker(app: Any, pilot: Any, query: str, option_end: str) -> None:
    """Ctrl+L, type ``query``, wait for the row whose id ends with ``option_end``, Enter."""
    await pilot.press("ctrl+l")
    await wait_for(lambda: isinstance(app.screen, PickerScreen), pilot)
    await pilot.press(*query)
    await wait_for(lambda: highlighted(app).endswith(option_end), pilot)
    await pilot.press("enter")
    await wait_for(lambda: not isinstance(app.screen, PickerScreen), pilot)


async def test_a_persona_chosen_in_the_picker_answers_and_survives_a_restart(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["Ahoy"])), sse_reply(stream_events(["Arr"])))
    configure(fake, personas={"pirate": PIRATE})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await choose_in_picker(app, pilot, "pirate", "pirate")
        assert pane(app).session.persona == "pirate"
        assert str(app.status_bar.render()).startswith("pirate · Fake AI · fake-model")
        pane(app).prompt.focus()
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        body = fake.received("POST", CHAT)[0].json
        assert body["messages"][0] == {"role": "system", "content": "Answer as a pirate."}
        assert body["temperature"] == 1.5
        assert str(views(app)[1].badge_text()).startswith("pirate · Fake AI · fake-model")
        assert str(views(app)[0].badge_text()).startswith("You")

    again = make_app()  # the last conversation opens, with its persona
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(views(again)) == 2, pilot)
        assert pane(again).session.persona == "pirate"
        assert str(views(again)[1].badge_text()).startswith("pirate · Fake AI")
        await wait_for(lambda: "pirate" in str(again.status_bar.render()), pilot)
        await pilot.press(*"more", "enter")
        await wait_for(lambda: len(views(again)) == 4 and not pane(again).busy, pilot)
        sent = fake.received("POST", CHAT)[1].json
        assert sent["messages"][0] == {"role": "system", "content": "Answer as a pirate."}
        assert sent["temperature"] == 1.5
        assert str(views(again)[3].badge_text()).startswith("pirate · Fake AI")


async def test_no_persona_from_the_picker_goes_back_to_the_defaults(fake: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["plain"])))
    configure(fake, defaults={"system_prompt": "Be brief."})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await choose_in_picker(app, pilot, "coder", "coder")
        assert pane(app).session.system_prompt == BUILTIN_PERSONAS["coder"].system_prompt
        await choose_in_picker(app, pilot, "no persona", "\x00")
        assert pane(app).session.persona is None
        assert pane(app).session.system_prompt == "Be brief."
        pane(app).prompt.focus()
        await pilot.press(*"hi", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        body = fake.received("POST", CHAT)[0].json
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert "temperature" not in body  # the coder's 0.2 went with it
        assert str(views(app)[1].badge_text()).startswith("Fake AI")


async def test_a_persona_chosen_in_settings_fills_the_fields_and_is_kept(
    fake: FakeServer,
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["one"])), sse_reply(stream_events(["two"])))
    configure(fake, personas={"pirate": PIRATE})
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        app.screen.query_one("#conv--persona", Select).value = "pirate"
        prompt = app.screen.query_one("#conv--system_prompt", TextArea)
        await wait_for(lambda: prompt.text == "Answer as a pirate.", pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        session = pane(app).session
        assert (session.persona, session.system_prompt) == ("pirate", "Answer as a pirate.")
        assert session.params.temperature == 1.5
        assert app.store is not None and session.conversation_id is not None
        assert app.store.conversation(session.conversation_id).params["persona"] == "pirate"
        await pilot.press(*"again", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        body = fake.received("POST", CHAT)[1].json
        assert body["messages"][0] == {"role": "system", "content": "Answer as a pirate."}
        badges = [str(view.badge_text()) for view in views(app)[1::2]]
        assert badges[0].startswith("Fake AI") and badges[1].startswith("pirate · Fake AI")


def servers(fake: FakeServer, other: FakeServer) -> dict[str, Any]:
    """Two OpenAI-compatible servers with no display_name, offering a model of one name."""
    return {
        "groq": {"kind": "openai", "base_url": f"{fake.url}/v1", "models": ["same-model"]},
        "vllm": {"kind": "openai", "base_url": f"{other.url}/v1", "models": ["same-model"]},
    }


async def test_two_openai_servers_show_their_own_names(fake: FakeServer, other: FakeServer) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["from groq"])))
    other.on("POST", CHAT, sse_reply(stream_events(["from vllm"])))
    configure(providers=servers(fake, other), default_provider="groq")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"one", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        assert str(app.status_bar.render()).startswith("groq · same-model")
        await choose_in_picker(app, pilot, "vllm same", "vllm\x00same-model")
        assert pane(app).session.provider_name == "vllm"
        await wait_for(lambda: str(app.status_bar.render()).startswith("vllm · "), pilot)
        pane(app).prompt.focus()
        await pilot.press(*"two", "enter")
        await wait_for(lambda: len(views(app)) == 4 and not pane(app).busy, pilot)
        badges = [str(view.badge_text()) for view in views(app)[1::2]]
        assert badges[0].startswith("groq · same-model")
        assert badges[1].startswith("vllm · same-model")
        assert "OpenAI-compatible" not in " ".join(badges)


async def test_a_filtered_picker_keeps_each_rows_provider_header(
    fake: FakeServer, other: FakeServer
) -> None:
    configure(providers=servers(fake, other), default_provider="groq")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        await wait_for(lambda: isinstance(app.screen, PickerScreen), pilot)
        await pilot.press(*"same-model")
        choices = app.screen.query_one("#choices", OptionList)

        def rows() -> list[tuple[bool, str, str]]:
            return [
                (option.disabled, str(option.prompt), option.id or "")
                for option in (choices.get_option_at_index(i) for i in range(choices.option_count))
            ]

        await wait_for(lambda: sum(not disabled for disabled, _, _ in rows()) == 2, pilot)
        shown = rows()
        # Each matching row comes right after its own provider's header.
        for index, (disabled, _, option_id) in enumerate(shown):
            if disabled:
                continue
            name = option_id.partition("\x00")[0]
            header = next(p for d, p, _ in reversed(shown[:index]) if d)
            assert header.startswith(name), (header, option_id)
        headers = [prompt for disabled, prompt, _ in shown if disabled]
        assert [h.split()[0] for h in headers] == ["groq", "vllm"]
        assert not any("Personas" in h for h in headers)  # no persona matches
        assert not any("OpenAI-compatible" in prompt for _, prompt, _ in shown)


async def test_names_and_descriptions_are_shown_as_written_not_as_markup(
    fake: FakeServer,
) -> None:
    odd = {"kind": "openai", "base_url": f"{fake.url}/v1", "display_name": "[b]Odd[/b] ["}
    configure(
        fake,
        providers={"odd": odd},
        personas={"p[x]": {"system_prompt": "x", "description": "use [/] here"}},
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(lambda: len(views(app)) == 2 and not pane(app).busy, pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen), pilot)
        from textual.widgets import Tab

        labels = [str(tab.label) for tab in app.screen.query(Tab)]
        assert "[b]Odd[/b] [" in labels
        menu = app.screen.query_one("#conv--persona", Select)
        menu.value = "p[x]"
        prompt = app.screen.query_one("#conv--system_prompt", TextArea)
        await wait_for(lambda: prompt.text == "x", pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen), pilot)
        assert pane(app).session.persona == "p[x]"
        await pilot.press("ctrl+l")
        await wait_for(lambda: isinstance(app.screen, PickerScreen), pilot)
        await pilot.press(*"use")
        await wait_for(lambda: highlighted(app).endswith("p[x]"), pilot)
        option = app.screen.query_one("#choices", OptionList).highlighted_option
        assert option is not None and "p[x]  use [/] here" in str(option.prompt)
