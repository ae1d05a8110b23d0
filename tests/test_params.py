"""Every generation parameter, checked against its range, reaching the wire under its name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llamachat.config_write import write_config
from llamachat.params import PARAM_SPECS, describe_params, param_problem
from tests.fakeserver import FakeServer, completion_body, json_reply, sse_reply, stream_events
from tests.test_cli import CHAT, run

#: A value inside the range of each parameter, as a flag and as it is sent.
FLAGS: list[str] = [
    "--temperature", "0.25", "--top-p", "0.9", "--max-tokens", "64", "--stop", "END",
    "--stop", "###", "--seed", "42", "--presence-penalty", "0.5", "--frequency-penalty", "-0.5",
    "--repetition-penalty", "1.1", "--top-k", "40", "--min-p", "0.05", "--json-mode",
]  # fmt: skip
WIRE: dict[str, Any] = {
    "temperature": 0.25,
    "top_p": 0.9,
    "max_tokens": 64,
    "stop": ["END", "###"],
    "seed": 42,
    "presence_penalty": 0.5,
    "frequency_penalty": -0.5,
    "repetition_penalty": 1.1,
    "top_k": 40,
    "min_p": 0.05,
    "response_format": {"type": "json_object"},
}
#: The same values as config keys.
CONFIG: dict[str, Any] = {**WIRE, "response_format": "json_object"}


def _fake_provider(fake: FakeServer, **table: Any) -> dict[str, Any]:
    return {"kind": "openai", "base_url": f"{fake.url}/v1", "models": ["m"], **table}


def _reply(fake: FakeServer) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1}
    fake.on("POST", CHAT, sse_reply(stream_events(["ok"], usage=usage)))


def test_the_table_covers_every_documented_parameter() -> None:
    assert {spec.name for spec in PARAM_SPECS} == set(WIRE)
    assert {spec.flag for spec in PARAM_SPECS} == {f for f in FLAGS if f.startswith("--")}
    assert all(param_problem(name, value) is None for name, value in CONFIG.items())


def test_every_flag_reaches_the_wire_under_its_name(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    _reply(fake)
    result = run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", *FLAGS, "hi", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST", CHAT)[0].json
    assert {k: sent[k] for k in WIRE} == WIRE


@pytest.mark.parametrize(
    ("flag", "value", "sentence"),
    [
        ("--temperature", "2.5", "temperature must be between 0 and 2, not 2.5."),
        ("--top-p", "0", "top_p must be greater than 0 and at most 1, not 0."),
        ("--max-tokens", "0", "max_tokens must be a whole number between 1 and 1e+06, not 0."),
        ("--seed", "-1", "seed must be a whole number between 0 and 9.2e+18, not -1."),
        ("--seed", "1.5", "seed must be a whole number, not '1.5'."),
        ("--presence-penalty", "2.1", "presence_penalty must be between -2 and 2, not 2.1."),
        ("--frequency-penalty", "-3", "frequency_penalty must be between -2 and 2, not -3."),
        ("--repetition-penalty", "0", "repetition_penalty must be between 0.01 and 5, not 0."),
        ("--top-k", "1000", "top_k must be a whole number between 0 and 999, not 1000."),
        ("--min-p", "1.01", "min_p must be between 0 and 1, not 1.01."),
        ("--stop", "", "stop must be up to 16 non-empty strings."),
    ],
)
def test_a_flag_out_of_range_is_refused_before_anything_is_sent(
    flag: str, value: str, sentence: str, fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    _reply(fake)
    result = run(
        "ask",
        "--base-url",
        f"{fake.url}/v1",
        "-m",
        "m",
        f"{flag}={value}",
        "hi",
        env=subprocess_env,
    )
    assert result.returncode == 2
    assert result.stderr == f"llamachat: {sentence}\n"  # one sentence, naming the limit
    assert fake.received() == []


def test_seventeen_stop_sequences_are_refused(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    stops = [arg for i in range(17) for arg in ("--stop", f"s{i}")]
    result = run("ask", "--base-url", f"{fake.url}/v1", *stops, "hi", env=subprocess_env)
    assert result.returncode == 2
    assert result.stderr == "llamachat: stop must be up to 16 non-empty strings.\n"
    assert fake.received() == []


def test_every_key_of_defaults_reaches_the_wire(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    _reply(fake)
    write_config({"defaults": CONFIG, "providers": {"fake": _fake_provider(fake)}})
    result = run("ask", "-p", "fake", "hi", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST", CHAT)[0].json
    assert {k: sent[k] for k in WIRE} == WIRE


def test_a_providers_defaults_win_over_defaults(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    _reply(fake)
    others = {k: v for k, v in CONFIG.items() if k != "temperature"}
    write_config(
        {
            "defaults": {"temperature": 0.5, "top_k": 3},
            "providers": {"fake": _fake_provider(fake, defaults=others)},
        }
    )
    result = run("ask", "-p", "fake", "--temperature", "0.25", "hi", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST", CHAT)[0].json
    assert {k: sent[k] for k in WIRE} == WIRE  # top_k 40 from the provider, temperature the flag
    fake.reset()
    _reply(fake)
    assert run("ask", "-p", "fake", "hi", env=subprocess_env).returncode == 0
    assert fake.received("POST", CHAT)[0].json["temperature"] == 0.5


def test_an_out_of_range_value_in_the_file_is_a_warning_and_ignored(
    fake: FakeServer, subprocess_env: dict[str, str], isolated_env: Path
) -> None:
    _reply(fake)
    path = Path(subprocess_env["LLAMACHAT_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'[providers.fake]\nkind = "openai"\nbase_url = "{fake.url}/v1"\n'
        "[providers.fake.defaults]\ntop_k = 5000\nseed = 1\n"
    )
    result = run("ask", "-p", "fake", "-m", "m", "hi", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    assert f"{path}: line 5: [providers.fake.defaults] top_k must be" in result.stderr
    sent = fake.received("POST", CHAT)[0].json
    assert "top_k" not in sent and sent["seed"] == 1


def test_a_parameter_the_provider_does_not_take_is_not_sent_and_reported_once(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    slug = "llama-v3p1-8b-instruct"
    fake.on("POST", f"/v1/{slug}", json_reply(completion_body("ok")))
    write_config(
        {
            "providers": {
                "sg": {"kind": "segmind", "base_url": fake.url, "api_key": "SG_k0123456789"}
            }
        }
    )
    result = run("ask", "-p", "sg", "-m", slug, *FLAGS, "hi", env=subprocess_env)
    assert result.returncode == 0, result.stderr
    sent = fake.received("POST", f"/v1/{slug}")[0].json
    assert {k for k in sent if k != "messages"} == {"temperature", "top_p", "max_tokens"}
    dropped = "stop, seed, presence_penalty, frequency_penalty, repetition_penalty, top_k, min_p"
    line = f"llamachat: sg does not take {dropped}, response_format, so it was not sent.\n"  # named as configured
    assert result.stderr.count("does not take") == 1 and line in result.stderr


def test_params_are_stored_shown_exported_and_kept_by_import(
    fake: FakeServer, subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    _reply(fake)
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "--json", *FLAGS, "hi",
        env=subprocess_env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    conversation = json.loads(result.stdout)["conversation_id"]
    stored = {**CONFIG}

    def reply_params(data: dict[str, Any]) -> dict[str, Any]:
        (reply,) = [m for m in data["messages"] if m["role"] == "assistant"]
        params: dict[str, Any] = reply["params"]
        return params

    shown = run("history", "show", str(conversation), "--json", env=subprocess_env)
    assert shown.returncode == 0, shown.stderr
    assert reply_params(json.loads(shown.stdout)) == stored
    export = tmp_path / "chat.json"
    exported = run(
        "export", str(conversation), "--format", "json", "-o", str(export), env=subprocess_env
    )
    assert exported.returncode == 0, exported.stderr
    assert reply_params(json.loads(export.read_text())) == stored
    imported = run("import", str(export), env=subprocess_env)
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(run("history", "list", "--json", env=subprocess_env).stdout)
    new_id = max(c["id"] for c in listed)
    again = run("history", "show", str(new_id), "--json", env=subprocess_env)
    kept = reply_params(json.loads(again.stdout))
    assert kept == stored and kept["top_k"] == 40


def test_details_text_lists_the_parameters() -> None:
    text = describe_params({"top_k": 40, "stop": ["END"], "unknown": 1})
    assert text == "Parameters:\nstop = ['END']\ntop_k = 40"
    assert "none set" in describe_params({})
    made_by = describe_params({"persona": "coder", "temperature": 0.2})
    assert made_by == "Persona: coder\nParameters:\ntemperature = 0.2"


def test_readme_lists_every_flag_and_key() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    usage = readme[readme.index("llamachat ask [") : readme.index("llamachat providers [")]
    config = readme[readme.index("[defaults]") : readme.index("[network]")]
    for spec in PARAM_SPECS:
        assert f"[{spec.flag}" in usage, spec.flag
        assert f"\n{spec.name} = " in config, spec.name
