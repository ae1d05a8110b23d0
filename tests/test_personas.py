"""Personas in the config file and in ``ask --persona``; every provider called by its own name."""

from __future__ import annotations

from pathlib import Path

from llamachat.config import load_config, parse_config
from llamachat.config_personas import BUILTIN_PERSONAS
from llamachat.config_write import write_config
from llamachat.store.db import Store
from llamachat.workspace import Workspace
from tests.fakeserver import FakeServer, sse_reply, stream_events
from tests.helpers import run_cli

CHAT = "/v1/chat/completions"


def fake_provider(fake: FakeServer, **extra: object) -> dict[str, object]:
    return {
        "kind": "openai",
        "base_url": f"{fake.url}/v1",
        "models": ["fake-model"],
        "default_model": "fake-model",
        **extra,
    }


# --- the config file ------------------------------------------------------------------


def test_builtin_personas_and_a_table_read_over_one() -> None:
    text = """
[personas.coder]
model = "big-coder"
temperature = 0.1

[personas.pirate]
system_prompt = "Answer as a pirate."
description = "arr"
top_p = 0.5
"""
    config = parse_config(text, Path("/c/config.toml"))
    assert not config.warnings
    assert {"coder", "editor", "tutor", "pirate"} <= set(config.personas)
    coder = config.persona("coder")
    # Only the keys the table sets change: the built-in prompt stays.
    assert coder.system_prompt == BUILTIN_PERSONAS["coder"].system_prompt
    assert (coder.model, coder.params.temperature) == ("big-coder", 0.1)
    pirate = config.persona("pirate")
    assert (pirate.system_prompt, pirate.description, pirate.params.top_p) == (
        "Answer as a pirate.",
        "arr",
        0.5,
    )


def test_bad_persona_values_are_one_warning_each_naming_file_line_and_key() -> None:
    text = """[personas.coder]
temperature = 7
colour = "red"

[personas.ghost]
provider = "nowhere"
system_prompt = "Boo."

[personas.mute]
description = "no prompt"

[personas.odd]
system_prompt = 3
"""
    config = parse_config(text, Path("/c/config.toml"))
    warnings = "\n".join(config.warnings)
    assert "/c/config.toml: line 2: [personas.coder] temperature must be between 0 and 2" in (
        warnings
    )
    assert "/c/config.toml: line 3: unknown setting 'colour' in [personas.coder]" in warnings
    assert "line 6: [personas.ghost] names provider 'nowhere'" in warnings
    assert "[personas.mute] needs a system_prompt" in warnings
    assert "line 13: 'system_prompt' in [personas.odd] must be a text" in warnings
    assert len(config.warnings) == 6  # odd: its bad prompt, then no prompt at all
    # The refused value is ignored, the rest of the persona kept; the broken ones left out.
    assert (
        config.persona("coder").params.temperature == BUILTIN_PERSONAS["coder"].params.temperature
    )
    assert not {"ghost", "mute", "odd"} & set(config.personas)


def test_an_unknown_persona_names_the_known_ones() -> None:
    config = parse_config("", Path("/c/config.toml"))
    try:
        config.persona("bard")
    except Exception as error:
        assert str(error) == "There is no persona named 'bard'; known: coder, editor, tutor."
    else:
        raise AssertionError("an unknown persona was accepted")


# --- ask --persona -----------------------------------------------------------------------


def test_ask_persona_sends_its_prompt_and_parameters_and_keeps_it(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    write_config(
        {
            "default_provider": "fake",
            "providers": {"fake": fake_provider(fake)},
            "personas": {"pirate": {"system_prompt": "Answer as a pirate.", "top_p": 0.5}},
        }
    )
    fake.on("POST", CHAT, sse_reply(stream_events(["Arr"])), sse_reply(stream_events(["Arr"])))
    result = run_cli("ask", "--persona", "pirate", "hello", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Arr"
    body = fake.received("POST", CHAT)[0].json
    assert body["messages"][0] == {"role": "system", "content": "Answer as a pirate."}
    assert body["top_p"] == 0.5
    store = Store.open_default()
    try:
        conversation_id = store.latest_conversation_id()
        assert conversation_id is not None
        conversation = store.conversation(conversation_id)
        assert conversation.params["persona"] == "pirate"
        view = store.load(conversation_id)
        assert view.path[-1].params is not None and view.path[-1].params["persona"] == "pirate"
    finally:
        store.close()
    # Continued without the flag, the conversation still answers as its persona.
    again = run_cli("ask", "-c", "and then?", env=subprocess_env)
    assert again.returncode == 0, again.stderr
    sent = fake.received("POST", CHAT)[1].json["messages"]
    assert sent[0] == {"role": "system", "content": "Answer as a pirate."}


def test_ask_persona_flags_win_and_builtin_prompt_is_sent(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    write_config({"default_provider": "fake", "providers": {"fake": fake_provider(fake)}})
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"])))
    result = run_cli(
        "ask", "--persona", "coder", "--temperature", "0.9", "--no-save", "hi", env=subprocess_env
    )
    assert result.returncode == 0, result.stderr
    body = fake.received("POST", CHAT)[0].json
    assert body["messages"][0]["content"] == BUILTIN_PERSONAS["coder"].system_prompt
    assert body["temperature"] == 0.9  # the flag over the persona's 0.2


def test_ask_unknown_persona_is_one_sentence_and_nothing_is_sent(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    write_config({"default_provider": "fake", "providers": {"fake": fake_provider(fake)}})
    result = run_cli("ask", "--persona", "bard", "hi", env=subprocess_env)
    assert result.returncode == 2
    assert "There is no persona named 'bard'; known: coder, editor, tutor." in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert fake.received("POST") == []


# --- names -----------------------------------------------------------------------------


def test_each_provider_is_called_by_its_configured_name(fake: FakeServer) -> None:
    write_config(
        {
            "providers": {
                "groq": fake_provider(fake),
                "vllm-box": fake_provider(fake),
                "sg-eu": {"kind": "segmind", "base_url": fake.url},
                "named": fake_provider(fake, display_name="My Server"),
            }
        }
    )
    workspace = Workspace(load_config(), None)
    names = {name: workspace.display_name(name) for name in workspace.config.providers}
    assert names["groq"] == "groq" and names["vllm-box"] == "vllm-box"
    assert names["sg-eu"] == "sg-eu" and names["named"] == "My Server"
    # The built-in ones keep their labels.
    assert (names["deepinfra"], names["segmind"], names["local"]) == (
        "DeepInfra",
        "Segmind",
        "Local server",
    )
    # The live providers (errors, notices, the picker) say the same.
    assert workspace.provider("groq").display_name == "groq"
    assert workspace.provider("sg-eu").display_name == "sg-eu"
    assert workspace.provider("segmind").display_name == "Segmind"


# --- the session ------------------------------------------------------------------------


async def test_a_persona_naming_a_provider_and_model_switches_to_them_and_back(
    fake: FakeServer, other: FakeServer
) -> None:
    from llamachat.session import new_session

    write_config(
        {
            "default_provider": "fake",
            "defaults": {"system_prompt": "Be brief.", "max_tokens": 99},
            "providers": {
                "fake": fake_provider(fake),
                "big": {"kind": "openai", "base_url": f"{other.url}/v1", "models": ["x", "huge"]},
            },
            "personas": {
                "sage": {"system_prompt": "Think hard.", "provider": "big", "model": "huge"},
                "quick": {"system_prompt": "Fast.", "provider": "big"},
            },
        }
    )
    other.on("POST", CHAT, sse_reply(stream_events(["deep"])))
    workspace = Workspace(load_config(), Store.open_default())
    session = new_session(workspace)
    session.save_draft("a draft")  # the conversation exists in the store
    session.choose_persona("sage")
    assert (session.provider_name, session.model, session.persona) == ("big", "huge", "sage")
    assert (session.system_prompt, session.params.max_tokens) == ("Think hard.", 99)
    sending = session.send("why?", keep_unsaved=False)
    async for _ in sending.events:
        pass
    body = other.received("POST", CHAT)[0].json
    assert (body["model"], body["messages"][0]["content"]) == ("huge", "Think hard.")
    assert session.conversation_id is not None and workspace.store is not None
    kept = workspace.store.conversation(session.conversation_id)
    assert (kept.provider, kept.model, kept.params["persona"]) == ("big", "huge", "sage")
    session.choose_persona("quick")  # already on its provider: the model stays
    assert (session.provider_name, session.model) == ("big", "huge")
    session.switch_model("fake", "fake-model")
    session.choose_persona("quick")  # from another provider: that provider's default model
    assert (session.provider_name, session.model) == ("big", "x")
    session.choose_persona(None)  # no persona: the config's prompt, the provider stays
    assert (session.persona, session.system_prompt, session.provider_name) == (
        None,
        "Be brief.",
        "big",
    )
    kept = workspace.store.conversation(session.conversation_id)
    assert "persona" not in kept.params and kept.system_prompt == "Be brief."
    await workspace.aclose()
    workspace.store.close()


def test_ask_persona_takes_its_provider_and_model_unless_p_names_another(
    fake: FakeServer, other: FakeServer, subprocess_env: dict[str, str]
) -> None:
    write_config(
        {
            "default_provider": "fake",
            "providers": {
                "fake": fake_provider(fake),
                "big": {"kind": "openai", "base_url": f"{other.url}/v1", "models": ["x"]},
            },
            "personas": {"sage": {"system_prompt": "Think.", "provider": "big", "model": "huge"}},
        }
    )
    other.on("POST", CHAT, sse_reply(stream_events(["deep"])))
    fake.on("POST", CHAT, sse_reply(stream_events(["here"])))
    result = run_cli("ask", "--persona", "sage", "--no-save", "why?", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    assert other.received("POST", CHAT)[0].json["model"] == "huge"
    flagged = run_cli(
        "ask", "--persona", "sage", "-p", "fake", "--no-save", "hm", env=subprocess_env
    )
    assert flagged.returncode == 0, flagged.stderr
    body = fake.received("POST", CHAT)[0].json
    assert (body["model"], body["messages"][0]["content"]) == ("fake-model", "Think.")
