"""The command line as a person uses it: a real subprocess against the loopback fake server."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llamachat.config_write import write_config
from tests.fakeserver import FakeServer, chunk_event, json_reply, sse_reply, stream_events
from tests.helpers import read_until_closed

CHAT = "/v1/chat/completions"


def run(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamachat", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_ask_refuses_parameters_out_of_range(subprocess_env: dict[str, str]) -> None:
    hot = run("ask", "-p", "demo", "--temperature", "50", "hi", env=subprocess_env)
    assert hot.returncode == 2 and "temperature must be between 0 and 2, not 50" in hot.stderr
    negative = run("ask", "-p", "demo", "--max-tokens", "-5", "hi", env=subprocess_env)
    assert negative.returncode == 2
    assert "max_tokens must be a whole number between 1" in negative.stderr
    word = run("ask", "-p", "demo", "--temperature", "warm", "hi", env=subprocess_env)
    assert word.returncode == 2 and "temperature must be a number, not 'warm'" in word.stderr


def test_version_and_help(subprocess_env: dict[str, str]) -> None:
    result = run("--version", env=subprocess_env)
    assert result.returncode == 0 and result.stdout.startswith("llamachat 0.")
    help_ = run("ask", "--help", env=subprocess_env)
    assert help_.returncode == 0
    for flag in (
        "--provider",
        "--model",
        "--system",
        "--base-url",
        "--temperature",
        "--max-tokens",
        "--no-stream",
        "--json",
        "--quiet",
    ):
        assert flag in help_.stdout


def test_ask_streams_reply_to_stdout_and_status_to_stderr(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    usage = {"prompt_tokens": 7, "completion_tokens": 3}
    fake.on("POST", CHAT, sse_reply(stream_events(["Hello", ",", " world"], usage=usage)))
    result = run(
        "ask",
        "--base-url",
        f"{fake.url}/v1",
        "-m",
        "tiny",
        "-s",
        "Be terse.",
        "--temperature",
        "0.5",
        "--max-tokens",
        "9",
        "Say",
        "hi",
        env=subprocess_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, world\n"
    assert "usage: 7 prompt + 3 completion tokens" in result.stderr
    sent = fake.received("POST", CHAT)[0].json
    assert sent["messages"] == [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Say hi"},
    ]
    assert sent["temperature"] == 0.5 and sent["max_tokens"] == 9 and sent["model"] == "tiny"


def test_ask_reads_stdin_and_quiet_silences_status(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events(["ok\n"], usage={"prompt_tokens": 1, "completion_tokens": 1})),
    )
    result = run(
        "ask",
        "--base-url",
        f"{fake.url}/v1",
        "-m",
        "m",
        "--quiet",
        "-",
        env=subprocess_env,
        stdin="multi\nline prompt\n",
    )
    assert result.returncode == 0
    assert result.stdout == "ok\n"  # no doubled newline
    assert result.stderr == ""
    assert fake.received()[0].json["messages"][-1]["content"] == "multi\nline prompt\n"


def test_ask_json_object(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on(
        "POST",
        CHAT,
        sse_reply(stream_events(["A", "B"], usage={"prompt_tokens": 2, "completion_tokens": 2})),
    )
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "--json", "q", env=subprocess_env
    )
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data == {
        "provider": "openai",
        "model": "m",
        "content": "AB",
        "finish_reason": "stop",
        "usage": {"prompt_tokens": 2, "completion_tokens": 2},
        "cost": None,
        "credits": None,
        "job_id": None,
        "conversation_id": 1,
        # the server's window is not known (and not asked for a lone short prompt)
        "context": {"window": None, "used": 4, "estimated": False, "left_out": 0},
    }


def test_ask_picks_first_listed_model_when_none_given(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("GET", "/v1/models", json_reply({"data": [{"id": "only-model"}]}))
    fake.on("POST", CHAT, sse_reply(stream_events(["x"])))
    result = run("ask", "--base-url", f"{fake.url}/v1", "hi", env=subprocess_env)
    assert result.returncode == 0
    assert fake.received("POST")[0].json["model"] == "only-model"


def test_ask_provider_failure_exit_1_one_line_no_key(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    key = "sk-live-VERYSECRET-1234567890"
    fake.on(
        "POST", CHAT, json_reply({"error": {"message": f"Incorrect API key provided: {key}"}}, 401)
    )
    env = {**subprocess_env, "MY_KEY": key}
    result = run(
        "ask", "--base-url", f"{fake.url}/v1", "--api-key-env", "MY_KEY", "-m", "m", "hi", env=env
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "rejected the API key" in lines[0]
    assert key not in result.stderr + result.stdout
    assert fake.received()[0].headers["authorization"] == f"Bearer {key}"
    assert "Traceback" not in result.stderr


def test_ask_keeps_text_received_before_failure(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, sse_reply([chunk_event("partial answer")], cut=True))
    result = run("ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hi", env=subprocess_env)
    assert result.returncode == 1
    assert result.stdout == "partial answer\n"
    assert "dropped" in result.stderr


def test_ask_connection_refused_exit_1(subprocess_env: dict[str, str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    result = run(
        "ask", "--base-url", f"http://127.0.0.1:{port}/v1", "-m", "m", "hi", env=subprocess_env
    )
    assert result.returncode == 1
    assert "nothing is listening" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "config", "phrase"),
    [
        (["ask", "-p", "nope", "hi"], None, "no provider named 'nope'"),
        (["ask", "hi"], "[providers.x\n", "line 1"),
        (["ask"], None, "no prompt"),
        (["ask", "--temperature", "hot", "hi"], None, "must be a number, not 'hot'"),
        (["history", "list", "--limit", "0"], None, "must be at least 1, not 0"),
        (["ask", "--base-url", "ftp://x", "hi"], None, "http://"),
        (["models", "-p", "nope"], None, "no provider named"),
        (["providers"], "x = [\n", "config.toml"),
    ],
)
def test_usage_and_config_errors_exit_2(
    args: list[str],
    config: str | None,
    phrase: str,
    subprocess_env: dict[str, str],
    isolated_env: Path,
) -> None:
    if config is not None:
        path = Path(subprocess_env["LLAMACHAT_CONFIG"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config)
    result = run(*args, env=subprocess_env)
    assert result.returncode == 2
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_with_no_key_is_a_provider_failure(subprocess_env: dict[str, str]) -> None:
    result = run("ask", "-p", "deepinfra", "hi", env=subprocess_env)
    assert result.returncode == 1
    assert "DEEPINFRA_API_KEY" in result.stderr


def test_ask_queued_segmind_reports_job_status_and_credits(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    slug = "llama-v3p1-8b-instruct"
    write_config(
        {
            "providers": {
                "sg": {
                    "kind": "segmind",
                    "base_url": fake.url,
                    "mode": "async",
                    "poll_interval": 0.05,
                }
            }
        }
    )
    fake.on(
        "POST",
        f"/v2/{slug}",
        json_reply(
            {"request_id": "j9", "status": "QUEUED", "status_url": "x", "response_url": "y"}
        ),
    )
    fake.on(
        "GET",
        "/v2/requests/j9/status",
        json_reply({"status": "PROCESSING"}),
        json_reply({"status": "COMPLETED"}),
    )
    fake.on(
        "GET",
        "/v2/requests/j9",
        json_reply(
            {
                "status": "COMPLETED",
                "metrics": {"cost": 0.002, "remaining_credits": 3.5},
                # A reported cost is taken only with the tokens it is for (usage).
                "output": json.dumps(
                    {
                        "choices": [
                            {"message": {"content": "queued hello"}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
                    }
                ),
            }
        ),
    )
    env = {**subprocess_env, "SEGMIND_API_KEY": "SG_abcdefghijkl"}
    result = run("ask", "-p", "sg", "hi", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "queued hello\n"
    err = result.stderr
    assert "queued as job j9" in err and "PROCESSING" in err and "COMPLETED" in err
    assert "cost: $0.0020" in err and "credits: $3.5000 remaining" in err
    assert "SG_abcdefghijkl" not in err
    as_json = run("ask", "-p", "sg", "--json", "hi", env=env)
    assert json.loads(as_json.stdout)["job_id"] == "j9"


def test_ask_interrupted_prints_what_arrived_and_exits_130(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events([f"tok{i} " for i in range(400)]), delay=0.02))
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamachat", "ask", "--base-url", f"{fake.url}/v1", "-m", "m", "hi"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
    )
    assert proc.stdout is not None
    first = proc.stdout.read(5)  # wait until streaming has begun
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert (first + rest).startswith("tok0 tok1")
    assert (first + rest).endswith("\n")
    assert "interrupted" in err and "Traceback" not in err


def test_ask_escapes_control_sequences_on_a_terminal_only(
    fake: FakeServer, subprocess_env: dict[str, str]
) -> None:
    hostile = "safe \x1b]52;c;cHduZWQ=\x07 \x1b[2J\x1b[31mred\r done"
    fake.on("POST", CHAT, sse_reply(stream_events([hostile])))
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "llamachat",
            "ask",
            "--base-url",
            f"{fake.url}/v1",
            "-m",
            "m",
            "-q",
            "hi",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=subprocess_env,
        timeout=30,
    )
    assert piped.stdout == (hostile + "\n").encode()  # a pipe gets the text unchanged

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llamachat",
            "ask",
            "--base-url",
            f"{fake.url}/v1",
            "-m",
            "m",
            "-q",
            "--raw",  # the text as it came, escaped (drawn Markdown: test_cli_render.py)
            "hi",
        ],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=subprocess_env,
    )
    os.close(follower)
    output = read_until_closed(leader)
    proc.wait(timeout=20)
    os.close(leader)
    text = output.decode()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]52;c;cHduZWQ=\\x07" in text and "\\x0d" in text


def test_providers_lists_key_presence_never_the_key(subprocess_env: dict[str, str]) -> None:
    env = {**subprocess_env, "DEEPINFRA_TOKEN": "di-super-secret-token-1"}
    result = run("providers", env=env)
    assert result.returncode == 0
    assert "di-super-secret-token-1" not in result.stdout
    line = next(line for line in result.stdout.splitlines() if "deepinfra" in line)
    assert "yes (DEEPINFRA_TOKEN)" in line and "https://api.deepinfra.com/v1/openai" in line
    assert "missing (set SEGMIND_API_KEY)" in result.stdout
    data = json.loads(run("providers", "--json", env=env).stdout)
    assert {d["name"] for d in data} >= {"deepinfra", "e2e", "segmind", "local", "demo"}


def test_models_from_server(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on(
        "GET",
        "/v1/models",
        json_reply({"data": [{"id": "llama-3.1-8b-instant", "context_window": 131072}]}),
    )
    result = run("models", "--base-url", f"{fake.url}/v1", env=subprocess_env)
    assert result.returncode == 0
    assert "llama-3.1-8b-instant" in result.stdout and "131,072" in result.stdout


def test_models_failure_exit_1(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on("GET", "/v1/models", json_reply({"error": "nope"}, 403))
    result = run("models", "--base-url", f"{fake.url}/v1", env=subprocess_env)
    assert result.returncode == 1 and "refused access" in result.stderr


def test_ask_never_imports_textual(fake: FakeServer, subprocess_env: dict[str, str]) -> None:
    fake.on("POST", CHAT, sse_reply(stream_events(["x"])))
    code = (
        "import sys\n"
        "from llamachat.cli import main\n"
        f"rc = main(['ask', '--base-url', '{fake.url}/v1', '-m', 'm', '-q', 'hi'])\n"
        "assert rc == 0, rc\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "assert not leaked, leaked\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env, timeout=30
    )
    assert result.returncode == 0, result.stderr


def test_demo_is_the_default_without_keys(subprocess_env: dict[str, str]) -> None:
    write_config({"providers": {"demo": {"tokens_per_second": 50000}}})
    result = run("ask", "--json", "hello demo", env=subprocess_env)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["provider"] == "demo" and "hello demo" in data["content"]
